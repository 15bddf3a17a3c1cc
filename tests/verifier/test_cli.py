"""The ``netfence`` command line: reach, verify and map through ``main(argv)``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from constructs_lib.cli import main

from .stacks import exact_stack, policies, write_stack

INVENTORY = {
    "namespaces": {"x": {"labels": {"team": "a"}}, "y": {}},
    "workloads": [
        {
            "namespace": "x",
            "name": "a",
            "labels": {"pod": "a"},
            "ports": [{"port": 80, "protocol": "TCP", "name": "web"}],
        },
        {
            "namespace": "y",
            "name": "b",
            "labels": {"pod": "b"},
            "ports": [{"port": 8080, "protocol": "TCP"}],
        },
    ],
    "external": [{"name": "internet", "ip": "203.0.113.7", "ports": [{"port": 443}]}],
}
DENY_Y = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "b-in", "namespace": "y"},
    "spec": {
        "podSelector": {},
        "ingress": [
            {
                "from": [{"namespaceSelector": {"matchLabels": {"team": "a"}}}],
                "ports": [{"port": 8080}],
            }
        ],
    },
}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def reach_inputs(tmp_path: Path) -> list[str]:
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(DENY_Y))
    (tmp_path / "inv.yaml").write_text(yaml.safe_dump(INVENTORY))
    return [
        "reach",
        "--policies",
        str(tmp_path / "p.yaml"),
        "--inventory",
        str(tmp_path / "inv.yaml"),
    ]


def entry(src: str, dst: str, port: int, ok: bool) -> dict[str, Any]:
    return {"from": src, "to": dst, "port": port, "protocol": "TCP", "allowed": ok}


def test_reach_json(reach_inputs: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([*reach_inputs, "--format", "json"], capsys)
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "connections": [
            entry("external/internet", "x/a", 80, True),
            entry("external/internet", "y/b", 8080, False),
            entry("x/a", "external/internet", 443, True),
            entry("x/a", "y/b", 8080, True),
            entry("y/b", "external/internet", 443, True),
            entry("y/b", "x/a", 80, True),
        ]
    }


def test_reach_table_and_markdown(
    reach_inputs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run([*reach_inputs, "--format", "table"], capsys)
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split() == ["FROM", "TO", "PORT", "PROTOCOL", "VERDICT"]
    assert lines[2].split() == ["external/internet", "y/b", "8080", "TCP", "denied"]
    code, out, _ = run([*reach_inputs, "--format", "md"], capsys)
    assert out.splitlines()[:3] == [
        "| from | to | port | protocol | verdict |",
        "|---|---|---|---|---|",
        "| external/internet | x/a | 80 | TCP | allowed |",
    ]


def test_reach_output_file_is_written_whole(
    reach_inputs: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "reach.json"
    target.parent.mkdir()
    code, out, _ = run([*reach_inputs, "--format", "json", "--output", str(target)], capsys)
    assert (code, out) == (0, "")
    assert len(json.loads(target.read_text())["connections"]) == 6
    assert [p.name for p in target.parent.iterdir()] == ["reach.json"]


def test_bad_input_exits_2_naming_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = dict(DENY_Y, spec={"podSelector": {}, "policyTypes": ["Sideways"]})
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(bad))
    (tmp_path / "inv.yaml").write_text(yaml.safe_dump(INVENTORY))
    target = tmp_path / "never.json"
    code, out, err = run(
        [
            "reach",
            "--policies",
            str(tmp_path / "p.yaml"),
            "--inventory",
            str(tmp_path / "inv.yaml"),
            "--output",
            str(target),
        ],
        capsys,
    )
    assert (code, out) == (2, "")
    assert err == (
        f"netfence: error: {tmp_path / 'p.yaml'} (document 0) at spec.policyTypes[0]: "
        "unknown policy type 'Sideways'; expected Ingress or Egress\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inv.yaml", "p.yaml"]


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["reach", "--format", "json"], capsys)
    assert code == 2
    assert "the following arguments are required: --policies, --inventory" in err


def test_verify_exact_stack_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = write_stack(tmp_path, exact_stack())
    code, out, err = run(["verify", str(stack)], capsys)
    assert (code, err) == (0, "")
    assert out == (
        f"stack prod ({stack / 'cdk.tf.json'}): 5 policies, 3 declared flows\n"
        "  ok: the policies allow exactly the declared flows\n"
        "verified: no findings\n"
    )


def test_verify_findings_exit_1_in_every_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = exact_stack()
    policies(data)["shop_db-ingress"]["spec"]["ingress"][0]["from"] = [{"pod_selector": {}}]
    write_stack(tmp_path, data)
    out_dir = str(tmp_path / "cdktf.out")
    code, out, _ = run(["verify", out_dir], capsys)
    assert code == 1
    assert out.splitlines()[1:] == [
        "  wildcard-peer: shop/db-ingress ingress rule 0 peer 0 selects all pods in namespace shop",
        "      policy kubernetes_network_policy_v1.shop_db-ingress (shop/db-ingress)",
        "1 finding(s)",
    ]
    code, out, _ = run(["verify", out_dir, "--format", "json"], capsys)
    report = json.loads(out)
    assert (code, report["ok"]) == (1, False)
    assert report["stacks"][0]["findings"] == [
        {
            "kind": "wildcard-peer",
            "message": "shop/db-ingress ingress rule 0 peer 0 selects all pods in namespace shop",
            "policies": ["kubernetes_network_policy_v1.shop_db-ingress (shop/db-ingress)"],
        }
    ]
    code, out, _ = run(["verify", out_dir, "--format", "md"], capsys)
    assert code == 1
    assert "| wildcard-peer | shop/db-ingress ingress rule 0 peer 0 selects all pods" in out


def test_verify_missing_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["verify", str(tmp_path / "nowhere")], capsys)
    assert code == 2
    assert err == f"netfence: error: {tmp_path / 'nowhere'}: no such file or directory\n"


def test_map_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = str(write_stack(tmp_path, exact_stack()))
    code, out, _ = run(["map", stack, "--format", "mermaid"], capsys)
    assert code == 0
    # The declared selection (Prometheus of environment prod) is on the map;
    # what it could do outside the stack (e.g. to payments) is not.
    assert out == (
        "flowchart LR\n"
        '  subgraph g_n0["[namespaces labelled environment=prod]"]\n'
        '    n0["[pods app=prometheus]"]\n  end\n'
        '  subgraph g_n1["external"]\n    n1["payments"]\n  end\n'
        '  subgraph g_n2["shop"]\n    n2["api"]\n    n3["db"]\n  end\n'
        '  n0 -->|"TCP 8080"| n2\n'
        '  n2 -->|"TCP 443"| n1\n'
        '  n2 -->|"TCP 5432"| n3\n'
    )
    code, out, _ = run(["map", stack, "--format", "dot"], capsys)
    assert '  "shop/api" -> "shop/db" [label="TCP 5432"];' in out.splitlines()
    code, out, _ = run(["map", stack, "--format", "md"], capsys)
    assert "| shop/api | - | TCP 443 | · | TCP 5432 |" in out.splitlines()
    assert (
        "| [namespaces labelled environment=prod]/[pods app=prometheus] | · | - | TCP 8080 | - |"
        in out.splitlines()
    )


def test_console_script_runs_verify(tmp_path: Path) -> None:
    stack = write_stack(tmp_path, exact_stack())
    script = Path(sys.executable).parent / "netfence"
    done = subprocess.run(
        [str(script), "verify", str(stack)], capture_output=True, text=True, check=False, timeout=60
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.endswith("verified: no findings\n")


def test_read_only_commands_never_import_cdktf(tmp_path: Path) -> None:
    stack = write_stack(tmp_path, exact_stack())
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(DENY_Y))
    (tmp_path / "inv.yaml").write_text(yaml.safe_dump(INVENTORY))
    probe = (
        "import sys, io, contextlib\n"
        "from constructs_lib.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['verify', {str(stack)!r}])\n"
        f"    main(['map', {str(stack)!r}, '--format', 'md'])\n"
        f"    main(['reach', '--policies', {str(tmp_path / 'p.yaml')!r},"
        f" '--inventory', {str(tmp_path / 'inv.yaml')!r}, '--format', 'json'])\n"
        "heavy = ('cdktf', 'cdktn', 'constructs', 'jsii', 'cdktf_cdktf_provider_kubernetes',"
        " 'cdktn_provider_kubernetes')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout == "[]\n"


def test_map_shows_a_namespaces_end_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = exact_stack()
    flows = data["//"]["metadata"]["netfence"]["flows"]
    flows[0]["from"] = {
        "kind": "namespaces",
        "namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
        "labels": {"app": "prometheus"},
    }
    data["resource"]["kubernetes_network_policy_v1"]["shop_api-ingress"]["spec"]["ingress"][0][
        "from"
    ][0]["namespace_selector"] = {"match_labels": {"kubernetes.io/metadata.name": "monitoring"}}
    stack = str(write_stack(tmp_path, data))
    assert run(["verify", stack], capsys)[0] == 0
    code, out, _ = run(["map", stack, "--format", "mermaid"], capsys)
    assert code == 0
    assert out.startswith(
        "flowchart LR\n"
        '  subgraph g_n0["[namespaces named monitoring]"]\n'
        '    n0["[pods app=prometheus]"]\n  end\n'
    )
    assert '  n0 -->|"TCP 8080"| n2\n' in out
