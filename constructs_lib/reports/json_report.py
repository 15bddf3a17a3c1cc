"""JSON output: the ``reach`` matrix (streamed, it reaches a million entries) and findings."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from constructs_lib.verifier.reach import Row
from constructs_lib.verifier.verify import Verification


def write_reach(rows: Iterable[Row], out: TextIO) -> None:
    """Write ``{"connections": [...]}`` one entry per line, without building it in memory."""
    quoted: dict[str, str] = {}

    def q(text: str) -> str:
        found = quoted.get(text)
        if found is None:
            found = quoted[text] = json.dumps(text)
        return found

    out.write('{"connections": [')
    sep = "\n"
    buffer: list[str] = []
    for source, destination, port, protocol, allowed in rows:
        port_text = str(port) if isinstance(port, int) else q(port)
        buffer.append(
            f'{sep}{{"from": {q(source)}, "to": {q(destination)}, "port": {port_text}, '
            f'"protocol": "{protocol}", "allowed": {"true" if allowed else "false"}}}'
        )
        sep = ",\n"
        if len(buffer) >= 8192:
            out.write("".join(buffer))
            buffer.clear()
    out.write("".join(buffer))
    out.write("\n]}\n")


def verification(result: Verification) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "stacks": [
            {
                "stack": s.stack,
                "file": s.file,
                "policies": s.policies,
                "flows": s.flows,
                "findings": [
                    {"kind": f.kind, "message": f.message, "policies": list(f.policies)}
                    for f in s.findings
                ],
                "notes": list(s.notes),
            }
            for s in result.stacks
        ],
    }


def write_verification(result: Verification, out: TextIO) -> None:
    json.dump(verification(result), out, indent=2)
    out.write("\n")
