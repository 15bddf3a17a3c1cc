"""Issue 6's Terraform workflows with real terraform on the proving ground.

Backends from netfence.yaml, ``netfence import`` -> import blocks, stable
addresses and ``moved_from``, ``netfence diff --plan`` on a real plan, and
``netfence drift`` beside ``terraform plan`` on an edited fake cluster.

What Terraform 1.11 does with a backend: ``terraform init -backend=false``
succeeds for a ``backend`` block and for a ``cloud`` block alike, and neither
it nor ``terraform validate`` reads the block's settings (a misspelt one
passes both). A full ``terraform init`` decodes the block against the
backend's schema first and only then needs credentials or the network, so the
backend tests also run it with no credentials anywhere and check that it stops
there, not at the configuration.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tf_workspace import TIMEOUT, TerraformEnv, Workspace

pytestmark = pytest.mark.slow

CHANGES = 2  # terraform plan -detailed-exitcode
NETFENCE = Path(sys.executable).parent / "netfence"


def netfence(*args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    """The installed ``netfence`` command, as a pipeline would run it."""
    result = subprocess.run(
        [str(NETFENCE), *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode in ok, (
        f"netfence {' '.join(args)} exited {result.returncode}, wanted {ok}\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    return result


def synth_app(out: Path, build: Callable[[Any], None], **context: str) -> Path:
    """Synthesize an App of NetfenceStacks into ``out``; returns ``out/stacks``."""
    from cdk_under_test import App, cli_context

    import constructs_lib  # noqa: F401  (chooses jsii's node before cdktf starts)
    from constructs_lib import synth

    app = App(outdir=str(out), context=cli_context() | context)
    build(app)
    synth(app)
    return out / "stacks"


def actions(plan: dict[str, Any]) -> dict[str, list[str]]:
    return {rc["address"]: rc["change"]["actions"] for rc in plan["resource_changes"]}


def addresses(config: dict[str, Any]) -> set[str]:
    return {f"{t}.{n}" for t, by_name in config["resource"].items() for n in by_name}


def _small_intent(stack: Any) -> None:
    from constructs_lib import Port, ZeroTrustNamespace

    shop = ZeroTrustNamespace(stack, "shop", name="shop", environment="prod")
    api = shop.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080)])
    db = shop.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432)])
    api.allow_to(db)


# 1. backends -----------------------------------------------------------------------

# netfence.yaml backend -> what a full `terraform init` must stop at: the credentials or
# service-discovery step, i.e. after Terraform decoded the block with the backend's schema.
BACKENDS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "local": ({"type": "local", "path": "state/netfence.tfstate"}, ()),
    "s3-lockfile": (
        {
            "type": "s3",
            "bucket": "acme-tfstate",
            "key": "netfence/prod.tfstate",
            "region": "eu-west-1",
            "use_lockfile": True,
            "encrypt": True,
        },
        ("No valid credential sources found",),
    ),
    "s3-dynamodb": (
        {
            "type": "s3",
            "bucket": "acme-tfstate",
            "key": "netfence/prod.tfstate",
            "region": "eu-west-1",
            "dynamodb_table": "terraform-locks",
        },
        ("No valid credential sources found",),
    ),
    "gcs": (
        {"type": "gcs", "bucket": "acme-tfstate", "prefix": "netfence/prod"},
        ("could not find default credentials",),
    ),
    "azurerm": (
        {
            "type": "azurerm",
            "storage_account_name": "acmetfstate",
            "container_name": "tfstate",
            "key": "netfence/prod.tfstate",
            "resource_group_name": "platform",
        },
        ("unable to build authorizer",),
    ),
    "remote": (
        {"type": "remote", "organization": "acme", "workspaces": {"prefix": "netfence-"}},
        ("Failed to request discovery document", "Required token could not be found"),
    ),
    "cloud-name": (
        {"type": "cloud", "organization": "acme", "workspaces": {"name": "netfence-prod"}},
        ("Failed to request discovery document", "Required token could not be found"),
    ),
    "cloud-tags": (
        {
            "type": "cloud",
            "organization": "acme",
            "workspaces": {"tags": ["netfence", "prod"], "project": "platform"},
        },
        ("Failed to request discovery document", "Required token could not be found"),
    ),
}
# what Terraform says when a backend or cloud block does not fit its schema
CONFIG_ERRORS = (
    "Extraneous JSON object property",
    "No argument or block type is named",
    "Unsupported argument",
    "Missing required argument",
    "Invalid backend configuration",
    "Invalid value",
    "Incorrect attribute value type",
    "Unsupported backend type",
)


@pytest.fixture(scope="module")
def backend_stacks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One stack per BACKENDS entry, each a NetfenceStack configured by one netfence.yaml."""
    from constructs_lib import NetfenceStack
    from constructs_lib.config import load_config

    root = tmp_path_factory.mktemp("backends")
    yaml_file = root / "netfence.yaml"
    yaml_file.write_text(
        json.dumps({"stacks": {n: {"backend": b} for n, (b, _) in BACKENDS.items()}})
    )
    config = load_config(yaml_file)

    def build(app: Any) -> None:
        for name in BACKENDS:
            _small_intent(NetfenceStack(app, name, config=config))

    return synth_app(root / "cdktf.out", build)


@pytest.fixture(scope="module")
def offline_env(
    terraform_env: TerraformEnv, tmp_path_factory: pytest.TempPathFactory
) -> TerraformEnv:
    """The session's terraform env with no cloud credentials anywhere (an empty HOME)."""
    home = tmp_path_factory.mktemp("home")
    clouds = ("AWS_", "GOOGLE_", "CLOUDSDK_", "ARM_", "AZURE_")
    env = {k: v for k, v in terraform_env.env.items() if not k.startswith(clouds)}
    env |= {"HOME": str(home), "AWS_EC2_METADATA_DISABLED": "true"}
    return TerraformEnv(terraform_env.binary, terraform_env.home, env)


def _stack_workspace(stacks: Path, name: str, env: TerraformEnv, tmp_path: Path) -> Workspace:
    """A copy of a synthesized stack dir, backend block untouched (no local override)."""
    path = tmp_path / name
    shutil.copytree(stacks / name, path)
    return Workspace(path, env)


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_backend_from_netfence_yaml_is_synthesized_and_accepted_by_terraform(
    backend_stacks: Path, offline_env: TerraformEnv, tmp_path: Path, name: str
) -> None:
    backend, stops_at = BACKENDS[name]
    ws = _stack_workspace(backend_stacks, name, offline_env, tmp_path)
    config = json.loads((ws.path / "cdk.tf.json").read_text())
    settings = {k: v for k, v in backend.items() if k != "type"}
    if backend["type"] == "cloud":
        assert "backend" not in config["terraform"]
        assert config["terraform"]["cloud"] == settings
    else:
        assert config["terraform"]["backend"] == {backend["type"]: settings}

    ws.tf("init", "-backend=false", "-input=false")
    assert "Success! The configuration is valid." in ws.tf("validate").stdout

    # -backend=false + validate never read the block (see the control test below); a full
    # init decodes it against the backend's schema before it needs credentials or network.
    full = ws.tf("init", "-input=false", ok=(0, 1))
    for message in CONFIG_ERRORS:
        assert message not in full.stderr, full.stderr
    if not stops_at:
        assert full.returncode == 0
        saved = json.loads((ws.path / ".terraform" / "terraform.tfstate").read_text())
        assert saved["backend"]["type"] == "local"
        assert saved["backend"]["config"]["path"] == "state/netfence.tfstate"
        ws.tf("apply", "-input=false", "-auto-approve")
        state = json.loads((ws.path / "state" / "netfence.tfstate").read_text())
        assert {f"{r['type']}.{r['name']}" for r in state["resources"]} == addresses(config)
        assert not (ws.path / "terraform.tfstate").exists()
    else:
        assert full.returncode == 1
        assert any(m in full.stderr for m in stops_at), full.stderr


@pytest.mark.parametrize("block", ["backend", "cloud"])
def test_backend_false_and_validate_do_not_read_the_block_but_a_full_init_does(
    backend_stacks: Path, offline_env: TerraformEnv, tmp_path: Path, block: str
) -> None:
    """Why the test above also runs a full init: the control for a misspelt setting."""
    name = "s3-lockfile" if block == "backend" else "cloud-name"
    ws = _stack_workspace(backend_stacks, name, offline_env, tmp_path)
    config = json.loads((ws.path / "cdk.tf.json").read_text())
    body = (
        config["terraform"]["backend"]["s3"] if block == "backend" else config["terraform"]["cloud"]
    )
    body["no_such_setting"] = "x"
    (ws.path / "cdk.tf.json").write_text(json.dumps(config))

    ws.tf("init", "-backend=false", "-input=false")
    assert "Success! The configuration is valid." in ws.tf("validate").stdout
    full = ws.tf("init", "-input=false", ok=(1,))
    assert "Extraneous JSON object property" in full.stderr
    assert 'No argument or block type is named "no_such_setting"' in full.stderr


# 2. netfence import -> import blocks ---------------------------------------------------

DEBUG_POLICY = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "debug", "namespace": "shop-data"},
    "spec": {
        "podSelector": {"matchLabels": {"app": "postgres"}},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"namespaceSelector": {}}]}],
    },
}


def _uids(ws: Workspace) -> dict[tuple[str, str | None, str], str]:
    return {
        (o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o["metadata"]["uid"]
        for o in ws.objects()
    }


def _example_stacks_with(tmp_path: Path, config: Path) -> Path:
    """``python -m stacks``'s app, synthesized with ``--context netfence.config=CONFIG``."""
    from stacks.__main__ import build

    return synth_app(tmp_path / "cdktf.out", build, **{"netfence.config": str(config)})


def test_netfence_import_writes_import_blocks_that_adopt_what_runs(
    live_prod: Workspace, example_stacks: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    prod = example_stacks["prod"]
    policies = prod["resource"]["kubernetes_network_policy_v1"]
    # the cluster holds all of prod but one policy, plus one policy no stack declares
    missing = next(
        n for n, b in sorted(policies.items()) if b["metadata"]["namespace"] == "shop-data"
    )
    gone = policies[missing]["metadata"]

    def drop(state: dict[str, Any]) -> None:
        state["items"] = [
            o
            for o in state["items"]
            if not (o["kind"] == "NetworkPolicy" and o["metadata"] == o["metadata"] | gone)
        ]

    live_prod.edit_cluster(drop)
    live_prod.add_objects(DEBUG_POLICY)
    assert live_prod.find("NetworkPolicy", gone["name"], gone["namespace"]) is None
    uids = _uids(live_prod)

    first = live_prod.tf("apply", "-input=false", "-auto-approve", ok=(1,))
    assert 'namespaces "shop-web" already exists' in first.stderr

    imports_file = tmp_path / "imports" / "prod.json"
    imports_file.parent.mkdir()
    report = netfence(
        "import", "--live", str(live_prod.cluster), "--stack", str(live_prod.path),
        "--write", str(imports_file), "--format", "json",
        ok=(1,),  # the unmanaged policy is a finding
    )  # fmt: skip
    found = json.loads(report.stdout)
    (unmanaged,) = found["unmanaged"]
    assert unmanaged["policy"] == "shop-data/debug"
    assert any(w["to"] == "shop-data/db" for w in unmanaged["widens"]), unmanaged
    written = json.loads(imports_file.read_text())
    assert written == found["imports"]
    wanted = addresses(prod) - {f"kubernetes_network_policy_v1.{missing}"}
    assert {e["to"] for e in written} == wanted
    for entry in written:
        kind, name = entry["to"].split(".", 1)
        meta = prod["resource"][kind][name]["metadata"]
        assert entry["id"] == "/".join(filter(None, (meta.get("namespace"), meta["name"])))

    settings = tmp_path / "netfence.yaml"
    settings.write_text("stacks:\n  prod:\n    imports: imports/prod.json\n")
    stacks = _example_stacks_with(tmp_path, settings)
    adopted = json.loads((stacks / "prod" / "cdk.tf.json").read_text())
    assert adopted["import"] == written
    assert adopted["resource"] == prod["resource"], "imports change nothing else"
    staging = json.loads((stacks / "staging" / "cdk.tf.json").read_text())
    assert "import" not in staging, "imports are per stack"

    live_prod.write_config(adopted)
    plan = live_prod.plan_json()
    for change in plan["resource_changes"]:
        if change["address"] in wanted:
            assert change["change"]["actions"] == ["no-op"], change["address"]
            assert change["change"]["importing"]["id"]
        else:
            assert change["address"] == f"kubernetes_network_policy_v1.{missing}"
            assert change["change"]["actions"] == ["create"]
    out = live_prod.tf("apply", "-input=false", "plan.bin")
    assert f"Resources: {len(wanted)} imported, 1 added, 0 changed, 0 destroyed" in out.stdout
    assert "already exists" not in out.stdout + out.stderr
    after = _uids(live_prod)
    assert {k: after[k] for k in uids} == uids, "every adopted object kept its uid"
    assert live_prod.find("NetworkPolicy", gone["name"], gone["namespace"]) is not None
    assert live_prod.find("NetworkPolicy", "debug", "shop-data") is not None, "not Terraform's"
    live_prod.tf("plan", "-input=false", "-detailed-exitcode")


# 3. stable addresses and moved blocks -----------------------------------------------


def _shop(stack: Any, *, ops: bool = False, changed: bool = False) -> list[Any]:
    """A shop over two namespaces: the base intent of the refactor, diff and drift tests.

    ops: also a staging namespace ``ops`` with a ``probe`` workload (no flows yet).
    changed: the pull request the diff tests review (it brings ``ops`` along):
    frontend -> cache added, api -> cache removed, api -> the internet, and the
    staging probe reaching into prod. Returns the namespaces.
    """
    from constructs_lib import ExternalEndpoint, Port, WorkloadSelection, ZeroTrustNamespace

    web = ZeroTrustNamespace(
        stack, "web", name="shop-web", environment="prod", labels={"team": "storefront"}
    )
    data = ZeroTrustNamespace(stack, "data", name="shop-data", environment="prod")
    frontend = web.workload("frontend", labels={"app": "frontend"}, ports=[Port.tcp(8080)])
    api = web.workload("api", labels={"app": "api"}, ports=[Port.tcp(8443)])
    db = data.workload("db", labels={"app": "postgres"}, ports=[Port.tcp(5432)])
    cache = data.workload("cache", labels={"app": "redis"}, ports=[Port.tcp(6379)])
    payments = ExternalEndpoint("payments", cidrs=["203.0.113.0/24"], ports=[Port.tcp(443)])
    frontend.allow_from(WorkloadSelection.in_environment("prod", labels={"app": "ingress"}))
    frontend.allow_to(api)
    api.allow_to(db)
    api.allow_to(payments)
    if not (ops or changed):
        api.allow_to(cache)
        return [web, data]
    staging = ZeroTrustNamespace(stack, "ops", name="ops", environment="staging")
    probe = staging.workload("probe", labels={"app": "probe"})
    if not changed:
        api.allow_to(cache)
        return [web, data, staging]
    frontend.allow_to(cache)
    api.allow_to(
        ExternalEndpoint("internet", cidrs=["0.0.0.0/0"], internet=True, ports=[Port.tcp(443)])
    )
    probe.allow_to(api, cross_environment=True)
    return [web, data, staging]


def _shop_refactored(stack: Any) -> None:
    """The same intent after a refactor: other construct ids, grouping, order and helpers."""
    from constructs import Construct

    from constructs_lib import ExternalEndpoint, Port, WorkloadSelection, ZeroTrustNamespace

    def data_team(scope: Construct) -> tuple[Any, Any]:
        ns = ZeroTrustNamespace(scope, "primary-database", name="shop-data", environment="prod")
        return (
            ns.workload("cache", labels={"app": "redis"}, ports=[Port.tcp(6379)]),
            ns.workload("db", labels={"app": "postgres"}, ports=[Port.tcp(5432)]),
        )

    cache, db = data_team(Construct(stack, "data-team"))
    storefront = ZeroTrustNamespace(
        Construct(stack, "storefront-team"),
        "website",
        name="shop-web",
        environment="prod",
        labels={"team": "storefront"},
    )
    api = storefront.workload("api", labels={"app": "api"}, ports=[Port.tcp(8443)])
    frontend = storefront.workload("frontend", labels={"app": "frontend"}, ports=[Port.tcp(8080)])
    for destination in (
        ExternalEndpoint("payments", cidrs=["203.0.113.0/24"], ports=[Port.tcp(443)]),
        cache,
        db,
    ):
        api.allow_to(destination)
    api.allow_from(frontend)  # the same flow, declared from its other end
    frontend.allow_from(WorkloadSelection.in_environment("prod", labels={"app": "ingress"}))


def test_a_refactor_of_the_python_plans_no_changes(
    workspace: Workspace, synth_stack: Callable[..., dict[str, Any]]
) -> None:
    before = synth_stack(_shop, name="shop")
    workspace.write_config(before)
    workspace.init()
    workspace.tf("apply", "-input=false", "-auto-approve")
    uids = _uids(workspace)

    after = synth_stack(_shop_refactored, name="shop")
    assert after["resource"] == before["resource"], "addresses and bodies from Kubernetes names"
    workspace.write_config(after)
    plan = workspace.plan_json()
    assert set(actions(plan)) == addresses(before)
    assert {a: act for a, act in actions(plan).items() if act != ["no-op"]} == {}
    assert "moved" not in after
    workspace.tf("apply", "-input=false", "plan.bin")
    assert _uids(workspace) == uids


def _hand_written(config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The same objects at other addresses, as a hand-written configuration would have them.

    Returns the configuration and {netfence address: hand-written address}.
    """
    renamed = {
        f"{kind}.{name}": f"{kind}.{name.replace('shop-', 'legacy_').replace('-', '_')}"
        for kind, by_name in config["resource"].items()
        for name in by_name
    }
    resources: dict[str, dict[str, Any]] = {}
    for kind, by_name in config["resource"].items():
        for name, body in by_name.items():
            body = dict(body)
            if "depends_on" in body:
                body["depends_on"] = [renamed[d] for d in body["depends_on"]]
            resources.setdefault(kind, {})[renamed[f"{kind}.{name}"].split(".", 1)[1]] = body
    return {"terraform": config["terraform"], "resource": resources}, renamed


def test_moved_from_adopts_state_applied_at_other_addresses(
    workspace: Workspace, synth_stack: Callable[..., dict[str, Any]]
) -> None:
    netfence_config = synth_stack(_shop, name="shop")
    hand, renamed = _hand_written(netfence_config)
    assert not set(renamed.values()) & set(renamed), "every address differs"
    workspace.write_config(hand)
    workspace.init()
    workspace.tf("apply", "-input=false", "-auto-approve")
    uids = _uids(workspace)

    def with_moves(stack: Any) -> None:
        for ns in _shop(stack):
            handle = ns.namespace_resource
            handle.moved_from(renamed[handle.address])
            for kind_name, body in netfence_config["resource"][
                "kubernetes_network_policy_v1"
            ].items():
                if body["metadata"]["namespace"] == ns.name:
                    policy = ns.policy(body["metadata"]["name"])
                    assert policy.address == f"kubernetes_network_policy_v1.{kind_name}"
                    policy.moved_from(renamed[policy.address])

    moved = synth_stack(with_moves, name="shop")
    assert moved["resource"] == netfence_config["resource"]
    assert sorted((m["from"], m["to"]) for m in moved["moved"]) == sorted(
        (old, new) for new, old in renamed.items()
    )
    workspace.write_config(moved)
    plan = workspace.plan_json()
    assert {a: act for a, act in actions(plan).items() if act != ["no-op"]} == {}
    for change in plan["resource_changes"]:
        assert change["previous_address"] == renamed[change["address"]]
    out = workspace.tf("apply", "-input=false", "plan.bin")
    assert "0 added, 0 changed, 0 destroyed" in out.stdout
    state = workspace.state()["values"]["root_module"]["resources"]
    assert {r["address"] for r in state} == addresses(netfence_config)
    assert _uids(workspace) == uids
    workspace.tf("plan", "-input=false", "-detailed-exitcode")


# 4. netfence diff --plan on a real plan ------------------------------------------------


CHANGED = functools.partial(_shop, changed=True)


@pytest.fixture
def shop_applied(workspace: Workspace, synth_stack: Callable[..., dict[str, Any]]) -> Workspace:
    """The base shop, applied to a fresh fake cluster."""
    workspace.write_config(synth_stack(_shop, name="shop"))
    workspace.init()
    workspace.tf("apply", "-input=false", "-auto-approve")
    return workspace


def _review(ws: Workspace, config: dict[str, Any], *args: str, ok: tuple[int, ...] = (0,)) -> Any:
    """Plan ``config`` on ``ws``, save ``terraform show -json``, run ``netfence diff --plan``."""
    ws.write_config(config)
    plan = ws.plan_json()
    (ws.path / "plan.json").write_text(json.dumps(plan))
    return netfence("diff", "--plan", str(ws.path / "plan.json"), *args, ok=ok)


def _flows(stack: dict[str, Any], which: str) -> list[str]:
    return [f"{f['namespace']} | {f['from']} -> {f['to']}: {f['ports']}" for f in stack[which]]


def test_netfence_diff_reads_a_real_terraform_plan(
    workspace: Workspace, synth_stack: Callable[..., dict[str, Any]]
) -> None:
    workspace.write_config(synth_stack(functools.partial(_shop, ops=True), name="shop"))
    workspace.init()
    workspace.tf("apply", "-input=false", "-auto-approve")
    head = synth_stack(functools.partial(_shop, ops=True, changed=True), name="shop")

    # --stack: the pull request's synth output names the workloads
    out = _review(workspace, head, "--stack", str(workspace.path), "--format", "json")
    (stack,) = json.loads(out.stdout)["stacks"]
    assert _flows(stack, "opened") == [
        "shop-data | shop-web/frontend -> shop-data/cache: TCP 6379",
        "shop-web | ops/probe -> shop-web/api: TCP 8443",
        "shop-web | shop-web/api -> external/internet: TCP 443",
    ]
    assert _flows(stack, "closed") == ["shop-data | shop-web/api -> shop-data/cache: TCP 6379"]
    assert [(r["kind"], r["message"]) for r in stack["risks"]] == [
        ("internet-egress", "shop-web/api may now connect to external/internet on TCP 443"),
        (
            "cross-environment",
            "ops/probe (staging) -> shop-web/api (prod) is newly allowed on TCP 8443",
        ),
        ("into-prod", "ops/probe (staging) may now reach shop-web/api in prod on TCP 8443"),
    ]
    plan = json.loads((workspace.path / "plan.json").read_text())
    assert sorted(a for a, act in actions(plan).items() if act != ["no-op"]) == [
        "kubernetes_network_policy_v1.ops_probe-egress",
        "kubernetes_network_policy_v1.shop-data_cache-ingress",
        "kubernetes_network_policy_v1.shop-web_api-egress",
        "kubernetes_network_policy_v1.shop-web_api-ingress",
        "kubernetes_network_policy_v1.shop-web_frontend-egress",
    ]

    # the plan alone, as a gate: pods are named by their selectors
    gate = netfence(
        "diff", "--plan", str(workspace.path / "plan.json"), "--format", "md", "--fail-on", "risk",
        ok=(1,),
    )  # fmt: skip
    assert "**⚠️ 3 flows opened, 1 closed, 3 risk flags**" in gate.stdout
    assert "| shop-web/{app=frontend} | shop-data/{app=redis} | TCP 6379 |" in gate.stdout
    assert (
        "**internet-egress**: shop-web/{app=api} may now connect to "
        "0.0.0.0/0 except 203.0.113.0/24 on TCP 443" in gate.stdout
    )


def test_netfence_diff_of_a_plan_creating_a_namespace_closes_nothing_in_it(
    shop_applied: Workspace, synth_stack: Callable[..., dict[str, Any]]
) -> None:
    out = _review(shop_applied, synth_stack(CHANGED, name="shop"), "--stack",
                  str(shop_applied.path), "--format", "json")  # fmt: skip
    (stack,) = json.loads(out.stdout)["stacks"]
    # The new namespace's pods did not exist before: what they may do now is
    # opened (DNS included), and nothing of theirs can have closed.
    assert [f"{f['from']} -> {f['to']}" for f in stack["opened"]] == [
        "ops/<unlisted pod> -> kube-system/{k8s-app=kube-dns}",
        "ops/probe -> kube-system/{k8s-app=kube-dns}",
        "shop-web/frontend -> shop-data/cache",
        "ops/probe -> shop-web/api",
        "shop-web/api -> external/internet",
    ]
    assert _flows(stack, "closed") == ["shop-data | shop-web/api -> shop-data/cache: TCP 6379"]


# 5. drift ------------------------------------------------------------------------------


def test_netfence_drift_and_terraform_plan_see_an_edited_cluster(shop_applied: Workspace) -> None:
    ws = shop_applied
    desired = ("drift", "--desired", str(ws.path), "--live", str(ws.cluster), "--format", "json")
    assert json.loads(netfence(*desired).stdout)["drift"] is False

    def edit(state: dict[str, Any]) -> None:
        kept = []
        for obj in state["items"]:
            meta = obj["metadata"]
            where = (obj["kind"], meta.get("namespace"), meta["name"])
            if where == ("NetworkPolicy", "shop-data", "db-ingress"):
                obj["spec"]["ingress"][0].pop("from")  # widened: anyone may reach the db
            if where != ("NetworkPolicy", "shop-data", "cache-ingress"):
                kept.append(obj)
        state["items"] = kept

    ws.edit_cluster(edit)
    ws.add_objects(DEBUG_POLICY)
    (stack,) = json.loads(netfence(*desired, ok=(1,)).stdout)["stacks"]
    assert [(o["kind"], o["policy"]) for o in stack["objects"]] == [
        ("missing", "shop-data/cache-ingress"),
        ("extra", "shop-data/debug"),
        ("changed", "shop-data/db-ingress"),
    ]
    assert _flows(stack, "declared_not_allowed_live") == [
        "shop-data | shop-web/api -> shop-data/cache: TCP 6379"
    ]
    opened = _flows(stack, "allowed_live_not_declared")
    assert "shop-data | 0.0.0.0/0, ::/0 except 203.0.113.0/24 -> shop-data/db: TCP 5432" in opened
    assert "shop-data | <any other namespace>/<any pod> -> shop-data/db: any port" in opened
    assert {f["to"] for f in stack["allowed_live_not_declared"]} == {"shop-data/db"}

    plan = ws.tf("plan", "-input=false", "-detailed-exitcode", ok=(CHANGES,))
    assert "kubernetes_network_policy_v1.shop-data_cache-ingress will be created" in plan.stdout
    assert "kubernetes_network_policy_v1.shop-data_db-ingress will be updated in-place" in (
        plan.stdout
    )
    assert "Plan: 1 to add, 1 to change, 0 to destroy." in plan.stdout
    assert "debug" not in plan.stdout, "Terraform cannot see what it does not manage"

    ws.tf("apply", "-input=false", "-auto-approve")
    ws.tf("plan", "-input=false", "-detailed-exitcode")
    (stack,) = json.loads(netfence(*desired, ok=(1,)).stdout)["stacks"]
    assert [(o["kind"], o["policy"]) for o in stack["objects"]] == [("extra", "shop-data/debug")]
    assert stack["declared_not_allowed_live"] == []
    assert "shop-data | <any other namespace>/<any pod> -> shop-data/db: any port" in _flows(
        stack, "allowed_live_not_declared"
    )
