"""Stacks built here (not the examples) through real terraform: every shape the emitter has."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
from terraform_provider.plugin import CERT_DIR_ENV
from terraform_provider.schema import SCHEMA_FILE
from tf_workspace import Workspace

pytestmark = pytest.mark.slow

PINNED = {
    "required_providers": {"kubernetes": {"source": "hashicorp/kubernetes", "version": "2.38.0"}}
}


def _edge_cases(stack: Any) -> None:
    """An adopted namespace, port ranges, UDP, named ports, an ipBlock with except."""
    from constructs_lib import ExternalEndpoint, Port, WorkloadSelection, ZeroTrustNamespace

    legacy = ZeroTrustNamespace(stack, "legacy", name="legacy", environment="prod", adopt=True)
    edge = ZeroTrustNamespace(stack, "edge", name="edge", environment="prod", allow_dns=False)
    media = edge.workload(
        "media", labels={"app": "media"}, ports=[Port.tcp_range(10000, 10100), Port.udp(3478)]
    )
    web = edge.workload("web", labels={"app": "web"}, ports=[Port.tcp(8080, name="http")])
    old = legacy.workload("old", labels={"app": "old"}, ports=[Port.tcp(9000)])
    cdn = ExternalEndpoint(
        "cdn", cidrs=["192.0.2.0/24"], except_=["192.0.2.128/25"], ports=[Port.tcp(443)]
    )
    web.allow_to(media)
    web.allow_to(old)
    web.allow_to(cdn)
    old.allow_from(WorkloadSelection.in_environment("prod", labels={"app": "web"}))
    web.allow_from(media, ports=[Port.named("http")])


def test_generated_stack_with_adopted_namespace_applies_and_settles(
    workspace: Workspace,
    synth_stack: Callable[..., dict[str, Any]],
    namespace: Callable[[str], dict[str, Any]],
) -> None:
    config = synth_stack(_edge_cases, name="edge")
    assert "kubernetes_labels" in config["resource"], "adopt=True patches labels"
    workspace.add_objects(namespace("legacy"))  # adopted: it exists before Terraform runs
    workspace.write_config(config)
    workspace.init()
    workspace.tf("validate")
    workspace.tf("apply", "-input=false", "-auto-approve")
    workspace.tf("plan", "-input=false", "-detailed-exitcode")

    legacy = workspace.find("Namespace", "legacy")
    assert legacy is not None
    assert legacy["metadata"]["labels"]["environment"] == "prod"
    assert legacy["metadata"]["labels"]["kubernetes.io/metadata.name"] == "legacy"
    ports = [
        port
        for obj in workspace.objects()
        if obj["kind"] == "NetworkPolicy"
        for rule in obj["spec"].get("ingress", []) + obj["spec"].get("egress", [])
        for port in rule.get("ports", [])
    ]
    assert {"port": 10000, "endPort": 10100, "protocol": "TCP"} in ports
    assert {"port": 3478, "protocol": "UDP"} in ports
    assert {"port": "http", "protocol": "TCP"} in ports

    workspace.tf("destroy", "-input=false", "-auto-approve")
    legacy = workspace.find("Namespace", "legacy")
    assert legacy is not None, "destroying the stack leaves an adopted namespace in place"
    assert "environment" not in legacy["metadata"]["labels"]


def test_labels_on_a_namespace_that_does_not_exist_fail(workspace: Workspace) -> None:
    workspace.write_config(
        {
            "terraform": PINNED,
            "resource": {
                "kubernetes_labels": {
                    "ghost": {
                        "api_version": "v1",
                        "kind": "Namespace",
                        "metadata": {"name": "ghost"},
                        "labels": {"environment": "prod"},
                    }
                }
            },
        }
    )
    workspace.init()
    out = workspace.tf("apply", "-input=false", "-auto-approve", ok=(1,))
    assert 'The resource "ghost" does not exist' in out.stderr


RBAC = {
    "terraform": PINNED,
    "resource": {
        "kubernetes_namespace_v1": {"ops": {"metadata": {"name": "ops"}}},
        "kubernetes_service_account_v1": {
            "auditor": {
                "depends_on": ["kubernetes_namespace_v1.ops"],
                "metadata": {"name": "auditor", "namespace": "ops"},
            }
        },
        "kubernetes_role_v1": {
            "read-policies": {
                "depends_on": ["kubernetes_namespace_v1.ops"],
                "metadata": {"name": "read-policies", "namespace": "ops"},
                "rule": [
                    {
                        "api_groups": ["networking.k8s.io"],
                        "resources": ["networkpolicies"],
                        "verbs": ["list", "get", "watch"],
                    }
                ],
            }
        },
        "kubernetes_role_binding_v1": {
            "auditor-reads": {
                "metadata": {"name": "auditor-reads", "namespace": "ops"},
                "role_ref": {
                    "api_group": "rbac.authorization.k8s.io",
                    "kind": "Role",
                    "name": "${kubernetes_role_v1.read-policies.metadata[0].name}",
                },
                "subject": [
                    {
                        "kind": "ServiceAccount",
                        "name": "${kubernetes_service_account_v1.auditor.metadata[0].name}",
                        "namespace": "ops",
                    }
                ],
            }
        },
    },
}


def test_service_account_role_and_binding_apply_and_settle(workspace: Workspace) -> None:
    workspace.write_config(RBAC)
    workspace.init()
    workspace.tf("validate")
    workspace.tf("apply", "-input=false", "-auto-approve")
    workspace.tf("plan", "-input=false", "-detailed-exitcode")

    account = workspace.find("ServiceAccount", "auditor", "ops")
    assert account is not None and account["automountServiceAccountToken"] is True
    role = workspace.find("Role", "read-policies", "ops")
    assert role is not None
    assert sorted(role["rules"][0]["verbs"]) == ["get", "list", "watch"]
    binding = workspace.find("RoleBinding", "auditor-reads", "ops")
    assert binding is not None
    assert binding["subjects"] == [
        {"apiGroup": "", "kind": "ServiceAccount", "name": "auditor", "namespace": "ops"}
    ]
    state = {
        r["address"]: r["values"] for r in workspace.state()["values"]["root_module"]["resources"]
    }
    assert state["kubernetes_role_binding_v1.auditor-reads"]["subject"][0]["api_group"] == ""
    assert state["kubernetes_service_account_v1.auditor"]["id"] == "ops/auditor"

    def reorder(cluster: dict[str, Any]) -> None:  # a set attribute read back in another order
        for obj in cluster["items"]:
            if obj["kind"] == "Role":
                obj["rules"][0]["verbs"].reverse()

    workspace.edit_cluster(reorder)
    workspace.tf("plan", "-input=false", "-detailed-exitcode")

    def grant_more(cluster: dict[str, Any]) -> None:
        for obj in cluster["items"]:
            if obj["kind"] == "Role":
                obj["rules"][0]["verbs"].append("delete")

    workspace.edit_cluster(grant_more)
    drift = workspace.tf("plan", "-input=false", "-detailed-exitcode", ok=(2,))
    assert "kubernetes_role_v1.read-policies will be updated in-place" in drift.stdout
    out = workspace.tf(
        "import", "-input=false", "kubernetes_role_v1.other", "ops/read-policies", ok=(1,)
    )
    assert "kubernetes_role_v1.other" in out.stderr  # not in the configuration


def test_invalid_schema_use_is_refused_by_validate(workspace: Workspace) -> None:
    bad = {
        "terraform": PINNED,
        "resource": {
            "kubernetes_network_policy_v1": {
                "p": {
                    "metadata": {"name": "p"},
                    "spec": {"pod_selector": {}, "policy_types": [], "ingress": {"port": "80"}},
                }
            }
        },
    }
    workspace.write_config(bad)
    workspace.init()
    out = workspace.tf("validate", ok=(1,))
    assert 'No argument or block type is named "port"' in out.stderr
    bad["resource"]["kubernetes_network_policy_v1"]["p"]["spec"].pop("ingress")
    workspace.write_config(bad)
    out = workspace.tf("validate", ok=(1,))
    assert "policy_types: attribute supports 1 item minimum" in out.stderr


def _policy_config(name: str) -> dict[str, Any]:
    return {
        "terraform": PINNED,
        "resource": {
            "kubernetes_network_policy_v1": {
                "deny": {
                    "metadata": {"name": name, "namespace": "default"},
                    "spec": {"pod_selector": {}, "policy_types": ["Ingress", "Egress"]},
                }
            }
        },
    }


def test_renaming_a_policy_replaces_the_object(workspace: Workspace) -> None:
    workspace.write_config(_policy_config("deny-all"))
    workspace.init()
    workspace.tf("apply", "-input=false", "-auto-approve")
    first = workspace.find("NetworkPolicy", "deny-all", "default")
    assert first is not None

    workspace.write_config(_policy_config("deny-everything"))
    plan = workspace.plan_json()
    (change,) = plan["resource_changes"]
    assert change["change"]["actions"] == ["delete", "create"]
    assert change["change"]["replace_paths"] == [["metadata", 0, "name"]]
    workspace.tf("apply", "-input=false", "plan.bin")
    assert workspace.find("NetworkPolicy", "deny-all", "default") is None
    second = workspace.find("NetworkPolicy", "deny-everything", "default")
    assert second is not None and second["metadata"]["uid"] != first["metadata"]["uid"]


def _cty_from_tf(attr: dict[str, Any]) -> dict[str, Any]:
    return {k: attr[k] for k in ("type", "required", "optional", "computed") if attr.get(k)}


def _blocks_from_tf(block: dict[str, Any]) -> dict[str, Any]:
    out = {f"@{n}": _cty_from_tf(a) for n, a in block.get("attributes", {}).items()}
    for name, nested in block.get("block_types", {}).items():
        out[name] = (
            nested["nesting_mode"],
            nested.get("min_items", 0),
            nested.get("max_items", 0),
            _blocks_from_tf(nested["block"]),
        )
    return out


def _blocks_from_file(block: dict[str, Any]) -> dict[str, Any]:
    keep = ("type", "required", "optional", "computed")
    out = {f"@{n}": {k: a[k] for k in keep if a.get(k)} for n, a in block["attributes"].items()}
    for name, nested in block["blocks"].items():
        out[name] = (
            nested["nesting"],
            nested["min_items"],
            nested["max_items"],
            _blocks_from_file(nested["block"]),
        )
    return out


def test_terraform_sees_the_checked_in_schema(workspace: Workspace) -> None:
    workspace.write_config(_policy_config("p"))
    workspace.init()
    shown = json.loads(workspace.tf("providers", "schema", "-json").stdout)
    served = shown["provider_schemas"]["registry.terraform.io/hashicorp/kubernetes"]
    checked_in = json.loads(SCHEMA_FILE.read_text())
    assert _blocks_from_tf(served["provider"]["block"]) == _blocks_from_file(
        checked_in["provider"]["block"]
    )
    assert set(served["resource_schemas"]) == set(checked_in["resources"])
    for name, part in checked_in["resources"].items():
        got = served["resource_schemas"][name]
        assert got["version"] == part["schema_version"]
        assert _blocks_from_tf(got["block"]) == _blocks_from_file(part["block"]), name


def test_provider_host_file_url_names_the_cluster_file(workspace: Workspace) -> None:
    # and, without the session's shared certificate, each launch makes its own
    shared = {k: v for k, v in workspace.tf_env.env.items() if k != CERT_DIR_ENV}
    workspace.tf_env = dataclasses.replace(workspace.tf_env, env=shared)
    elsewhere = workspace.path / "other-cluster.json"
    config = _policy_config("deny-all")
    config["provider"] = {"kubernetes": [{"host": f"file://{elsewhere}"}]}
    workspace.write_config(config)
    workspace.init()
    workspace.tf("apply", "-input=false", "-auto-approve")
    assert workspace.find("NetworkPolicy", "deny-all", "default") is None  # not the env's file
    items = json.loads(elsewhere.read_text())["items"]
    assert [o["metadata"]["name"] for o in items if o["kind"] == "NetworkPolicy"] == ["deny-all"]
