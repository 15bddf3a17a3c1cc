"""``netfence drift`` and ``netfence import`` against kubectl output, the fake cluster, a client."""

from __future__ import annotations

import copy
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from terraform_provider.cluster import Cluster, namespace_object, seed

from constructs_lib.cli import main
from constructs_lib.config import load_imports

from .artifacts import POLICIES, artifact, live_list, shop, write

DEBUG = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "debug", "namespace": "shop"},
    "spec": {
        "podSelector": {"matchLabels": {"app": "db"}},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"namespaceSelector": {}}]}],
    },
}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def doc() -> dict[str, Any]:
    return artifact(shop("base"))


@pytest.fixture
def stack(tmp_path: Path, doc: dict[str, Any]) -> Path:
    return write(doc, tmp_path / "out")


def live_file(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "live.json"
    path.write_text(json.dumps(data))
    return path


# drift --------------------------------------------------------------------------


def test_no_drift_when_the_cluster_runs_the_stack(
    tmp_path: Path, stack: Path, doc: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    live = live_file(tmp_path, live_list(doc))
    code, out, _ = run(["drift", "--desired", str(stack), "--live", str(live)], capsys)
    assert (code, out.splitlines()[1:]) == (
        0,
        ["  ok: the cluster runs what the stack declares", "no drift"],
    )


def test_an_edited_port_is_object_and_semantic_drift(
    tmp_path: Path, stack: Path, doc: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    data = live_list(doc)
    db_in = next(i for i in data["items"] if i["metadata"]["name"] == "db-ingress")
    db_in["spec"]["ingress"][0]["ports"][0]["port"] = 5433
    code, out, _ = run(
        ["drift", "--desired", str(stack), "--live", str(live_file(tmp_path, data))], capsys
    )
    assert code == 1
    # api's egress still allows 5432 only, so 5433 opens nothing: the flow is just broken
    assert out.splitlines()[1:] == [
        "  changed: shop/db-ingress: ingress differ from "
        "kubernetes_network_policy_v1.shop_db-ingress (shop/db-ingress)",
        "  declared but not allowed live in shop:",
        "    - shop/api -> shop/db: TCP 5432",
        "drift",
    ]


def test_missing_and_extra_policies(
    tmp_path: Path, stack: Path, doc: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    data = live_list(doc, extra=[DEBUG])
    data["items"] = [i for i in data["items"] if i["metadata"]["name"] != "api-egress"]
    live = live_file(tmp_path, data)
    code, out, _ = run(
        ["drift", "--desired", str(stack), "--live", str(live), "--format", "json"], capsys
    )
    result = json.loads(out)["stacks"][0]
    assert code == 1
    assert result["objects"] == [
        {
            "kind": "missing",
            "policy": "shop/api-egress",
            "detail": "declared by kubernetes_network_policy_v1.shop_api-egress "
            "(shop/api-egress), not in the cluster",
        },
        {
            "kind": "extra",
            "policy": "shop/debug",
            "detail": f"in the cluster ({live} items[5]), not declared by the stack",
        },
    ]
    live_only = {(f["from"], f["to"], f["ports"]) for f in result["allowed_live_not_declared"]}
    assert live_only == {
        ("<any other namespace>/<any pod>", "shop/db", "any port"),
        ("kube-system/<unlisted pod>", "shop/db", "any port"),
        ("kube-system/{k8s-app=kube-dns}", "shop/db", "any port"),
    }
    # default-deny still isolates api's egress: without api-egress its flows are gone
    assert [(f["from"], f["to"], f["ports"]) for f in result["declared_not_allowed_live"]] == [
        ("shop/api", "external/payments", "TCP 443"),
        ("shop/api", "shop/db", "TCP 5432"),
    ]


def test_drift_reads_the_fake_cluster_file(
    tmp_path: Path, stack: Path, doc: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cluster.json"
    seed(path)
    store = Cluster(path)
    with store.session() as state:
        for name in ("shop", "ops"):
            store.create_in(state, namespace_object(name))
        for item in live_list(doc)["items"]:
            store.create_in(state, copy.deepcopy(item))
    argv = ["drift", "--desired", str(stack), "--live", str(path)]
    assert run(argv, capsys)[0] == 0
    with store.session() as state:  # `kubectl edit`: someone opens db to every namespace
        store.create_in(state, copy.deepcopy(DEBUG))
    code, out, _ = run([*argv, "--format", "md"], capsys)
    assert code == 1
    assert "### stack `shop`: ⚠️ drift" in out
    assert "| extra | shop/debug |" in out
    # escaped: GitHub would drop "<any other namespace>" as an unknown HTML tag
    assert "| &lt;any other namespace&gt;/&lt;any pod&gt; | shop/db | any port |" in out


def test_drift_bad_live_file_names_document_and_field(
    tmp_path: Path, stack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = live_file(tmp_path, {"kind": "List", "items": [{"metadata": {"name": "x"}}]})
    code, out, err = run(["drift", "--desired", str(stack), "--live", str(live)], capsys)
    assert (code, out, err) == (
        2,
        "",
        f"netfence: error: {live} (document 0) at items[0].kind: missing required field\n",
    )


# the cluster through the kubernetes client ------------------------------------------


class _Answer:
    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items


def fake_kubernetes(objects: dict[str, list[dict[str, Any]]], calls: list[Any]) -> Any:
    """A stand-in for the ``kubernetes`` package: what read_cluster calls, nothing more."""

    class ApiClient:
        def sanitize_for_serialization(self, answer: _Answer) -> dict[str, Any]:
            return {"apiVersion": "v1", "kind": "List", "items": copy.deepcopy(answer.items)}

    def lister(kind: str) -> Any:
        def call(**options: Any) -> _Answer:
            calls.append(options)
            return _Answer(objects.get(kind, []))

        return call

    def api(**methods: str) -> Any:
        def make(client: ApiClient) -> Any:
            assert isinstance(client, ApiClient)
            return types.SimpleNamespace(**{m: lister(k) for m, k in methods.items()})

        return make

    def new_client_from_config(config_file: str, context: str | None) -> ApiClient:
        calls.append((config_file, context))
        return ApiClient()

    module = types.ModuleType("kubernetes")
    module.config = types.SimpleNamespace(new_client_from_config=new_client_from_config)  # type: ignore[attr-defined]
    module.client = types.SimpleNamespace(  # type: ignore[attr-defined]
        NetworkingV1Api=api(list_network_policy_for_all_namespaces="NetworkPolicy"),
        CoreV1Api=api(
            list_namespace="Namespace",
            list_service_account_for_all_namespaces="ServiceAccount",
        ),
        RbacAuthorizationV1Api=api(
            list_role_for_all_namespaces="Role", list_role_binding_for_all_namespaces="RoleBinding"
        ),
    )
    return module


def strip_kind(item: dict[str, Any]) -> dict[str, Any]:
    """List items from the API server carry no kind or apiVersion."""
    return {k: v for k, v in item.items() if k not in ("kind", "apiVersion")}


def test_drift_through_a_kubeconfig(
    stack: Path,
    doc: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    calls: list[Any] = []
    items = [strip_kind(i) for i in live_list(doc, extra=[DEBUG])["items"]]
    monkeypatch.setitem(sys.modules, "kubernetes", fake_kubernetes({"NetworkPolicy": items}, calls))
    argv = ["drift", "--desired", str(stack), "--kubeconfig", "kc.yaml", "--context", "prod"]
    code, out, _ = run(argv, capsys)
    assert calls == [("kc.yaml", "prod")] + [{"_request_timeout": (10.0, 10.0)}] * 5
    assert code == 1
    assert (
        "  extra: shop/debug: in the cluster (kc.yaml (context prod)), "
        "not declared by the stack" in out
    )


def test_kubeconfig_without_the_client_says_how_to_install_it(
    stack: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "kubernetes", None)  # import fails
    code, _, err = run(["drift", "--desired", str(stack), "--kubeconfig", "kc.yaml"], capsys)
    assert (code, err) == (
        2,
        "netfence: error: kc.yaml: reading a cluster needs the kubernetes Python client; "
        "install it with: pip install 'netfence[cluster]'\n",
    )


def test_context_needs_a_kubeconfig(stack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["drift", "--desired", str(stack), "--live", "x.json", "--context", "c"]
    assert run(argv, capsys) == (2, "", "netfence drift: error: --context goes with --kubeconfig\n")


# import -------------------------------------------------------------------------------


def adopted_cluster(doc: dict[str, Any], *extra: dict[str, Any]) -> dict[str, Any]:
    """A cluster running shop's namespace and two of its policies, plus ``extra``."""
    data = live_list(doc)
    keep = {"default-deny", "db-ingress"}
    data["items"] = [i for i in data["items"] if i["metadata"]["name"] in keep]
    data["items"] += [namespace_object("shop"), *extra]
    return data


def test_import_matches_live_objects_to_addresses(
    tmp_path: Path, stack: Path, doc: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    live = live_file(tmp_path, adopted_cluster(doc))
    code, out, err = run(["import", "--live", str(live), "--stack", str(stack)], capsys)
    assert code == 0
    assert json.loads(out) == [
        {"to": "kubernetes_namespace_v1.shop", "id": "shop"},
        {"to": f"{POLICIES}.ops_default-deny", "id": "ops/default-deny"},
        {"to": f"{POLICIES}.shop_db-ingress", "id": "shop/db-ingress"},
        {"to": f"{POLICIES}.shop_default-deny", "id": "shop/default-deny"},
    ]
    assert err.splitlines()[-1] == "no unmanaged policies"


def test_import_writes_a_file_the_config_loads(
    tmp_path: Path, stack: Path, doc: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    live = live_file(tmp_path, adopted_cluster(doc))
    target = tmp_path / "imports" / "shop.json"
    code, out, _ = run(
        ["import", "--live", str(live), "--stack", str(stack), "--write", str(target)], capsys
    )
    assert code == 0
    assert out.splitlines()[1] == "  import kubernetes_namespace_v1.shop <- shop"
    assert load_imports(target) == (
        ("kubernetes_namespace_v1.shop", "shop"),
        (f"{POLICIES}.ops_default-deny", "ops/default-deny"),
        (f"{POLICIES}.shop_db-ingress", "shop/db-ingress"),
        (f"{POLICIES}.shop_default-deny", "shop/default-deny"),
    )


def test_unmanaged_policy_is_a_finding_with_what_it_allows(
    tmp_path: Path, stack: Path, doc: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    live = live_file(tmp_path, adopted_cluster(doc, DEBUG))
    argv = ["import", "--live", str(live), "--stack", str(stack), "--write", str(tmp_path / "i")]
    code, out, _ = run([*argv, "--format", "json"], capsys)
    assert code == 1
    (finding,) = json.loads(out)["unmanaged"]
    assert finding["policy"] == "shop/debug"
    assert finding["rules"] == [
        "selects pods {app=db}; isolates Ingress",
        "ingress from all pods in every namespace on any port",
    ]
    # pods of shop and ops are egress-isolated by their default deny: only outsiders gain
    assert {(f["from"], f["to"], f["ports"]) for f in finding["widens"]} == {
        ("<any other namespace>/<any pod>", "shop/db", "any port"),
        ("kube-system/<unlisted pod>", "shop/db", "any port"),
        ("kube-system/{k8s-app=kube-dns}", "shop/db", "any port"),
    }


def test_rule_less_deny_all_is_not_described_as_widening(
    tmp_path: Path, stack: Path, doc: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    deny = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "lockdown", "namespace": "shop"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }
    live = live_file(tmp_path, adopted_cluster(doc, deny))
    argv = ["import", "--live", str(live), "--stack", str(stack), "--write", str(tmp_path / "i")]
    code, out, _ = run(argv, capsys)
    assert code == 1
    assert (
        f"  unmanaged policy shop/lockdown ({live} items[4]) allows nothing beyond the intent "
        "(it can only isolate pods further):\n"
        "      selects all pods; isolates Ingress, Egress\n"
    ) in out
    assert "widens" not in out
    code, out, _ = run([*argv, "--format", "json"], capsys)
    assert json.loads(out)["unmanaged"][0]["widens"] == []


def test_import_refuses_a_directory_of_several_stacks(
    tmp_path: Path, doc: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    write(doc, tmp_path / "out", "a")
    write(doc, tmp_path / "out", "b")
    live = live_file(tmp_path, adopted_cluster(doc))
    code, _, err = run(["import", "--live", str(live), "--stack", str(tmp_path / "out")], capsys)
    assert (code, err) == (
        2,
        f"netfence: error: {tmp_path / 'out'}: holds 2 stacks; "
        "name one stack dir (imports are per stack)\n",
    )


def test_import_needs_an_intent_record(
    tmp_path: Path, doc: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    del doc["//"]
    stack = write(doc, tmp_path / "out")
    live = live_file(tmp_path, adopted_cluster(doc))
    code, _, err = run(["import", "--live", str(live), "--stack", str(stack)], capsys)
    assert (code, err) == (
        2,
        f"netfence: error: {stack / 'cdk.tf.json'} at //.metadata.netfence: no netfence intent "
        "record; synthesize the stack with netfence (see docs/artifact.md)\n",
    )


def test_import_adopts_service_accounts_roles_and_bindings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from constructs_lib.model import Topology
    from constructs_lib.model.pipeline import Pipeline

    topo = Topology("cd")
    ci = topo.add_namespace("cd/ci", name="ci", environment="ci")
    apps = topo.add_namespace("cd/apps", name="apps", environment="staging")
    Pipeline(topo, "cd/cd", "cd").stage("deployer", namespace=ci, deploys_to=apps)
    stack_dir = write(artifact(topo), tmp_path / "out", "cd")

    def obj(kind: str, api: str, namespace: str, name: str) -> dict[str, Any]:
        return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": namespace}}

    live = live_file(tmp_path, {"apiVersion": "v1", "kind": "List", "items": [
        obj("ServiceAccount", "v1", "ci", "cd-deployer"),
        obj("Role", "rbac.authorization.k8s.io/v1", "apps", "cd-deployer-deployer"),
        obj("RoleBinding", "rbac.authorization.k8s.io/v1", "apps", "cd-deployer-deployer"),
        obj("ServiceAccount", "v1", "ci", "someone-else"),
    ]})  # fmt: skip
    code, out, _ = run(["import", "--live", str(live), "--stack", str(stack_dir)], capsys)
    assert code == 0
    assert json.loads(out) == [
        {"to": "kubernetes_role_binding_v1.apps_cd-deployer-deployer",
         "id": "apps/cd-deployer-deployer"},
        {"to": "kubernetes_role_v1.apps_cd-deployer-deployer", "id": "apps/cd-deployer-deployer"},
        {"to": "kubernetes_service_account_v1.ci_cd-deployer", "id": "ci/cd-deployer"},
    ]  # fmt: skip


# the new peers ------------------------------------------------------------------


def _peers_doc() -> dict[str, Any]:
    """shop/api behind ingress-nginx's controller pods, db reached on any TCP port,
    a vault without DNS: every new peer and port kind in one stack."""
    from constructs_lib import Namespaces, Port
    from constructs_lib.model import Topology

    topo = Topology("shop")
    ns = topo.add_namespace("shop/shop", name="shop", environment="prod")
    api = ns.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080)])
    db = ns.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432)])
    ns.workload("vault", labels={"app": "vault"}, allow_dns=False)
    nginx = Namespaces.named("ingress-nginx", "edge").pods({"app": "nginx"})
    api.allow_from(nginx, cross_environment=True)
    api.allow_to(db, ports=[Port.all_tcp()])
    return artifact(topo)


def test_drift_reads_the_new_peers_and_names_the_stand_ins_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _peers_doc()
    stack = write(doc, tmp_path / "out")
    data = live_list(doc)
    code, out, _ = run(
        ["drift", "--desired", str(stack), "--live", str(live_file(tmp_path, data))], capsys
    )
    assert (code, out.splitlines()[-1]) == (0, "no drift")
    api_in = next(i for i in data["items"] if i["metadata"]["name"] == "api-ingress")
    del api_in["spec"]["ingress"][0]["from"][0]["podSelector"]  # any pod of those namespaces
    code, out, _ = run(
        ["drift", "--desired", str(stack), "--live", str(live_file(tmp_path, data)),
         "--format", "json"],
        capsys,
    )  # fmt: skip
    result = json.loads(out)["stacks"][0]
    assert code == 1
    live_only = {(f["from"], f["to"], f["ports"]) for f in result["allowed_live_not_declared"]}
    assert live_only == {("namespaces named edge, ingress-nginx/<any pod>", "shop/api", "TCP 8080")}


def test_import_adopts_policies_with_the_new_selectors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _peers_doc()
    stack = write(doc, tmp_path / "out")
    data = live_list(doc)
    data["items"] += [namespace_object("shop")]
    code, out, err = run(
        ["import", "--live", str(live_file(tmp_path, data)), "--stack", str(stack)], capsys
    )
    assert code == 0
    assert {r["id"] for r in json.loads(out)} >= {
        "shop/allow-dns",
        "shop/api-ingress",
        "shop/db-ingress",
    }
    assert err.splitlines()[-1] == "no unmanaged policies"
