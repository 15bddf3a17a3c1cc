"""`netfence migrate` end to end: generated app, synthesis, the proof, raw_policy, the CLI."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from constructs_lib import cli
from constructs_lib.brownfield.codegen import render_app
from constructs_lib.brownfield.migrate import (
    MigrateResult,
    compare,
    derivation,
    migrate,
    proof_inventory,
)
from constructs_lib.errors import InvalidIntentError
from constructs_lib.loaders import load_policies
from constructs_lib.loaders.inventory import load_inventory
from constructs_lib.model.topology import Topology
from constructs_lib.verifier.reach import Reachability

DATA = Path(__file__).parent / "data"
GOLDEN = Path(__file__).parent / "golden"


def _golden(name: str, text: str, update: bool) -> None:
    """main.py as reviewed: a change to the generated code shows in the diff."""
    path = GOLDEN / name
    if update:
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed; review, then pytest --update-golden"


def _run(name: str, out: Path, zero_trust: bool = False) -> MigrateResult:
    return migrate(
        load_policies(DATA / f"{name}.yaml"),
        load_inventory(DATA / f"{name}-inventory.yaml"),
        out,
        zero_trust=zero_trust,
        source=f"{name}.yaml",
    )


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> MigrateResult:
    return _run("shop", tmp_path_factory.mktemp("migrate") / "shop")


@pytest.fixture(scope="module")
def recipes(tmp_path_factory: pytest.TempPathFactory) -> MigrateResult:
    return _run("recipes", tmp_path_factory.mktemp("migrate") / "recipes")


def test_shop_migrates_exactly_and_python_main_py_wrote_both_artifacts(
    shop: MigrateResult,
) -> None:
    stack = shop.out / "cdktf.out" / "stacks" / "migrated"
    assert (stack / "cdk.tf.json").is_file() and (stack / "manifests.yaml").is_file()
    assert (shop.out / "cdktf.json").is_file()
    assert shop.proof.differences == () and shop.proof.ok
    # 11 inventory pods + 3 unlisted + 1 of an unlisted namespace = 15 pods, plus the outside
    # IP; and each pod with another like it (two replicas of a workload)
    assert shop.proof.pairs == 15 * 14 + 2 * 15 + 15
    assert shop.kept_as["shop/deny-all"] == "default_deny='ingress' of namespace shop"
    assert shop.kept_as["shop/cart"] == (
        "flows shop/checkout -> shop/cart 7070/TCP; shop/web -> shop/cart 7070/TCP"
    )
    assert shop.intent.raw_policies == ()
    assert shop.verify_findings == ()
    report = (shop.out / "MIGRATION.md").read_text()
    assert "- unintended differences: 0" in report
    assert "- flows: 12, external endpoints: 0" in report
    assert "| shop/email | flows shop/checkout -> shop/email http/TCP |" in report


def test_generated_code_reads_like_kept_code(shop: MigrateResult, update_golden: bool) -> None:
    main = (shop.out / "main.py").read_text()
    assert 'ZeroTrustNamespace(\n        stack, "shop", environment="prod", adopt=True,' in main
    assert 'default_deny="ingress", allow_dns=False' in main
    # named from app.kubernetes.io/name, then app
    redis = '"redis", labels={"app.kubernetes.io/name": "redis"}'
    assert f"shop_redis = shop.workload(\n        {redis}" in main
    assert 'shop_loadgen = shop.workload("loadgen", labels={"app": "loadgen"})' in main
    # one line per flow; the ports left out where they are the destination's own
    assert "    shop_web.allow_to(shop_cart)\n" in main
    assert '    shop_checkout.allow_to(shop_email, ports=[Port.named("http")])\n' in main
    assert "    ingress_nginx_ingress_nginx.allow_to(shop_web, cross_environment=True)\n" in main
    assert "raw_policy" not in main
    _golden("shop.main.py", main, update_golden)


def test_netfence_verify_accepts_the_migrated_stack_with_raw_policies_as_declared(
    recipes: MigrateResult, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["verify", str(recipes.out / "cdktf.out")]) == 0
    out = capsys.readouterr().out
    assert "note: raw policy frontend/media-rtp is declared as written (raw_policy)" in out


def test_verify_flags_a_raw_policy_changed_in_the_artifact(
    recipes: MigrateResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = tmp_path / "stack"
    shutil.copytree(recipes.out / "cdktf.out" / "stacks" / "migrated", stack)
    tf = stack / "cdk.tf.json"
    data = json.loads(tf.read_text())
    spec = data["resource"]["kubernetes_network_policy_v1"]["frontend_media-rtp"]["spec"]
    spec["ingress"][0]["ports"][1]["port"] = "9001"
    tf.write_text(json.dumps(data))
    (stack / "manifests.yaml").unlink()
    assert cli.main(["verify", str(tf)]) == 1
    out = capsys.readouterr().out
    assert "changed-raw-policy: raw policy frontend/media-rtp differs from the spec the" in out


def test_verify_flags_a_flow_policy_changed_in_the_artifact(
    shop: MigrateResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = tmp_path / "stack"
    shutil.copytree(shop.out / "cdktf.out" / "stacks" / "migrated", stack)
    tf = stack / "cdk.tf.json"
    data = json.loads(tf.read_text())
    spec = data["resource"]["kubernetes_network_policy_v1"]["shop_cart-ingress"]["spec"]
    spec["ingress"][0]["ports"][0]["port"] = "7071"
    tf.write_text(json.dumps(data))
    (stack / "manifests.yaml").unlink()
    assert cli.main(["verify", str(tf)]) == 1
    assert "missing-flow: declared flow shop/checkout -> shop/cart is not allowed" in (
        capsys.readouterr().out
    )


def test_every_recipe_migrates_with_no_difference(
    recipes: MigrateResult, update_golden: bool
) -> None:
    assert recipes.proof.differences == (), [d.line() for d in recipes.proof.differences]
    assert recipes.verify_findings == ()
    kept = recipes.kept_as
    assert kept["locked/default-deny-all"] == "default_deny='both' of namespace locked"
    assert kept["egress-locked/deny-egress"] == "default_deny='egress' of namespace egress-locked"
    assert kept["team-b/batch-no-egress"] == "workload team-b/batch: isolate('egress')"
    assert kept["team-a/api-from-frontends"] == "flows {team=frontend}/[] -> team-a/api 8080/TCP"
    assert kept["team-a/api-egress-db"] == (
        "workload team-a/api: isolate('egress'); flows team-a/api -> team-a/db any port"
    )
    assert kept["team-b/worker-egress"] == (
        "workload team-b/client: isolate('egress'); flows team-b/client -> "
        "external/ip-10-0-0-0-8-except-10-1-0-0-16 443/TCP; team-b/client -> "
        "kube-system/kube-dns 53/TCP, 53/UDP"
    )
    assert kept["frontend/edge-from-internet"] == (
        "workload frontend/edge: isolate('ingress'); flows "
        "external/any-ipv4-except-10-0-0-0-8 -> frontend/edge 443/TCP"
    )
    raw = {r.key: r.reason for r in recipes.intent.raw_policies}
    assert sorted(raw) == [
        "egress-locked/allow-dns",
        "egress-locked/tiers",
        "frontend/media-rtp",
        "frontend/open-ingress",
        "frontend/web-http",
        "team-a/allow-same-namespace",
        "team-a/db-from-team-b-clients",
        "team-b/public-from-everywhere",
    ]
    # each keeps the reason that is true: the other half a flow would write, match
    # expressions, or the model's own refusal
    assert raw["team-a/db-from-team-b-clients"] == (
        "the flow team-b/client -> team-a/db would also open the egress of team-b/client to "
        "team-a/db, which the original's egress policies of team-b/client do not allow (a flow "
        "writes its egress half on every isolated source)"
    )
    assert raw["frontend/media-rtp"] == (  # no from: every pod and address, as flows
        "the flow */[] -> frontend/media would also open the egress of egress-locked/reader to "
        "frontend/media, which the original's egress policies of egress-locked/reader do not "
        "allow (a flow writes its egress half on every isolated source)"
    )
    assert raw["egress-locked/tiers"] == (
        "its podSelector uses matchExpressions, which a workload or selection cannot declare"
    )
    assert raw["egress-locked/allow-dns"].startswith(
        "the model refuses its flow: egress-locked/[] -> */[k8s-app=kube-dns]: destination: "
        "all namespaces / pods k8s-app=kube-dns selects part of the pods of workload "
        "frontend/edge, which is isolated for ingress"
    )
    main = (recipes.out / "main.py").read_text()
    assert 'team_b_batch.isolate("egress")' in main
    assert "    team_a_api.allow_to(team_a_db, ports=[Port.all()])\n" in main
    expression = '{"key": "app", "operator": "In", "values": ["reader", "writer"]}'
    assert f'"matchExpressions": [\n                    {expression},\n' in main
    assert all(len(line) <= 100 for line in main.splitlines()[3:])
    _golden("recipes.main.py", main, update_golden)


def test_zero_trust_only_closes_and_lists_every_closing(tmp_path: Path) -> None:
    result = _run("shop", tmp_path / "zt", zero_trust=True)
    assert result.proof.ok
    assert result.proof.differences and all(d.closes for d in result.proof.differences)
    assert all(n.default_deny == "both" for n in result.intent.namespaces)
    report = (result.out / "MIGRATION.md").read_text()
    assert "| cdk.tf.json | closes | shop/web | kube-system/kube-dns | 53/UDP |" in report
    assert "- unintended differences: 0" in report


def test_the_proof_reports_a_difference_the_migration_would_cause() -> None:
    policies = load_policies(DATA / "shop.yaml")
    inv = proof_inventory(load_inventory(DATA / "shop-inventory.yaml"), policies)
    without_cart = [p for p in policies if p.name != "cart"]
    _, _, diffs = compare(Reachability(policies, inv), Reachability(without_cart, inv), "x")
    lines = {d.line() for d in diffs}
    assert "x: closes shop/web -> shop/cart 7070/TCP" in lines
    assert "x: closes shop/checkout -> shop/cart 7070/TCP" in lines
    assert not any("OPENS" in line for line in lines)


def test_derived_code_does_not_depend_on_the_order_of_the_input() -> None:
    policies = load_policies(DATA / "recipes.yaml")
    inventory = load_inventory(DATA / "recipes-inventory.yaml")
    first = derivation(policies, inventory, stack="s", zero_trust=False, source="r").intent
    shuffled = list(policies)
    random.Random(7).shuffle(shuffled)
    second = derivation(shuffled, inventory, stack="s", zero_trust=False, source="r").intent
    assert render_app(first) == render_app(second)


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = str(DATA / "shop-inventory.yaml")
    out = str(tmp_path / "o")
    assert cli.main(["migrate", "--inventory", inv, "--out", out]) == 2
    assert (
        "netfence migrate: error: one of the arguments --policies --live --kubeconfig is required"
        in capsys.readouterr().err
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: a}\n"
        "spec: {podSelector: {}, ingress: [{ports: [{port: 1, endPort: named}]}]}\n"
    )
    assert cli.main(["migrate", "--policies", str(bad), "--inventory", inv, "--out", out]) == 2
    assert "spec.ingress[0].ports[0].endPort" in capsys.readouterr().err
    shop = str(DATA / "shop.yaml")
    assert cli.main(["migrate", "--policies", shop, "--inventory", inv, "--out", out]) == 0


def test_raw_policy_refusals_say_what_and_where() -> None:
    topology = Topology("s")
    ns = topology.add_namespace("s/shop", name="shop", environment="prod")
    with pytest.raises(InvalidIntentError) as err:
        ns.raw_policy("p", {"podSelector": {}, "policyTypes": ["Sideways"]}, reason="r")
    assert "s/shop.raw_policy()" in str(err.value) and "Sideways" in str(err.value)
    with pytest.raises(InvalidIntentError) as err:
        ns.raw_policy("p", {"podSelector": {}}, reason=" ")
    assert str(err.value).endswith(
        "say why the intent model cannot express this policy (a sentence)"
    )
    ns.raw_policy("p", {"podSelector": {}}, reason="kept")
    with pytest.raises(InvalidIntentError) as err:
        ns.raw_policy("p", {"podSelector": {}}, reason="kept")
    assert "raw policy 'p' is already declared in namespace 'shop' at s/shop.raw_policy()" in str(
        err.value
    )


def test_awkward_names_become_valid_and_the_proof_still_holds(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\n"
        "kind: NetworkPolicy\nmetadata: {name: allow.web.v1, namespace: a}\n"
        "spec: {podSelector: {matchLabels: {app: all-pods}},\n"
        "  ingress: [{from: [{podSelector: {}}]}]}\n"
        "---\napiVersion: networking.k8s.io/v1\n"
        "kind: NetworkPolicy\nmetadata: {name: default-deny, namespace: a}\n"
        "spec: {podSelector: {}, policyTypes: [Ingress, Egress],\n"
        "  egress: [{ports: [{port: 53, protocol: UDP}]}]}\n"
        "---\napiVersion: networking.k8s.io/v1\n"
        "kind: NetworkPolicy\nmetadata: {name: deny, namespace: a}\n"
        "spec: {podSelector: {}, policyTypes: [Ingress]}\n"
    )
    (tmp_path / "i.yaml").write_text(
        "namespaces: {a: {}}\n"
        "workloads:\n- {namespace: a, name: x, labels: {app: all-pods}, ports: [{port: 80}]}\n"
    )
    result = migrate(
        load_policies(tmp_path / "p.yaml"), load_inventory(tmp_path / "i.yaml"), tmp_path / "o"
    )
    assert result.proof.differences == () and result.verify_findings == ()
    assert result.kept_as["a/allow.web.v1"] == (
        "raw_policy allow-web-v1 (netfence names policies by DNS labels)"
    )
    assert result.kept_as["a/default-deny"] == (
        "raw_policy default-deny-original (its name is one netfence generates)"
    )
    assert [w.name for w in result.intent.workloads] == ["all-pods-app"]


def test_a_policy_on_a_selector_two_workloads_share_stays_raw(tmp_path: Path) -> None:
    result = _run("edge", tmp_path / "o")
    assert result.proof.differences == () and result.verify_findings == ()
    assert result.kept_as["default/isol"] == "raw_policy"
    assert [w.name for w in result.intent.workloads if w.namespace == "default"] == [
        "web",
        "web-2",
    ]


def test_live_reads_policies_and_namespace_labels_from_a_cluster_dump(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    docs = [d for d in yaml.safe_load_all((DATA / "shop.yaml").read_text())]
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "shop", "labels": {"team": "shop", "environment": "prod"}},
    }
    live = tmp_path / "live.json"
    live.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [namespace, *docs]}))
    inv = tmp_path / "inv.yaml"
    text = (DATA / "shop-inventory.yaml").read_text()
    inv.write_text(text.replace("shop: {labels: {team: shop, environment: prod}}", "shop: {}"))
    out = tmp_path / "o"
    args = ["migrate", "--live", str(live), "--inventory", str(inv), "--out", str(out)]
    assert cli.main(args) == 0
    assert "9 policies into 3 namespaces" in capsys.readouterr().out
    assert (
        'ZeroTrustNamespace(\n        stack, "shop", environment="prod"'
        in (out / "main.py").read_text()
    )


# A sample of the hand-worked semantics table (tests/semantics): each case's policies
# migrate with no difference over its cluster. All 59 were run this way by hand too.
SEMANTICS_SAMPLE = (
    "omitted_policy_types_with_egress_rules_isolate_both_directions",
    "empty_ingress_rule_allows_all_sources_on_all_ports",
    "namespace_match_expressions_does_not_exist",
    "egress_ip_block_with_except_to_externals_and_pods",
    "end_port_range_is_inclusive",
    "named_port_only_some_destination_pods_declare",
)


@pytest.mark.parametrize("case_id", SEMANTICS_SAMPLE)
def test_semantics_cases_migrate_exactly(case_id: str, tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "semantics"))
    import test_semantics

    from constructs_lib.loaders.inventory import inventory_from_dict
    from constructs_lib.loaders.manifests import policy_from_manifest

    case = next(c for c in test_semantics.CASES if c.id == case_id)
    policies = [policy_from_manifest(p, document=i) for i, p in enumerate(case.policies)]
    result = migrate(policies, inventory_from_dict(case.inventory), tmp_path / "o")
    assert result.proof.differences == () and result.verify_findings == ()
