"""Mutated inputs of every kind netfence reads, run through every command in-process.

Shared by tests/test_fuzz.py (a short, derandomized run inside the suite) and
bench/fuzz_bench.py (a long one). The property, for any mutation of any
valid artifact:

- the exit code is 0, 1 or 2 (3 is an internal error, anything else a bug);
- stderr never holds a traceback, and each run ends within ``TIME_LIMIT``;
- when the input was read (exit 0 or 1), the policies read from it, written
  back as manifests and read again, are the same policies.
"""

from __future__ import annotations

import copy
import io
import json
import time
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_lib.cli import main
from constructs_lib.compiler import compile_topology
from constructs_lib.config import load_config, load_imports
from constructs_lib.emitters.manifests import render_manifests
from constructs_lib.errors import NetfenceError
from constructs_lib.loaders import NetworkPolicy, load_policies

TIME_LIMIT = 10.0

NASTY: list[Any] = [
    None,
    "",
    0,
    -1,
    70000,
    1.5,
    True,
    "false",
    "5432",
    "${var.x}",
    "%{if a}b%{endif}",
    "$${x}",
    "10.0.0.1",
    "fe80::%eth0/64",
    "0.0.0.0/0",
    "a b",
    "A" * 70,
    "kubernetes.other",
    "NetworkPolicy",
    "List",
    "Ingress",
    [],
    {},
    [None],
    [[[[[[]]]]]],
    {"x": {"y": {"z": {}}}},
    "\u00e9\u200b",
]


@dataclass(frozen=True)
class Case:
    """One input kind: a valid base value, how it is written, and the commands to run."""

    name: str
    file: str
    base: Any
    dump: Callable[[Any], str]
    commands: Callable[[Path, Path], list[list[str]]]


def _dump_json(value: Any) -> str:
    return json.dumps(value, indent=1)


def _dump_yaml(value: Any) -> str:
    return yaml.safe_dump_all(value if isinstance(value, list) else [value], sort_keys=False)


def _plan_values(value: Any, key: str = "") -> Any:
    """The plan spelling: nested blocks as lists; maps (labels) stay maps."""
    if isinstance(value, dict):
        inner = {k: _plan_values(v, k) for k, v in value.items()}
        if key in ("match_labels", "labels", "annotations"):
            return value
        return [inner] if key else inner
    if isinstance(value, list):
        return [_plan_values(v, "") if not isinstance(v, dict) else _plan_values(v) for v in value]
    return value


def bases(root: Path) -> list[Case]:
    """Valid artifacts of every kind, with the files the commands need beside them."""
    from tests.review.artifacts import artifact, live_list, shop, write

    doc = artifact(shop())
    write(doc, root / "good")
    good = root / "good" / "stacks" / "shop"
    manifests = list(yaml.safe_load_all(render_manifests(compile_topology(shop()))))
    listing = live_list(doc)
    (root / "live.json").write_text(json.dumps(listing))
    inventory = {
        "namespaces": {"shop": {"labels": {"environment": "prod"}}, "ops": {}},
        "workloads": [
            {"namespace": "shop", "name": "api", "labels": {"app": "api"}},
            {"namespace": "shop", "name": "db", "labels": {"app": "db"}, "ports": [{"port": 5432}]},
        ],
        "external": [{"name": "payments", "cidr": "203.0.113.0/24", "internet": False}],
    }
    (root / "inv.yaml").write_text(yaml.safe_dump(inventory))
    changes = [
        {
            "address": f"kubernetes_network_policy_v1.{name}",
            "mode": "managed",
            "type": "kubernetes_network_policy_v1",
            "change": {"actions": ["create"], "before": None, "after": _plan_values(body)},
        }
        for name, body in sorted(doc["resource"]["kubernetes_network_policy_v1"].items())
    ]
    plan = {"format_version": "1.2", "resource_changes": changes}
    imports = [{"to": "kubernetes_namespace_v1.shop", "id": "shop"}]
    config = {"stacks": {"shop": {"backend": {"type": "local", "path": "x.tfstate"}}}}
    live, inv = str(root / "live.json"), str(root / "inv.yaml")

    def stack_commands(path: Path, tmp: Path) -> list[list[str]]:
        return [
            ["verify", str(path)],
            ["map", str(path)],
            ["diff", str(path), str(good)],
            ["drift", "--desired", str(path), "--live", live],
            ["import", "--stack", str(path), "--live", live, "--write", str(tmp / "i.json")],
        ]

    return [
        Case("synth", "cdk.tf.json", doc, _dump_json, stack_commands),
        Case(
            "manifests",
            "m.yaml",
            manifests,
            _dump_yaml,
            lambda p, t: [
                ["reach", "--policies", str(p), "--inventory", inv],
                ["map", str(p), "--inventory", inv],
            ],
        ),
        Case(
            "list",
            "live.json",
            listing,
            _dump_json,
            lambda p, t: [
                ["reach", "--policies", str(p), "--inventory", inv],
                ["drift", "--desired", str(good), "--live", str(p)],
                ["import", "--stack", str(good), "--live", str(p)],
            ],
        ),
        Case(
            "inventory",
            "inv.yaml",
            inventory,
            _dump_yaml,
            lambda p, t: [["reach", "--policies", str(good), "--inventory", str(p)]],
        ),
        Case(
            "plan",
            "plan.json",
            plan,
            _dump_json,
            lambda p, t: [["diff", "--plan", str(p), "--inventory", inv]],
        ),
        Case("imports", "imports.json", imports, _dump_json, lambda p, t: []),
        Case("config", "netfence.yaml", config, _dump_yaml, lambda p, t: []),
    ]


# mutations ----------------------------------------------------------------------------


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


@st.composite
def mutated(draw: st.DrawFn, case: Case) -> str:
    """The text of ``case.base`` after one to three structural edits, or one text edit."""
    value = copy.deepcopy(case.base)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(value)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "delete", "add", "duplicate"]))
        if not path:
            value = copy.deepcopy(draw(st.sampled_from(NASTY)))
            continue
        parent, key = _get(value, path[:-1]), path[-1]
        if op == "replace":
            parent[key] = copy.deepcopy(draw(st.sampled_from(NASTY)))
        elif op == "delete":
            del parent[key]
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["x", "spec", "kind", "//", 1, "provider"]))] = (
                copy.deepcopy(draw(st.sampled_from(NASTY)))
            )
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        elif op == "duplicate" and isinstance(parent, dict):
            parent[f"{key}-copy"] = copy.deepcopy(parent[key])
    try:
        text = case.dump(value)
    except (TypeError, ValueError, yaml.YAMLError):
        text = repr(value)
    edit = draw(st.sampled_from(["none", "none", "truncate", "bytes", "key-twice", "alias"]))
    if edit == "truncate" and text:
        text = text[: draw(st.integers(0, len(text) - 1))]
    elif edit == "bytes":
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at]
            + draw(st.sampled_from(["\x00", "\ufffd", "{", "[", "&a ", "*a", "\t"]))
            + text[at:]
        )
    elif edit == "key-twice":
        lines = text.splitlines()
        if lines:
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            text = "\n".join(lines)
    elif edit == "alias" and case.file.endswith(".yaml"):
        text = "x: &a [1, 2]\ny: [*a, *a]\n" + text
    return text


# running ----------------------------------------------------------------------------


def to_manifest(policy: NetworkPolicy) -> dict[str, Any]:
    """A policy as the manifest that says exactly what it says (for the round trip)."""

    def selector(sel: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if sel.match_labels:
            out["matchLabels"] = dict(sel.match_labels)
        if sel.match_expressions:
            out["matchExpressions"] = [
                {
                    "key": e.key,
                    "operator": e.operator,
                    **({"values": list(e.values)} if e.values else {}),
                }
                for e in sel.match_expressions
            ]
        return out

    def peer(p: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if p.pod_selector is not None:
            out["podSelector"] = selector(p.pod_selector)
        if p.namespace_selector is not None:
            out["namespaceSelector"] = selector(p.namespace_selector)
        if p.ip_block is not None:
            out["ipBlock"] = {"cidr": p.ip_block.cidr, "except": list(p.ip_block.except_)}
        return out

    def port(p: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"protocol": p.protocol}
        if p.port is not None:
            out["port"] = p.port
        if p.end_port is not None:
            out["endPort"] = p.end_port
        return out

    def rules(items: Any, key: str) -> list[dict[str, Any]]:
        return [
            {key: [peer(p) for p in r.peers], "ports": [port(p) for p in r.ports]} for r in items
        ]

    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": policy.name, "namespace": policy.namespace},
        "spec": {
            "podSelector": selector(policy.pod_selector),
            "policyTypes": list(policy.policy_types),
            "ingress": rules(policy.ingress, "from"),
            "egress": rules(policy.egress, "to"),
        },
    }


def check(case: Case, text: str, tmp: Path, *, valid: bool = False) -> None:
    """Run every command of ``case`` on ``text``; raise AssertionError on a broken property.

    ``valid``: the text is an unmutated base, which must be read (exit 0 or 1)."""
    (tmp / "in").mkdir(exist_ok=True)
    path = tmp / "in" / case.file
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    if case.name in ("imports", "config"):
        try:
            load_imports(path) if case.name == "imports" else load_config(path)
        except NetfenceError:
            if valid:
                raise
        return
    for argv in case.commands(path, tmp):
        out, err = io.StringIO(), io.StringIO()
        start = time.monotonic()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(argv)
        took = time.monotonic() - start
        message = f"netfence {' '.join(argv)} -> {code}\n{err.getvalue()}\ninput:\n{text[:2000]}"
        assert code in ((0, 1) if valid else (0, 1, 2)), message
        assert "Traceback" not in err.getvalue(), message
        assert took < TIME_LIMIT, f"took {took:.1f} s: {message}"
        if code in (0, 1) and case.name in ("synth", "manifests", "list", "plan"):
            _round_trip(path, tmp)


def _round_trip(path: Path, tmp: Path) -> None:
    policies = load_policies(path)
    again = tmp / "again.yaml"
    again.write_text(yaml.safe_dump_all([to_manifest(p) for p in policies]))
    assert load_policies(again) == policies, f"round trip changed the policies of {path}"


def runner(
    case: Case, root: Path, examples: int, *, derandomize: bool, count: list[int] | None = None
) -> Callable[[], None]:
    """The Hypothesis test of ``case``: ``examples`` mutated inputs through ``check``."""

    @settings(
        max_examples=examples,
        derandomize=derandomize,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(mutated(case))
    def run(text: str) -> None:
        if count is not None:
            count[0] += 1
        check(case, text, root)

    return run  # type: ignore[no-any-return]
