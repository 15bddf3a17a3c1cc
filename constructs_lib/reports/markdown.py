"""Markdown for pull-request comments and audit documents."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from constructs_lib.reports.mermaid import render_mermaid
from constructs_lib.verifier.netmap import NetworkMap
from constructs_lib.verifier.reach import Row
from constructs_lib.verifier.verify import Verification


def cell(text: str) -> str:
    """Text safe in a Markdown table cell or list item.

    GitHub drops what looks like an HTML tag, so ``ops/<unlisted pod>`` would
    render as ``ops/``: angle brackets become entities.
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\n", " ")


def write_reach(rows: Iterable[Row], out: TextIO) -> None:
    out.write("| from | to | port | protocol | verdict |\n|---|---|---|---|---|\n")
    for s, d, port, proto, ok in rows:
        out.write(
            f"| {cell(s)} | {cell(d)} | {cell(str(port))} | {proto} | "
            f"{'allowed' if ok else 'denied'} |\n"
        )


def write_verification(result: Verification, out: TextIO) -> None:
    out.write("## netfence verify\n\n")
    for stack in result.stacks:
        verdict = "exact" if not stack.findings else f"{len(stack.findings)} finding(s)"
        out.write(
            f"### stack `{stack.stack}`: {verdict}\n\n"
            f"{stack.policies} policies, {stack.flows} declared flows (`{stack.file}`)\n\n"
        )
        for note in stack.notes:
            out.write(f"- note: {cell(note)}\n")
        if stack.notes:
            out.write("\n")
        if stack.findings:
            out.write("| kind | finding | policies |\n|---|---|---|\n")
            for f in stack.findings:
                out.write(f"| {f.kind} | {cell(f.message)} | {cell('; '.join(f.policies))} |\n")
            out.write("\n")


def write_map(network: NetworkMap, out: TextIO) -> None:
    out.write("## Network map\n\n```mermaid\n")
    out.write(render_mermaid(network))
    out.write("```\n\n### Allowed connections (rows: from, columns: to)\n\n")
    names = network.nodes
    out.write("| from \\ to | " + " | ".join(cell(n) for n in names) + " |\n")
    out.write("|---" * (len(names) + 1) + "|\n")
    for source in names:
        row = [
            "·" if source == dest else cell(network.label(source, dest) or "-") for dest in names
        ]
        out.write(f"| {cell(source)} | " + " | ".join(row) + " |\n")
