"""The example stacks through real terraform: init, validate, plan, apply, re-plan, drift."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tf_workspace import Workspace, for_version

pytestmark = pytest.mark.slow

NO_CHANGES, CHANGES = 0, 2  # terraform plan -detailed-exitcode


def _addresses(config: dict[str, Any]) -> set[str]:
    return {f"{t}.{n}" for t, by_name in config["resource"].items() for n in by_name}


def _policy(ws: Workspace, namespace: str, name: str) -> dict[str, Any]:
    found = ws.find("NetworkPolicy", name, namespace)
    assert found is not None, f"{namespace}/{name} is not in the fake cluster"
    return found


EXAMPLE_STACKS = ("data-pipeline", "delivery", "prod", "staging")


def test_every_example_stack_goes_through_terraform(
    example_stacks: dict[str, dict[str, Any]],
) -> None:
    assert sorted(example_stacks) == sorted(EXAMPLE_STACKS), "add new stacks to EXAMPLE_STACKS"


# Every stack on the default provider; on 3.x the stack with every resource type
# netfence writes (delivery: namespaces, policies, accounts, a Role and its binding).
FLOWS = [(s, "2.38.0") for s in EXAMPLE_STACKS] + [("delivery", "3.4.0"), ("delivery", "3.5.0")]


@pytest.mark.parametrize(("stack", "version"), FLOWS)
def test_example_stack_plans_applies_and_then_plans_no_changes(
    workspace: Workspace, example_stacks: dict[str, dict[str, Any]], stack: str, version: str
) -> None:
    config = for_version(example_stacks[stack], version)
    workspace.write_config(config)
    workspace.init()
    assert "Success! The configuration is valid." in workspace.tf("validate").stdout

    plan = workspace.plan_json()
    changes = {rc["address"]: rc["change"] for rc in plan["resource_changes"]}
    assert set(changes) == _addresses(config)
    assert {tuple(c["actions"]) for c in changes.values()} == {("create",)}
    for address, change in changes.items():
        if address.startswith("kubernetes_network_policy_v1."):
            assert change["after_unknown"]["metadata"][0]["uid"] is True
            assert change["after"]["spec"][0]["policy_types"]

    workspace.tf("apply", "-input=false", "plan.bin")
    for address in _addresses(config):
        kind, name = address.split(".", 1)
        body = config["resource"][kind][name]
        meta = body["metadata"]
        if kind == "kubernetes_network_policy_v1":
            live = _policy(workspace, meta["namespace"], meta["name"])
            assert live["metadata"]["labels"] == meta["labels"]
            assert live["spec"]["policyTypes"] == body["spec"]["policy_types"]
        elif kind == "kubernetes_namespace_v1":
            live_ns = workspace.find("Namespace", meta["name"])
            assert live_ns is not None
            assert live_ns["metadata"]["labels"]["kubernetes.io/metadata.name"] == meta["name"]

    state = workspace.state()["values"]["root_module"]["resources"]
    assert {r["address"] for r in state} == _addresses(config)
    for resource in state:
        meta = resource["values"]["metadata"][0]
        assert meta["uid"] and meta["resource_version"], resource["address"]

    again = workspace.tf("plan", "-input=false", "-detailed-exitcode", ok=(NO_CHANGES, CHANGES))
    assert again.returncode == NO_CHANGES, again.stdout


@pytest.mark.parametrize("version", ["2.38.0", "3.5.0"])
def test_plan_shows_drift_after_the_cluster_is_edited(
    workspace: Workspace, example_stacks: dict[str, dict[str, Any]], version: str
) -> None:
    config = for_version(example_stacks["prod"], version)
    workspace.write_config(config)
    workspace.init()
    workspace.tf("apply", "-input=false", "-auto-approve")
    policies = config["resource"]["kubernetes_network_policy_v1"]
    address, body = next((a, b) for a, b in sorted(policies.items()) if "ingress" in b["spec"])
    namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
    before = _policy(workspace, namespace, name)["metadata"]["uid"]

    def widen(state: dict[str, Any]) -> None:
        for obj in state["items"]:
            meta = obj["metadata"]
            if obj["kind"] == "NetworkPolicy" and (meta["namespace"], meta["name"]) == (
                namespace,
                name,
            ):
                obj["spec"]["ingress"][0].pop("from", None)  # someone opened it to everyone
                meta["labels"]["edited-by"] = "kubectl"

    workspace.edit_cluster(widen)
    drift = workspace.tf("plan", "-input=false", "-detailed-exitcode", ok=(CHANGES,))
    assert f"kubernetes_network_policy_v1.{address} will be updated in-place" in drift.stdout
    assert re.search(r'- "edited-by" +?= "kubectl" -> null', drift.stdout), drift.stdout
    assert "1 to change" in drift.stdout
    refresh = workspace.plan_json("-refresh-only")
    (drifted,) = refresh["resource_drift"]
    assert drifted["address"] == f"kubernetes_network_policy_v1.{address}"
    assert drifted["change"]["before"]["spec"][0]["ingress"][0]["from"]
    assert drifted["change"]["after"]["spec"][0]["ingress"][0]["from"] == []

    workspace.tf("apply", "-input=false", "-auto-approve")
    repaired = _policy(workspace, namespace, name)
    assert repaired["metadata"]["uid"] == before, "an in-place update keeps the object"
    assert repaired["metadata"]["generation"] == 2
    assert "edited-by" not in repaired["metadata"]["labels"]
    assert repaired["spec"]["ingress"][0]["from"]
    workspace.tf("plan", "-input=false", "-detailed-exitcode")

    def delete(state: dict[str, Any]) -> None:
        state["items"] = [o for o in state["items"] if o["metadata"].get("name") != name]

    workspace.edit_cluster(delete)
    gone = workspace.tf("plan", "-input=false", "-detailed-exitcode", ok=(CHANGES,))
    assert f"kubernetes_network_policy_v1.{address} will be created" in gone.stdout


def test_destroy_removes_every_object_it_created(
    workspace: Workspace, example_stacks: dict[str, dict[str, Any]]
) -> None:
    workspace.write_config(example_stacks["staging"])
    workspace.init()
    before = {(o["kind"], o["metadata"]["name"]) for o in workspace.objects()}
    workspace.tf("apply", "-input=false", "-auto-approve")
    assert len(workspace.objects()) > len(before)
    workspace.tf("destroy", "-input=false", "-auto-approve")
    assert {(o["kind"], o["metadata"]["name"]) for o in workspace.objects()} == before
