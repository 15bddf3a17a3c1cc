"""Objects that already live in the cluster: import, import blocks, and 'already exists'."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tf_workspace import Workspace

pytestmark = pytest.mark.slow


def _import_id(kind: str, body: dict[str, Any]) -> str:
    meta = body["metadata"]
    return (
        meta["name"] if kind == "kubernetes_namespace_v1" else f"{meta['namespace']}/{meta['name']}"
    )


def test_terraform_import_adopts_a_live_policy_with_no_changes(
    live_prod: Workspace, example_stacks: dict[str, dict[str, Any]]
) -> None:
    policies = example_stacks["prod"]["resource"]["kubernetes_network_policy_v1"]
    name, body = sorted(policies.items())[0]
    address = f"kubernetes_network_policy_v1.{name}"
    live = live_prod.find("NetworkPolicy", body["metadata"]["name"], body["metadata"]["namespace"])
    assert live is not None

    out = live_prod.tf("import", "-input=false", address, _import_id("", body))
    assert "Import successful!" in out.stdout
    namespace = body["metadata"]["namespace"]
    live_prod.tf("import", "-input=false", f"kubernetes_namespace_v1.{namespace}", namespace)

    state = {r["address"]: r for r in live_prod.state()["values"]["root_module"]["resources"]}
    assert state[address]["values"]["metadata"][0]["uid"] == live["metadata"]["uid"]
    assert state[address]["values"]["id"] == f"{namespace}/{body['metadata']['name']}"

    plan = live_prod.plan_json()
    actions = {rc["address"]: rc["change"]["actions"] for rc in plan["resource_changes"]}
    assert actions[address] == ["no-op"], "imported policy matches its configuration"
    assert actions[f"kubernetes_namespace_v1.{namespace}"] == ["no-op"]
    to_create = sorted(a for a, act in actions.items() if act == ["create"])
    assert len(to_create) == len(actions) - 2

    out = live_prod.tf("apply", "-input=false", "-auto-approve", ok=(1,))
    assert "already exists" in out.stderr
    for other in to_create:
        other_name = example_stacks["prod"]["resource"]["kubernetes_network_policy_v1"].get(
            other.split(".", 1)[1], {}
        )
        if other_name and other_name["metadata"]["namespace"] == namespace:
            policy = other_name["metadata"]["name"]
            assert f'networkpolicies.networking.k8s.io "{policy}" already exists' in out.stderr


def test_import_of_a_missing_object_fails(live_prod: Workspace) -> None:
    out = live_prod.tf(
        "import", "-input=false", "kubernetes_namespace_v1.shop-web", "no-such-namespace", ok=(1,)
    )
    assert "Cannot import non-existent remote object" in out.stderr


def test_import_blocks_adopt_every_live_object(
    live_prod: Workspace, example_stacks: dict[str, dict[str, Any]]
) -> None:
    config = example_stacks["prod"]
    imports = [
        {"to": f"{kind}.{name}", "id": _import_id(kind, body)}
        for kind, by_name in config["resource"].items()
        for name, body in by_name.items()
    ]
    (live_prod.path / "imports.tf.json").write_text(json.dumps({"import": imports}))
    uids = {o["metadata"]["uid"] for o in live_prod.objects()}

    plan = live_prod.plan_json()
    changes = plan["resource_changes"]
    assert len(changes) == len(imports)
    for change in changes:
        assert change["change"]["actions"] == ["no-op"], change["address"]
        assert change["change"]["importing"]["id"]

    out = live_prod.tf("apply", "-input=false", "plan.bin")
    assert f"Apply complete! Resources: {len(imports)} imported, 0 added" in out.stdout
    assert {o["metadata"]["uid"] for o in live_prod.objects()} == uids, "nothing recreated"
    live_prod.tf("plan", "-input=false", "-detailed-exitcode")


def test_apply_without_import_fails_because_the_objects_already_exist(live_prod: Workspace) -> None:
    out = live_prod.tf("apply", "-input=false", "-auto-approve", ok=(1,))
    assert 'namespaces "shop-web" already exists' in out.stderr
    assert 'namespaces "shop-data" already exists' in out.stderr
    assert "networkpolicies" not in out.stderr, "policies wait for their namespace"


def test_policy_in_a_namespace_that_does_not_exist_is_refused(workspace: Workspace) -> None:
    workspace.write_config(
        {
            "terraform": {
                "required_providers": {
                    "kubernetes": {"source": "hashicorp/kubernetes", "version": "2.38.0"}
                }
            },
            "provider": {"kubernetes": [{}]},
            "resource": {
                "kubernetes_network_policy_v1": {
                    "orphan": {
                        "metadata": {"name": "deny", "namespace": "nowhere"},
                        "spec": {"pod_selector": {}, "policy_types": ["Ingress"]},
                    }
                }
            },
        }
    )
    workspace.init()
    out = workspace.tf("apply", "-input=false", "-auto-approve", ok=(1,))
    assert 'namespaces "nowhere" not found' in out.stderr
