"""Plain text for ``diff``, ``drift`` and ``import``: terminals and CI logs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from constructs_lib.reports.review_summary import by_group, diff_summary, plural
from constructs_lib.review.adopt import ImportResult
from constructs_lib.review.diff import Diff, FlowChange
from constructs_lib.review.drift import Drift


def _flows(out: TextIO, title: str, mark: str, flows: Sequence[FlowChange]) -> None:
    for group, items in by_group(flows):
        out.write(f"  {title} in {group}:\n")
        for f in items:
            out.write(f"    {mark} {f}\n")


def write_diff(diff: Diff, out: TextIO) -> None:
    for s in diff.stacks:
        out.write(
            f"stack {s.name} ({s.base} -> {s.head}): {plural(len(s.opened), 'flow')} opened, "
            f"{len(s.closed)} closed, {plural(len(s.risks), 'risk flag')}\n"
        )
        for r in s.risks:
            out.write(f"  RISK {r.kind}: {r.message}\n")
        _flows(out, "opened", "+", s.opened)
        _flows(out, "closed", "-", s.closed)
    out.write(diff_summary(diff) + "\n")


def write_drift(drift: Drift, out: TextIO) -> None:
    for s in drift.stacks:
        out.write(f"stack {s.stack} ({s.desired} vs {s.live})\n")
        if not s.drifted:
            out.write("  ok: the cluster runs what the stack declares\n")
        for o in s.objects:
            out.write(f"  {o}\n")
        _flows(out, "allowed live but not declared", "+", s.live_only)
        _flows(out, "declared but not allowed live", "-", s.desired_only)
    out.write("drift\n" if drift.drifted else "no drift\n")


def write_import(result: ImportResult, out: TextIO) -> None:
    out.write(
        f"stack {result.stack} ({result.file}) vs {result.live}: "
        f"{plural(len(result.imports), 'object')} to import\n"
    )
    for e in result.imports:
        out.write(f"  import {e.to} <- {e.id}\n")
    for u in result.unmanaged:
        out.write(f"  unmanaged policy {u.policy} ({u.source}) {u.verdict}:\n")
        for line in u.rules:
            out.write(f"      {line}\n")
        for f in u.widens:
            out.write(f"    + {f}\n")
    out.write(
        f"{plural(len(result.unmanaged), 'unmanaged policy', 'unmanaged policies')}\n"
        if result.unmanaged
        else "no unmanaged policies\n"
    )
