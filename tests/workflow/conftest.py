"""Session fixtures: netfence's wheel, and the toolchain workflow jobs run with.

Both come from pip's cache where it has them (PyPI otherwise); nothing from the
repository's .venv is installed or put on a path: the wheel is built from a
copy of the sources, and the dependencies go into directories of their own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from .harness import Toolchain

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 900


def source_files() -> list[Path]:
    """The repository's files a build or a commit sees (tracked or new, not ignored)."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    return [ROOT / p for p in sorted(set(listed)) if p and (ROOT / p).is_file()]


def copy_sources(target: Path, *, under: tuple[str, ...] | None = None) -> Path:
    for file in source_files():
        relative = file.relative_to(ROOT)
        if under is not None and not any(
            relative.parts[0] == top or str(relative) == top for top in under
        ):
            continue
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, target / relative)
    return target


def pip(*args: str, python: str | Path = sys.executable) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    done = subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
        check=False,
    )
    assert done.returncode == 0, f"pip {' '.join(args)}\n{done.stdout}\n{done.stderr}"


def base_python() -> Path:
    """The interpreter under the repository's venv (venvs made from it start empty)."""
    for name in ("python3", "python"):
        found = Path(sys.base_prefix) / "bin" / name
        if found.exists():
            return found
    raise AssertionError(f"no python under {sys.base_prefix}")


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """netfence's wheel, built by `pip wheel` from a copy of the sources, and setuptools."""
    src = copy_sources(
        tmp_path_factory.mktemp("netfence-src"),
        under=("constructs_lib", "pyproject.toml", "setup.py", "_netfence_jsii_node.py",
               "README.md"),
    )  # fmt: skip
    house = tmp_path_factory.mktemp("wheelhouse")
    pip("wheel", "--no-deps", "--quiet", "--wheel-dir", str(house), str(src))
    pip("download", "--quiet", "--dest", str(house), "setuptools>=68", "wheel")
    return house


@pytest.fixture(scope="session")
def toolchain(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Toolchain:
    """setup-python's stand-in: the project's dependencies (not netfence) in a directory."""
    deps = tmp_path_factory.mktemp("deps")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pip("install", "--quiet", "--target", str(deps), "pip", "pytest>=8", *project["dependencies"])
    return Toolchain(base_python(), deps, wheelhouse)
