"""The network map finds its edges from what the rules admit: the same edges, in the
same order, as asking every ordered pair of endpoints."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from constructs_lib.verifier import reachability
from constructs_lib.verifier.netmap import NetworkMap, network_map
from constructs_lib.verifier.reach import Reachability

_NAMESPACES = ["a", "b", "c"]
_SELECTORS: list[dict[str, Any]] = [
    {},
    {"matchLabels": {"app": "web"}},
    {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["db"]}]},
]
_PEERS: list[dict[str, Any]] = [
    {"podSelector": {"matchLabels": {"app": "db"}}},
    {"podSelector": {}},
    {"namespaceSelector": {"matchLabels": {"team": "x"}}},
    {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "web"}}},
    {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
    {"ipBlock": {"cidr": "0.0.0.0/0"}},
]
_PORTS: list[list[dict[str, Any]]] = [
    [],
    [{"port": 80}],
    [{"port": "http"}],
    [{"protocol": "UDP", "port": 53}, {"port": 8000, "endPort": 8100}],
]


@st.composite
def _cases(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    def rule(peers_key: str) -> dict[str, Any]:
        out: dict[str, Any] = {"ports": draw(st.sampled_from(_PORTS))}
        peers = draw(st.lists(st.sampled_from(_PEERS), max_size=2))
        if peers:
            out[peers_key] = peers
        return out

    policies = []
    for i in range(draw(st.integers(0, 5))):
        types = draw(st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]]))
        spec: dict[str, Any] = {
            "podSelector": draw(st.sampled_from(_SELECTORS)),
            "policyTypes": types,
        }
        if "Ingress" in types:
            spec["ingress"] = [rule("from") for _ in range(draw(st.integers(0, 2)))]
        if "Egress" in types:
            spec["egress"] = [rule("to") for _ in range(draw(st.integers(0, 2)))]
        policies.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": f"p{i}", "namespace": draw(st.sampled_from(_NAMESPACES))},
                "spec": spec,
            }
        )
    workloads = []
    for i in range(draw(st.integers(1, 7))):
        workload: dict[str, Any] = {
            "namespace": draw(st.sampled_from(_NAMESPACES)),
            "name": f"w{i}",
            "labels": {"app": draw(st.sampled_from(["web", "db", "job"]))},
            "ports": [{"port": 80, "name": "http"}],
        }
        if draw(st.booleans()):
            workload["ip"] = draw(st.sampled_from(["10.0.0.5", "10.1.2.3", "192.0.2.7"]))
        workloads.append(workload)
    inventory = {
        "namespaces": {n: {"labels": {"team": "x"} if n == "b" else {}} for n in _NAMESPACES},
        "workloads": workloads,
        "external": [
            {"name": "api", "cidr": "10.2.0.0/16", "ports": [{"port": 443}]},
            {"name": "partner", "ip": "192.0.2.7"},
        ],
    }
    return policies, inventory


def _every_pair(reach: Reachability, scope: set[str] | None) -> NetworkMap:
    """The definition: ask each ordered pair (not self, not external to external)."""
    nodes = tuple(reach.endpoints)

    def inside(node: str) -> bool:
        return scope is None or node.split("/", 1)[0] in scope

    edges = []
    for s in nodes:
        for d in nodes:
            if s == d or (reach.is_external(s) and reach.is_external(d)):
                continue
            if inside(s) or inside(d):
                conns = reach.connection_set(s, d)
                if not conns.is_empty():
                    edges.append((s, d, conns))
    return NetworkMap(nodes, tuple(edges))


@settings(max_examples=150, derandomize=True, deadline=None)
@given(_cases(), st.sampled_from([None, {"a"}, {"b", "c"}]))
def test_the_map_holds_exactly_the_pairs_that_allow_something(
    case: tuple[list[dict[str, Any]], dict[str, Any]], scope: set[str] | None
) -> None:
    policies, inventory = case
    reach = reachability(policies, inventory)
    assert network_map(reach, scope) == _every_pair(reach, scope)


def test_pods_of_one_class_reach_each_other_but_not_themselves() -> None:
    # Two pods no selector tells apart share a class: the map has both directions.
    reach = reachability(
        [],
        {"workloads": [{"namespace": "a", "name": "x"}, {"namespace": "a", "name": "y"}]},
    )
    network = network_map(reach)
    assert [(s, d) for s, d, _ in network.edges] == [("a/x", "a/y"), ("a/y", "a/x")]


def test_markdown_lists_the_pairs_of_a_map_too_wide_for_a_matrix() -> None:
    from io import StringIO

    from constructs_lib.reports.markdown import MATRIX_MAX, write_map

    def markdown(workloads: int) -> list[str]:
        inventory = {
            "workloads": [{"namespace": "a", "name": f"w{i:02}"} for i in range(workloads)]
        }
        reach = reachability([], inventory)  # nothing isolated: every pair allows all
        out = StringIO()
        write_map(network_map(reach), out)
        return out.getvalue().splitlines()

    small = markdown(MATRIX_MAX)
    assert "### Allowed connections (rows: from, columns: to)" in small
    assert small[-1].startswith("| a/w29 | any port | any port |")
    wide = markdown(MATRIX_MAX + 1)
    n = MATRIX_MAX + 1
    start = wide.index(
        f"### Allowed connections ({n * (n - 1)} of the pairs of {n} endpoints; "
        "every pair not listed allows nothing)"
    )
    assert wide[start + 2 : start + 5] == [
        "| from | to | connections |",
        "|---|---|---|",
        "| a/w00 | a/w01 | any port |",
    ]
    assert wide[-1] == "| a/w30 | a/w29 | any port |"
    assert len(wide) == start + 4 + n * (n - 1)
