"""``netfence lint --format text``: one finding per line, compiler style, then a summary."""

from __future__ import annotations

from typing import TextIO

from constructs_lib.lint.finding import Finding, Severity
from constructs_lib.lint.lint import LintResult


def where(f: Finding) -> str:
    """``file:line``, else the file with its document or Terraform address."""
    if f.line is not None:
        return f"{f.file}:{f.line}"
    if f.document is not None:
        return f"{f.file} (document {f.document})"
    return f.file


def summary(result: LintResult) -> str:
    counts = ", ".join(
        f"{result.count(s)} {s.label}{'s' if result.count(s) != 1 and s != Severity.INFO else ''}"
        for s in reversed(Severity)
    )
    files = len(result.files)
    return (
        f"{len(result.findings)} finding{'s' if len(result.findings) != 1 else ''} "
        f"({counts}) in {result.policies} polic{'ies' if result.policies != 1 else 'y'} "
        f"from {files} file{'s' if files != 1 else ''}"
    )


def write_lint(result: LintResult, out: TextIO) -> None:
    for f in result.findings:
        subject = f.policy or (f"namespace {f.namespace}" if f.namespace else "")
        at = f" {f.path}" if f.path else ""
        out.write(
            f"{where(f)}: {f.severity.label} {f.rule.id} {f.rule.name}: {subject}{at}: "
            f"{f.message}\n    fix: {f.fix}\n"
        )
    out.write(summary(result) + "\n")
