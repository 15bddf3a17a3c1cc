"""The manifests and Terraform JSON writers spell exactly what PyYAML and json would."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from constructs_lib.emitters.manifests import _DUMPER, dump_documents
from constructs_lib.emitters.terraform import dump_json

# Scalars PyYAML quotes, folds or escapes, and ones it leaves plain.
TRICKY: list[Any] = [
    "",
    "8080",
    "true",
    "yes",
    "No",
    "null",
    "~",
    "1.5",
    "0x1F",
    "1e3",
    "0o17",
    "+1",
    ".inf",
    "2026-01-01",
    "12:30",
    "a: b",
    "a #b",
    "-x",
    "- x",
    "*x",
    "&x",
    "!x",
    "%x",
    "@x",
    "`x",
    "x:",
    "'q'",
    '"q"',
    "{x}",
    "[x]",
    "x,y",
    "?x",
    "|x",
    ">x",
    "=",
    "<<",
    "é",
    "日本",
    "a b",
    " lead",
    "trail ",
    "a\nb",
    "tab\there",
    "k" * 130,
    "word " * 30,
    "connections api accepts",
    0,
    -1,
    65535,
    True,
    False,
]


def _pyyaml(docs: list[Any]) -> str:
    return yaml.dump_all(
        docs, Dumper=_DUMPER, sort_keys=False, default_flow_style=False, explicit_start=True
    )


def _random_doc(rnd: random.Random, depth: int = 0) -> Any:
    roll = rnd.random()
    if depth > 3 or roll < 0.5:
        return rnd.choice(TRICKY)
    if roll < 0.75:
        keys = [*TRICKY[:46], "app", "metadata"]
        return {rnd.choice(keys): _random_doc(rnd, depth + 1) for _ in range(rnd.randint(0, 3))}
    return [_random_doc(rnd, depth + 1) for _ in range(rnd.randint(0, 3))]


@pytest.mark.parametrize("seed", range(4))
def test_manifests_writer_spells_what_pyyaml_spells(seed: int) -> None:
    rnd = random.Random(seed)
    for _ in range(300):
        docs = [
            {rnd.choice(["kind", "spec", *TRICKY[:46]]): _random_doc(rnd) for _ in range(3)}
            for _ in range(2)
        ]
        assert dump_documents(docs) == _pyyaml(docs), docs


def test_manifests_writer_handles_a_long_purpose_the_way_pyyaml_folds_it() -> None:
    docs = [{"metadata": {"annotations": {"netfence.io/purpose": "connections " * 12}}}]
    assert dump_documents(docs) == _pyyaml(docs)
    assert "\n      connections" in dump_documents(docs)  # folded, as PyYAML does


def _json_docs(seed: int, leaves: list[Any], depth: int, count: int = 300) -> list[Any]:
    """Random JSON documents of ``leaves`` nested up to ``depth`` levels."""
    rnd = random.Random(seed)

    def value(level: int) -> Any:
        roll = rnd.random()
        if level > depth or roll < 0.3:
            return rnd.choice(leaves)
        if roll < 0.7:
            return {rnd.choice("abzAé_"): value(level + 1) for _ in range(rnd.randint(0, 3))}
        return [value(level + 1) for _ in range(rnd.randint(0, 3))]

    return [value(0) for _ in range(count)]


@pytest.mark.parametrize("seed", range(4))
def test_json_writer_writes_what_json_dumps_writes(seed: int) -> None:
    values: list[Any] = ["", "é", "\u2028", 'a"b\\', "\x00", 0, -1, 10**20, 1.5, 1e300, True, None]
    for doc in _json_docs(seed, values, 3):
        assert dump_json(doc) == json.dumps(doc, indent=2, sort_keys=True) + "\n", doc


@pytest.mark.parametrize("seed", range(4))
def test_json_writer_without_floats_writes_what_json_dumps_writes(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The promise of no floats lets orjson write below the third level: the same bytes,
    also for what orjson spells otherwise (non-ASCII, DEL, integers beyond 64 bits)."""
    from constructs_lib.emitters import terraform

    used: list[bool] = []
    real = terraform._orjson

    def spy(value: Any, newline: str) -> str | None:
        text = real(value, newline)
        used.append(text is not None)
        return text

    monkeypatch.setattr(terraform, "_orjson", spy)
    values: list[Any] = ["", "é", "\u2028", "\x7f", 'a"b\\', "\x00\x1f", 0, -1, 10**20, True, None]
    for doc in _json_docs(seed, values, 6):
        assert dump_json(doc, floats=False) == json.dumps(doc, indent=2, sort_keys=True) + "\n"
    assert True in used and False in used  # both paths were taken
    # a long list below (the intent record's flows) is written item by item, the same bytes
    used.clear()
    record = {
        "//": {"metadata": {"netfence": {"flows": [{"from": "é", "n": i} for i in range(300)]}}}
    }
    assert dump_json(record, floats=False) == json.dumps(record, indent=2, sort_keys=True) + "\n"
    assert len(used) == 300


def test_synthesis_promises_no_floats_only_where_there_are_none(tmp_path: Path) -> None:
    """A float in an override keeps json's spelling (orjson would write 1e16, not 1e+16)."""
    from constructs_lib import Port, ZeroTrustNamespace, synth
    from tests.cdk_under_test import App, TerraformStack

    app = App(outdir=str(tmp_path))
    stack = TerraformStack(app, "s")
    ns = ZeroTrustNamespace(stack, "ns", environment="prod")
    ns.workload("api", labels={"app": "api"}, ports=[Port.tcp(80)])
    ns.policy("default-deny").add_override("metadata.annotations.ratio", 1e16)
    synth(app)
    text = (tmp_path / "stacks" / "s" / "cdk.tf.json").read_text()
    assert '"ratio": 1e+16' in text
