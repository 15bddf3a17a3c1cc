"""Markdown for ``diff`` (a pull-request comment), ``drift`` and ``import``.

A reviewer reads the first lines only: the summary, then the risk flags,
then the flows as tables per namespace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from constructs_lib.reports.markdown import cell, code
from constructs_lib.reports.review_summary import by_group, diff_summary, plural
from constructs_lib.review.adopt import ImportResult
from constructs_lib.review.diff import Diff, FlowChange
from constructs_lib.review.drift import Drift

WARNING = "⚠️"


def _table(out: TextIO, flows: Sequence[FlowChange], level: str = "####") -> None:
    for group, items in by_group(flows):
        out.write(f"{level} namespace {code(group)}\n\n| from | to | ports |\n|---|---|---|\n")
        for f in items:
            out.write(f"| {cell(f.source)} | {cell(f.destination)} | {cell(str(f.conns))} |\n")
        out.write("\n")


def write_diff(diff: Diff, out: TextIO) -> None:
    marker = f"{WARNING} " if diff.risks else ""
    out.write(f"## netfence connectivity diff\n\n**{marker}{diff_summary(diff)}**\n\n")
    for s in diff.stacks:
        if len(diff.stacks) > 1 or s.name != "plan":
            out.write(f"### stack {code(s.name)}\n\n")
        out.write(f"{code(s.base)} → {code(s.head)}\n\n")
        if s.risks:
            out.write(f"#### {WARNING} Risk flags\n\n")
            for r in s.risks:
                out.write(f"- {WARNING} **{cell(r.kind)}**: {cell(r.message)}\n")
            out.write("\n")
        if not s.opened and not s.closed:
            out.write("No flow opened or closed.\n\n")
            continue
        if s.opened:
            out.write(f"#### Opened ({len(s.opened)})\n\n")
            _table(out, s.opened, "#####")
        if s.closed:
            out.write(f"#### Closed ({len(s.closed)})\n\n")
            _table(out, s.closed, "#####")


def write_drift(drift: Drift, out: TextIO) -> None:
    out.write("## netfence drift\n\n")
    for s in drift.stacks:
        verdict = f"{WARNING} drift" if s.drifted else "no drift"
        out.write(
            f"### stack {code(s.stack)}: {verdict}\n\n{code(s.desired)} vs {code(s.live)}\n\n"
        )
        if s.objects:
            out.write("| change | policy | detail |\n|---|---|---|\n")
            for o in s.objects:
                out.write(f"| {cell(o.kind)} | {cell(o.policy)} | {cell(o.detail)} |\n")
            out.write("\n")
        if s.live_only:
            out.write("#### Allowed live but not declared\n\n")
            _table(out, s.live_only, "#####")
        if s.desired_only:
            out.write("#### Declared but not allowed live\n\n")
            _table(out, s.desired_only, "#####")


def write_import(result: ImportResult, out: TextIO) -> None:
    out.write(
        f"## netfence import: stack {code(result.stack)}\n\n"
        f"{plural(len(result.imports), 'object')} to import from {code(result.live)}\n\n"
    )
    if result.imports:
        out.write("| address | id |\n|---|---|\n")
        for e in result.imports:
            out.write(f"| {code(e.to, table=True)} | {code(e.id, table=True)} |\n")
        out.write("\n")
    for u in result.unmanaged:
        out.write(
            f"### {WARNING} unmanaged policy {code(u.policy)}\n\n"
            f"Not declared by the stack; it {u.verdict}.\n\n"
        )
        for line in u.rules:
            out.write(f"- {cell(line)}\n")
        out.write("\n")
        if u.widens:
            _table(out, u.widens)
