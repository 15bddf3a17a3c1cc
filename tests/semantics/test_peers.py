"""Table tests for the peers real clusters have: namespaces by name, by label, all
namespaces, their pods; any port; a workload without DNS.

Each row declares one flow of shop/api with the new peer and states, worked
out by hand from the NetworkPolicy API: the peer the compiler must write
(Kubernetes form), which cluster pods may then connect (reach on the written
artifact, against a cluster with pods on both sides of every boundary the
peer draws), and that verify passes the artifact and fails each widening of
the peer that would admit pods the intent did not name.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from constructs_lib import LabelExpression, Namespaces, Port
from constructs_lib.compiler import compile_topology
from constructs_lib.emitters import render_terraform
from constructs_lib.emitters.kubernetes import objects
from constructs_lib.loaders import read_json
from constructs_lib.loaders.terraform import policies_from_synth
from constructs_lib.model import NamespacePods, Topology, Workload
from constructs_lib.verifier import reachability, verify_stack

NGINX = {"app.kubernetes.io/name": "ingress-nginx"}
NAME = "kubernetes.io/metadata.name"

# The cluster reach runs against: shop (the stack's), ingress-nginx and a second
# namespace by name, platform namespaces by label (one of them in staging), and a
# namespace with nothing in common. Pods with and without the selected labels.
CLUSTER: dict[str, Any] = {
    "namespaces": {
        "shop": {"labels": {"environment": "prod"}},
        "ingress-nginx": {"labels": {"environment": "prod"}},
        "edge": {"labels": {}},
        "monitoring": {"labels": {"team": "platform", "environment": "prod"}},
        "monitoring-stg": {"labels": {"team": "platform", "environment": "staging"}},
        "legacy": {"labels": {"team": "legacy"}},
        "other": {"labels": {}},
    },
    "workloads": [
        {"namespace": "shop", "name": "api", "labels": {"app": "api"},
         "ports": [{"port": 8080, "protocol": "TCP"}]},
        {"namespace": "ingress-nginx", "name": "controller", "labels": NGINX},
        {"namespace": "ingress-nginx", "name": "admission", "labels": {"app": "admission"}},
        {"namespace": "edge", "name": "controller", "labels": NGINX},
        {"namespace": "monitoring", "name": "prometheus", "labels": {"app": "prometheus"}},
        {"namespace": "monitoring", "name": "grafana", "labels": {"app": "grafana"}},
        {"namespace": "monitoring-stg", "name": "prometheus", "labels": {"app": "prometheus"}},
        {"namespace": "legacy", "name": "prometheus", "labels": {"app": "prometheus"}},
        {"namespace": "other", "name": "controller", "labels": NGINX},
        {"namespace": "other", "name": "prometheus", "labels": {"app": "prometheus"}},
    ],
}  # fmt: skip


@dataclass(frozen=True)
class Case:
    id: str
    end: Callable[[], NamespacePods]
    peer: dict[str, Any]  # the from-peer of api-ingress, Kubernetes form
    admitted: tuple[str, ...]  # pods that may reach shop/api:8080
    denied: tuple[str, ...]
    cross_environment: bool = False


CASES = [
    Case(
        "named_pods",
        lambda: Namespaces.named("ingress-nginx").pods(NGINX),
        {"namespaceSelector": {"matchLabels": {NAME: "ingress-nginx"}},
         "podSelector": {"matchLabels": NGINX}},
        ("ingress-nginx/controller",),
        ("ingress-nginx/admission", "edge/controller", "other/controller"),
        cross_environment=True,
    ),
    Case(
        "several_names_are_in",
        lambda: Namespaces.named("ingress-nginx", "edge").pods(NGINX),
        {"namespaceSelector": {"matchExpressions": [
            {"key": NAME, "operator": "In", "values": ["edge", "ingress-nginx"]}]},
         "podSelector": {"matchLabels": NGINX}},
        ("ingress-nginx/controller", "edge/controller"),
        ("ingress-nginx/admission", "other/controller"),
        cross_environment=True,
    ),
    Case(
        "named_all_pods",
        lambda: Namespaces.named("ingress-nginx").all_pods(),
        {"namespaceSelector": {"matchLabels": {NAME: "ingress-nginx"}}},
        ("ingress-nginx/controller", "ingress-nginx/admission"),
        ("edge/controller", "other/controller"),
        cross_environment=True,
    ),
    Case(
        "named_in_environment",
        lambda: Namespaces.named("ingress-nginx", environment="prod").pods(NGINX),
        {"namespaceSelector": {"matchLabels": {"environment": "prod", NAME: "ingress-nginx"}},
         "podSelector": {"matchLabels": NGINX}},
        ("ingress-nginx/controller",),
        ("ingress-nginx/admission", "edge/controller"),
    ),
    Case(
        "labelled_pods",
        lambda: Namespaces.labelled({"team": "platform"}).pods({"app": "prometheus"}),
        {"namespaceSelector": {"matchLabels": {"team": "platform"}},
         "podSelector": {"matchLabels": {"app": "prometheus"}}},
        ("monitoring/prometheus", "monitoring-stg/prometheus"),
        ("monitoring/grafana", "legacy/prometheus", "other/prometheus"),
        cross_environment=True,
    ),
    Case(
        "labelled_in_environment",
        lambda: Namespaces.labelled({"team": "platform"}, environment="prod").pods(
            {"app": "prometheus"}
        ),
        {"namespaceSelector": {"matchLabels": {"environment": "prod", "team": "platform"}},
         "podSelector": {"matchLabels": {"app": "prometheus"}}},
        ("monitoring/prometheus",),
        ("monitoring-stg/prometheus", "monitoring/grafana", "other/prometheus"),
    ),
    Case(
        "labelled_by_expression",
        lambda: Namespaces.labelled(
            expressions=[LabelExpression.is_in("team", ["platform", "legacy"])]
        ).pods({"app": "prometheus"}),
        {"namespaceSelector": {"matchExpressions": [
            {"key": "team", "operator": "In", "values": ["legacy", "platform"]}]},
         "podSelector": {"matchLabels": {"app": "prometheus"}}},
        ("monitoring/prometheus", "monitoring-stg/prometheus", "legacy/prometheus"),
        ("monitoring/grafana", "other/prometheus"),
        cross_environment=True,
    ),
    Case(
        "labelled_all_pods",
        lambda: Namespaces.labelled({"team": "platform"}).all_pods(),
        {"namespaceSelector": {"matchLabels": {"team": "platform"}}},
        ("monitoring/prometheus", "monitoring/grafana", "monitoring-stg/prometheus"),
        ("legacy/prometheus", "other/prometheus"),
        cross_environment=True,
    ),
    Case(
        "all_namespaces_pods",
        lambda: Namespaces.all().pods({"app": "prometheus"}),
        {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "prometheus"}}},
        ("monitoring/prometheus", "legacy/prometheus", "other/prometheus"),
        ("monitoring/grafana", "other/controller"),
        cross_environment=True,
    ),
    Case(
        "all_namespaces_of_an_environment",
        lambda: Namespaces.all(environment="prod").pods({"app": "prometheus"}),
        {"namespaceSelector": {"matchLabels": {"environment": "prod"}},
         "podSelector": {"matchLabels": {"app": "prometheus"}}},
        ("monitoring/prometheus",),
        ("monitoring-stg/prometheus", "legacy/prometheus", "other/prometheus"),
    ),
]  # fmt: skip


def _stack(case: Case) -> tuple[Topology, Workload]:
    topo = Topology("peers")
    shop = topo.add_namespace("peers/shop", name="shop", environment="prod")
    api = shop.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080)])
    api.allow_from(case.end(), cross_environment=case.cross_environment)
    return topo, api


def _write(topo: Topology, directory: Path) -> Path:
    compiled = compile_topology(topo)
    doc = render_terraform(compiled)
    doc["//"] = {"metadata": {"netfence": compiled.record}}
    path = directory / "stacks" / "peers" / "cdk.tf.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def _api_ingress(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["resource"]["kubernetes_network_policy_v1"]["shop_api-ingress"][
        "spec"
    ]
    return spec


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_compiler_writes_one_peer_anding_namespaces_and_pods(case: Case) -> None:
    topo, _ = _stack(case)
    policies = {o["metadata"]["name"]: o for o in objects(compile_topology(topo)) if "spec" in o}
    rules = policies["api-ingress"]["spec"]["ingress"]
    assert rules == [{"from": [case.peer], "ports": [{"protocol": "TCP", "port": 8080}]}]
    # the foreign side gets no policy: only shop's own policies are written
    assert {o["metadata"]["namespace"] for o in policies.values()} == {"shop"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_reach_on_the_written_artifact_admits_exactly_the_selected_pods(
    case: Case, tmp_path: Path
) -> None:
    topo, _ = _stack(case)
    path = _write(topo, tmp_path)
    policies = policies_from_synth(read_json(path), str(path))
    result = reachability(policies, CLUSTER)
    got_admitted = [p for p in case.admitted if result.allowed(p, "shop/api", 8080)]
    got_denied = [p for p in case.denied if not result.allowed(p, "shop/api", 8080)]
    assert (got_admitted, got_denied) == (list(case.admitted), list(case.denied))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_verify_passes_the_artifact_and_finds_each_widening(case: Case, tmp_path: Path) -> None:
    topo, _ = _stack(case)
    path = _write(topo, tmp_path / "exact")
    assert [str(f) for f in verify_stack(path).findings] == []
    clean = read_json(path)

    def widened(change: Callable[[dict[str, Any]], None], name: str) -> list[str]:
        doc = copy.deepcopy(clean)
        change(_api_ingress(doc)["ingress"][0]["from"][0])
        out = tmp_path / name / "stacks" / "peers" / "cdk.tf.json"
        out.parent.mkdir(parents=True)
        out.write_text(json.dumps(doc))
        return [str(f) for f in verify_stack(out).findings]

    if "podSelector" in case.peer:  # pods of those namespaces without the labels
        found = widened(lambda peer: peer.pop("pod_selector"), "no-pod-selector")
        unlisted = ("an unlisted pod in", "any pod in an unlisted namespace")
        assert any(u in f and "-> shop/api" in f for f in found for u in unlisted), found
    if case.peer["namespaceSelector"]:  # the labels in namespaces it does not select
        found = widened(lambda peer: peer.update(namespace_selector={}), "all-namespaces")
        assert any("unlisted namespace -> shop/api" in f for f in found), found
    if "environment" in case.peer["namespaceSelector"].get("matchLabels", {}):
        found = widened(
            lambda peer: peer["namespace_selector"]["match_labels"].pop("environment"),
            "any-environment",
        )
        assert any("but of another environment -> shop/api" in f for f in found), found
    # and narrowed: the declared pods cut off
    found = widened(
        lambda peer: peer.update(namespace_selector={"match_labels": {NAME: "nowhere"}}),
        "nowhere",
    )
    assert any(f.startswith("missing-flow: declared flow ") for f in found), found


def test_egress_to_namespaces_writes_the_peer_at_the_source(tmp_path: Path) -> None:
    topo = Topology("peers")
    shop = topo.add_namespace("peers/shop", name="shop", environment="prod")
    api = shop.workload("api", labels={"app": "api"})
    api.allow_to(
        Namespaces.named("logging").pods({"app": "fluentd"}),
        ports=[Port.tcp(24224)],
        cross_environment=True,
    )
    path = _write(topo, tmp_path)
    spec = read_json(path)["resource"]["kubernetes_network_policy_v1"]["shop_api-egress"]["spec"]
    assert spec["egress"][0]["to"] == [
        {
            "namespace_selector": {"match_labels": {NAME: "logging"}},
            "pod_selector": {"match_labels": {"app": "fluentd"}},
        }
    ]
    assert verify_stack(path).ok


def test_labelled_selection_that_matches_a_stack_namespace_gets_its_policy_there(
    tmp_path: Path,
) -> None:
    """The stack's own side gets its policy: shop is labelled team=platform too."""
    topo = Topology("peers")
    shop = topo.add_namespace(
        "peers/shop", name="shop", environment="prod", labels={"team": "platform"}
    )
    api = shop.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080)])
    api.allow_from(Namespaces.labelled({"team": "platform"}, environment="prod").pods({"app": "x"}))
    compiled = compile_topology(topo)
    names = sorted(p.name for p in compiled.policies)
    assert any(n.startswith("pods-x-") and n.endswith("-egress") for n in names), names
    assert verify_stack(_write(topo, tmp_path)).ok


# -- any port ------------------------------------------------------------------------

PORT_CASES = [
    ("all", Port.all(), None, [(8080, "TCP"), (53, "UDP"), (3868, "SCTP")], []),
    ("all_tcp", Port.all_tcp(), [{"protocol": "TCP"}], [(8080, "TCP"), (1, "TCP")], [(53, "UDP")]),
    ("all_udp", Port.all_udp(), [{"protocol": "UDP"}], [(53, "UDP")], [(8080, "TCP")]),
]


@pytest.mark.parametrize(
    ("port", "ports", "allowed", "denied"),
    [c[1:] for c in PORT_CASES],
    ids=[c[0] for c in PORT_CASES],
)
def test_any_port_is_a_rule_without_ports_or_a_protocol_without_port(
    port: Port,
    ports: list[dict[str, Any]] | None,
    allowed: list[tuple[int, str]],
    denied: list[tuple[int, str]],
    tmp_path: Path,
) -> None:
    topo = Topology("peers")
    shop = topo.add_namespace("peers/shop", name="shop", environment="prod")
    api = shop.workload("api", labels={"app": "api"})
    db = shop.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432)])
    api.allow_to(db, ports=[port])
    rules = {
        o["metadata"]["name"]: o["spec"] for o in objects(compile_topology(topo)) if "spec" in o
    }["db-ingress"]["ingress"]
    assert rules[0].get("ports") == ports
    path = _write(topo, tmp_path)
    assert [str(f) for f in verify_stack(path).findings] == []
    policies = policies_from_synth(read_json(path), str(path))
    result = reachability(policies, {"workloads": CLUSTER_SHOP})
    assert [p for p in allowed if not result.allowed("shop/api", "shop/db", *p)] == []
    assert [p for p in denied if result.allowed("shop/api", "shop/db", *p)] == []


CLUSTER_SHOP = [
    {"namespace": "shop", "name": "api", "labels": {"app": "api"}},
    {"namespace": "shop", "name": "db", "labels": {"app": "db"}},
]


def test_any_port_reads_as_any_port_in_findings(tmp_path: Path) -> None:
    topo = Topology("peers")
    shop = topo.add_namespace("peers/shop", name="shop", environment="prod")
    api = shop.workload("api", labels={"app": "api"})
    db = shop.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432)])
    api.allow_to(db)
    path = _write(topo, tmp_path)
    doc = read_json(path)
    policies = doc["resource"]["kubernetes_network_policy_v1"]
    del policies["shop_db-ingress"]["spec"]["ingress"][0]["ports"]
    del policies["shop_api-egress"]["spec"]["egress"][0]["ports"]
    path.write_text(json.dumps(doc))
    found = [f.message for f in verify_stack(path).findings if f.kind == "excess-ports"]
    assert found == [
        "shop/api -> shop/db is allowed on TCP 1-5431, TCP 5433-65535, UDP any port, "
        "SCTP any port beyond the TCP 5432 declared at peers/shop/api.allow_to()"
    ]


# -- a workload without DNS ------------------------------------------------------------


def test_allow_dns_false_leaves_the_workload_out_of_the_dns_policy(tmp_path: Path) -> None:
    topo = Topology("peers")
    shop = topo.add_namespace("peers/shop", name="shop", environment="prod")
    shop.workload("api", labels={"app": "api"})
    shop.workload("vault", labels={"app": "vault", "tier": "secure"}, allow_dns=False)
    compiled = compile_topology(topo)
    dns = [p for p in compiled.policies if p.name.startswith("allow-dns")]
    selectors = [
        {"matchExpressions": [{"key": r.key, "operator": r.operator, "values": list(r.values)}
                              for r in p.pod_selector.match_expressions]}
        for p in dns
    ]  # fmt: skip
    # vault = app=vault AND tier=secure; outside it: app NotIn (vault) OR tier NotIn (secure)
    assert [p.name for p in dns] == ["allow-dns", "allow-dns-2"]
    assert selectors == [
        {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["vault"]}]},
        {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["secure"]}]},
    ]
    path = _write(topo, tmp_path)
    assert [str(f) for f in verify_stack(path).findings] == []
    policies = policies_from_synth(read_json(path), str(path))
    inventory = {
        "workloads": [
            {"namespace": "shop", "name": "api", "labels": {"app": "api"}},
            {"namespace": "shop", "name": "vault", "labels": {"app": "vault", "tier": "secure"}},
            {"namespace": "shop", "name": "half", "labels": {"app": "vault"}},
            {"namespace": "kube-system", "name": "dns", "labels": {"k8s-app": "kube-dns"}},
        ]
    }
    result = reachability(policies, inventory)
    assert result.allowed("shop/api", "kube-system/dns", 53, "UDP")
    assert result.allowed("shop/half", "kube-system/dns", 53, "UDP")  # not all of vault's labels
    assert not result.allowed("shop/vault", "kube-system/dns", 53, "UDP")
    assert not result.allowed("shop/vault", "kube-system/dns", 53, "TCP")


def test_verify_reports_dns_given_back_to_a_workload_without_it(tmp_path: Path) -> None:
    topo = Topology("peers")
    shop = topo.add_namespace("peers/shop", name="shop", environment="prod")
    shop.workload("vault", labels={"app": "vault"}, allow_dns=False)
    path = _write(topo, tmp_path)
    doc = read_json(path)
    doc["resource"]["kubernetes_network_policy_v1"]["shop_allow-dns"]["spec"]["pod_selector"] = {}
    path.write_text(json.dumps(doc))
    found = [str(f) for f in verify_stack(path).findings]
    assert len(found) == 1 and found[0].startswith(
        "undeclared-flow: shop/vault -> DNS (kube-system k8s-app=kube-dns) is allowed on "
    ), found


def test_a_selection_of_this_stack_reaches_pods_of_another_namespace(tmp_path: Path) -> None:
    topo = Topology("peers")
    shop = topo.add_namespace("peers/shop", name="shop", environment="prod")
    flow = shop.all_workloads().allow_to(
        Namespaces.named("logging").pods({"app": "fluentd"}),
        ports=[Port.tcp(24224)],
        cross_environment=True,
    )
    assert flow.path == "peers/shop.all_workloads().allow_to()"
    spec = read_json(_write(topo, tmp_path))["resource"]["kubernetes_network_policy_v1"][
        "shop_all-pods-egress"
    ]["spec"]
    assert spec["pod_selector"] == {}
    assert spec["egress"][0]["to"] == [
        {
            "namespace_selector": {"match_labels": {NAME: "logging"}},
            "pod_selector": {"match_labels": {"app": "fluentd"}},
        }
    ]
    assert [str(f) for f in verify_stack(tmp_path / "stacks" / "peers").findings] == []
