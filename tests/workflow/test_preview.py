"""Preview namespaces get their name the ways that reach the app with cdktf 0.21.

The cdktf CLI hands the app its context as the CDKTF_CONTEXT_JSON environment
variable (filled from ``context`` in cdktf.json); NETFENCE_PREVIEW works with
or without the CLI. Each runs the app as a process of its own, as the CLI does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

APP = """
import sys
from cdktf import App, TerraformStack
from constructs_lib import Port, preview_namespace, synth

def template(ns):
    ns.workload("web", labels={"app": "web"}, ports=[Port.tcp(8080)])

app = App()
preview_namespace(TerraformStack(app, "preview"), "preview", template=template)
synth(app)
"""


def _project(tmp_path: Path, context: dict[str, str] | None = None) -> Path:
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    config = {"language": "python", "app": f"{sys.executable} app.py", "context": context or {}}
    (tmp_path / "cdktf.json").write_text(json.dumps(config), encoding="utf-8")
    return tmp_path


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("NETFENCE_PREVIEW", "CDKTF_CONTEXT_JSON", "CDKTF_OUTDIR")
    }
    return {**env, "PYTHONPATH": str(ROOT), "CHECKPOINT_DISABLE": "1", **extra}


def _namespaces(project: Path) -> list[str]:
    doc = json.loads((project / "cdktf.out/stacks/preview/cdk.tf.json").read_text())
    return sorted(doc["resource"]["kubernetes_namespace_v1"])


def _python(project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "app.py"], cwd=project, env=_env(**env), capture_output=True,
        text=True, timeout=300, check=False,
    )  # fmt: skip


def test_netfence_preview_environment_variable(tmp_path: Path) -> None:
    done = _python(_project(tmp_path), NETFENCE_PREVIEW="123")
    assert done.returncode == 0, done.stderr
    assert _namespaces(tmp_path) == ["pr-123"]


def test_context_as_the_cdktf_cli_passes_it(tmp_path: Path) -> None:
    done = _python(_project(tmp_path), CDKTF_CONTEXT_JSON='{"netfence.preview": "77"}')
    assert done.returncode == 0, done.stderr
    assert _namespaces(tmp_path) == ["pr-77"]


def test_without_a_name_the_app_is_refused_naming_both_ways(tmp_path: Path) -> None:
    done = _python(_project(tmp_path))
    assert done.returncode == 1
    assert (
        "preview/preview: branch: no preview name: pass branch=, set the cdktf context "
        "netfence.preview or the environment variable NETFENCE_PREVIEW"
    ) in done.stderr


@pytest.mark.slow
def test_cdktf_synth_reads_the_context_from_cdktf_json(tmp_path: Path) -> None:
    cli = ROOT / "node_modules" / ".bin" / "cdktf"
    if not cli.exists() or shutil.which("node") is None:
        pytest.skip(
            "the pinned cdktf CLI is not in node_modules (scripts/bootstrap.sh installs it)"
        )
    project = _project(tmp_path, {"netfence.preview": "42"})
    done = subprocess.run(
        [str(cli), "synth"], cwd=project, env=_env(CI="1", FORCE_COLOR="0"),
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert _namespaces(project) == ["pr-42"]
