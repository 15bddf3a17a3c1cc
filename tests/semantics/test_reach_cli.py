"""`netfence reach`: the CLI edge over the same engine, driven through main(argv)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from netpol_builders import external, from_rule, labels, peer, policy, port, to_rule, workload

from constructs_lib.cli import main

INVENTORY: dict[str, Any] = {
    "namespaces": {"x": {"labels": {"team": "a"}}, "y": {"labels": {}}},
    "workloads": [
        workload("x/a", {"pod": "a"}, "10.0.0.1", (80, "TCP", "web")),
        workload("y/b", {"pod": "b"}, "10.0.1.1", (8080, "TCP", "web")),
    ],
    "external": [external("internet", "203.0.113.7", (443, "TCP"))],
}

DENY_X = policy("deny", "x", labels(), types=["Ingress", "Egress"])
B_FROM_TEAM_A = policy(
    "b-in", "y", labels(pod="b"), types=["Ingress"],
    ingress=[from_rule([peer(namespaces=labels(team="a"))], [port("web")])],
)
A_TO_B = policy(
    "a-out", "x", labels(pod="a"), types=["Egress"],
    egress=[to_rule([peer(namespaces=labels())], [port(8080)])],
)


def write(tmp_path: Path, name: str, documents: list[Any]) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump_all(documents))
    return str(path)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_reach_json_unions_policies_from_several_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write(tmp_path, "deny.yaml", [DENY_X])
    second = write(tmp_path, "allow.yaml", [B_FROM_TEAM_A, A_TO_B])
    inventory = write(tmp_path, "inv.yaml", [INVENTORY])

    code, out, _ = run(
        ["reach", "--policies", first, second, "--inventory", inventory, "--format", "json"],
        capsys,
    )

    assert code == 0
    assert json.loads(out) == {
        "connections": [
            {"from": "external/internet", "to": "x/a", "port": 80, "protocol": "TCP",
             "allowed": False},
            {"from": "external/internet", "to": "y/b", "port": 8080, "protocol": "TCP",
             "allowed": False},
            {"from": "x/a", "to": "external/internet", "port": 443, "protocol": "TCP",
             "allowed": False},
            {"from": "x/a", "to": "y/b", "port": 8080, "protocol": "TCP", "allowed": True},
            {"from": "y/b", "to": "external/internet", "port": 443, "protocol": "TCP",
             "allowed": True},
            {"from": "y/b", "to": "x/a", "port": 80, "protocol": "TCP", "allowed": False},
        ]
    }


@pytest.mark.parametrize("fmt", ["table", "md"])
def test_reach_human_formats_name_every_pair(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policies = write(tmp_path, "p.yaml", [DENY_X, B_FROM_TEAM_A, A_TO_B])
    inventory = write(tmp_path, "inv.yaml", [INVENTORY])

    code, out, _ = run(
        ["reach", "--policies", policies, "--inventory", inventory, "--format", fmt], capsys
    )

    assert code == 0
    for name in ("x/a", "y/b", "external/internet"):
        assert name in out


def test_reach_missing_inventory_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policies = write(tmp_path, "p.yaml", [DENY_X])
    missing = str(tmp_path / "nope.yaml")

    code, _, err = run(["reach", "--policies", policies, "--inventory", missing], capsys)

    assert code == 2
    assert "nope.yaml" in err


def test_reach_malformed_policy_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = policy("broken", "x", labels(), types=["Ingress"])
    broken["spec"]["ingress"] = "not-a-list"
    policies = write(tmp_path, "broken.yaml", [broken])
    inventory = write(tmp_path, "inv.yaml", [INVENTORY])

    code, _, err = run(["reach", "--policies", policies, "--inventory", inventory], capsys)

    assert code == 2
    assert "broken.yaml" in err
