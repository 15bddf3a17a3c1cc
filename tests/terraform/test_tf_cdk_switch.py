"""Moving a project between cdktf and cdktn, and from provider 2.38.0 to 3.x, plans no change.

docs/cdk.md promises both; these tests hold it with real terraform.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tf_workspace import ROOT, TIMEOUT, Workspace, for_version

from constructs_lib.constructs import cdk

pytestmark = pytest.mark.slow


def _synth_with(lib: str, out: Path) -> dict[str, dict[str, Any]]:
    env = os.environ | {"CDKTF_OUTDIR": str(out), "NETFENCE_CDK": lib}
    done = subprocess.run(
        [sys.executable, "-m", "stacks"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return {
        p.parent.name: json.loads(p.read_text()) for p in (out / "stacks").glob("*/cdk.tf.json")
    }


@pytest.mark.skipif(
    set(cdk.installed()) != {"cdktf", "cdktn"},
    reason="needs cdktf and cdktn installed together (.venv-cdktn)",
)
def test_switching_cdktf_to_cdktn_changes_no_terraform(
    workspace: Workspace, tmp_path: Path
) -> None:
    before = _synth_with("cdktf", tmp_path / "cdktf.out")
    after = _synth_with("cdktn", tmp_path / "cdktn.out")
    assert sorted(before) == sorted(after)
    for stack, doc in before.items():
        other = after[stack]
        assert doc["//"]["metadata"]["version"] != other["//"]["metadata"]["version"]
        assert {k: v for k, v in doc.items() if k != "//"} == {
            k: v for k, v in other.items() if k != "//"
        }, stack
        assert doc["//"]["metadata"]["netfence"] == other["//"]["metadata"]["netfence"]

    workspace.write_config(before["delivery"])
    workspace.init()
    workspace.tf("apply", "-input=false", "-auto-approve")
    workspace.write_config(after["delivery"])
    workspace.tf("plan", "-input=false", "-detailed-exitcode")  # exit 0: no changes


def test_upgrading_the_provider_from_2_38_0_to_3_x_plans_no_change(
    workspace: Workspace, example_stacks: dict[str, dict[str, Any]]
) -> None:
    workspace.write_config(example_stacks["delivery"])
    workspace.init()
    workspace.tf("apply", "-input=false", "-auto-approve")
    locked = "2.38.0"
    for version in ("3.4.0", "3.5.0"):
        workspace.write_config(for_version(example_stacks["delivery"], version))
        out = workspace.tf("plan", "-input=false", ok=(1,))
        said = " ".join(out.stderr.split())
        assert f"locked version selection {locked} doesn't match" in said, said
        assert "terraform init -upgrade" in said, said
        workspace.tf("init", "-input=false", "-upgrade")
        workspace.tf("plan", "-input=false", "-detailed-exitcode")  # exit 0: no changes
        lock = (workspace.path / ".terraform.lock.hcl").read_text()
        assert f'version     = "{version}"' in lock
        locked = version
