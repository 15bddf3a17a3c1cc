"""The new peers, ports, DNS opt-out and cluster ranges: every refusal's exact
message, and what the cluster ranges do to endpoints, annotations and verify."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from constructs_lib import (
    ExternalEndpoint,
    InvalidIntentError,
    LabelExpression,
    Namespaces,
    Port,
    WorkloadSelection,
)
from constructs_lib.compiler import compile_topology
from constructs_lib.emitters import render_terraform
from constructs_lib.loaders import read_json
from constructs_lib.loaders.terraform import policies_from_synth
from constructs_lib.model import Topology, Workload
from constructs_lib.verifier import reachability, verify_stack


def shop() -> Topology:
    t = Topology("prod")
    s = t.add_namespace("prod/shop", name="shop", environment="prod")
    s.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080)])
    return t


def api(t: Topology) -> Workload:
    return t.workloads[("shop", "api")]


def later() -> None:
    t = shop()
    api(t).allow_from(Namespaces.named("ops").all_pods(), cross_environment=True)
    t.add_namespace("prod/ops", name="ops", environment="prod")


def neither() -> None:
    t = shop()
    t.add_flow(
        Namespaces.named("a").all_pods(),
        Namespaces.named("b").all_pods(),
        ports=[Port.tcp(1)],
        cross_environment=True,
        path="prod/flow",
    )


def inside_after() -> None:
    t = shop()
    api(t).allow_to(ExternalEndpoint("kube-api", cidr="10.96.0.1/32", ports=[Port.tcp(443)]))
    t.set_cluster_ranges(
        "prod/cluster", pod_cidrs=["10.244.0.0/16"], service_cidrs=["10.96.0.0/12"]
    )


def inside_before() -> None:
    t = shop()
    t.set_cluster_ranges(
        "prod/cluster", pod_cidrs=["10.244.0.0/16"], service_cidrs=["10.96.0.0/12"]
    )
    api(t).allow_to(ExternalEndpoint("pods", cidr="10.244.1.0/24", ports=[Port.tcp(443)]))


CASES: list[tuple[str, Callable[[], object], str]] = [
    (
        "selection_built_by_hand",
        lambda: WorkloadSelection("ingress-nginx", {"app": "nginx"}),  # type: ignore[arg-type]
        "WorkloadSelection('ingress-nginx'): namespace: build a selection with "
        "namespace.select({...}) or namespace.all_workloads(); pods of namespaces outside the "
        "stack are Namespaces.named(...).pods({...}), Namespaces.labelled({...}).pods({...}) "
        "or Namespaces.all().pods({...})",
    ),
    (
        "named_managed",
        lambda: api(shop()).allow_from(Namespaces.named("shop").all_pods()),
        "prod/shop/api.allow_from(): source: namespace 'shop' is managed by this stack "
        "(declared at prod/shop); name it through its ZeroTrustNamespace: one of its "
        "workloads, .select({...}) or .all_workloads()",
    ),
    (
        "named_then_declared",
        later,
        "prod/ops: name: namespace 'ops' is named through Namespaces.named(...) by the "
        "flow at prod/shop/api.allow_from(); declare the namespace first and name it "
        "through this ZeroTrustNamespace instead",
    ),
    (
        "namespaces_without_pods",
        lambda: api(shop()).allow_from(Namespaces.named("ingress-nginx"), cross_environment=True),
        "prod/shop/api.allow_from(): source: namespaces named ingress-nginx is a set of "
        "namespaces, not of pods; pass Namespaces.named('ingress-nginx').pods({...}) or "
        "Namespaces.named('ingress-nginx').all_pods()",
    ),
    (
        "crosses_without_flag",
        lambda: api(shop()).allow_from(
            Namespaces.labelled({"team": "platform"}).pods({"app": "prometheus"})
        ),
        "prod/shop/api.allow_from(): cross_environment: namespaces labelled team=platform"
        " / pods app=prometheus is not restricted to environment 'prod' of workload "
        "shop/api, so the flow may cross environments; pass environment='prod' to the "
        "selection, or cross_environment=True to allow it explicitly",
    ),
    (
        "crosses_other_env",
        lambda: api(shop()).allow_from(
            Namespaces.all(environment="staging").pods({"app": "prometheus"})
        ),
        "prod/shop/api.allow_from(): cross_environment: namespaces labelled "
        "environment=staging / pods app=prometheus (environment 'staging') -> workload "
        "shop/api (environment 'prod') crosses environments; pass cross_environment=True "
        "to allow it explicitly",
    ),
    (
        "neither_end_in_stack",
        neither,
        "prod/flow: destination: neither namespaces named a / all pods nor namespaces "
        "named b / all pods has pods in this stack's namespaces, so no policy of this "
        "stack could allow the flow",
    ),
    (
        "labelled_empty",
        lambda: Namespaces.labelled({}),
        "Namespaces.labelled({}): labels: no labels and no expressions would select every"
        " namespace; use Namespaces.all() to say that explicitly",
    ),
    (
        "labelled_by_name_label",
        lambda: Namespaces.labelled({"kubernetes.io/metadata.name": "x"}),
        "Namespaces.labelled({'kubernetes.io/metadata.name': 'x'}): labels: select "
        "namespaces by name with Namespaces.named(...), not the "
        "'kubernetes.io/metadata.name' label",
    ),
    (
        "named_none",
        lambda: Namespaces.named(),
        "Namespaces.named(): names: name at least one namespace",
    ),
    (
        "named_twice",
        lambda: Namespaces.named("a", "a"),
        "Namespaces.named('a', 'a'): names[1]: namespace 'a' is named twice",
    ),
    (
        "named_bad",
        lambda: Namespaces.named("Bad_Name"),
        "Namespaces.named('Bad_Name'): names[0]: 'Bad_Name' is not a DNS-1123 label "
        "(lowercase letters, digits and '-', starting and ending with a letter or digit, "
        "at most 63 characters)",
    ),
    (
        "pods_empty",
        lambda: Namespaces.all().pods({}),
        "Namespaces.all().pods(): labels: an empty label selector selects every pod; use "
        ".all_pods() to say that explicitly",
    ),
    (
        "environment_contradiction",
        lambda: Namespaces.labelled({"environment": "prod"}, environment="staging"),
        "Namespaces.labelled({'environment': 'prod'}): environment: environment='staging'"
        " contradicts the label environment='prod'; set it once",
    ),
    (
        "expression_values_string",
        lambda: LabelExpression.is_in("team", "platform"),
        "LabelExpression.is_in(): values: 'platform' is not a list of label values; write "
        "values=['platform']",
    ),
    (
        "expression_in_empty",
        lambda: LabelExpression.not_in("team", []),
        "LabelExpression.not_in(): values: NotIn needs at least one value",
    ),
    (
        "expression_not_expression",
        lambda: Namespaces.labelled(expressions=["team"]),
        "Namespaces.labelled({}): expressions[0]: 'team' is not a LabelExpression (use "
        "LabelExpression.is_in(...), not_in(...), exists(...) or does_not_exist(...))",
    ),
    (
        "any_port_declared",
        lambda: shop().namespaces["shop"].workload("x", labels={"a": "b"}, ports=[Port.all_tcp()]),
        "prod/shop/x: ports[0]: any port/TCP is for flows only, never a default: declare "
        "the ports listened on here and pass ports=[Port.all()] (or Port.all_tcp(), "
        "Port.all_udp()) to the flow that needs any port",
    ),
    (
        "any_port_external",
        lambda: ExternalEndpoint("e", cidr="203.0.113.0/24", ports=[Port.all()]),
        "ExternalEndpoint('e'): ports[0]: any port is for flows only, never a default: "
        "declare the ports listened on here and pass ports=[Port.all()] (or "
        "Port.all_tcp(), Port.all_udp()) to the flow that needs any port",
    ),
    (
        "allow_dns_not_bool",
        lambda: shop().namespaces["shop"].workload("x", labels={"a": "b"}, allow_dns="no"),
        "prod/shop/x: allow_dns: 'no' is not True or False; write allow_dns=True or "
        "allow_dns=False",
    ),
    (
        "endpoint_inside_service_range",
        inside_after,
        "ExternalEndpoint('kube-api'): cidrs[0]: 10.96.0.1/32 lies inside the cluster's "
        "service CIDR 10.96.0.0/12, which netfence excepts from external endpoints; pass "
        "include_cluster_ranges=True if the endpoint is meant to be reached there",
    ),
    (
        "endpoint_inside_pod_range",
        inside_before,
        "ExternalEndpoint('pods'): cidrs[0]: 10.244.1.0/24 lies inside the cluster's pod "
        "CIDR 10.244.0.0/16, which netfence excepts from external endpoints; pass "
        "include_cluster_ranges=True if the endpoint is meant to be reached there",
    ),
    (
        "pod_cidrs_string",
        lambda: Topology("p").set_cluster_ranges(
            "p/cluster", pod_cidrs="10.0.0.0/8", service_cidrs=[]
        ),
        "p/cluster: pod_cidrs: '10.0.0.0/8' is not a list of CIDR strings; write "
        "pod_cidrs=['10.0.0.0/8']",
    ),
    (
        "pod_cidrs_bad",
        lambda: Topology("p").set_cluster_ranges(
            "p/cluster", pod_cidrs=["10.0.0.1/8"], service_cidrs=[]
        ),
        "p/cluster: pod_cidrs[0]: '10.0.0.1/8' has host bits set; did you mean '10.0.0.0/8'?",
    ),
]


@pytest.mark.parametrize(("make", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_exact_message(make: Callable[[], object], message: str) -> None:
    with pytest.raises(InvalidIntentError) as info:
        make()
    assert str(info.value) == message


def test_cross_environment_true_on_a_flow_that_cannot_cross_is_a_no_op() -> None:
    t = shop()
    flow = api(t).allow_from(
        Namespaces.labelled({"team": "platform"}, environment="prod").pods({"app": "x"}),
        cross_environment=True,
    )
    assert flow.cross_environment


def test_allow_dns_false_in_a_namespace_without_dns_is_a_no_op() -> None:
    t = Topology("p")
    ns = t.add_namespace("p/ns", name="ns", environment="prod", allow_dns=False)
    ns.workload("vault", labels={"app": "vault"}, allow_dns=False)
    assert not [p for p in compile_topology(t).policies if p.name.startswith("allow-dns")]


# -- cluster ranges ---------------------------------------------------------------------

WEB = ExternalEndpoint("web", cidr="0.0.0.0/0", internet=True, ports=[Port.tcp(443)])


def _internet_to_api(**cluster: list[str]) -> Topology:
    t = shop()
    if cluster:
        t.set_cluster_ranges("prod/cluster", **cluster)  # type: ignore[arg-type]
    api(t).allow_from(WEB)
    return t


def _write(topo: Topology, directory: Path) -> Path:
    compiled = compile_topology(topo)
    doc = render_terraform(compiled)
    doc["//"] = {"metadata": {"netfence": compiled.record}}
    path = directory / "stacks" / "prod" / "cdk.tf.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def test_cluster_ranges_become_excepts_and_the_purpose_says_so(tmp_path: Path) -> None:
    topo = _internet_to_api(pod_cidrs=["10.244.0.0/16"], service_cidrs=["10.96.0.0/12"])
    (policy,) = [p for p in compile_topology(topo).policies if p.name == "api-ingress"]
    (peer,) = policy.ingress[0].peers
    assert peer.ip_block is not None
    assert peer.ip_block.except_ == ("10.96.0.0/12", "10.244.0.0/16")
    assert policy.purpose == (
        "connections api accepts; the cluster ranges 10.244.0.0/16, 10.96.0.0/12 are "
        "excepted from its ipBlocks (pods and services are never reached by IP)"
    )
    path = _write(topo, tmp_path)
    assert read_json(path)["//"]["metadata"]["netfence"]["cluster"] == {
        "pod_cidrs": ["10.244.0.0/16"],
        "service_cidrs": ["10.96.0.0/12"],
    }
    assert [str(f) for f in verify_stack(path).findings] == []
    # reach cross-check: a pod with an IP in the pod CIDR is not the internet any more
    policies = policies_from_synth(read_json(path), str(path))
    cluster = {
        "namespaces": {"shop": {"labels": {"environment": "prod"}}},
        "workloads": [
            {"namespace": "shop", "name": "api", "labels": {"app": "api"}, "ip": "10.244.0.5",
             "ports": [{"port": 8080}]},
            {"namespace": "other", "name": "pod", "labels": {}, "ip": "10.244.3.9"},
        ],
        "external": [{"name": "somewhere", "ip": "198.18.0.1"}],
    }  # fmt: skip
    result = reachability(policies, cluster)
    assert not result.allowed("other/pod", "shop/api", 8080)
    assert result.allowed("external/somewhere", "shop/api", 8080)


def test_an_ipblock_that_can_match_pods_is_a_finding_when_no_pod_cidrs_are_declared(
    tmp_path: Path,
) -> None:
    path = _write(_internet_to_api(), tmp_path)
    found = [str(f) for f in verify_stack(path).findings]
    assert found == [
        "pod-ip: shop/api-ingress ingress rule 0 peer 0: ipBlock 0.0.0.0/0 (for external/web) "
        "admits pods from 0.0.0.0/0 by IP (pods may have any IP: the stack declares "
        "no pod CIDRs), pods the intent did not name; declare the cluster's ranges with "
        "KubernetesCluster(pod_cidrs=[...], service_cidrs=[...]) so netfence excepts them "
        "from external endpoints, or declare the endpoint with include_cluster_ranges=True "
        "if pods are meant to match "
        "[kubernetes_network_policy_v1.shop_api-ingress (shop/api-ingress)]"
    ]
    # the same ipBlock reaches pods of other namespaces in reach, too
    policies = policies_from_synth(read_json(path), str(path))
    cluster = {
        "workloads": [
            {"namespace": "shop", "name": "api", "labels": {"app": "api"}, "ip": "10.244.0.5",
             "ports": [{"port": 8080}]},
            {"namespace": "other", "name": "pod", "labels": {}, "ip": "10.244.3.9"},
        ]
    }  # fmt: skip
    assert reachability(policies, cluster).allowed("other/pod", "shop/api", 8080)


def test_include_cluster_ranges_keeps_them_and_verify_accepts_it(tmp_path: Path) -> None:
    t = shop()
    t.set_cluster_ranges("prod/cluster", pod_cidrs=["10.244.0.0/16"], service_cidrs=[])
    peers = ExternalEndpoint(
        "peers", cidr="10.0.0.0/8", ports=[Port.tcp(443)], include_cluster_ranges=True
    )
    api(t).allow_to(peers)
    (policy,) = [p for p in compile_topology(t).policies if p.name == "api-egress"]
    assert policy.egress[0].peers[0].ip_block is not None
    assert policy.egress[0].peers[0].ip_block.except_ == ()
    assert "excepted" not in policy.purpose
    assert [str(f) for f in verify_stack(_write(t, tmp_path)).findings] == []
