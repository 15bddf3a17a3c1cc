"""``netfence init``: a ready project of its own, outside this repository.

The templates are package data (``templates/``); ``@NAME@``, ``@CDK@`` and
the workflow's ``@INSTALL@`` / ``@APP@`` are the only substitutions, so a
template reads as the file it becomes. The PR workflow is one template for
every project: this repository's own ``.github/workflows/netfence.yml`` is the
same text rendered with its install and app commands (a test holds them equal).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from constructs_lib._version import __version__
from constructs_lib.errors import ScaffoldError
from constructs_lib.fsutil import write_atomic

NAME = re.compile(r"[a-z]([a-z0-9-]{0,38}[a-z0-9])?")


@dataclass(frozen=True)
class Cdk:
    """What a project on one CDK pins: the Python module, its package and the CLI."""

    module: str
    requirement: str
    netfence: str
    cli_package: str
    cli_version: str
    cli: str


CDKS = {
    "cdktf": Cdk(
        "cdktf", "cdktf==0.21.0", f"netfence=={__version__}", "cdktf-cli", "0.21.0", "cdktf"
    ),
    "cdktn": Cdk(
        "cdktn", "cdktn==0.24.0", f"netfence[cdktn]=={__version__}", "cdktn-cli", "0.24.0", "cdktn"
    ),
}

SCAFFOLD_INSTALL = "python -m pip install --quiet -r requirements.txt"
SCAFFOLD_APP = "python main.py"


def _template(*parts: str) -> str:
    return (
        resources.files("constructs_lib.scaffold")
        .joinpath("templates", *parts)
        .read_text(encoding="utf-8")
    )


def render_workflow(install: str, app: str) -> str:
    """The pull-request review workflow for a project installed and synthesized so."""
    return _template("workflow.yml").replace("@INSTALL@", install).replace("@APP@", app)


def project_files(name: str, cdk: str) -> dict[str, str]:
    """Every file of a new project, by relative path."""
    c = CDKS[cdk]

    def fill(text: str) -> str:
        return text.replace("@NAME@", name).replace("@CDK@", c.module)

    cdktf_json = {
        "language": "python",
        "app": ".venv/bin/python main.py",
        "projectId": name,
        "sendCrashReports": "false",
        "terraformProviders": [],
        "terraformModules": [],
        "codeMakerOutput": "imports",
        "context": {},
    }
    package_json = {
        "name": name,
        "private": True,
        "description": f"Pins the {c.cli} CLI: `npx {c.cli} synth|deploy` is the same everywhere.",
        "scripts": {"synth": f"{c.cli} synth", "deploy": f"{c.cli} deploy"},
        "devDependencies": {c.cli_package: c.cli_version},
    }
    requirements = (
        "# The app's dependencies, pinned: netfence (which also reviews pull requests,\n"
        "# .github/workflows/netfence.yml) and the CDK.\n"
        f"{c.netfence}\n{c.requirement}\npytest>=8\n"
    )
    return {
        ".github/workflows/netfence.yml": render_workflow(SCAFFOLD_INSTALL, SCAFFOLD_APP),
        ".gitignore": _template("common", "gitignore"),
        "README.md": fill(_template("common", "README.md")),
        "cdktf.json": json.dumps(cdktf_json, indent=2) + "\n",
        "main.py": fill(_template("common", "main.py.tmpl")),
        "netfence.yaml": fill(_template("common", "netfence.yaml")),
        "package.json": json.dumps(package_json, indent=2) + "\n",
        "requirements.txt": requirements,
        "tests/conftest.py": _template("common", "tests", "conftest.py.tmpl"),
        "tests/test_policies.py": fill(_template("common", "tests", "test_policies.py.tmpl")),
    }


def init_project(
    directory: str | Path, *, cdk: str = "cdktf", name: str | None = None, force: bool = False
) -> list[Path]:
    """Write a new project into ``directory``; returns the files written, sorted."""
    target = Path(directory)
    if name is None:
        name = target.resolve().name.lower()
    if not NAME.fullmatch(name):
        raise ScaffoldError(
            f"--name: {name!r} cannot name the project's namespaces; use 1-40 lowercase "
            "letters, digits and '-', starting with a letter (e.g. --name shop)"
        )
    if target.exists() and not target.is_dir():
        raise ScaffoldError(f"{target}: exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise ScaffoldError(
            f"{target}: directory is not empty; choose an empty or new one, or pass --force "
            "to overwrite the scaffold's files there (other files are left alone)"
        )
    written = []
    for relative, text in sorted(project_files(name, cdk).items()):
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text)
        written.append(path)
    return written
