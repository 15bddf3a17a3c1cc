"""``netfence lint --format json``: every field of every finding, for scripts."""

from __future__ import annotations

import json
from typing import Any, TextIO

from constructs_lib.lint.finding import Finding, Severity
from constructs_lib.lint.lint import LintResult


def finding(f: Finding) -> dict[str, Any]:
    return {
        "id": f.rule.id,
        "rule": f.rule.name,
        "severity": f.severity.label,
        "file": f.file,
        "line": f.line,
        "document": f.document,
        "item": f.item,
        "namespace": f.namespace,
        "name": f.name,
        "path": f.path,
        "message": f.message,
        "fix": f.fix,
    }


def write_lint(result: LintResult, out: TextIO) -> None:
    data = {
        "summary": {
            "files": list(result.files),
            "inventory": result.inventory,
            "policies": result.policies,
            "findings": len(result.findings),
            **{s.label: result.count(s) for s in reversed(Severity)},
        },
        "findings": [finding(f) for f in result.findings],
    }
    json.dump(data, out, indent=2)
    out.write("\n")
