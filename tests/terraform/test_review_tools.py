"""docs/review.md's Atlantis and Digger steps, run as written on a real plan.

The command lines are read from the doc's YAML blocks (so the doc cannot
drift from what is tested) and run the way each tool runs a custom step, as
their sources do it: in the project directory, Atlantis with ``sh -c`` and
$SHOWFILE (``<dir>/<workspace>.json``, written by its ``show`` step;
server/core/runtime/run_step_runner.go), Digger with ``bash -eo pipefail``
on a script file and $DIGGER_PLANFILE (``<dir>/<project>.tfplan``, written by
its ``plan`` step) and $DIGGER_OUT (libs/execution/execution.go, runners.go);
netfence on PATH.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from tf_workspace import ROOT, TIMEOUT, Workspace

pytestmark = pytest.mark.slow

DOC = ROOT / "docs" / "review.md"


def documented_step(tool: str) -> str:
    """The `run:` step of the doc's ``# <tool>: netfence`` YAML block."""
    blocks = re.findall(r"```yaml\n(# (\w+): netfence\n.*?)```", DOC.read_text(), re.S)
    (block,) = [text for text, name in blocks if name == tool]
    steps = yaml.safe_load(block)["workflows"]["netfence"]["plan"]["steps"]
    (run,) = [s["run"] for s in steps if isinstance(s, dict) and "run" in s]
    assert isinstance(run, str)
    return run


def _shop(stack: Any, *, internet: bool = False) -> None:
    from constructs_lib import ExternalEndpoint, Port, ZeroTrustNamespace

    web = ZeroTrustNamespace(stack, "web", name="shop-web", environment="prod")
    data = ZeroTrustNamespace(stack, "data", name="shop-data", environment="prod")
    api = web.workload("api", labels={"app": "api"}, ports=[Port.tcp(8443)])
    db = data.workload("db", labels={"app": "postgres"}, ports=[Port.tcp(5432)])
    api.allow_to(db)
    if internet:
        api.allow_to(
            ExternalEndpoint("internet", cidrs=["0.0.0.0/0"], internet=True, ports=[Port.tcp(443)])
        )


@pytest.fixture
def changed(workspace: Workspace, synth_stack: Callable[..., dict[str, Any]]) -> Workspace:
    """The shop applied, then its stack changed to open internet egress (not yet planned)."""
    workspace.write_config(synth_stack(_shop, name="shop"))
    workspace.init()
    workspace.tf("apply", "-input=false", "-auto-approve")
    workspace.write_config(synth_stack(lambda s: _shop(s, internet=True), name="shop"))
    return workspace


def _run(argv: list[str], ws: Workspace, **env: str) -> subprocess.CompletedProcess[str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{ws.env['PATH']}"
    return subprocess.run(
        argv, cwd=ws.path, env={**ws.env, "PATH": path, **env},
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip


EXPECTED = (
    "**⚠️ 1 flow opened, 0 closed, 1 risk flag**",
    "**internet-egress**: shop-web/{app=api} may now connect to 0.0.0.0/0 on TCP 443",
)


def test_atlantis_step_on_the_plan_atlantis_shows(changed: Workspace) -> None:
    command = documented_step("atlantis")
    assert command == "netfence diff --plan $SHOWFILE --format md --fail-on risk"
    # what Atlantis's plan and show steps leave behind
    changed.tf("plan", "-input=false", "-out=plan.bin", ok=(0,))
    showfile = changed.path / "default.json"
    showfile.write_text(changed.tf("show", "-json", "plan.bin").stdout)
    done = _run(["sh", "-c", command], changed, SHOWFILE=str(showfile))
    assert done.returncode == 1, done.stdout + done.stderr  # the risk fails the plan
    for line in EXPECTED:
        assert line in done.stdout, done.stdout
    assert done.stderr == ""


def _digger_step(command: str, ws: Workspace, **env: str) -> subprocess.CompletedProcess[str]:
    script = ws.path.parent / "run-script"
    script.write_text(command + "\n")
    return _run(["bash", "-eo", "pipefail", str(script)], ws, **env)


def test_digger_step_reviews_the_plan_digger_made(changed: Workspace) -> None:
    command = documented_step("digger")
    assert "terraform plan" not in command  # Digger's plan step made the plan
    # what Digger's plan step leaves behind (-detailed-exitcode: 2 = changes)
    planfile = changed.path / "acme-repo-7-shop.tfplan"
    changed.tf("plan", "-input=false", "-no-color", "-detailed-exitcode", f"-out={planfile}",
               ok=(2,))  # fmt: skip
    out = changed.path.parent / "digger-out.log"
    out.write_text("infracost breakdown\n")  # an earlier step's output stays first
    done = _digger_step(command, changed, DIGGER_PLANFILE=str(planfile), DIGGER_OUT=str(out))
    # exit 0 with the risk flagged: Digger posts $DIGGER_OUT only when every step passed
    assert done.returncode == 0, done.stdout + done.stderr
    text = out.read_text()
    assert text.startswith("infracost breakdown\n## netfence connectivity diff\n")
    for line in EXPECTED:
        assert line in text, text
    reviewed = json.loads((changed.path / "netfence-plan.json").read_text())
    assert reviewed == json.loads(changed.tf("show", "-json", str(planfile)).stdout)


def test_digger_step_without_digger_planfile_fails_saying_why(changed: Workspace) -> None:
    out = changed.path.parent / "digger-out.log"
    done = _digger_step(documented_step("digger"), changed, DIGGER_OUT=str(out))
    assert done.returncode != 0
    assert "DIGGER_PLANFILE: needs Digger v0.6.106 or later" in done.stderr
    assert not out.exists()
