"""The CDK the suite runs on: ``from cdk_under_test import App, TerraformStack``.

NETFENCE_CDK picks it (the second CI environment, .venv-cdktn, sets cdktn),
else the one installed; the same rule as ``constructs_lib.constructs.cdk.default_cdk``.
"""

from __future__ import annotations

import json
from importlib.metadata import version as _dist_version
from pathlib import Path
from typing import Any

from constructs_lib.constructs.cdk import default_cdk


def __getattr__(name: str) -> Any:
    return getattr(default_cdk(), name)


def name() -> str:
    return default_cdk().__name__


def version() -> str:
    """The installed version of that CDK, as it writes into ``//.metadata.version``."""
    return _dist_version(name())


def cli_context() -> dict[str, Any]:
    """The context ``npx cdktn synth`` hands the app from cdktf.json (targetVersions).

    cdktn checks features such as the S3 backend's use_lockfile against it;
    cdktf ignores it. Apps created directly in tests pass it themselves.
    """
    project = json.loads((Path(__file__).resolve().parent.parent / "cdktf.json").read_text())
    return {"targetVersions": project["targetVersions"]}
