"""``npx cdktf deploy`` (or ``npx cdktn deploy`` under cdktn) of an example stack, end to end."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import cdk_under_test
import pytest
from tf_workspace import ROOT, TIMEOUT, TerraformEnv, Workspace

from constructs_lib._node import path_for_cli

pytestmark = pytest.mark.slow


def test_cdktf_deploy_applies_the_prod_stack(
    terraform_env: TerraformEnv, project_copy: Path
) -> None:
    cli = cdk_under_test.name()  # the CLI of the CDK the suite runs on
    if shutil.which("npx") is None or not (ROOT / "node_modules" / ".bin" / cli).exists():
        pytest.skip(f"npx or node_modules/.bin/{cli} missing: run scripts/bootstrap.sh")
    cluster = project_copy / "cluster.json"
    env = terraform_env.env | {
        "NETFENCE_CDK": cli,
        "PATH": path_for_cli(cli, terraform_env.env.get("PATH")),
        "NETFENCE_FAKE_CLUSTER": str(cluster),
        "CDKTF_DISABLE_PLUGIN_CACHE_ENV": "1",  # keep cdktf out of ~/.terraform.d
        "CI": "1",
        "FORCE_COLOR": "0",
    }
    # --skip-provider-lock: `terraform providers lock` asks the registry, not the mirror
    deploy = subprocess.run(
        ["npx", cli, "deploy", "prod", "--auto-approve", "--skip-provider-lock"],
        cwd=project_copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    stack_dir = project_copy / "cdktf.out" / "stacks" / "prod"
    config = json.loads((stack_dir / "cdk.tf.json").read_text())
    wanted = sum(len(by_name) for by_name in config["resource"].values())
    assert f"Apply complete! Resources: {wanted} added, 0 changed, 0 destroyed." in deploy.stdout

    # the stack's own backend: state at the project root, beside cdktf.out
    state = json.loads((project_copy / "terraform.prod.tfstate").read_text())
    assert len(state["resources"]) == wanted
    live = json.loads(cluster.read_text())["items"]
    for body in config["resource"]["kubernetes_network_policy_v1"].values():
        meta = body["metadata"]
        assert any(
            o["kind"] == "NetworkPolicy"
            and o["metadata"]["name"] == meta["name"]
            and o["metadata"]["namespace"] == meta["namespace"]
            for o in live
        ), meta

    # what cdktf left behind is an ordinary Terraform working directory
    Workspace(stack_dir, terraform_env, cluster).tf("plan", "-input=false", "-detailed-exitcode")
