"""Engine internals that the public semantics tests cannot see: classes and lookups."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from constructs_lib.loaders import (
    Inventory,
    LabelSelector,
    Namespace,
    Workload,
    policy_from_manifest,
)
from constructs_lib.loaders.inventory import DeclaredPort
from constructs_lib.verifier import UnknownEndpointError, reachability
from constructs_lib.verifier.engine import Engine, Pod, in_span, iter_span, span_of, span_union
from constructs_lib.verifier.selectors import matches

POLICY = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "db-in", "namespace": "data"},
    "spec": {
        "podSelector": {"matchLabels": {"app": "db"}},
        "ingress": [
            {
                "from": [
                    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "web"}}}
                ],
                "ports": [{"port": "sql"}],
            }
        ],
    },
}


def test_pods_that_no_selector_tells_apart_share_a_class() -> None:
    pods = [Pod(f"web/p{i}", "web", {"app": "api", "pod-hash": str(i)}) for i in range(500)]
    pods.append(Pod("data/db", "data", {"app": "db"}, (DeclaredPort("TCP", 5432, "sql"),)))
    engine = Engine([policy_from_manifest(POLICY)], {"web": {}, "data": {}}, pods)
    assert len(engine.classes) == 2  # the unused pod-hash label does not split the web pods
    assert str(engine.between(engine.pod_class[0], engine.pod_class[500])) == "TCP 5432, TCP sql"


def test_inventory_objects_get_the_namespace_name_label() -> None:
    inventory = Inventory(
        namespaces=(Namespace("data"),),
        workloads=(
            Workload("web", "api", (("app", "api"),)),
            Workload("data", "db", (("app", "db"),), (DeclaredPort("TCP", 5432, "sql"),)),
        ),
    )
    result = reachability([POLICY], inventory)
    assert result.allowed("web/api", "data/db", 5432)
    assert result.allowed("web/api", "data/db", "sql")
    assert result.allowed("data/db", "data/db", 1) is not False  # a pod always reaches itself


def test_unknown_endpoint_is_a_clear_error() -> None:
    result = reachability([POLICY], {"workloads": [{"namespace": "web", "name": "api"}]})
    with pytest.raises(UnknownEndpointError) as err:
        result.allowed("web/api", "web/nope", 80)
    assert str(err.value) == (
        "unknown endpoint 'web/nope': not a workload (namespace/name) or an external endpoint "
        "(external/<name>) of the inventory"
    )


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.sets(st.integers(0, 300)), st.sets(st.integers(0, 300)), st.integers(0, 310))
def test_spans_hold_the_same_classes_as_bitsets(a: set[int], b: set[int], probe: int) -> None:
    bits_a, bits_b = sum(1 << i for i in a), sum(1 << i for i in b)
    union = span_union(span_of(bits_a), span_of(bits_b))
    assert sorted(iter_span(union)) == sorted(a | b)
    assert in_span(union, probe) == (probe in a | b)
    assert union[1] & 1 or not union[1]  # shifted down to its lowest class


_NAMESPACES = [f"ns{i}" for i in range(12)]  # more than a peer selects one by one
_PEERS = [
    {"podSelector": {"matchLabels": {"app": "c"}}},
    {"podSelector": {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["a"]}]}},
    {"namespaceSelector": {"matchLabels": {"team": "x"}}, "podSelector": {}},
    {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "b"}}},
    {"namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "DoesNotExist"}]}},
]


@settings(max_examples=100, derandomize=True, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(_NAMESPACES), st.sampled_from(["a", "b", "c", None])),
        min_size=1,
        max_size=40,
    ),
    st.sets(st.sampled_from(_NAMESPACES)),
    st.sampled_from(_NAMESPACES),
    st.sampled_from(_PEERS),
)
def test_a_peer_selects_the_classes_its_pods_match(
    pods: list[tuple[str, str | None]], team_x: set[str], home: str, peer: dict[str, object]
) -> None:
    # Pods of a namespace come in any order (its classes need not be one run).
    namespaces = {n: ({"team": "x"} if n in team_x else {}) for n in _NAMESPACES}
    engine_pods = [
        Pod(f"{ns}/p{i}", ns, {"app": app} if app else {}) for i, (ns, app) in enumerate(pods)
    ]
    policy = policy_from_manifest(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "in", "namespace": home},
            "spec": {"podSelector": {}, "ingress": [{"from": [peer]}]},
        }
    )
    engine = Engine([policy], namespaces, engine_pods)
    [rule_peer] = policy.ingress[0].peers

    def selected(pod: Pod) -> bool:
        in_scope = (
            pod.namespace == home
            if rule_peer.namespace_selector is None
            else matches(
                rule_peer.namespace_selector,
                {"kubernetes.io/metadata.name": pod.namespace, **namespaces[pod.namespace]},
            )
        )
        return in_scope and matches(rule_peer.pod_selector or LabelSelector(), pod.labels)

    expected = {engine.pod_class[i] for i, pod in enumerate(engine_pods) if selected(pod)}
    targets = {engine.pod_class[i] for i, pod in enumerate(engine_pods) if pod.namespace == home}
    for c in range(len(engine.classes)):
        rules = engine.classes[c].ingress
        assert (c in targets) == bool(rules)
        if rules:
            assert set(iter_span(rules[0].classes)) == expected
