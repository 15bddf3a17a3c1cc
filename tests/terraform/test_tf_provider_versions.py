"""hashicorp/kubernetes 3.x through real terraform: import ids, Framework validation.

The flow itself (init, validate, plan, apply, no-change re-plan, drift) runs
per version in test_tf_flow.py; here what differs between the versions.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from tf_workspace import TerraformEnv, Workspace, for_version

pytestmark = pytest.mark.slow

ROLE = "kubernetes_role_v1"


def _import_id(kind: str, body: dict[str, Any]) -> str:
    meta = body["metadata"]  # the form constructs_lib.review.adopt writes
    return (
        meta["name"] if kind == "kubernetes_namespace_v1" else f"{meta['namespace']}/{meta['name']}"
    )


@pytest.mark.parametrize("version", ["2.38.0", "3.4.0", "3.5.0"])
def test_import_blocks_in_netfences_id_form_adopt_everything_on_each_version(
    terraform_env: TerraformEnv,
    tmp_path: Any,
    example_stacks: dict[str, dict[str, Any]],
    version: str,
) -> None:
    config = for_version(example_stacks["delivery"], version)
    (tmp_path / "first").mkdir()
    first = Workspace(tmp_path / "first", terraform_env)
    first.write_config(config)
    first.init()
    first.tf("apply", "-input=false", "-auto-approve")

    (tmp_path / "second").mkdir()
    second = Workspace(tmp_path / "second", terraform_env, first.cluster)
    second.write_config(config)
    imports = [
        {"to": f"{kind}.{name}", "id": _import_id(kind, body)}
        for kind, by_name in config["resource"].items()
        for name, body in by_name.items()
    ]
    (second.path / "imports.tf.json").write_text(json.dumps({"import": imports}))
    second.init()
    plan = second.plan_json()
    assert {c["address"] for c in plan["resource_changes"]} == {i["to"] for i in imports}
    for change in plan["resource_changes"]:
        assert change["change"]["actions"] == ["no-op"], change["address"]
    out = second.tf("apply", "-input=false", "plan.bin")
    assert f"Apply complete! Resources: {len(imports)} imported, 0 added" in out.stdout


@pytest.mark.parametrize("version", ["3.4.0", "3.5.0"])
def test_a_role_import_id_without_namespace_is_refused_on_3_x(
    terraform_env: TerraformEnv,
    tmp_path: Any,
    example_stacks: dict[str, dict[str, Any]],
    version: str,
) -> None:
    config = for_version(example_stacks["delivery"], version)
    (tmp_path / "ws").mkdir()
    ws = Workspace(tmp_path / "ws", terraform_env)
    ws.write_config(config)
    ws.init()
    ws.tf("apply", "-input=false", "-auto-approve")
    name = next(iter(config["resource"][ROLE]))
    out = ws.tf("import", "-input=false", f"{ROLE}.{name}", "/deployer", ok=(1,))
    assert 'Invalid import ID "/deployer"' in out.stderr


def _namespace_with(labels: dict[str, Any], version: str) -> dict[str, Any]:
    return {
        "terraform": {
            "required_providers": {
                "kubernetes": {"source": "hashicorp/kubernetes", "version": version}
            }
        },
        "provider": {"kubernetes": [{}]},
        "resource": {
            "kubernetes_namespace_v1": {"n": {"metadata": {"name": "n", "labels": labels}}}
        },
    }


@pytest.mark.parametrize(("version", "ok"), [("2.38.0", True), ("3.4.0", False), ("3.5.0", False)])
def test_a_null_label_is_rejected_where_the_framework_serves_namespaces(
    workspace: Workspace, version: str, ok: bool
) -> None:
    """What netfence's renderer refuses to write (tests/test_provider_versions.py)."""
    workspace.write_config(_namespace_with({"team": None}, version))
    workspace.init()
    out = workspace.tf("validate", ok=(0,) if ok else (1,))
    if not ok:
        assert "null value for key 'team'" in out.stderr
