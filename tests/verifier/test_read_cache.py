"""The reader remembers valid items by exact content for one loader call, and only them.

An item equal to one read before is the same immutable result; anything else
(other types, a refusal, a doubt lint collects) is read where it stands, so the
policies and every refusal stay what reading each item afresh gives.
"""

from __future__ import annotations

import copy
import enum
import gc
import weakref
from pathlib import Path
from typing import Any

import pytest
import yaml

from constructs_lib.errors import ArtifactError
from constructs_lib.lint.lint import lint_paths
from constructs_lib.loaders import _spec
from constructs_lib.loaders._spec import Reader, collecting_doubts
from constructs_lib.loaders.manifests import policies_from_documents
from constructs_lib.loaders.network_policy import (
    NetworkPolicy,
)
from constructs_lib.loaders.terraform import policies_from_synth

NP = "networking.k8s.io/v1"
TF_TYPE = "kubernetes_network_policy_v1"


def tf_policy(name: str, rule: dict[str, Any], direction: str = "ingress") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {
            "pod_selector": {"match_labels": {"app": name}},
            "policy_types": ["Ingress" if direction == "ingress" else "Egress"],
            direction: [copy.deepcopy(rule)],
        },
    }


def synth(*bodies: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {"resource": {TF_TYPE: dict(bodies)}}


def manifest(name: str, rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": NP,
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"podSelector": {}, "ingress": [copy.deepcopy(rule)]},
    }


TF_RULE = {
    "from": [
        {
            "namespace_selector": {"match_labels": {"team": "web"}},
            "pod_selector": {"match_labels": {"app": "web"}},
        }
    ],
    "ports": [{"port": "8080", "protocol": "TCP"}],
}


def refusal(read: Any) -> tuple[str, int | None, str | None]:
    with pytest.raises(ArtifactError) as info:
        read()
    return str(info.value), info.value.document, info.value.field


def test_equal_items_at_two_paths_are_read_once_and_are_what_each_reads_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[str] = []
    for method in ("rule", "peer", "port", "new_selector"):
        real = getattr(Reader, method)

        def spy(self: Reader, data: Any, path: str, *args: Any, _real: Any = real) -> Any:
            reads.append(path)
            return _real(self, data, path, *args)

        monkeypatch.setattr(Reader, method, spy)
    data = synth(("a", tf_policy("a", TF_RULE)), ("b", tf_policy("b", TF_RULE)))
    a, b = policies_from_synth(data, "f.json")
    base = f"resource.{TF_TYPE}.a.spec"
    assert reads == [
        f"{base}.pod_selector",
        f"{base}.ingress[0]",
        f"{base}.ingress[0].from[0]",
        f"{base}.ingress[0].from[0].pod_selector",
        f"{base}.ingress[0].from[0].namespace_selector",
        f"{base}.ingress[0].ports[0]",
        # b: only its own pod selector is new
        f"resource.{TF_TYPE}.b.spec.pod_selector",
    ]
    assert a.ingress[0] is b.ingress[0]
    monkeypatch.undo()
    (alone,) = policies_from_synth(synth(("b", tf_policy("b", TF_RULE))), "f.json")
    assert b == alone and b.source == alone.source


def test_a_doubt_at_two_paths_is_two_findings(tmp_path: Path) -> None:
    rule = {"from": [{"ipBlock": {"cidr": "10.0.0.1/8"}}]}
    path = tmp_path / "policies.yaml"
    path.write_text(
        yaml.safe_dump_all([manifest("one", rule), manifest("two", rule)], sort_keys=False),
        encoding="utf-8",
    )
    found = [
        (f.policy, f.line, f.path)
        for f in lint_paths([path]).findings
        if f.rule.name == "non-canonical-cidr"
    ]
    line = 11  # of the cidr in the first document; the second document is 12 lines on
    assert found == [
        ("shop/one", line, "spec.ingress[0].from[0].ipBlock.cidr"),
        ("shop/two", line + 12, "spec.ingress[0].from[0].ipBlock.cidr"),
    ]


def test_doubts_inside_one_document_are_collected_at_each_path() -> None:
    peer = {"ip_block": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/24"]}}
    rule = {"from": [peer, copy.deepcopy(peer)], "ports": [{"port": 80, "end_port": 70}]}
    data = synth(("a", tf_policy("a", rule)), ("b", tf_policy("b", rule)))
    with collecting_doubts() as doubts:
        policies_from_synth(data, "f.json")
    assert [(d.kind, d.path) for d in doubts] == [
        (kind, f"resource.{TF_TYPE}.{name}.spec.ingress[0].{where}")
        for name in ("a", "b")
        for kind, where in (
            ("except-outside-cidr", "from[0].ip_block.except[0]"),
            ("except-outside-cidr", "from[1].ip_block.except[0]"),
            ("invalid-end-port", "ports[0].end_port"),
        )
    ]


class Protocol(enum.Enum):
    TCP = "TCP"


class Text(str):
    pass


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (53, 53.0, "expected a number or a port name, got number 53.0"),
        (1, True, "expected a number or a port name, got boolean True"),
        (
            53,
            "53",
            "port '53' is a string, which Kubernetes reads as a port name and refuses: write "
            "53 (a number) without quotes",
        ),
        (None, float("nan"), "expected a number or a port name, got number nan"),
    ],
)
def test_a_refusal_after_a_remembered_item_names_its_own_path(
    first: Any, second: Any, message: str
) -> None:
    """53 and 53.0, 1 and True, 53 and "53", null and NaN: equal or alike in JSON
    text, Python or orjson, but other values, so the second is refused where it is."""
    docs = [manifest(f"p{i}", {"ports": [{"port": port}]}) for i, port in enumerate([first] * 2)]
    docs.append(manifest("p2", {"ports": [{"port": second}]}))
    assert refusal(lambda: policies_from_documents(docs, "f.yaml")) == (
        f"f.yaml (document 2) at spec.ingress[0].ports[0].port: {message}",
        2,
        "spec.ingress[0].ports[0].port",
    )


def test_a_refusal_in_the_same_file_names_the_policy_it_is_in() -> None:
    rule = copy.deepcopy(TF_RULE)
    other = copy.deepcopy(TF_RULE)
    other["ports"][0]["port"] = 8080.0
    data = synth(
        ("a", tf_policy("a", rule)), ("b", tf_policy("b", rule)), ("c", tf_policy("c", other))
    )
    assert refusal(lambda: policies_from_synth(data, "f.json")) == (
        f"f.json at resource.{TF_TYPE}.c.spec.ingress[0].ports[0].port: expected a number or "
        "a port name, got number 8080.0",
        None,
        f"resource.{TF_TYPE}.c.spec.ingress[0].ports[0].port",
    )


def block(cidr: str, excepts: Any) -> dict[str, Any]:
    return {"from": [{"ipBlock": {"cidr": cidr, "except": excepts}}]}


@pytest.mark.parametrize(
    ("plain", "other", "message"),
    [
        (
            {"ports": [{"protocol": "TCP"}]},
            {"ports": [{"protocol": Protocol.TCP}]},
            "ports[0].protocol: expected a string, got Protocol",
        ),
        (
            block("10.0.0.0/8", ["10.1.0.0/16"]),
            block("10.0.0.0/8", ("10.1.0.0/16",)),
            "from[0].ipBlock.except: expected a list, got tuple",
        ),
    ],
)
def test_values_that_are_not_plain_data_are_read_where_they_stand(
    plain: dict[str, Any], other: dict[str, Any], message: str
) -> None:
    """An enum whose value is "TCP", a tuple of the same strings: not what JSON or
    YAML give, and the API refuses them; a cache keyed by their JSON text would not."""
    docs = [manifest("a", plain), manifest("b", plain), manifest("c", other)]
    assert refusal(lambda: policies_from_documents(docs, "f.yaml"))[0] == (
        f"f.yaml (document 2) at spec.ingress[0].{message}"
    )


def test_a_string_subclass_is_read_like_its_text() -> None:
    udp = [manifest(name, {"ports": [{"protocol": "UDP"}]}) for name in ("a", "b")]
    sub = [udp[0], manifest("b", {"ports": [{"protocol": Text("UDP")}]})]
    assert policies_from_documents(sub, "f") == policies_from_documents(udp, "f")


def test_a_rule_read_for_ingress_is_not_taken_for_an_egress_rule() -> None:
    data = synth(("a", tf_policy("a", TF_RULE)), ("b", tf_policy("b", TF_RULE, "egress")))
    assert refusal(lambda: policies_from_synth(data, "f.json"))[2] == (
        f"resource.{TF_TYPE}.b.spec.egress[0].from"
    )


def test_a_selector_read_in_one_spelling_is_not_taken_for_another() -> None:
    """A kubernetes_manifest is camelCase inside the snake_case file."""
    selector = {"match_labels": {"app": "a"}}
    data = synth(("a", tf_policy("a", TF_RULE)))
    data["resource"]["kubernetes_manifest"] = {
        "m": {
            "manifest": {
                "apiVersion": NP,
                "kind": "NetworkPolicy",
                "metadata": {"name": "m", "namespace": "shop"},
                "spec": {"podSelector": selector},
            }
        }
    }
    assert refusal(lambda: policies_from_synth(data, "f.json"))[2] == (
        "resource.kubernetes_manifest.m.manifest.spec.podSelector.match_labels"
    )


def test_what_one_call_remembered_goes_with_it() -> None:
    (policy,) = policies_from_synth(synth(("a", tf_policy("a", TF_RULE))), "f.json")
    rule = weakref.ref(policy.ingress[0])
    del policy
    gc.collect()
    assert rule() is None


def test_one_call_shares_its_cache_across_documents() -> None:
    docs = [manifest("a", {"ports": [{"port": 80}]}), manifest("b", {"ports": [{"port": 80}]})]
    a, b = policies_from_documents(docs, "f.yaml")
    assert a.ingress[0] is b.ingress[0]
    assert isinstance(a, NetworkPolicy) and a.source.document == 0 and b.source.document == 1


def test_content_keys_tell_apart_what_reads_differently() -> None:
    keys = [_spec.content_key(v) for v in (53, 53.0, "53", True, 1, [1], (1,), None)]
    assert None not in keys and len(set(keys)) == len(keys)
    assert _spec.content_key(float("nan")) != _spec.content_key(None)
    assert _spec.content_key(Text("x")) is None and _spec.content_key(Protocol.TCP) is None
