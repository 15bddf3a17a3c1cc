"""The code generator: an Intent as main.py a person keeps (no synthesis here)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from constructs_lib.brownfield.codegen import render_app, render_cdktf_json, render_port
from constructs_lib.brownfield.intent import (
    EndpointIntent,
    EndRef,
    FlowIntent,
    Intent,
    NamespaceIntent,
    WorkloadIntent,
    identifier,
    to_record,
)
from constructs_lib.model.port import Port

ROOT = Path(__file__).resolve().parents[2]


def _intent(flows: tuple[FlowIntent, ...] = ()) -> Intent:
    return Intent(
        "learned",
        (NamespaceIntent("shop", "prod"), NamespaceIntent("data", "prod", comment="the stores")),
        (
            WorkloadIntent("shop", "api", (("app", "api"),), (Port.tcp(8080), Port.tcp(9090))),
            WorkloadIntent("data", "db", (("app", "db"),), (Port.tcp(5432),)),
            WorkloadIntent("shop", "web", (("app", "web"),)),
        ),
        (EndpointIntent("payments", ("203.0.113.0/28",), (Port.tcp(443),)),),
        flows
        or (
            FlowIntent(
                EndRef("workload", "web", "shop"),
                EndRef("workload", "api", "shop"),
                (Port.tcp(8080),),
            ),
            FlowIntent(
                EndRef("workload", "api", "shop"),
                EndRef("workload", "db", "data"),
                (Port.tcp(5432),),
            ),
            FlowIntent(
                EndRef("external", "payments"), EndRef("workload", "web", "shop"), (Port.tcp(8443),)
            ),
            FlowIntent(
                EndRef("workload", "api", "shop"), EndRef("external", "payments"), (Port.tcp(443),)
            ),
            FlowIntent(
                EndRef("workload", "db", "data"),
                EndRef.selection("data", (("app", "db"),)),
                (Port.tcp(5433),),
            ),
        ),
        "Test intent.",
    )


def _build_body(source: str) -> list[str]:
    lines = source.splitlines()
    start = lines.index("def build(app: App) -> TerraformStack:")
    return [line.strip() for line in lines[start + 1 : lines.index("    return stack")] if line]


def test_one_line_per_declaration_sorted_with_default_ports_left_out() -> None:
    body = _build_body(render_app(_intent()))
    assert body == [
        'stack = TerraformStack(app, "learned")',
        "# Namespaces: they exist already, so Terraform adopts them (labels only).",
        "# the stores",
        'data = ZeroTrustNamespace(stack, "data", environment="prod", adopt=True)',
        'shop = ZeroTrustNamespace(stack, "shop", environment="prod", adopt=True)',
        "# Workloads: the pods each selector matches, and the ports they accept.",
        'data_db = data.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432)])',
        'shop_api = shop.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080), '
        "Port.tcp(9090)])",
        'shop_web = shop.workload("web", labels={"app": "web"})',
        "# External endpoints: addresses outside the cluster.",
        'payments = ExternalEndpoint("payments", cidr="203.0.113.0/28", ports=[Port.tcp(443)])',
        "# Flows: who may open connections to whom (egress and ingress).",
        'data_db.allow_to(data.select({"app": "db"}), ports=[Port.tcp(5433)])',
        "shop_api.allow_to(data_db)",
        "shop_api.allow_to(payments)",
        "shop_web.allow_from(payments, ports=[Port.tcp(8443)])",
        "shop_web.allow_to(shop_api, ports=[Port.tcp(8080)])",
    ]


def test_output_does_not_depend_on_declaration_order() -> None:
    intent = _intent()
    shuffled = Intent(
        intent.stack,
        intent.namespaces[::-1],
        intent.workloads[::-1],
        intent.endpoints,
        intent.flows[::-1],
        intent.title,
    )
    assert render_app(shuffled) == render_app(intent)


@pytest.mark.parametrize("golden", [False, True])
def test_the_app_is_valid_python_that_ruff_accepts(tmp_path: Path, golden: bool) -> None:
    file = tmp_path / "main.py"
    if golden:
        file = ROOT / "tests" / "brownfield" / "golden" / "learn-shop.main.py"
    else:
        file.write_text(render_app(_intent()))
    ast.parse(file.read_text())
    config = str(ROOT / "pyproject.toml")
    for command in (["check"], ["format", "--check"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--config", config, str(file)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_long_declarations_wrap_like_ruff_format() -> None:
    ports = tuple(Port.tcp(8000 + i) for i in range(12))
    intent = Intent(
        "s",
        (NamespaceIntent("shop", "prod"),),
        (WorkloadIntent("shop", "api", (("app.kubernetes.io/name", "api"),), ports),),
        (),
        (),
    )
    source = render_app(intent)
    assert "    shop_api = shop.workload(\n" in source
    assert "        ports=[\n            Port.tcp(8000),\n" in source
    assert all(len(line) <= 99 for line in source.splitlines())


@pytest.mark.parametrize(
    ("port", "code"),
    [
        (Port.tcp(443), "Port.tcp(443)"),
        (Port.udp(53), "Port.udp(53)"),
        (Port.sctp(3868), "Port.sctp(3868)"),
        (Port.tcp(8080, name="http"), 'Port.tcp(8080, name="http")'),
        (Port.tcp_range(8000, 8100), "Port.tcp_range(8000, 8100)"),
        (Port.udp_range(5000, 5010), "Port.udp_range(5000, 5010)"),
        (Port.range("SCTP", 1, 9), 'Port.range("SCTP", 1, 9)'),
        (Port.named("http"), 'Port.named("http")'),
        (Port.named("dns", "UDP"), 'Port.named("dns", "UDP")'),
        (Port.all(), "Port.all()"),
        (Port.all_tcp(), "Port.all_tcp()"),
        (Port.all_udp(), "Port.all_udp()"),
    ],
)
def test_ports_render_as_the_factory_that_makes_them(port: Port, code: str) -> None:
    assert render_port(port) == code
    assert eval(code, {"Port": Port}) == port


def test_variable_names_are_unique_identifiers() -> None:
    taken = {"app", "stack"}
    names = [identifier(n, taken) for n in ("a-b_c", "a_b-c", "import", "9lives", "app", "x")]
    assert names == ["a_b_c", "a_b_c_2", "import_", "n_9lives", "app_2", "x"]


def test_all_workloads_selection_renders_as_all_workloads() -> None:
    flows = (
        FlowIntent(
            EndRef("workload", "api", "shop"), EndRef.selection("shop", ()), (Port.tcp(80),)
        ),
    )
    assert "shop_api.allow_to(shop.all_workloads(), ports=[Port.tcp(80)])" in render_app(
        _intent(flows)
    )


def test_the_record_for_the_proof_comes_from_the_intent_itself() -> None:
    record = to_record(_intent())
    assert [w.key for w in record.workloads] == ["shop/api", "data/db", "shop/web"]
    assert {str(f.source) + " -> " + str(f.destination) for f in record.flows} == {
        "shop/web -> shop/api",
        "shop/api -> data/db",
        "external/payments -> shop/web",
        "shop/api -> external/payments",
        "data/db -> selection(app=db in namespace data)",
    }
    shop = record.namespaces[0]
    assert (shop.managed, shop.allow_dns, dict(shop.labels)) == (
        False,
        True,
        {"environment": "prod", "kubernetes.io/metadata.name": "shop"},
    )


def test_cdktf_json_runs_main_py() -> None:
    assert '"app": "python main.py"' in render_cdktf_json("netfence-learned")


def test_cluster_ranges_become_the_stacks_kubernetes_cluster() -> None:
    intent = _intent()
    ranged = Intent(
        intent.stack,
        intent.namespaces,
        intent.workloads,
        intent.endpoints,
        intent.flows,
        intent.title,
        (),
        ("10.0.0.0/16",),
        ("10.96.0.0/12",),
    )
    body = _build_body(render_app(ranged))
    assert body[2] == (
        'KubernetesCluster(stack, "cluster", pod_cidrs=["10.0.0.0/16"], '
        'service_cidrs=["10.96.0.0/12"])'
    )
    assert to_record(ranged).pod_cidrs == ("10.0.0.0/16",)
