"""Pipelines: stage graphs become exact policies; RBAC is least privilege."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from constructs_lib import ExternalEndpoint, InvalidIntentError, Port
from constructs_lib.compiler import compile_topology
from constructs_lib.emitters import render_terraform
from constructs_lib.model import Topology
from constructs_lib.model.build import BuildEnvironment
from constructs_lib.model.pipeline import Pipeline
from constructs_lib.verifier import verify_stack

NP = "kubernetes_network_policy_v1"


def _setup(namespaces: int = 1) -> tuple[Topology, Pipeline, list[Any]]:
    topo = Topology("p")
    topo.set_cluster_ranges("p/cluster", pod_cidrs=["10.244.0.0/16"], service_cidrs=[])
    nss = [
        topo.add_namespace(f"p/ns{i}", name=f"ns{i}", environment="prod") for i in range(namespaces)
    ]
    return topo, Pipeline(topo, "p/etl", "etl"), nss


def _rules(topo: Topology) -> dict[str, Any]:
    return {
        name: body["spec"].get("ingress", body["spec"].get("egress"))
        for name, body in render_terraform(compile_topology(topo))["resource"][NP].items()
    }


def _peer_stages(rules: list[dict[str, Any]]) -> list[str]:
    key = "from" if "from" in rules[0] else "to"
    return sorted(
        peer["pod_selector"]["match_labels"]["netfence.io/stage"]
        for rule in rules
        for peer in rule[key]
    )


def _verify(topo: Topology, tmp_path: Path) -> list[str]:
    compiled = compile_topology(topo)
    doc = render_terraform(compiled)
    doc["//"] = {"metadata": {"netfence": compiled.record}}
    path = tmp_path / "cdk.tf.json"
    path.write_text(json.dumps(doc))
    return [str(f) for f in verify_stack(path).findings]


def test_linear_pipeline_each_stage_accepts_upstream_and_reaches_downstream_only(
    tmp_path: Path,
) -> None:
    topo, etl, (ns,) = _setup()
    a = etl.stage("ingest", namespace=ns)
    b = etl.stage("transform", namespace=ns, ports=[Port.tcp(8080)])
    c = etl.stage("load", namespace=ns, ports=[Port.tcp(9090)])
    a >> b >> c
    rules = _rules(topo)
    assert _peer_stages(rules["ns0_etl-transform-ingress"]) == ["ingest"]
    assert _peer_stages(rules["ns0_etl-transform-egress"]) == ["load"]
    assert _peer_stages(rules["ns0_etl-load-ingress"]) == ["transform"]
    assert "ns0_etl-ingest-ingress" not in rules and "ns0_etl-load-egress" not in rules
    assert rules["ns0_etl-load-ingress"][0]["ports"] == [{"port": "9090", "protocol": "TCP"}]
    assert _verify(topo, tmp_path) == []


def test_stage_pods_are_selected_by_pipeline_and_stage_labels() -> None:
    _topo, etl, (ns,) = _setup()
    stage = etl.stage("ingest", namespace=ns, labels={"app": "ingest"})
    assert dict(stage.labels) == {
        "app": "ingest",
        "netfence.io/pipeline": "etl",
        "netfence.io/stage": "ingest",
    }
    assert dict(ns.all_labels) == {
        "environment": "prod",
        "netfence.io/pipeline": "etl",
        "netfence.io/stage": "ingest",
    }


def test_fan_out_and_fan_in(tmp_path: Path) -> None:
    topo, etl, (ns,) = _setup()
    src = etl.stage("split", namespace=ns)
    left = etl.stage("left", namespace=ns, ports=[Port.tcp(80)])
    right = etl.stage("right", namespace=ns, ports=[Port.tcp(80)])
    join = etl.stage("join", namespace=ns, ports=[Port.tcp(81)])
    src.feeds(left, right)
    left.feeds(join)
    right.feeds(join)
    rules = _rules(topo)
    assert _peer_stages(rules["ns0_etl-split-egress"]) == ["left", "right"]
    assert _peer_stages(rules["ns0_etl-join-ingress"]) == ["left", "right"]
    assert _verify(topo, tmp_path) == []


def test_cross_namespace_stages_use_namespace_and_pod_selectors(tmp_path: Path) -> None:
    topo, etl, (ns0, ns1) = _setup(2)
    a = etl.stage("ingest", namespace=ns0)
    b = etl.stage("transform", namespace=ns1, ports=[Port.tcp(8080)])
    a >> b
    peer = _rules(topo)["ns1_etl-transform-ingress"][0]["from"][0]
    assert peer["namespace_selector"] == {"match_labels": {"kubernetes.io/metadata.name": "ns0"}}
    assert _verify(topo, tmp_path) == []


def test_external_endpoints_are_approved_per_stage(tmp_path: Path) -> None:
    topo, etl, (ns,) = _setup()
    load = etl.stage("load", namespace=ns)
    other = etl.stage("other", namespace=ns)
    warehouse = ExternalEndpoint("warehouse", cidr="198.51.100.64/26", ports=[Port.tcp(5439)])
    load.reaches(warehouse)
    rules = _rules(topo)
    assert rules["ns0_etl-load-egress"][0]["to"] == [{"ip_block": {"cidr": "198.51.100.64/26"}}]
    assert "ns0_etl-other-egress" not in rules
    assert other.service_account == "etl-other"
    assert _verify(topo, tmp_path) == []


def test_stage_flows_are_recorded_as_declared_by_feeds_and_reaches() -> None:
    topo, etl, (ns,) = _setup()
    a = etl.stage("ingest", namespace=ns)
    b = etl.stage("load", namespace=ns, ports=[Port.tcp(8080)])
    a >> b
    b.reaches(ExternalEndpoint("warehouse", cidr="198.51.100.64/26", ports=[Port.tcp(5439)]))
    record = compile_topology(topo).record
    assert [(f["to"].get("name"), f["declared_at"]) for f in record["flows"]] == [
        ("etl-load", "p/ns0/ingest.feeds()"),
        ("warehouse", "p/ns0/load.reaches()"),
    ]


def test_declared_cycle_is_allowed() -> None:
    topo, etl, (ns,) = _setup()
    a = etl.stage("a", namespace=ns, ports=[Port.tcp(1)])
    b = etl.stage("b", namespace=ns, ports=[Port.tcp(2)])
    a >> b
    b.feeds(a, cycle=True)
    assert len(topo.flows) == 2


def _cycle() -> None:
    _topo, etl, (ns,) = _setup()
    a, b, c = (etl.stage(s, namespace=ns, ports=[Port.tcp(1)]) for s in "abc")
    a >> b >> c
    c >> a


def _unknown_stage() -> None:
    topo, etl, (ns,) = _setup()
    other = Pipeline(topo, "p/other", "other")
    a = etl.stage("a", namespace=ns)
    a.feeds(other.stage("x", namespace=ns, ports=[Port.tcp(1)]))


def _duplicate_stage() -> None:
    _topo, etl, (ns,) = _setup()
    etl.stage("a", namespace=ns)
    etl.stage("a", namespace=ns)


def _build_to_prod() -> None:
    topo = Topology("p")
    ci = topo.add_namespace("p/ci", name="ci", environment="ci")
    prod = topo.add_namespace("p/shop", name="shop", environment="prod")
    db = prod.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432)])
    BuildEnvironment(ci).allow_service(db)


def _build_to_prod_in_prod_labelled_build() -> None:
    topo = Topology("p")
    ci = topo.add_namespace("p/ci", name="ci", environment="prod")
    db = ci.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432)])
    BuildEnvironment(ci).allow_service(db)


ERRORS: list[tuple[str, Callable[[], object], str]] = [
    (
        "cycle",
        _cycle,
        "p/ns0/c.feeds(): cycle: c -> a closes the cycle c -> a -> b -> c; pass cycle=True "
        "to declare it",
    ),
    (
        "unknown_stage",
        _unknown_stage,
        "p/ns0/a.feeds(): downstream: stage other/x is not a stage of pipeline 'etl' (stages: a)",
    ),
    (
        "duplicate_stage",
        _duplicate_stage,
        "p/etl/a: id: stage 'a' is already declared in pipeline 'etl'",
    ),
    (
        "build_to_prod_without_flag",
        _build_to_prod,
        "p/ci.allow_service(): cross_environment: workload shop/db is in environment 'prod'; a "
        "build environment never reaches production implicitly: pass cross_environment=True "
        "to declare it",
    ),
    (
        "build_to_prod_never_implicit",
        _build_to_prod_in_prod_labelled_build,
        "p/ci.allow_service(): cross_environment: workload ci/db is in environment 'prod'; a "
        "build environment never reaches production implicitly: pass cross_environment=True "
        "to declare it",
    ),
]


@pytest.mark.parametrize(("make", "message"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_bad_pipeline_input_is_refused_with_exact_message(
    make: Callable[[], object], message: str
) -> None:
    with pytest.raises(InvalidIntentError) as info:
        make()
    assert str(info.value) == message


def test_build_environment_reaches_prod_only_when_declared(tmp_path: Path) -> None:
    topo = Topology("p")
    topo.set_cluster_ranges("p/cluster", pod_cidrs=["10.244.0.0/16"], service_cidrs=[])
    ci = topo.add_namespace("p/ci", name="ci", environment="ci")
    prod = topo.add_namespace("p/shop", name="shop", environment="prod")
    db = prod.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432)])
    build = BuildEnvironment(ci)
    build.allow_endpoint(ExternalEndpoint("registry", cidr="10.20.0.0/24", ports=[Port.tcp(443)]))
    build.allow_service(db, cross_environment=True)
    peers = [peer for rule in _rules(topo)["ci_all-pods-egress"] for peer in rule["to"]]
    assert {"ip_block": {"cidr": "10.20.0.0/24"}} in peers
    assert {
        "namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": "shop"}},
        "pod_selector": {"match_labels": {"app": "db"}},
    } in peers
    assert _verify(topo, tmp_path) == []


def test_deployer_gets_a_namespaced_role_in_its_target_only() -> None:
    topo, etl, (ns0, ns1) = _setup(2)
    etl.stage("deploy", namespace=ns0, automount_token=True, deploys_to=ns1)
    res = render_terraform(compile_topology(topo))["resource"]
    assert "kubernetes_cluster_role_v1" not in res
    assert "kubernetes_cluster_role_binding_v1" not in res
    assert (
        res["kubernetes_service_account_v1"]["ns0_etl-deploy"]["automount_service_account_token"]
        is True
    )
    role = res["kubernetes_role_v1"]["ns1_etl-deploy-deployer"]
    assert role["metadata"]["namespace"] == "ns1"
    verbs = {r for rule in role["rule"] for r in rule["verbs"]}
    assert "escalate" not in verbs and "bind" not in verbs and "*" not in verbs
    resources = {r for rule in role["rule"] for r in rule["resources"]}
    assert "secrets" not in resources and "roles" not in resources
    binding = res["kubernetes_role_binding_v1"]["ns1_etl-deploy-deployer"]
    assert binding["role_ref"] == {
        "api_group": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "etl-deploy-deployer",
    }
    assert binding["subject"] == [
        {"kind": "ServiceAccount", "name": "etl-deploy", "namespace": "ns0"}
    ]


def test_service_account_token_is_not_mounted_by_default() -> None:
    topo, etl, (ns,) = _setup()
    etl.stage("a", namespace=ns)
    etl.stage("b", namespace=ns, service_account=False)
    accounts = render_terraform(compile_topology(topo))["resource"]["kubernetes_service_account_v1"]
    assert accounts == {
        "ns0_etl-a": {
            "metadata": {
                "name": "etl-a",
                "namespace": "ns0",
                "labels": {"app.kubernetes.io/managed-by": "netfence"},
            },
            "automount_service_account_token": False,
            "depends_on": ["kubernetes_namespace_v1.ns0"],
        }
    }


def _preview(stack: Any, branch: str | None = None) -> Any:
    from constructs_lib import Port, preview_namespace

    def template(ns: Any) -> None:
        web = ns.workload("web", labels={"app": "web"}, ports=[Port.tcp(8080)])
        api = ns.workload("api", labels={"app": "api"}, ports=[Port.tcp(9090)])
        web.allow_to(api)

    return preview_namespace(stack, "preview", template=template, branch=branch)


def test_preview_namespace_takes_its_name_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, synth_stack: Callable[..., Any]
) -> None:
    monkeypatch.setenv("NETFENCE_PREVIEW", "1234")
    out = synth_stack(_preview)
    policies = out["resource"][NP]
    assert "pr-1234_web-egress" in policies and "pr-1234_api-ingress" in policies
    labels = out["resource"]["kubernetes_namespace_v1"]["pr-1234"]["metadata"]["labels"]
    assert labels == {"environment": "preview", "netfence.io/preview": "1234"}


def test_invalid_preview_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from cdk_under_test import App, TerraformStack

    monkeypatch.setenv("NETFENCE_PREVIEW", "Feature/Login")
    with pytest.raises(InvalidIntentError) as info:
        _preview(TerraformStack(App(), "s"))
    assert str(info.value) == (
        "s/preview: environment variable NETFENCE_PREVIEW: 'Feature/Login' makes the namespace "
        "name 'pr-Feature/Login', which is not a DNS-1123 label (lowercase letters, digits and "
        "'-', at most 63 characters)"
    )


def test_missing_preview_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from cdk_under_test import App, TerraformStack

    monkeypatch.delenv("NETFENCE_PREVIEW", raising=False)
    with pytest.raises(InvalidIntentError) as info:
        _preview(TerraformStack(App(), "s"))
    assert str(info.value) == (
        "s/preview: branch: no preview name: pass branch=, set the cdktf context "
        "netfence.preview or the environment variable NETFENCE_PREVIEW"
    )


def test_preview_name_from_cdktf_context(synth_stack: Callable[..., Any]) -> None:
    def declare(stack: Any) -> None:
        stack.node.set_context("netfence.preview", "42")
        _preview(stack)

    assert "pr-42" in synth_stack(declare)["resource"]["kubernetes_namespace_v1"]


def test_a_stage_without_dns_is_left_out_of_the_dns_policy(tmp_path: Path) -> None:
    topo, etl, (ns,) = _setup()
    etl.stage("seal", namespace=ns, allow_dns=False)
    etl.stage("open", namespace=ns)
    dns = [p for p in compile_topology(topo).policies if p.name.startswith("allow-dns")]
    # seal = pipeline=etl AND stage=seal: outside it, either label differs
    assert [
        [(r.key, r.operator, r.values) for r in p.pod_selector.match_expressions] for p in dns
    ] == [
        [("netfence.io/pipeline", "NotIn", ("etl",))],
        [("netfence.io/stage", "NotIn", ("seal",))],
    ]
    assert _verify(topo, tmp_path) == []
