"""Compiler and Terraform renderer behaviour, on the pure model (no cdktf)."""

from __future__ import annotations

from typing import Any

from constructs_lib import DnsTarget, ExternalEndpoint, Port, WorkloadSelection
from constructs_lib.compiler import compile_topology
from constructs_lib.emitters import render_terraform
from constructs_lib.model import Topology

NP = "kubernetes_network_policy_v1"


def _render(topo: Topology) -> dict[str, Any]:
    return render_terraform(compile_topology(topo))["resource"]


def _topo() -> tuple[Topology, Any, Any, Any]:
    topo = Topology("prod")
    shop = topo.add_namespace("prod/shop", name="shop", environment="prod")
    api = shop.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080, name="http")])
    db = shop.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432)])
    return topo, shop, api, db


def test_allow_to_opens_egress_at_source_and_ingress_at_destination() -> None:
    topo, _, api, db = _topo()
    api.allow_to(db)
    res = _render(topo)[NP]
    assert res["shop_api-egress"]["spec"] == {
        "pod_selector": {"match_labels": {"app": "api"}},
        "policy_types": ["Egress"],
        "egress": [
            {
                "to": [{"pod_selector": {"match_labels": {"app": "db"}}}],
                "ports": [{"port": "5432", "protocol": "TCP"}],
            }
        ],
    }
    assert res["shop_db-ingress"]["spec"] == {
        "pod_selector": {"match_labels": {"app": "db"}},
        "policy_types": ["Ingress"],
        "ingress": [
            {
                "from": [{"pod_selector": {"match_labels": {"app": "api"}}}],
                "ports": [{"port": "5432", "protocol": "TCP"}],
            }
        ],
    }
    assert "shop_api-ingress" not in res and "shop_db-egress" not in res


def test_allow_from_is_the_same_flow_as_allow_to() -> None:
    topo_a, _, api_a, db_a = _topo()
    api_a.allow_to(db_a)
    topo_b, _, api_b, db_b = _topo()
    db_b.allow_from(api_b)
    assert _render(topo_a) == _render(topo_b)


def test_cross_namespace_peer_is_namespace_and_pod_selector_in_one_peer() -> None:
    topo, _, api, _ = _topo()
    data = topo.add_namespace("prod/data", name="data", environment="prod")
    cache = data.workload("cache", labels={"app": "redis"}, ports=[Port.tcp(6379)])
    api.allow_to(cache)
    res = _render(topo)[NP]
    assert res["shop_api-egress"]["spec"]["egress"][0]["to"] == [
        {
            "namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": "data"}},
            "pod_selector": {"match_labels": {"app": "redis"}},
        }
    ]
    assert res["data_cache-ingress"]["spec"]["ingress"][0]["from"] == [
        {
            "namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": "shop"}},
            "pod_selector": {"match_labels": {"app": "api"}},
        }
    ]


def test_every_namespace_gets_default_deny_both_ways_and_dns() -> None:
    topo, *_ = _topo()
    res = _render(topo)[NP]
    assert res["shop_default-deny"]["spec"] == {
        "pod_selector": {},
        "policy_types": ["Ingress", "Egress"],
    }
    dns = res["shop_allow-dns"]["spec"]
    assert dns["policy_types"] == ["Egress"]
    assert dns["egress"] == [
        {
            "to": [
                {
                    "namespace_selector": {
                        "match_labels": {"kubernetes.io/metadata.name": "kube-system"}
                    },
                    "pod_selector": {"match_labels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": [{"port": "53", "protocol": "TCP"}, {"port": "53", "protocol": "UDP"}],
        }
    ]


def test_allow_dns_false_leaves_dns_blocked() -> None:
    topo = Topology("p")
    topo.add_namespace("p/batch", name="batch", environment="prod", allow_dns=False)
    assert set(_render(topo)[NP]) == {"batch_default-deny"}


def test_dns_target_is_overridable_for_openshift() -> None:
    topo = Topology("p")
    topo.add_namespace("p/app", name="app", environment="prod", dns=DnsTarget.openshift())
    egress = _render(topo)[NP]["app_allow-dns"]["spec"]["egress"][0]
    assert egress["to"][0]["namespace_selector"]["match_labels"] == {
        "kubernetes.io/metadata.name": "openshift-dns"
    }
    assert egress["ports"] == [
        {"port": "5353", "protocol": "TCP"},
        {"port": "5353", "protocol": "UDP"},
    ]


def test_environment_selection_selects_namespaces_by_environment_label() -> None:
    topo, _, api, _ = _topo()
    prom = WorkloadSelection.in_environment("prod", labels={"app": "prometheus"})
    api.allow_from(prom, ports=[Port.named("http")])
    ingress = _render(topo)[NP]["shop_api-ingress"]["spec"]["ingress"]
    assert ingress == [
        {
            "from": [
                {
                    "namespace_selector": {"match_labels": {"environment": "prod"}},
                    "pod_selector": {"match_labels": {"app": "prometheus"}},
                }
            ],
            "ports": [{"port": "http", "protocol": "TCP"}],
        }
    ]


def test_all_workloads_is_the_only_way_to_an_empty_pod_selector_peer() -> None:
    topo, shop, api, _ = _topo()
    api.allow_from(shop.all_workloads())
    ingress = _render(topo)[NP]["shop_api-ingress"]["spec"]["ingress"]
    assert ingress[0]["from"] == [{"pod_selector": {}}]


def test_external_endpoint_is_one_ip_block_per_cidr_with_its_excepts() -> None:
    topo, _, api, _ = _topo()
    bank = ExternalEndpoint(
        "bank",
        cidrs=["203.0.113.0/24", "2001:db8::/32"],
        except_=["203.0.113.128/25"],
        ports=[Port.tcp(443)],
    )
    api.allow_to(bank)
    assert _render(topo)[NP]["shop_api-egress"]["spec"]["egress"] == [
        {
            "to": [
                {"ip_block": {"cidr": "203.0.113.0/24", "except": ["203.0.113.128/25"]}},
                {"ip_block": {"cidr": "2001:db8::/32"}},
            ],
            "ports": [{"port": "443", "protocol": "TCP"}],
        }
    ]


def test_internet_endpoint_needs_and_gets_the_explicit_flag() -> None:
    topo, _, api, _ = _topo()
    api.allow_to(ExternalEndpoint("web", cidr="0.0.0.0/0", internet=True, ports=[Port.tcp(443)]))
    egress = _render(topo)[NP]["shop_api-egress"]["spec"]["egress"]
    assert egress[0]["to"] == [{"ip_block": {"cidr": "0.0.0.0/0"}}]


def test_port_ranges_render_end_port() -> None:
    topo, _, api, db = _topo()
    api.allow_to(db, ports=[Port.tcp_range(30000, 30100), Port.udp(5432)])
    ports = _render(topo)[NP]["shop_db-ingress"]["spec"]["ingress"][0]["ports"]
    assert ports == [
        {"port": "30000", "protocol": "TCP", "end_port": 30100},
        {"port": "5432", "protocol": "UDP"},
    ]


def test_no_compiled_rule_is_empty_and_no_peer_is_empty() -> None:
    topo, shop, api, db = _topo()
    api.allow_to(db)
    api.allow_from(shop.all_workloads())
    api.allow_to(ExternalEndpoint("x", cidr="192.0.2.0/24", ports=[Port.udp(514)]))
    for policy in compile_topology(topo).policies:
        for rule in (*policy.ingress, *policy.egress):
            assert rule.peers and rule.ports
            assert all(p.namespace_selector or p.pod_selector or p.ip_block for p in rule.peers)


def test_adding_a_flow_changes_only_the_two_workloads_it_touches() -> None:
    topo, shop, api, db = _topo()
    worker = shop.workload("worker", labels={"app": "worker"})
    cache = shop.workload("cache", labels={"app": "cache"}, ports=[Port.tcp(6379)])
    api.allow_to(db)
    worker.allow_to(db)
    before = _render(topo)[NP]
    worker.allow_to(cache)
    after = _render(topo)[NP]
    changed = {k for k in after if before.get(k) != after[k]}
    assert changed == {"shop_worker-egress", "shop_cache-ingress"}


def test_adopted_namespace_patches_labels_and_is_never_owned() -> None:
    topo = Topology("p")
    legacy = topo.add_namespace("p/legacy", name="legacy", environment="prod", adopt=True)
    legacy.workload("app", labels={"app": "x"})
    res = _render(topo)
    assert "kubernetes_namespace_v1" not in res
    assert res["kubernetes_labels"]["legacy"] == {
        "api_version": "v1",
        "kind": "Namespace",
        "metadata": {"name": "legacy"},
        "labels": {"environment": "prod"},
        "field_manager": "netfence",
    }
    assert res[NP]["legacy_default-deny"]["depends_on"] == ["kubernetes_labels.legacy"]


def test_adopted_namespace_gets_a_removed_block_so_adopting_never_destroys_it() -> None:
    topo = Topology("p")
    topo.add_namespace("p/legacy", name="legacy", environment="prod", adopt=True)
    topo.add_namespace("p/shop", name="shop", environment="prod")
    topo.add_namespace("p/old", name="7old", environment="prod", adopt=True)
    doc = render_terraform(compile_topology(topo))
    assert doc["removed"] == [
        {"from": "kubernetes_namespace_v1._7old", "lifecycle": {"destroy": False}},
        {"from": "kubernetes_namespace_v1.legacy", "lifecycle": {"destroy": False}},
    ]
    managed_only = Topology("p")
    managed_only.add_namespace("p/shop", name="shop", environment="prod")
    assert "removed" not in render_terraform(compile_topology(managed_only))


def test_resource_names_derive_from_kubernetes_names_and_stay_valid() -> None:
    topo = Topology("p")
    ns = topo.add_namespace("p/anything", name="9lives", environment="prod")
    ns.workload("some-construct-id", name="cat", labels={"app": "cat"})
    res = _render(topo)
    assert set(res["kubernetes_namespace_v1"]) == {"_9lives"}
    assert "_9lives_default-deny" in res[NP]
    assert res[NP]["_9lives_default-deny"]["metadata"]["namespace"] == "9lives"


def test_policies_carry_managed_by_label_and_purpose() -> None:
    topo, _, api, db = _topo()
    api.allow_to(db)
    meta = _render(topo)[NP]["shop_db-ingress"]["metadata"]
    assert meta == {
        "name": "db-ingress",
        "namespace": "shop",
        "labels": {"app.kubernetes.io/managed-by": "netfence"},
        "annotations": {"netfence.io/purpose": "connections db accepts"},
    }


def test_both_emitters_refuse_an_empty_rule_or_peer() -> None:
    import pytest

    from constructs_lib.emitters import render_manifests
    from constructs_lib.spec import CompiledStack, Direction, Peer, PolicySpec, Rule, Selector

    def stack(rule: Rule) -> CompiledStack:
        policy = PolicySpec("ns", "p", Selector(), (Direction.INGRESS,), ingress=(rule,))
        return CompiledStack((), (policy,))

    for rule, message in (
        (Rule((), (Port.tcp(80),)), "without peers or ports"),
        (Rule((Peer(),), (Port.tcp(80),)), "empty peer"),
    ):
        for render in (render_terraform, render_manifests):
            with pytest.raises(ValueError, match=message):
                render(stack(rule))
