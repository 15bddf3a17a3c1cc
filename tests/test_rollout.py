"""Gradual rollout: default_deny per direction, workload.isolate(), and how verify,
the intent record and diff read an open direction."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from constructs_lib import ExternalEndpoint, InvalidIntentError, Port, ZeroTrustNamespace
from constructs_lib.cli import main
from constructs_lib.compiler import compile_topology
from constructs_lib.emitters import render_terraform
from constructs_lib.errors import ArtifactError
from constructs_lib.loaders.intent import intent_from_record
from constructs_lib.model import Topology, Workload
from constructs_lib.review import diff_artifacts
from constructs_lib.verifier import verify_stack

PAY = ExternalEndpoint("pay", cidr="203.0.113.0/24", ports=[Port.tcp(443)])
POLICY = "kubernetes_network_policy_v1"


def shop(
    mode: str = "both", *, isolate: str | None = None, web_dns: bool = True
) -> tuple[Topology, dict[str, Workload]]:
    """api -> db, api -> pay; web declares no flows (isolated only when asked)."""
    topo = Topology("rt")
    topo.set_cluster_ranges("rt/cluster", pod_cidrs=["10.244.0.0/16"], service_cidrs=[])
    ns = topo.add_namespace("rt/shop", name="shop", environment="prod", default_deny=mode)
    api = ns.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080)])
    db = ns.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432)])
    web = ns.workload("web", labels={"app": "web"}, ports=[Port.tcp(80)], allow_dns=web_dns)
    api.allow_to(db)
    api.allow_to(PAY)
    if isolate is not None:
        web.isolate(isolate)
    return topo, {"api": api, "db": db, "web": web}


def write(topo: Topology, directory: Path) -> Path:
    compiled = compile_topology(topo)
    doc = render_terraform(compiled)
    doc["//"] = {"metadata": {"netfence": compiled.record}}
    path = directory / "stacks" / topo.name / "cdk.tf.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def policies(topo: Topology) -> list[tuple[str, tuple[str, ...], str]]:
    return [
        (
            p.name,
            tuple(d.value for d in p.policy_types),
            ",".join(f"{k}={v}" for k, v in p.pod_selector.match_labels)
            + "".join(
                f"|{r.key} {r.operator} {','.join(r.values)}"
                for r in p.pod_selector.match_expressions
            ),
        )
        for p in compile_topology(topo).policies
    ]


def edit(path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    doc = json.loads(path.read_text())
    change(doc["resource"][POLICY])
    path.write_text(json.dumps(doc))
    return path


# refusals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"), [("sideways", "'sideways'"), (True, "True"), ("Both", "'Both'")]
)
def test_fails_when_default_deny_is_not_a_direction(value: object, shown: str) -> None:
    topo = Topology("rt")
    with pytest.raises(InvalidIntentError) as err:
        topo.add_namespace("rt/shop", name="shop", environment="prod", default_deny=value)  # type: ignore[arg-type]
    assert str(err.value) == (
        f"rt/shop: default_deny: {shown} is not one of 'both', 'ingress', 'egress', 'none' "
        "(the directions the namespace's default deny isolates for every pod)"
    )


def test_fails_when_isolate_is_not_a_direction() -> None:
    _, w = shop("none")
    with pytest.raises(InvalidIntentError) as err:
        w["web"].isolate("out")
    assert str(err.value) == (
        "rt/shop/web.isolate(): direction: 'out' is not one of 'ingress', 'egress', 'both' "
        "(the directions to isolate the workload in)"
    )


def test_fails_when_isolate_asks_only_for_a_direction_the_namespace_isolates() -> None:
    _, w = shop("ingress")
    with pytest.raises(InvalidIntentError) as err:
        w["web"].isolate("ingress")
    assert str(err.value) == (
        "rt/shop/web.isolate(): direction: namespace 'shop' already isolates every pod for "
        "ingress (default_deny='ingress'); isolate() is for a direction the namespace "
        "leaves open"
    )
    w["web"].isolate("both")  # the open part of it is asked for: egress only
    assert [d.value for d in w["web"].isolated] == ["Egress"]


def test_fails_when_a_workload_is_isolated_twice() -> None:
    _, w = shop("none", isolate="egress")
    with pytest.raises(InvalidIntentError) as err:
        w["web"].isolate("egress")
    assert str(err.value) == (
        "rt/shop/web.isolate(): direction: workload shop/web is already isolated for egress "
        "at rt/shop/web.isolate()"
    )
    w["web"].isolate("both")  # adds ingress
    assert [d.value for d in w["web"].isolated] == ["Ingress", "Egress"]


def test_the_construct_passes_default_deny_on(synth_stack: Callable[..., dict[str, Any]]) -> None:
    def declare(stack: Any) -> None:
        ns = ZeroTrustNamespace(stack, "shop", environment="prod", default_deny="ingress")
        assert ns.default_deny == "ingress"
        ns.workload("web", labels={"app": "web"}, ports=[Port.tcp(80)]).isolate("egress")

    doc = synth_stack(declare)
    spec = doc["resource"][POLICY]["shop_default-deny"]["spec"]
    assert spec["policy_types"] == ["Ingress"]
    assert doc["resource"][POLICY]["shop_web-egress"]["spec"]["policy_types"] == ["Egress"]
    assert doc["//"]["metadata"]["netfence"]["namespaces"][0]["default_deny"] == "ingress"


# compiler ------------------------------------------------------------------------


def test_both_is_the_default_deny_of_old() -> None:
    assert policies(shop()[0]) == [
        ("allow-dns", ("Egress",), ""),
        ("api-egress", ("Egress",), "app=api"),
        ("db-ingress", ("Ingress",), "app=db"),
        ("default-deny", ("Ingress", "Egress"), ""),
    ]
    assert "default_deny" not in compile_topology(shop()[0]).record["namespaces"][0]


def test_ingress_first_writes_only_the_ingress_halves_of_flows() -> None:
    # api's egress stays open: an api-egress policy would isolate it, so its flows'
    # egress halves are not written (egress already allows them); no DNS policy either.
    assert policies(shop("ingress")[0]) == [
        ("db-ingress", ("Ingress",), "app=db"),
        ("default-deny", ("Ingress",), ""),
    ]


def test_egress_only_keeps_the_namespace_dns_policy() -> None:
    assert policies(shop("egress")[0]) == [
        ("allow-dns", ("Egress",), ""),
        ("api-egress", ("Egress",), "app=api"),
        ("default-deny", ("Egress",), ""),
    ]


def test_none_writes_nothing_for_flows_between_open_pods() -> None:
    assert policies(shop("none")[0]) == []


def test_isolate_writes_a_policy_without_rules_and_dns_for_egress() -> None:
    topo, _ = shop("none", isolate="both")
    assert policies(topo) == [
        ("web-dns", ("Egress",), "app=web"),
        ("web-egress", ("Egress",), "app=web"),
        ("web-ingress", ("Ingress",), "app=web"),
    ]
    compiled = compile_topology(topo)
    by_name = {p.name: p for p in compiled.policies}
    assert by_name["web-ingress"].ingress == () and by_name["web-egress"].egress == ()
    assert compiled.record["workloads"][2]["isolate"] == ["ingress", "egress"]
    assert compiled.record["namespaces"][0]["default_deny"] == "none"


def test_an_isolated_workload_gets_the_rules_of_its_flows() -> None:
    topo, w = shop("ingress")
    w["api"].isolate("egress")
    assert policies(topo) == [
        ("api-dns", ("Egress",), "app=api"),
        ("api-egress", ("Egress",), "app=api"),
        ("db-ingress", ("Ingress",), "app=db"),
        ("default-deny", ("Ingress",), ""),
    ]
    egress = {p.name: p for p in compile_topology(topo).policies}["api-egress"].egress
    assert sorted(str(r.ports[0]) for r in egress) == ["443/TCP", "5432/TCP"]


def test_an_isolated_workload_without_dns_gets_no_dns_policy() -> None:
    topo, _ = shop("none", isolate="egress", web_dns=False)
    assert [n for n, _, _ in policies(topo)] == ["web-egress"]


def test_a_selection_flow_reaches_the_isolated_workloads_it_covers() -> None:
    topo, w = shop("none")
    w["api"].isolate("egress")
    w["web"].namespace.all_workloads().allow_to(
        ExternalEndpoint("logs", cidr="198.51.100.0/24", ports=[Port.tcp(514)])
    )
    # no all-pods-egress (it would isolate every pod): the rule lands on api-egress
    assert policies(topo) == [
        ("api-dns", ("Egress",), "app=api"),
        ("api-egress", ("Egress",), "app=api"),
    ]
    egress = {p.name: p for p in compile_topology(topo).policies}["api-egress"].egress
    assert sorted(str(r.ports[0]) for r in egress) == ["443/TCP", "514/TCP", "5432/TCP"]


def test_fails_when_a_flow_end_covers_part_of_an_isolated_workload() -> None:
    _, w = shop("none")
    w["web"].isolate("egress")
    front = w["web"].namespace.select({"tier": "front"})
    with pytest.raises(InvalidIntentError) as err:
        front.allow_to(PAY)
    message = (
        "source: selection tier=front in namespace shop selects part of the pods of workload "
        "shop/web, which is isolated for egress while namespace 'shop' leaves egress open: "
        "the pods of both would need a policy of their own; declare the flow on workload "
        "shop/web itself, or on pods selected by all of its labels"
    )
    assert str(err.value) == f"rt/shop.select().allow_to(): {message}"
    # the same when the flow comes first: isolate() refuses and changes nothing
    _, w = shop("none")
    w["web"].namespace.select({"tier": "front"}).allow_to(PAY)
    with pytest.raises(InvalidIntentError) as err:
        w["web"].isolate("egress")
    assert str(err.value) == "rt/shop/web.isolate(): direction: " + message.split(": ", 1)[1]
    assert w["web"].isolated == ()


def test_isolate_rechecks_earlier_flows_of_pods_in_namespaces_chosen_by_labels() -> None:
    """A flow end whose namespaces are decided when asked (Namespaces(...).pods) is
    re-checked by every later isolate(), whichever namespace it is in."""
    from constructs_lib.model.peers import Namespaces

    topo, w = shop("none")
    front = Namespaces.all(environment="prod").pods({"tier": "front"})
    topo.add_flow(front, PAY, ports=None, cross_environment=False, path="rt/front-to-pay")
    with pytest.raises(InvalidIntentError) as err:
        w["web"].isolate("egress")
    assert str(err.value) == (
        "rt/shop/web.isolate(): direction: namespaces labelled environment=prod / pods "
        "tier=front selects part of the pods of workload shop/web, which is isolated for "
        "egress while namespace 'shop' leaves egress open: the pods of both would need a "
        "policy of their own; declare the flow on workload shop/web itself, or on pods "
        "selected by all of its labels"
    )
    assert w["web"].isolated == ()


# verify --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["both", "ingress", "egress", "none"])
def test_verify_is_exact_in_every_mode(tmp_path: Path, mode: str) -> None:
    # web isolated in whatever its namespace leaves open
    isolate = {"both": None, "ingress": "egress", "egress": "ingress", "none": "both"}[mode]
    topo, _ = shop(mode, isolate=isolate)
    result = verify_stack(write(topo, tmp_path))
    assert [str(f) for f in result.findings] == []


def test_verify_notes_each_open_direction_once_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    topo, _ = shop("ingress", isolate="egress")
    path = write(topo, tmp_path)
    assert main(["verify", str(path)]) == 0
    out = capsys.readouterr().out
    notes = [line.strip() for line in out.splitlines() if line.strip().startswith("note:")]
    assert notes == [
        "note: namespace shop: default_deny='ingress' leaves egress open; pods no workload "
        "isolate() covers are allowed every egress connection (declared, not checked one by "
        "one)",
        "note: workload shop/web is isolated for egress by isolate(): only its declared "
        "flows are allowed there",
    ]
    assert "verified: no findings" in out
    assert main(["verify", str(path), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["stacks"][0]["findings"] == []
    assert [f"note: {n}" for n in report["stacks"][0]["notes"]] == notes


def test_verify_finds_a_widened_rule_of_a_workload_isolated_in_an_open_namespace(
    tmp_path: Path,
) -> None:
    topo, _ = shop("none", isolate="egress")
    path = write(topo, tmp_path)

    def widen(res: dict[str, Any]) -> None:
        res["shop_web-egress"]["spec"]["egress"] = [{"ports": [{"port": "443", "protocol": "TCP"}]}]

    findings = verify_stack(edit(path, widen)).findings
    assert {f.policies for f in findings} == {
        ("kubernetes_network_policy_v1.shop_web-egress (shop/web-egress)",)
    }
    # every pod's ingress is open in "none": web's widened egress reaches them all
    assert [f.message for f in findings] == [
        "shop/web -> external/pay is allowed on TCP 443 but no flow is declared",
        "shop/web -> shop/api is allowed on TCP 443 but no flow is declared (ingress of the "
        "destination is not isolated)",
        "shop/web -> shop/db is allowed on TCP 443 but no flow is declared (ingress of the "
        "destination is not isolated)",
        "shop/web -> DNS (kube-system k8s-app=kube-dns) is allowed on TCP 443 beyond the "
        "declared TCP 53, UDP 53 (ingress of the destination is not isolated)",
        "shop/web -> an unlisted pod in namespace shop is allowed on TCP 443 but no flow is "
        "declared (ingress of the destination is not isolated)",
        "shop/web -> any pod in an unlisted namespace is allowed on TCP 443 but no flow is "
        "declared (ingress of the destination is not isolated)",
        "shop/web -> addresses outside every declared external endpoint (in 0.0.0.0/0, ::/0) "
        "is allowed on TCP 443",
        "shop/web-egress egress rule 0 has no peers, so it matches every destination",
    ]


def test_verify_finds_an_ingress_rule_widened_where_ingress_is_the_isolated_direction(
    tmp_path: Path,
) -> None:
    path = write(shop("ingress")[0], tmp_path)

    def widen(res: dict[str, Any]) -> None:
        del res["shop_db-ingress"]["spec"]["ingress"][0]["from"]

    findings = verify_stack(edit(path, widen)).findings
    assert "unlisted-pod" in {f.kind for f in findings}
    assert all("shop_db-ingress" in " ".join(f.policies) for f in findings)


def test_verify_finds_an_open_direction_closed_by_the_artifact(tmp_path: Path) -> None:
    path = write(shop("ingress")[0], tmp_path)

    def close(res: dict[str, Any]) -> None:
        res["shop_default-deny"]["spec"]["policy_types"] = ["Ingress", "Egress"]

    findings = verify_stack(edit(path, close)).findings
    assert [f.message for f in findings if f.kind == "isolated"] == [
        f"{pod} is isolated for egress, but the intent leaves its egress open (namespace "
        "shop: default_deny='ingress', no isolate() covers it for egress)"
        for pod in ("an unlisted pod in namespace shop", "shop/api", "shop/db", "shop/web")
    ]
    # and with it the declared flows (whose egress halves were not written) and DNS
    assert {f.kind for f in findings} == {"isolated", "missing-flow", "dns"}


def test_verify_finds_a_missing_one_way_default_deny(tmp_path: Path) -> None:
    path = write(shop("egress")[0], tmp_path)

    def drop(res: dict[str, Any]) -> None:
        del res["shop_default-deny"]

    findings = [str(f) for f in verify_stack(edit(path, drop)).findings]
    assert (
        "default-deny: namespace shop has no default-deny policy for egress (empty "
        "podSelector, policyTypes Egress, no rules; default_deny='egress')"
    ) in findings


def test_verify_finds_a_lost_isolate(tmp_path: Path) -> None:
    path = write(shop("none", isolate="ingress")[0], tmp_path)

    def drop(res: dict[str, Any]) -> None:
        del res["shop_web-ingress"]

    kinds = {f.kind for f in verify_stack(edit(path, drop)).findings}
    assert "undeclared-flow" in kinds or "unlisted-pod" in kinds


# the intent record ---------------------------------------------------------------


def _record(**namespace: Any) -> dict[str, Any]:
    return {
        "version": 1,
        "namespaces": [{"name": "shop", "labels": {}, **namespace}],
        "workloads": [],
        "external": [],
        "flows": [],
    }


@pytest.mark.parametrize("value", ["half", 1, ["ingress"]])
def test_the_record_refuses_an_unknown_default_deny(value: object) -> None:
    with pytest.raises(ArtifactError) as err:
        intent_from_record(_record(default_deny=value), "x.json")
    assert str(err.value) == (
        "x.json at //.metadata.netfence.namespaces[0].default_deny: expected one of 'both', "
        f"'ingress', 'egress', 'none', got {value!r}"
    )


@pytest.mark.parametrize(
    ("value", "field", "message"),
    [
        (["up"], "isolate[0]", "expected 'ingress' or 'egress', got 'up'"),
        (["egress", "egress"], "isolate[1]", "'egress' is listed twice"),
        ("egress", "isolate", "expected a list, got string"),
    ],
)
def test_the_record_refuses_a_bad_isolate(value: object, field: str, message: str) -> None:
    record = _record()
    record["workloads"] = [
        {"namespace": "shop", "name": "w", "labels": {"a": "b"}, "isolate": value}
    ]
    with pytest.raises(ArtifactError) as err:
        intent_from_record(record, "x.json")
    assert str(err.value) == f"x.json at //.metadata.netfence.workloads[0].{field}: {message}"


def test_a_record_without_default_deny_reads_as_both() -> None:
    ns = intent_from_record(_record(), "x.json").namespaces[0]
    assert (ns.default_deny, ns.isolated, ns.open) == ("both", ("Ingress", "Egress"), ())


# diff ----------------------------------------------------------------------------


def test_diff_flags_a_namespace_that_loses_a_direction(tmp_path: Path) -> None:
    base = write(shop("both")[0], tmp_path / "base")
    head = write(shop("ingress")[0], tmp_path / "head")
    risks = [str(r) for r in diff_artifacts(base, head).risks]
    assert [r for r in risks if not r.startswith("internet-egress:")] == [
        "default-deny-lost: namespace shop no longer isolates every pod for egress (no "
        "policy with an empty podSelector and Egress in policyTypes)"
    ]


def test_diff_flags_a_workload_that_is_no_longer_isolated(tmp_path: Path) -> None:
    base = write(shop("none", isolate="egress")[0], tmp_path / "base")
    head = write(shop("none")[0], tmp_path / "head")
    risks = [str(r) for r in diff_artifacts(base, head).risks]
    assert risks == [
        "internet-egress: shop/web may now connect to 0.0.0.0/0, ::/0 except 203.0.113.0/24 "
        "on any port",
        "isolation-lost: shop/web is no longer isolated for egress (no policy selecting it "
        "has Egress in policyTypes): every egress connection is now allowed on its side",
    ]
    assert [str(r) for r in diff_artifacts(head, base).risks] == []


def test_map_draws_what_an_open_direction_allows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(shop("none", isolate="egress")[0], tmp_path)
    assert main(["map", str(path)]) == 0
    edges = [line.strip() for line in capsys.readouterr().out.splitlines() if "-->" in line]
    # n0 pay, n1 api, n2 db, n3 web: everything is open but web's egress (no flows)
    assert edges == [f'n{a} -->|"any port"| n{b}' for a in range(3) for b in range(4) if a != b]


def test_verify_markdown_lists_the_notes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(shop("egress")[0], tmp_path)
    assert main(["verify", str(path), "--format", "md"]) == 0
    out = capsys.readouterr().out
    assert "### stack `rt`: exact" in out
    # Markdown escapes the underscore (GitHub would read _..._ as emphasis)
    assert "- note: namespace shop: default\\_deny='egress' leaves ingress open;" in out
    assert "- note: workload" not in out  # nothing is isolated by isolate()


def test_a_pipeline_stage_in_an_open_namespace_is_isolated_both_ways(tmp_path: Path) -> None:
    from constructs_lib.model.pipeline import Pipeline

    topo = Topology("rt")
    topo.set_cluster_ranges("rt/cluster", pod_cidrs=["10.244.0.0/16"], service_cidrs=[])
    ns = topo.add_namespace("rt/etl", name="etl", environment="prod", default_deny="none")
    etl = Pipeline(topo, "rt/pipe", "pipe")
    a = etl.stage("ingest", namespace=ns)
    b = etl.stage("load", namespace=ns, ports=[Port.tcp(9090)])
    a >> b
    assert [n for n, _, _ in policies(topo)] == [
        "pipe-ingest-dns",
        "pipe-ingest-egress",
        "pipe-ingest-ingress",
        "pipe-load-dns",
        "pipe-load-egress",
        "pipe-load-ingress",
    ]
    assert [str(f) for f in verify_stack(write(topo, tmp_path)).findings] == []


def test_a_build_environment_refuses_an_open_namespace() -> None:
    from constructs_lib.model.build import BuildEnvironment

    topo = Topology("rt")
    ci = topo.add_namespace("rt/ci", name="ci", environment="ci", default_deny="ingress")
    with pytest.raises(InvalidIntentError) as err:
        BuildEnvironment(ci)
    assert str(err.value) == (
        "rt/ci: default_deny: a build environment isolates its jobs both ways; "
        "default_deny='ingress' would leave egress open: use default_deny='both'"
    )


def test_a_selection_inside_an_isolated_workload_gets_its_own_policy(tmp_path: Path) -> None:
    topo, w = shop("none", isolate="egress")
    front = w["web"].namespace.select({"app": "web", "tier": "front"})
    front.allow_to(PAY)
    # every pod it selects is web's, already isolated: its own policy isolates nothing new
    names = [n for n, _, _ in policies(topo)]
    assert names[0].startswith("pods-web-front-") and names[0].endswith("-egress")
    assert names[1:] == ["web-dns", "web-egress"]
    assert [str(f) for f in verify_stack(write(topo, tmp_path)).findings] == []


def test_lint_reports_an_ingress_first_stack_as_half_open_info_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(shop("ingress", isolate="egress")[0], tmp_path)
    assert main(["lint", str(path), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(f["rule"], f["severity"], f["name"]) for f in report["findings"]] == [
        ("half-open-namespace", "info", "default-deny")
    ]
    assert main(["lint", str(path), "--fail-on", "info"]) == 1
    capsys.readouterr()
    # "both" and "none" are not half-open
    for mode, isolate in (("both", None), ("none", "both")):
        path = write(shop(mode, isolate=isolate)[0], tmp_path / mode)
        assert main(["lint", str(path), "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["findings"] == []


def test_dns_goes_only_to_workloads_isolated_for_egress() -> None:
    topo, w = shop("none", isolate="egress")
    front = w["web"].namespace.workload(
        "front", labels={"app": "web", "tier": "front"}, ports=[Port.tcp(81)]
    )
    front.isolate("ingress")
    front.allow_to(PAY)  # front's pods are web's: its own egress policy isolates nothing new
    assert [n for n, _, _ in policies(topo)] == [
        "front-egress",
        "front-ingress",
        "web-dns",  # covers front's pods too; no front-dns
        "web-egress",
    ]


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_the_audit_report_carries_the_notes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    path = write(shop("ingress", isolate="egress")[0], tmp_path)
    assert main(["report", str(path.parent), "--format", fmt]) == 0
    out = capsys.readouterr().out
    # each format escapes in its own way: Markdown the underscore, HTML the quotes
    mode = "default\\_deny='ingress'" if fmt == "md" else "default_deny=&#x27;ingress&#x27;"
    assert f"note: namespace shop: {mode} leaves egress open" in out
    assert "note: workload shop/web is isolated for egress by isolate()" in out
