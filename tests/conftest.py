"""Shared fixtures. cdktf (and jsii's Node process) load once per session, lazily."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/* from the current output instead of comparing",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def synth_stack(tmp_path: Path) -> Callable[..., dict[str, Any]]:
    """Build a stack with ``declare(stack)`` and return its synthesized cdk.tf.json."""
    from cdk_under_test import App, TerraformStack

    import constructs_lib  # noqa: F401  (chooses jsii's node before cdktf starts)
    from constructs_lib import synth

    def run(declare: Callable[[Any], None], name: str = "test") -> dict[str, Any]:
        app = App(outdir=str(tmp_path / "out"))
        stack = TerraformStack(app, name)
        declare(stack)
        synth(app)
        result: dict[str, Any] = json.loads(
            (tmp_path / "out" / "stacks" / name / "cdk.tf.json").read_text()
        )
        return result

    return run
