"""jsii runs on a supported Node.js without the user installing one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from constructs_lib import _node


def test_bundled_node_is_chosen_and_is_supported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JSII_NODE", raising=False)
    _node.ensure_node()
    chosen = os.environ["JSII_NODE"]
    assert chosen == _node._wheel_node()
    assert _node._major(chosen) >= _node.MINIMUM_MAJOR


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
