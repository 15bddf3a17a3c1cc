"""Folding observations into intent: grouping, DNS, replies, endpoints, what is left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from constructs_lib.brownfield.flows import ObservedEndpoint, ObservedFlow, read_flows
from constructs_lib.brownfield.intent import EndRef, Intent
from constructs_lib.brownfield.observe import (
    EndpointMap,
    FlowAggregator,
    default_network,
    load_endpoint_map,
)
from constructs_lib.errors import ArtifactError
from constructs_lib.model.port import Port

DATA = Path(__file__).parent / "data"


def pod(namespace: str, env: str | None = None, /, **labels: str) -> ObservedEndpoint:
    """A pod; ``k8s_app=`` stands for the label ``k8s-app``."""
    ns_labels = (("environment", env),) if env else ()
    pairs = tuple(sorted((k.replace("k8s_app", "k8s-app"), v) for k, v in labels.items()))
    return ObservedEndpoint(namespace, pairs, None, "", ns_labels)


def outside(ip: str, reserved: str = "world") -> ObservedEndpoint:
    return ObservedEndpoint(None, (), ip, reserved)


def flow(
    src: ObservedEndpoint,
    dst: ObservedEndpoint,
    port: int | None = 80,
    protocol: str = "TCP",
    **kw: object,
) -> ObservedFlow:
    return ObservedFlow(0, src, dst, protocol if port else None, port, **kw)  # type: ignore[arg-type]


def learned(*flows: ObservedFlow, **kw: object) -> tuple[FlowAggregator, Intent]:
    agg = FlowAggregator(**kw)  # type: ignore[arg-type]
    agg.add_all(flows)
    return agg, agg.intent("learned", "title")


API = pod("shop", app="api")
WEB = pod("shop", app="web")
DNS = pod("kube-system", k8s_app="kube-dns")


def test_pods_group_by_app_kubernetes_io_name_then_app() -> None:
    a = pod("shop", **{"app.kubernetes.io/name": "api", "pod-template-hash": "x1"}, app="legacy")
    b = pod("shop", **{"app.kubernetes.io/name": "api", "pod-template-hash": "x2"}, app="legacy")
    _, intent = learned(flow(WEB, a, 8080), flow(WEB, b, 8080))
    assert [(w.name, w.selector) for w in intent.workloads] == [
        ("api", (("app.kubernetes.io/name", "api"),)),
        ("web", (("app", "web"),)),
    ]
    (api, _) = intent.workloads
    assert api.ports == (Port.tcp(8080),)
    # the proof places a pod with the labels every observed api pod carries
    assert api.pod_labels == (("app", "legacy"), ("app.kubernetes.io/name", "api"))
    assert [f.source.name + ">" + f.destination.name for f in intent.flows] == ["web>api"]


def test_group_by_uses_only_the_label_given() -> None:
    team = pod("shop", app="api", team="payments")
    agg, intent = learned(
        flow(team, WEB, 80), flow(team, outside("192.0.2.1"), 443), group_by=("team",)
    )
    assert [w.selector for w in intent.workloads] == [(("team", "payments"),)]
    assert agg.seen.ungrouped == {("shop", (("app", "web"),)): [1, ""]}
    assert [f.destination.kind for f in intent.flows] == ["external"]


def test_workload_names_are_dns_labels_and_unique_per_namespace() -> None:
    odd = pod("shop", app="Payment_API.v2")
    odd2 = pod("shop", app="payment-api-v2")
    _, intent = learned(flow(WEB, odd, 80), flow(WEB, odd2, 81))
    assert sorted(w.name for w in intent.workloads) == ["payment-api-v2", "payment-api-v2-2", "web"]


def test_replies_and_dns_are_folded_not_declared() -> None:
    agg, intent = learned(
        flow(WEB, API, 8080),
        flow(API, WEB, 51234, is_reply=True),
        flow(WEB, DNS, 53, "UDP"),
        flow(pod("other", app="x"), DNS, 53, "TCP"),
    )
    assert (agg.seen.replies, agg.seen.dns, agg.seen.learned) == (1, 2, 1)
    assert [(f.source.name, f.destination.name) for f in intent.flows] == [("web", "api")]
    # a pod seen only asking DNS is still a workload of its (declared) namespace
    assert [w.key for w in intent.workloads] == ["other/x", "shop/api", "shop/web"]
    assert all(n.allow_dns for n in intent.namespaces)


def test_dns_on_another_port_or_to_another_pod_is_not_folded() -> None:
    agg, _ = learned(flow(WEB, DNS, 9153), flow(WEB, pod("kube-system", app="x"), 53, "UDP"))
    assert agg.seen.dns == 0
    assert sorted(agg.seen.system) == [
        "shop/app=web -> kube-system/[k8s-app=kube-dns] on 9153/TCP",
        "shop/app=web -> kube-system/app=x on 53/UDP",
    ]


def test_dropped_flows_are_reported_and_never_learned() -> None:
    agg, intent = learned(
        flow(WEB, API, 5432, verdict="DROPPED"),
        flow(WEB, API, 5432, verdict="DROPPED"),
        flow(WEB, outside("203.0.113.9"), 22, verdict="ERROR"),
    )
    assert intent.flows == () and intent.workloads == ()
    assert dict(agg.seen.dropped) == {
        "shop/app=web -> shop/app=api on 5432/TCP: DROPPED": 2,
        "shop/app=web -> 203.0.113.9 on 22/TCP: ERROR": 1,
    }


def test_audit_verdicts_count_as_traffic_that_flowed() -> None:
    agg, intent = learned(flow(WEB, API, 8080, verdict="AUDIT"))
    assert len(intent.flows) == 1 and agg.seen.learned == 1


def test_unknown_verdicts_node_traffic_icmp_and_self_are_left_out() -> None:
    agg, intent = learned(
        flow(WEB, API, 8080, verdict="VERDICT_UNKNOWN"),
        flow(outside("10.0.0.1", "host"), API, 8080),
        flow(WEB, API, None, l4="ICMPv4"),
        flow(outside("198.51.100.1"), outside("198.51.100.2"), 80),
        flow(API, API, 8080, source_pod="api-1", destination_pod="api-1"),
    )
    assert intent.flows == ()
    seen = agg.seen
    assert (seen.unknown_verdict, seen.node, seen.outside_only, seen.self_flows) == (1, 1, 1, 1)
    assert dict(seen.no_port) == {"ICMPv4": 1}


def test_pods_of_one_workload_reach_each_other_through_a_selection() -> None:
    _, intent = learned(
        flow(API, API, 7000, source_pod="api-1", destination_pod="api-2"),
    )
    (f,) = intent.flows
    assert f.source == EndRef("workload", "api", "shop")
    assert f.destination == EndRef.selection("shop", (("app", "api"),))
    assert f.ports == (Port.tcp(7000),)
    assert intent.workloads[0].ports == ()  # peers' ports are the flow's, not the workload's


def test_outside_addresses_group_by_24_and_64_by_default() -> None:
    _, intent = learned(
        flow(API, outside("203.0.113.7"), 443),
        flow(API, outside("203.0.113.200"), 443),
        flow(API, outside("2001:db8:0:1::5"), 443),
        flow(outside("198.51.100.20"), API, 8080),
    )
    assert [(e.name, e.cidrs, e.ports) for e in intent.endpoints] == [
        ("ext-198-51-100-0-24", ("198.51.100.0/24",), ()),
        ("ext-2001-db8-0-1-64", ("2001:db8:0:1::/64",), (Port.tcp(443),)),
        ("ext-203-0-113-0-24", ("203.0.113.0/24",), (Port.tcp(443),)),
    ]
    assert default_network("10.1.2.3") == "10.1.2.0/24"


def test_the_endpoints_map_names_addresses_by_longest_prefix(tmp_path: Path) -> None:
    file = tmp_path / "endpoints.yaml"
    file.write_text(
        "203.0.113.0/24: partners\n203.0.113.0/28: payments\n203.0.114.0/24: payments\n"
        "0.0.0.0/1: internet\n"
    )
    agg, intent = learned(
        flow(API, outside("203.0.113.7"), 443, destination_names=("pay.example",)),
        flow(API, outside("203.0.114.1"), 443),
        flow(API, outside("203.0.113.77"), 443),
        flow(API, outside("93.184.216.34"), 80),
        endpoints=load_endpoint_map(file),
    )
    assert [(e.name, e.cidrs, e.internet, e.comment) for e in intent.endpoints] == [
        ("internet", ("0.0.0.0/1",), True, ""),  # covers the internet: the shared predicate
        ("partners", ("203.0.113.0/24",), False, ""),
        ("payments", ("203.0.113.0/28", "203.0.114.0/24"), False, "seen as pay.example"),
    ]
    assert agg.seen.grouped_addresses["payments"] == {"203.0.113.7", "203.0.114.1"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n", ": expected a mapping of CIDR to endpoint name, e.g. '203.0.113.0/24: payments'"),
        (
            "203.0.113.1/24: x\n",
            " at 203.0.113.1/24: '203.0.113.1/24' is not a CIDR such as "
            "'203.0.113.0/24' (host bits unset)",
        ),
        (
            "203.0.113.0/24: Pay_Ments\n",
            " at 203.0.113.0/24: endpoint name 'Pay_Ments' is not a "
            "DNS-1123 label (lowercase letters, digits, '-')",
        ),
    ],
)
def test_the_endpoints_map_refuses_bad_entries(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "endpoints.yaml"
    file.write_text(text)
    with pytest.raises(ArtifactError) as info:
        load_endpoint_map(file)
    assert str(info.value) == f"{file}{message}"


def test_environment_comes_from_hubble_namespace_labels_else_the_default() -> None:
    prod_api = pod("shop", "prod", app="api")
    staging_web = pod("web", "staging", app="web")
    _, intent = learned(flow(staging_web, prod_api, 8080), flow(pod("ops", app="probe"), prod_api))
    assert [(n.name, n.environment, n.adopt) for n in intent.namespaces] == [
        ("ops", "default", True),
        ("shop", "prod", True),
        ("web", "staging", True),
    ]
    assert all(f.cross_environment for f in intent.flows)


def test_a_selector_matching_pods_of_another_workload_is_a_conflict() -> None:
    both = pod("shop", **{"app.kubernetes.io/name": "api"}, app="web")
    agg, _ = learned(flow(WEB, both, 8080))
    assert agg.seen.conflicts == [
        "the selector app=web of workload shop/web also selects pods of shop/api "
        "(grouped by app.kubernetes.io/name=api); group by one label with --group-by"
    ]


def test_the_intent_does_not_depend_on_the_order_of_observations() -> None:
    flows = list(read_flows(DATA / "shop.hubble.jsonl", "hubble"))
    _, forward = learned(*flows)
    _, backward = learned(*reversed(flows))
    assert forward == backward


def test_memory_is_bounded_by_distinct_flows() -> None:
    agg = FlowAggregator()
    agg.add_all(flow(WEB, API, 8080) for _ in range(10_000))
    assert len(agg.flows) == 1 and agg.seen.learned == 10_000


def test_an_empty_endpoint_map_matches_nothing() -> None:
    assert EndpointMap().lookup("203.0.113.1") is None
