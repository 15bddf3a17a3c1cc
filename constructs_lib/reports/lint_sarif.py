"""``netfence lint --format sarif``: SARIF 2.1.0 for GitHub code scanning.

One run, the tool's rules (every rule, so ids resolve even with no result),
and one result per finding located by file and line (``region.startLine``)
so the alert shows on the line of the YAML. Paths are kept relative to the
working directory, as code scanning resolves them against the checkout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from constructs_lib.lint.finding import RULES, Finding, Severity
from constructs_lib.lint.lint import LintResult

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _uri(file: str) -> str:
    path = Path(file)
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            return path.as_uri()
    return path.as_posix()


def _result(f: Finding, index: int, uri: str) -> dict[str, Any]:
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": uri},
            # Code scanning needs a region; a finding without a line sits on line 1.
            "region": {"startLine": f.line or 1},
        }
    }
    if f.policy is not None:
        location["logicalLocations"] = [{"fullyQualifiedName": f.policy, "kind": "resource"}]
    text = f"{f.policy + ': ' if f.policy else ''}{f.message}. Fix: {f.fix}."
    if f.path:
        text = f"{f.policy + ' ' if f.policy else ''}{f.path}: {f.message}. Fix: {f.fix}."
    return {
        "ruleId": f.rule.id,
        "ruleIndex": index,
        "level": _LEVEL[f.severity],
        "message": {"text": text},
        "locations": [location],
    }


def sarif(result: LintResult, version: str) -> dict[str, Any]:
    index = {rule.id: i for i, rule in enumerate(RULES)}
    uris = {file: _uri(file) for file in {f.file for f in result.findings}}
    rules = [
        {
            "id": rule.id,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.help},
            "help": {"text": rule.help, "markdown": f"**{rule.summary}**\n\n{rule.help}"},
            "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        }
        for rule in RULES
    ]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "netfence",
                        "version": version,
                        "rules": rules,
                    }
                },
                "results": [_result(f, index[f.rule.id], uris[f.file]) for f in result.findings],
            }
        ],
    }


def write_lint(result: LintResult, out: TextIO) -> None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        tool_version = version("netfence")
    except PackageNotFoundError:
        tool_version = "0.0.0"
    # One write: json.dump would call out.write once per token.
    out.write(json.dumps(sarif(result, tool_version), indent=2) + "\n")
