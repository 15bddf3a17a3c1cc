"""``netfence diff``: flows opened and closed between synth outputs and in plans, risk flags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from constructs_lib import Port
from constructs_lib.cli import main
from constructs_lib.review import diff_artifacts, diff_plan

from .artifacts import POLICIES, artifact, plan, shop, variant, write


def lines(diff: Any) -> tuple[list[str], list[str], list[str]]:
    return (
        [f"{f.group} | {f}" for f in diff.opened],
        [f"{f.group} | {f}" for f in diff.closed],
        [str(r) for r in diff.risks],
    )


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return variant(tmp_path, "base")


def test_closing_a_flow_lists_it_as_closed_only(tmp_path: Path, base: Path) -> None:
    opened, closed, risks = lines(diff_artifacts(base, variant(tmp_path, "closed")))
    assert (opened, closed, risks) == ([], ["shop | shop/api -> shop/db: TCP 5432"], [])


def test_a_new_port_on_an_existing_flow_opens_only_that_port(tmp_path: Path, base: Path) -> None:
    assert lines(diff_artifacts(base, variant(tmp_path, "wider-db"))) == (
        ["shop | shop/api -> shop/db: TCP 5433"],
        [],
        [],
    )


def test_a_namespace_the_change_creates_closes_nothing(tmp_path: Path, base: Path) -> None:
    opened, closed, risks = lines(diff_artifacts(base, variant(tmp_path, "new-namespace")))
    assert closed == []
    assert opened == [
        "kube-system | batch/<unlisted pod> -> kube-system/{k8s-app=kube-dns}: TCP 53, UDP 53",
        "kube-system | batch/job -> kube-system/{k8s-app=kube-dns}: TCP 53, UDP 53",
        "shop | batch/job -> shop/db: TCP 5432",
    ]
    assert risks == []


def test_a_namespace_the_change_deletes_opens_nothing(tmp_path: Path, base: Path) -> None:
    opened, closed, _ = lines(diff_artifacts(variant(tmp_path, "new-namespace"), base))
    assert opened == []
    assert "shop | batch/job -> shop/db: TCP 5432" in closed


def test_cross_environment_flow_into_prod_raises_both_flags(tmp_path: Path, base: Path) -> None:
    assert lines(diff_artifacts(base, variant(tmp_path, "cross"))) == (
        ["shop | ops/probe -> shop/api: TCP 8080"],
        [],
        [
            "cross-environment: ops/probe (staging) -> shop/api (prod) is newly allowed on "
            "TCP 8080",
            "into-prod: ops/probe (staging) may now reach shop/api in prod on TCP 8080",
        ],
    )


def test_egress_to_the_internet_is_flagged(tmp_path: Path, base: Path) -> None:
    assert lines(diff_artifacts(base, variant(tmp_path, "internet"))) == (
        ["shop | shop/api -> external/web: TCP 443"],
        [],
        ["internet-egress: shop/api may now connect to external/web on TCP 443"],
    )


def test_an_endpoint_covering_the_internet_is_flagged_however_it_is_split(
    tmp_path: Path, base: Path
) -> None:
    """An artifact whose record calls two /1 halves a plain endpoint still raises the flag."""

    def halves(doc: dict[str, Any]) -> None:
        (web,) = [e for e in doc["//"]["metadata"]["netfence"]["external"] if e["name"] == "web"]
        web.update(cidrs=["0.0.0.0/1", "128.0.0.0/1"], internet=False)
        peer = doc["resource"][POLICIES]["shop_api-egress"]["spec"]["egress"][1]["to"][0]
        assert peer["ip_block"]["cidr"] == "0.0.0.0/0"
        peer["ip_block"]["cidr"] = "0.0.0.0/1"
        doc["resource"][POLICIES]["shop_api-egress"]["spec"]["egress"][1]["to"].append(
            {"ip_block": {"cidr": "128.0.0.0/1"}}
        )

    _, _, risks = lines(
        diff_artifacts(base, variant(tmp_path, "head", shape="internet", edit=halves))
    )
    assert risks == ["internet-egress: shop/api may now connect to external/web on TCP 443"]


def test_egress_to_an_undeclared_range_is_flagged(tmp_path: Path, base: Path) -> None:
    def widen(doc: dict[str, Any]) -> None:
        peer = doc["resource"][POLICIES]["shop_api-egress"]["spec"]["egress"][1]["to"][0]
        assert peer["ip_block"]["cidr"] == "203.0.113.0/24"
        peer["ip_block"]["cidr"] = "203.0.112.0/23"

    opened, closed, risks = lines(
        diff_artifacts(base, variant(tmp_path, "head", shape="base", edit=widen))
    )
    assert (opened, closed) == (["shop | shop/api -> 203.0.112.0/24: TCP 443"], [])
    assert risks == ["internet-egress: shop/api may now connect to 203.0.112.0/24 on TCP 443"]


def test_a_namespace_losing_default_deny_is_flagged_per_direction(
    tmp_path: Path, base: Path
) -> None:
    def drop(doc: dict[str, Any]) -> None:
        del doc["resource"][POLICIES]["shop_default-deny"]

    diff = diff_artifacts(base, variant(tmp_path, "head", shape="base", edit=drop))
    _, closed, risks = lines(diff)
    assert closed == []
    # allow-dns still selects every pod for Egress, so only ingress lost its default deny
    assert [r for r in risks if r.startswith("default-deny")] == [
        "default-deny-lost: namespace shop no longer isolates every pod for ingress "
        "(no policy with an empty podSelector and Ingress in policyTypes)"
    ]
    assert "shop | <any other namespace>/<any pod> -> shop/api: any port" in lines(diff)[0]


def test_a_peer_selecting_all_namespaces_is_flagged(tmp_path: Path, base: Path) -> None:
    def everywhere(doc: dict[str, Any]) -> None:
        rule = doc["resource"][POLICIES]["shop_db-ingress"]["spec"]["ingress"][0]
        rule["from"][0]["namespace_selector"] = {}

    assert lines(
        diff_artifacts(base, variant(tmp_path, "head", shape="base", edit=everywhere))
    ) == (
        [
            "shop | <any other namespace>/{app=api} -> shop/db: TCP 5432",
            "shop | kube-system/{app=api} -> shop/db: TCP 5432",
        ],
        [],
        [
            "into-prod: <any other namespace>/{app=api} (no environment label) may now reach "
            "shop/db in prod on TCP 5432",
            "into-prod: kube-system/{app=api} (no environment label) may now reach "
            "shop/db in prod on TCP 5432",
            "all-namespaces-peer: shop/db-ingress ingress now allows from pods {app=api} in "
            "every namespace (empty namespaceSelector)",
        ],
    )


def test_the_diff_is_semantic_not_textual(tmp_path: Path, base: Path) -> None:
    def reshuffle(doc: dict[str, Any]) -> None:
        policies = doc["resource"][POLICIES]
        policies["shop_moved"] = policies.pop("shop_api-egress")  # a renamed resource
        spec = policies["shop_dns"] = policies.pop("shop_allow-dns")
        spec["spec"]["egress"][0]["ports"].reverse()
        spec["spec"]["policy_types"] = ["Egress"]

    assert lines(diff_artifacts(base, variant(tmp_path, "head", shape="base", edit=reshuffle))) == (
        [],
        [],
        [],
    )


def test_cdktf_out_dirs_pair_stacks_by_name(tmp_path: Path) -> None:
    write(artifact(shop("base")), tmp_path / "a", "shop")
    write(artifact(shop("base")), tmp_path / "a", "other")
    write(artifact(shop("closed")), tmp_path / "b", "shop")
    write(artifact(shop("base")), tmp_path / "b", "other")
    diff = diff_artifacts(tmp_path / "a", tmp_path / "b")
    assert [(s.name, len(s.opened), len(s.closed)) for s in diff.stacks] == [
        ("other", 0, 0),
        ("shop", 0, 1),
    ]


# plans ---------------------------------------------------------------------------


def write_plan(tmp_path: Path, before: str, after: str) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan(artifact(shop(before)), artifact(shop(after)))))
    return path


def test_plan_diff_takes_pods_from_selectors_and_labels_from_namespaces(tmp_path: Path) -> None:
    assert lines(diff_plan(write_plan(tmp_path, "base", "cross"))) == (
        ["shop | ops/{app=probe} -> shop/{app=api}: TCP 8080"],
        [],
        [
            "cross-environment: ops/{app=probe} (staging) -> shop/{app=api} (prod) is newly "
            "allowed on TCP 8080",
            "into-prod: ops/{app=probe} (staging) may now reach shop/{app=api} in prod on TCP 8080",
        ],
    )


def test_plan_diff_names_workloads_from_a_stack(tmp_path: Path) -> None:
    stack = variant(tmp_path, "base")
    diff = diff_plan(write_plan(tmp_path, "base", "closed"), stacks=[stack])
    assert lines(diff) == ([], ["shop | shop/api -> shop/db: TCP 5432"], [])


def test_plan_diff_reads_an_inventory(tmp_path: Path) -> None:
    inventory = tmp_path / "inv.yaml"
    inventory.write_text(
        "workloads:\n- {namespace: shop, name: db, labels: {app: db}, ports: [{port: 5432}]}\n"
        "- {namespace: shop, name: api, labels: {app: api}}\n"
    )
    diff = diff_plan(write_plan(tmp_path, "base", "closed"), inventories=[inventory])
    assert lines(diff) == ([], ["shop | shop/api -> shop/db: TCP 5432"], [])


# the command ------------------------------------------------------------------------


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("head", "fail_on", "code"),
    [
        ("cross", "opened", 1),
        ("cross", "risk", 1),
        ("wider-db", "opened", 1),
        ("wider-db", "risk", 0),
        ("closed", "opened", 0),
        ("closed", None, 0),
        ("cross", None, 0),
    ],
)
def test_fail_on_gates(
    tmp_path: Path,
    base: Path,
    head: str,
    fail_on: str | None,
    code: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["diff", str(base), str(variant(tmp_path, head))]
    if fail_on:
        argv += ["--fail-on", fail_on]
    assert run(argv, capsys)[0] == code


def test_markdown_reads_as_a_pr_comment(
    tmp_path: Path, base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "diff.md"
    argv = ["diff", str(base), str(variant(tmp_path, "cross")), "--format", "md"]
    assert run([*argv, "--output", str(out_file)], capsys) == (0, "", "")
    text = out_file.read_text()
    head, summary, *_ = text.split("\n\n")
    assert head == "## netfence connectivity diff"
    assert summary == "**⚠️ 1 flow opened, 0 closed, 2 risk flags**"
    assert text.index("Risk flags") < text.index("Opened (1)")
    assert "- ⚠️ **into-prod**: ops/probe (staging) may now reach shop/api in prod" in text
    assert "| ops/probe | shop/api | TCP 8080 |" in text


def test_markdown_without_changes_says_so(
    tmp_path: Path, base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["diff", str(base), str(base), "--format", "md"], capsys)
    assert code == 0
    assert "**no connectivity change**" in out
    assert "No flow opened or closed." in out


def test_json_and_text_formats(
    tmp_path: Path, base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = str(variant(tmp_path, "closed"))
    code, out, _ = run(["diff", str(base), head, "--format", "json"], capsys)
    data = json.loads(out)
    assert (code, data["opened"], data["closed"], data["risks"]) == (0, 0, 1, 0)
    assert data["stacks"][0]["closed"] == [
        {"namespace": "shop", "from": "shop/api", "to": "shop/db", "ports": "TCP 5432"}
    ]
    code, out, _ = run(["diff", str(base), head], capsys)
    assert out.splitlines()[1:] == [
        "  closed in shop:",
        "    - shop/api -> shop/db: TCP 5432",
        "0 flows opened, 1 closed, 0 risk flags",
    ]


def test_plan_through_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_plan(tmp_path, "base", "cross")
    code, out, _ = run(["diff", "--plan", str(path), "--fail-on", "risk"], capsys)
    assert code == 1
    assert "RISK into-prod" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["diff", "a"], "netfence diff: error: give BASE and HEAD, or --plan PLAN.json"),
        (
            ["diff", "a", "b", "--plan", "p"],
            "netfence diff: error: give BASE HEAD or --plan, not both",
        ),
        (
            ["diff", "a", "b", "--stack", "s"],
            "netfence diff: error: --inventory and --stack go with --plan; "
            "BASE and HEAD carry their own intent records",
        ),
    ],
)
def test_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(argv, capsys)
    assert (code, out, err) == (2, "", message + "\n")


def test_bad_plan_inputs_name_the_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_plan = tmp_path / "state.json"
    not_plan.write_text('{"values": {}}')
    code, _, err = run(["diff", "--plan", str(not_plan)], capsys)
    assert (code, err) == (
        2,
        f"netfence: error: {not_plan} at resource_changes: not a plan: "
        "expected `terraform show -json` of a plan file\n",
    )
    data = plan(artifact(shop("base")), artifact(shop("base")))
    data["resource_changes"][0]["change"]["after"]["metadata"] = [{"labels": {}}]
    broken = tmp_path / "plan.json"
    broken.write_text(json.dumps(data))
    code, _, err = run(["diff", "--plan", str(broken)], capsys)
    assert (code, err) == (
        2,
        f"netfence: error: {broken} at resource_changes[0].change.after.metadata[0].name: "
        "expected a string, got null\n",
    )


def test_a_missing_base_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["diff", str(tmp_path / "nope"), str(tmp_path)], capsys)
    assert (code, err) == (2, f"netfence: error: {tmp_path / 'nope'}: no such file or directory\n")


def test_stand_ins_for_namespaces_outside_the_stack_read_as_such(tmp_path: Path) -> None:
    from constructs_lib import WorkloadSelection
    from constructs_lib.model import Topology

    def topo() -> Topology:
        t = Topology("shop")
        ns = t.add_namespace("shop/shop", name="shop", environment="prod")
        api = ns.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080)])
        prom = WorkloadSelection.in_environment("prod", labels={"app": "prometheus"})
        t.add_flow(prom, api, ports=None, cross_environment=False, path="shop/prom->api")
        return t

    def open_db(doc: dict[str, Any]) -> None:
        rule = doc["resource"][POLICIES]["shop_api-ingress"]["spec"]["ingress"][0]
        rule["from"] = [{"namespace_selector": {}}]

    base = write(artifact(topo()), tmp_path / "base")
    doc = artifact(topo())
    open_db(doc)
    head = write(doc, tmp_path / "head")
    opened, _, _ = lines(diff_artifacts(base, head))
    text = "\n".join(opened)
    assert "netfence-namespaces-" not in text
    assert "shop | namespaces labelled environment=prod/<any pod> -> shop/api: TCP 8080" in opened


def test_a_flow_from_named_namespaces_opens_as_written(tmp_path: Path) -> None:
    from constructs_lib import Namespaces
    from constructs_lib.model import Topology

    def topo(with_nginx: bool) -> Topology:
        t = Topology("shop")
        ns = t.add_namespace("shop/shop", name="shop", environment="prod")
        api = ns.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080)])
        if with_nginx:
            api.allow_from(
                Namespaces.named("ingress-nginx").pods({"app": "nginx"}), cross_environment=True
            )
        return t

    base = write(artifact(topo(False)), tmp_path / "base")
    head = write(artifact(topo(True)), tmp_path / "head")
    opened, closed, _ = lines(diff_artifacts(base, head))
    assert (opened, closed) == (
        ["shop | namespaces named ingress-nginx / pods app=nginx -> shop/api: TCP 8080"],
        [],
    )


def test_dropping_the_environment_of_a_selection_opens_the_other_environment(
    tmp_path: Path,
) -> None:
    from constructs_lib import Namespaces
    from constructs_lib.model import Topology

    def topo() -> Topology:
        t = Topology("shop")
        ns = t.add_namespace("shop/shop", name="shop", environment="prod")
        api = ns.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080)])
        api.allow_from(Namespaces.named("ops", environment="prod").pods({"app": "probe"}))
        return t

    base = write(artifact(topo()), tmp_path / "base")
    doc = artifact(topo())
    peer = doc["resource"][POLICIES]["shop_api-ingress"]["spec"]["ingress"][0]["from"][0]
    del peer["namespace_selector"]["match_labels"]["environment"]
    head = write(doc, tmp_path / "head")
    opened, closed, _ = lines(diff_artifacts(base, head))
    assert (opened, closed) == (
        [
            "shop | pods app=probe in namespaces named ops (environment=prod) but of another "
            "environment -> shop/api: TCP 8080"
        ],
        [],
    )


NAMESPACE_DESTROYED = (
    "namespace-destroyed: namespace {ns} is {how}: Terraform deletes "
    "kubernetes_namespace_v1.{addr} and with it every object in the namespace (to stop "
    "managing it without deleting it: adopt=True, which writes a removed block with "
    "destroy = false)"
)


def _destroy_risks(diff: Any) -> list[str]:
    return [str(r) for r in diff.risks if r.kind == "namespace-destroyed"]


def test_deleting_a_namespace_is_a_risk(tmp_path: Path) -> None:
    diff = diff_artifacts(
        variant(tmp_path, "before", shape="new-namespace"), variant(tmp_path, "after", shape="base")
    )
    assert _destroy_risks(diff) == [
        NAMESPACE_DESTROYED.format(ns="batch", how="destroyed", addr="batch")
    ]


def test_adopting_a_namespace_without_a_removed_block_is_a_risk(tmp_path: Path) -> None:
    def adopt(doc: dict[str, Any]) -> None:
        del doc["resource"]["kubernetes_namespace_v1"]["ops"]

    base = variant(tmp_path, "base")
    assert _destroy_risks(
        diff_artifacts(base, variant(tmp_path, "head", shape="base", edit=adopt))
    ) == [NAMESPACE_DESTROYED.format(ns="ops", how="destroyed", addr="ops")]

    def adopt_and_forget(doc: dict[str, Any]) -> None:
        adopt(doc)
        doc["removed"] = [
            {"from": "kubernetes_namespace_v1.ops", "lifecycle": [{"destroy": False}]}
        ]

    forgot = variant(tmp_path, "forgot", shape="base", edit=adopt_and_forget)
    assert _destroy_risks(diff_artifacts(base, forgot)) == []


def test_renaming_a_namespace_replaces_it_unless_moved_keeps_the_name(tmp_path: Path) -> None:
    def rename(doc: dict[str, Any]) -> None:
        doc["resource"]["kubernetes_namespace_v1"]["ops"]["metadata"]["name"] = "ops2"

    def readdress(doc: dict[str, Any]) -> None:
        group = doc["resource"]["kubernetes_namespace_v1"]
        group["ops_v2"] = group.pop("ops")
        doc["moved"] = [
            {"from": "kubernetes_namespace_v1.ops", "to": "kubernetes_namespace_v1.ops_v2"}
        ]

    base = variant(tmp_path, "base")
    renamed = variant(tmp_path, "renamed", shape="base", edit=rename)
    assert _destroy_risks(diff_artifacts(base, renamed)) == [
        NAMESPACE_DESTROYED.format(ns="ops", how="replaced", addr="ops")
    ]
    moved = variant(tmp_path, "moved", shape="base", edit=readdress)
    assert _destroy_risks(diff_artifacts(base, moved)) == []


def test_a_plan_that_deletes_a_namespace_is_a_risk(tmp_path: Path) -> None:
    before, after = artifact(shop("new-namespace")), artifact(shop("base"))
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan(before, after)))
    assert _destroy_risks(diff_plan(path)) == [
        NAMESPACE_DESTROYED.format(ns="batch", how="destroyed", addr="batch")
    ]
