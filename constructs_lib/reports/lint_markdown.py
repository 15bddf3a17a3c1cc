"""``netfence lint --format md``: a table for a pull-request comment."""

from __future__ import annotations

from typing import TextIO

from constructs_lib.lint.lint import LintResult
from constructs_lib.reports.lint_text import summary, where
from constructs_lib.reports.markdown import cell


def write_lint(result: LintResult, out: TextIO) -> None:
    out.write("## netfence lint\n\n")
    out.write(f"{summary(result)}.\n")
    if not result.findings:
        return
    out.write("\n| severity | rule | where | policy | field | finding | fix |\n")
    out.write("|---|---|---|---|---|---|---|\n")
    for f in result.findings:
        subject = f.policy or (f"namespace {f.namespace}" if f.namespace else "")
        out.write(
            f"| {f.severity.label} | {f.rule.id} {cell(f.rule.name)} | {cell(where(f))} | "
            f"{cell(subject)} | {cell(f.path)} | {cell(f.message)} | {cell(f.fix)} |\n"
        )
