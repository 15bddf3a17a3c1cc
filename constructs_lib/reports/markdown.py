"""Markdown for pull-request comments and audit documents."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TextIO

from constructs_lib.reports.mermaid import render_mermaid
from constructs_lib.verifier.netmap import NetworkMap
from constructs_lib.verifier.reach import Row
from constructs_lib.verifier.verify import Verification

_INLINE = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "\\": "\\\\",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "~": "\\~",
        "|": "\\|",
        "\n": " ",
        "\r": " ",
    }
)


def cell(text: str) -> str:
    """Text (names from an artifact, messages quoting them) safe in a table cell,
    a list item or a heading: it renders as the same characters, never as markup.

    Newlines become spaces (no new heading or list can start); an escaped
    ``](`` keeps ``[x](u)`` / ``![x](u)`` from becoming a link or an image, and
    backticks, ``*``, ``_``, ``~`` from opening code or emphasis; ``<`` ``>``
    ``&`` become entities, since GitHub drops what looks like an HTML tag
    (``ops/<unlisted pod>`` would render as ``ops/``); ``|`` cannot end a cell.
    """
    # without "](" no inline link or image can form; reference links need a
    # definition line, and no newline survives
    return text.translate(_INLINE).replace("](", "]\\(")


def code(text: str, *, table: bool = False) -> str:
    """``text`` as one inline code span, whatever backticks or newlines it holds.

    The fence is one backtick longer than the longest run inside, padded with
    a space when the text starts or ends with a backtick (CommonMark strips
    one), so a name can never close the span early. In a table (``table``)
    ``|`` is escaped: GFM splits cells before it reads code spans.
    """
    text = " ".join(text.splitlines()) or " "
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    if table:
        text = text.replace("|", "\\|")
    return f"{fence}{pad}{text}{pad}{fence}"


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
            f"### stack {code(stack.stack)}: {verdict}\n\n"
            f"{stack.policies} policies, {stack.flows} declared flows ({code(stack.file)})\n\n"
        )
        for note in stack.notes:
            out.write(f"- note: {cell(note)}\n")
        if stack.notes:
            out.write("\n")
        if stack.findings:
            out.write("| kind | finding | policies |\n|---|---|---|\n")
            for f in stack.findings:
                out.write(
                    f"| {cell(f.kind)} | {cell(f.message)} | {cell('; '.join(f.policies))} |\n"
                )
            out.write("\n")


MATRIX_MAX = 30  # endpoints up to which the connections are a matrix; beyond, a list


def write_map(network: NetworkMap, out: TextIO) -> None:
    out.write("## Network map\n\n```mermaid\n")
    out.write(render_mermaid(network))
    names = network.nodes
    if len(names) > MATRIX_MAX:
        # A matrix grows with the square of the endpoints (10,000 of them: 100
        # million cells) and no reader scans a table that wide: list the pairs.
        out.write(
            f"```\n\n### Allowed connections ({len(network.edges)} of the pairs of "
            f"{len(names)} endpoints; every pair not listed allows nothing)\n\n"
            "| from | to | connections |\n|---|---|---|\n"
        )
        for source, dest, conns in network.edges:
            out.write(f"| {cell(source)} | {cell(dest)} | {cell(str(conns))} |\n")
        return
    out.write("```\n\n### Allowed connections (rows: from, columns: to)\n\n")
    out.write("| from \\ to | " + " | ".join(cell(n) for n in names) + " |\n")
    out.write("|---" * (len(names) + 1) + "|\n")
    for source in names:
        row = [
            "·" if source == dest else cell(network.label(source, dest) or "-") for dest in names
        ]
        out.write(f"| {cell(source)} | " + " | ".join(row) + " |\n")
