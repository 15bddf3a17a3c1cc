"""`netfence migrate` writes flows where they say the original exactly, raw_policy elsewhere.

tests/migrate/data/world.yaml holds one policy per real-world shape (after a
microservices demo and the common recipes); each test says what the shape
becomes and the proof shows no difference.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from constructs_lib.brownfield import migrate as migrate_module
from constructs_lib.brownfield.migrate import MigrateResult, Original, migrate
from constructs_lib.loaders import load_policies
from constructs_lib.loaders.inventory import load_inventory

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]


def _run(name: str, out: Path) -> MigrateResult:
    return migrate(
        load_policies(DATA / f"{name}.yaml"),
        load_inventory(DATA / f"{name}-inventory.yaml"),
        out,
        source=f"{name}.yaml",
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> MigrateResult:
    return _run("world", tmp_path_factory.mktemp("migrate") / "world")


def test_world_migrates_exactly(world: MigrateResult) -> None:
    assert world.proof.differences == (), [d.line() for d in world.proof.differences]
    assert world.verify_findings == () and world.fell_back == {}


@pytest.mark.parametrize(
    ("policy", "kept_as", "line"),
    [
        (  # from apps of the same namespace, on a named port
            "store/api",
            "flows store/frontend -> store/api grpc/TCP; store/worker -> store/api grpc/TCP",
            '    store_frontend.allow_to(store_api, ports=[Port.named("grpc")])\n',
        ),
        (  # the destination's declared port: ports= left out
            "store/db",
            "flows store/api -> store/db 5432/TCP",
            "    store_api.allow_to(store_db)\n",
        ),
        (  # from another namespace of the inventory by name: its workload
            "store/frontend",
            "flows ingress/ingress-nginx -> store/frontend 8080/TCP; "
            "partner-gateway/[] -> store/frontend 8080/TCP",
            "    ingress_ingress_nginx.allow_to(store_frontend, cross_environment=True)\n",
        ),
        (  # ... and one the inventory does not list: Namespaces.named
            "store/frontend",
            None,
            "    store_frontend.allow_from(\n"
            '        Namespaces.named("partner-gateway").all_pods(), cross_environment=True\n'
            "    )\n",
        ),
        (  # namespaces by label, to a policy selecting two workloads (a selection)
            "store/metrics",
            "flows {purpose=monitoring}/[app=prometheus] -> store/[tier=metrics] 9100/TCP",
            '    store.select({"tier": "metrics"}).allow_from(\n'
            '        Namespaces.labelled({"purpose": "monitoring"}).pods({"app": "prometheus"}),\n'
            "        ports=[Port.tcp(9100)],\n"
            "        cross_environment=True,\n"
            "    )\n",
        ),
        (  # pods of all namespaces
            "store/status",
            "flows */[app=prometheus] -> store/status 8081/TCP",
            '    store_status.allow_from(Namespaces.all().pods({"app": "prometheus"}), '
            "cross_environment=True)\n",
        ),
        (  # a port range
            "store/media",
            "flows store/frontend -> store/media 10000-10100/UDP",
            "    store_frontend.allow_to(store_media, ports=[Port.udp_range(10000, 10100)])\n",
        ),
        (  # one workload's egress: isolate() and its flows, DNS to kube-system as written
            "store/worker-egress",
            "workload store/worker: isolate('egress'); flows store/worker -> "
            "kube-system/kube-dns 53/UDP; store/worker -> store/api grpc/TCP",
            "    store_worker.allow_to(kube_system_kube_dns, ports=[Port.udp(53)], "
            "cross_environment=True)\n",
        ),
        (  # a namespace-wide DNS policy: a flow from every pod of the namespace
            "jobs/dns",
            "default_deny='egress' of namespace jobs; flows jobs/[] -> kube-system/kube-dns "
            "53/TCP, 53/UDP",
            "    jobs.all_workloads().allow_to(kube_system_kube_dns, cross_environment=True)\n",
        ),
        (  # egress to an ipBlock with an except: an external endpoint
            "jobs/fetcher",
            "flows jobs/fetcher -> external/ip-198-51-100-0-24-except-198-51-100-128-25 443/TCP",
            "    ip_198_51_100_0_24_except_198_51_100_128_25 = ExternalEndpoint(\n"
            '        "ip-198-51-100-0-24-except-198-51-100-128-25",\n'
            '        cidr="198.51.100.0/24",\n'
            '        except_=["198.51.100.128/25"],\n'
            "        include_cluster_ranges=True,\n"
            "    )\n",
        ),
        (  # the deny-alls
            "jobs/deny-egress",
            "default_deny='egress' of namespace jobs",
            '        stack, "jobs", environment="prod", adopt=True, default_deny="egress", '
            "allow_dns=False\n",
        ),
    ],
)
def test_each_shape_becomes_flows(
    world: MigrateResult, policy: str, kept_as: str | None, line: str
) -> None:
    if kept_as is not None:
        assert world.kept_as[policy] == kept_as
    assert line in (world.out / "main.py").read_text()


def test_what_flows_cannot_say_stays_raw_with_the_reason(world: MigrateResult) -> None:
    raw = {r.key: r.reason for r in world.intent.raw_policies}
    assert raw == {
        "store/cache": (
            "its podSelector uses matchExpressions, which a workload or selection cannot declare"
        ),
        # the microservices demo's shape: ingress from callers plus `egress: [{}]`; flows to
        # every pod would write ingress rules on pods the original keeps closed to it
        "store/cart": (
            "the flow store/cart -> */[] would also open the ingress of store/api from "
            "store/cart, which the original's ingress policies of store/api do not allow (a "
            "flow writes its ingress half on every isolated destination)"
        ),
    }
    assert world.kept_as["store/cart"] == "raw_policy"
    report = (world.out / "MIGRATION.md").read_text()
    assert "| store/cart | raw_policy |" in report
    assert "- `store/cache`: its podSelector uses matchExpressions" in report


def test_the_generated_app_passes_ruff(world: MigrateResult) -> None:
    config = str(ROOT / "pyproject.toml")
    golden = sorted((Path(__file__).parent / "golden").glob("*.py"))
    files = [str(world.out / "main.py"), *map(str, golden)]
    for command in (["check"], ["format", "--check"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--config", config, *files],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_a_wrong_translation_falls_back_to_raw_and_the_result_is_still_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Blind the static check: every flow's other half is taken as harmless, so
    # team-a/db-from-team-b-clients becomes a flow that also opens the egress of
    # team-b/client (which its own egress policy closes) to the db.
    monkeypatch.setattr(Original, "widening", lambda *args: None)
    result = migrate(
        load_policies(DATA / "recipes.yaml"),
        load_inventory(DATA / "recipes-inventory.yaml"),
        tmp_path / "o",
    )
    assert result.proof.differences == (), [d.line() for d in result.proof.differences]
    assert result.verify_findings == ()
    key = "team-a/db-from-team-b-clients"
    assert result.kept_as[key] == "raw_policy (fell back after the proof)"
    assert result.fell_back[key].startswith("the proof found ")
    raw = {r.key: r.reason for r in result.intent.raw_policies}
    assert raw[key] == result.fell_back[key]
    report = (result.out / "MIGRATION.md").read_text()
    assert "## Fallbacks (translated, then kept verbatim)" in report
    assert f"- `{key}`: the proof found " in report


def test_fallback_is_bounded_and_an_unfixable_difference_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a defect no fallback can undo (every namespace's default deny dropped):
    # the run stops after its rounds and reports the differences
    real = migrate_module._derive

    def broken(*args: object) -> migrate_module.Derivation:
        found = real(*args)  # type: ignore[arg-type]
        from dataclasses import replace

        namespaces = tuple(replace(n, default_deny="none") for n in found.intent.namespaces)
        return replace(found, intent=replace(found.intent, namespaces=namespaces))

    monkeypatch.setattr(migrate_module, "_derive", broken)
    result = migrate(
        load_policies(DATA / "shop.yaml"),
        load_inventory(DATA / "shop-inventory.yaml"),
        tmp_path / "o",
    )
    assert not result.proof.ok
    assert "**UNINTENDED DIFFERENCES: do not apply**" in (result.out / "MIGRATION.md").read_text()


REPLICAS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: b}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: api}}}]
    ports: [{port: 53, protocol: UDP}, {port: 80}]
  egress:
  - to: [{podSelector: {}}]
    ports: [{port: 80}, {port: 443}]
"""


def test_a_flow_that_would_open_replicas_to_each_other_stays_raw(tmp_path: Path) -> None:
    # api replicas admit each other on 53/UDP, but their egress never allows 53/UDP:
    # the flow's egress half would open it between two api pods
    everyone = "  - from: [{podSelector: {}}]\n"
    (tmp_path / "p.yaml").write_text(
        REPLICAS.replace("  - from: [{podSelector: {matchLabels: {app: api}}}]\n", everyone)
    )
    (tmp_path / "i.yaml").write_text(
        "namespaces: {b: {}}\n"
        "workloads:\n- {namespace: b, name: api, labels: {app: api}, ports: [{port: 80}]}\n"
    )
    policies = load_policies(tmp_path / "p.yaml")
    result = migrate(policies, load_inventory(tmp_path / "i.yaml"), tmp_path / "o")
    assert result.proof.differences == () and result.verify_findings == ()
    assert result.intent.raw_policies[0].reason == (
        "the flow b/[] -> b/api would also open the egress of b/api to another pod like "
        "b/api, which the original's egress policies of b/api do not allow (a flow writes its "
        "egress half on every isolated source)"
    )


def test_a_workload_admitting_its_own_pods_stays_raw(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(REPLICAS)
    (tmp_path / "i.yaml").write_text(
        "namespaces: {b: {}}\n"
        "workloads:\n- {namespace: b, name: api, labels: {app: api}, ports: [{port: 80}]}\n"
    )
    policies = load_policies(tmp_path / "p.yaml")
    result = migrate(policies, load_inventory(tmp_path / "i.yaml"), tmp_path / "o")
    assert result.proof.differences == () and result.verify_findings == ()
    assert result.intent.raw_policies[0].reason == (
        "its pods admit each other: netfence says that only through a selection of the same "
        "pods (ns.select({'app': 'api'})), which verify reads as pods apart from workload b/api, "
        "so it is kept as written"
    )


def test_the_proof_compares_two_pods_of_one_workload(tmp_path: Path) -> None:
    from constructs_lib.brownfield.migrate import compare, proof_inventory
    from constructs_lib.verifier.reach import Reachability

    (tmp_path / "p.yaml").write_text(REPLICAS)
    # the same, plus api replicas open to each other on every port: no other pair changes
    (tmp_path / "w.yaml").write_text(
        REPLICAS + "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: api-replicas, namespace: b}\n"
        "spec:\n  podSelector: {matchLabels: {app: api}}\n  policyTypes: [Ingress, Egress]\n"
        "  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]\n"
        "  egress: [{to: [{podSelector: {matchLabels: {app: api}}}]}]\n"
    )
    (tmp_path / "i.yaml").write_text(
        "namespaces: {b: {}}\n"
        "workloads:\n- {namespace: b, name: api, labels: {app: api}, ports: [{port: 53, "
        "protocol: UDP}, {port: 80}]}\n"
    )
    policies = load_policies(tmp_path / "p.yaml")
    inv = proof_inventory(load_inventory(tmp_path / "i.yaml"), policies)
    original = Reachability(policies, inv)
    wider = Reachability(load_policies(tmp_path / "w.yaml"), inv)
    lines = [d.line() for d in compare(original, wider, "x")[2]]
    assert "x: OPENS b/api -> b/api (another replica) 53/UDP" in lines
    assert "x: OPENS b/api -> b/api (another replica) 443/TCP" in lines
    assert all(line.startswith("x: OPENS b/api -> b/api (another replica) ") for line in lines)
    assert "x: OPENS b/api -> b/api (another replica) 80/TCP" not in lines  # allowed before


def test_a_rule_without_from_becomes_flows_from_every_pod_and_address(tmp_path: Path) -> None:
    # an ingress-only cluster: nothing isolates egress, so a rule admitting every peer is
    # the flows from Namespaces.all() and from the whole address space, written once
    (tmp_path / "p.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: deny-all, namespace: web}\n"
        "spec: {podSelector: {}, policyTypes: [Ingress]}\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: frontend, namespace: web}\n"
        "spec: {podSelector: {matchLabels: {app: frontend}}, ingress: [{ports: [{port: 8080}]}]}\n"
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: public, namespace: web}\n"
        "spec: {podSelector: {matchLabels: {app: public}}, ingress: [{}]}\n"
    )
    (tmp_path / "i.yaml").write_text(
        "namespaces: {web: {labels: {environment: prod}}, ops: {}}\n"
        "workloads:\n"
        "- {namespace: web, name: frontend, labels: {app: frontend}, ports: [{port: 8080}], "
        "ip: 10.9.0.1}\n"
        "- {namespace: web, name: public, labels: {app: public}, ports: [{port: 80}], "
        "ip: 10.9.0.2}\n"
        "- {namespace: ops, name: shell, labels: {app: shell}, ip: 10.9.1.1}\n"
    )
    policies = load_policies(tmp_path / "p.yaml")
    result = migrate(policies, load_inventory(tmp_path / "i.yaml"), tmp_path / "o")
    assert result.proof.differences == () and result.verify_findings == ()
    assert result.kept_as["web/public"] == (
        "flows */[] -> web/public any port; external/any-ipv4 -> web/public any port; "
        "external/any-ipv6 -> web/public any port"
    )
    main = (result.out / "main.py").read_text()
    assert (
        "    web_frontend.allow_from(Namespaces.all().all_pods(), cross_environment=True)\n"
        "    web_frontend.allow_from(any_ipv4)\n"
        "    web_frontend.allow_from(any_ipv6)\n"
    ) in main
    assert (
        '    any_ipv6 = ExternalEndpoint("any-ipv6", cidr="::/0", internet=True, '
        "include_cluster_ranges=True)\n"
    ) in main
