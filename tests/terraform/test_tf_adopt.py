"""Adopting a namespace the stack created: state forgets it, the cluster keeps it.

Switching ``adopt=True`` on used to plan "kubernetes_namespace_v1.<ns> will be
destroyed" (the namespace and everything in it). The synthesized ``removed``
block (lifecycle destroy = false) turns that into a forget; and the same block
is harmless for a namespace that was never in state (Terraform >= 1.7).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tf_workspace import Workspace

pytestmark = pytest.mark.slow


def _config(*, adopt: bool) -> dict[str, Any]:
    from constructs_lib.compiler import compile_topology
    from constructs_lib.emitters import render_terraform
    from constructs_lib.model import Port, Topology

    topo = Topology("prod")
    shop = topo.add_namespace("prod/shop", name="shop", environment="prod", adopt=adopt)
    api = shop.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080)])
    db = shop.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432)])
    api.allow_to(db)
    return render_terraform(compile_topology(topo))


def _actions(plan: dict[str, Any]) -> dict[str, list[str]]:
    return {rc["address"]: rc["change"]["actions"] for rc in plan["resource_changes"]}


def test_switching_to_adopt_forgets_the_namespace_instead_of_destroying_it(
    workspace: Workspace, tmp_path: Path
) -> None:
    workspace.write_config(_config(adopt=False))
    workspace.init()
    workspace.tf("apply", "-input=false", "-auto-approve")
    assert workspace.find("Namespace", "shop") is not None

    adopted = _config(adopt=True)
    assert adopted["removed"] == [
        {"from": "kubernetes_namespace_v1.shop", "lifecycle": {"destroy": False}}
    ]
    workspace.write_config(adopted)
    plan = workspace.plan_json()
    changes = _actions(plan)
    assert changes["kubernetes_namespace_v1.shop"] == ["forget"]
    assert changes["kubernetes_labels.shop"] == ["create"]
    assert not [a for a, acts in changes.items() if "delete" in acts]
    workspace.tf("apply", "-input=false", "plan.bin")
    assert workspace.find("Namespace", "shop") is not None  # still there, with its pods
    addresses = {r["address"] for r in workspace.state()["values"]["root_module"]["resources"]}
    assert "kubernetes_namespace_v1.shop" not in addresses


def test_a_removed_block_for_a_namespace_never_in_state_plans_cleanly(
    workspace: Workspace, tmp_path: Path, namespace: Any
) -> None:
    workspace.add_objects(namespace("shop"))
    workspace.write_config(_config(adopt=True))
    workspace.init()
    plan = workspace.plan_json()
    changes = _actions(plan)
    assert "kubernetes_namespace_v1.shop" not in changes
    assert {tuple(acts) for acts in changes.values()} == {("create",)}
    workspace.tf("apply", "-input=false", "plan.bin")
    again = workspace.tf("plan", "-input=false", "-detailed-exitcode", ok=(0, 2))
    assert again.returncode == 0, again.stdout


def _plan_risks(ws: Workspace, config: dict[str, Any]) -> list[str]:
    import json

    from constructs_lib.review import diff_plan

    ws.write_config(config)
    (ws.path / "plan.json").write_text(json.dumps(ws.plan_json()))
    return [str(r) for r in diff_plan(ws.path / "plan.json").risks]


DESTROYED = (
    "namespace-destroyed: namespace shop is destroyed: Terraform deletes "
    "kubernetes_namespace_v1.shop and with it every object in the namespace (to stop managing "
    "it without deleting it: adopt=True, which writes a removed block with destroy = false)"
)


def test_netfence_diff_flags_a_real_plan_that_destroys_a_namespace(workspace: Workspace) -> None:
    workspace.write_config(_config(adopt=False))
    workspace.init()
    workspace.tf("apply", "-input=false", "-auto-approve")
    without_removed = _config(adopt=True)
    del without_removed["removed"]  # what an older netfence wrote for adopt=True
    assert DESTROYED in _plan_risks(workspace, without_removed)
    assert not [r for r in _plan_risks(workspace, _config(adopt=True)) if "destroyed" in r]
