"""Fixtures: a provider mirror and CLI config per session, a workspace per test.

See tf_workspace.py for how the mirror is laid out and why the user's
~/.terraformrc is never involved.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from terraform_provider.plugin import CERT_DIR_ENV, write_certificate
from tf_workspace import (
    LAUNCHER,
    PLATFORM,
    PROVIDER,
    ROOT,
    TESTS,
    TIMEOUT,
    VERSIONS,
    TerraformEnv,
    Workspace,
    namespace_object,
)


def _terraform() -> str:
    found = shutil.which("terraform")
    if found is None:
        pytest.skip("the terraform binary is not on PATH; these tests run real terraform")
    return found


@pytest.fixture(scope="session")
def terraform_env(tmp_path_factory: pytest.TempPathFactory) -> TerraformEnv:
    binary = _terraform()
    home = tmp_path_factory.mktemp("terraform")
    for version in VERSIONS:  # the launcher reads its version from its name
        target = home / "mirror" / PROVIDER / version / PLATFORM
        target.mkdir(parents=True)
        shutil.copy2(LAUNCHER, target / f"terraform-provider-kubernetes_v{version}_x5")
    (home / "plugin-cache").mkdir()
    write_certificate(home / "cert")
    rc = home / "terraform.rc"
    rc.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path = "{home / "mirror"}"\n'
        f'    include = ["{PROVIDER}"]\n  }}\n'
        f'  direct {{\n    exclude = ["{PROVIDER}"]\n  }}\n'
        "}\n"
        f'plugin_cache_dir = "{home / "plugin-cache"}"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "NETFENCE_"))}
    env |= {
        # the machine points TF_CLI_CONFIG_FILE at a ~/.terraformrc that does not exist
        "TF_CLI_CONFIG_FILE": str(rc),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
        "NETFENCE_TF_PYTHON": sys.executable,
        "NETFENCE_TF_PROVIDER_PATH": str(TESTS),
        CERT_DIR_ENV: str(home / "cert"),
    }
    return TerraformEnv(binary, home, env)


@pytest.fixture
def workspace(terraform_env: TerraformEnv, tmp_path: Path) -> Workspace:
    path = tmp_path / "ws"
    path.mkdir()
    return Workspace(path, terraform_env)


@pytest.fixture(scope="session")
def example_stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The example app synthesized into a temporary cdktf.out: {stack: cdk.tf.json}."""
    out = tmp_path_factory.mktemp("cdktf.out")
    env = os.environ | {"CDKTF_OUTDIR": str(out)}
    synth = subprocess.run(
        [sys.executable, "-m", "stacks"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert synth.returncode == 0, f"python -m stacks failed:\n{synth.stdout}\n{synth.stderr}"
    stacks = {}
    for path in sorted((out / "stacks").glob("*/cdk.tf.json")):
        stacks[path.parent.name] = json.loads(path.read_text())
    assert stacks, f"python -m stacks wrote no stack under {out}"
    return stacks


@pytest.fixture
def namespace() -> Callable[[str], dict[str, Any]]:
    return namespace_object


@pytest.fixture(scope="session")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway project root for ``npx cdktf|cdktn``: its own cdktf.out and state files.

    Its ``.venv`` is the running interpreter's, so the CLI's ``app`` command
    (cdktf.json) runs the example stacks in the environment under test.
    """
    root = tmp_path_factory.mktemp("project")
    shutil.copy2(ROOT / "cdktf.json", root / "cdktf.json")
    shutil.copy2(ROOT / "package.json", root / "package.json")
    (root / ".venv").symlink_to(Path(sys.prefix))
    for name in ("node_modules", "stacks", "constructs_lib"):
        (root / name).symlink_to(ROOT / name)
    return root


@pytest.fixture(scope="session")
def prod_applied_elsewhere(
    terraform_env: TerraformEnv,
    example_stacks: dict[str, dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """A cluster file where the prod stack was applied from someone else's state."""
    path = tmp_path_factory.mktemp("elsewhere") / "ws"
    path.mkdir()
    elsewhere = Workspace(path, terraform_env)
    elsewhere.write_config(example_stacks["prod"])
    elsewhere.init()
    elsewhere.tf("apply", "-input=false", "-auto-approve")
    return elsewhere.cluster


@pytest.fixture
def live_prod(
    workspace: Workspace, example_stacks: dict[str, dict[str, Any]], prod_applied_elsewhere: Path
) -> Workspace:
    """A fresh workspace with no state, aimed at a cluster that already runs prod."""
    shutil.copy2(prod_applied_elsewhere, workspace.cluster)
    workspace.write_config(example_stacks["prod"])
    workspace.init()
    return workspace
