"""Plain text for terminals and CI logs: ``reach`` as an aligned table, ``verify`` findings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from constructs_lib.verifier.reach import Row
from constructs_lib.verifier.verify import Verification

HEADER = ("FROM", "TO", "PORT", "PROTOCOL", "VERDICT")


def write_reach(rows: Iterable[Row], out: TextIO) -> None:
    cells = [
        (s, d, str(port), proto, "allowed" if ok else "denied") for s, d, port, proto, ok in rows
    ]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(HEADER)]
    for line in [HEADER, *cells]:
        out.write("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() + "\n")


def write_verification(result: Verification, out: TextIO) -> None:
    for stack in result.stacks:
        out.write(
            f"stack {stack.stack} ({stack.file}): {stack.policies} policies, "
            f"{stack.flows} declared flows\n"
        )
        for note in stack.notes:
            out.write(f"  note: {note}\n")
        if not stack.findings:
            out.write("  ok: the policies allow exactly the declared flows\n")
        for finding in stack.findings:
            out.write(f"  {finding.kind}: {finding.message}\n")
            for policy in finding.policies:
                out.write(f"      policy {policy}\n")
    total = len(result.findings)
    out.write("verified: no findings\n" if total == 0 else f"{total} finding(s)\n")
