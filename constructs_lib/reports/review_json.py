"""JSON for ``diff``, ``drift`` and ``import``: for bots and gates."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from constructs_lib.review.adopt import ImportResult
from constructs_lib.review.diff import Diff, FlowChange
from constructs_lib.review.drift import Drift


def _flows(flows: Iterable[FlowChange]) -> list[dict[str, str]]:
    return [
        {"namespace": f.group, "from": f.source, "to": f.destination, "ports": str(f.conns)}
        for f in flows
    ]


def _dump(value: Any, out: TextIO) -> None:
    json.dump(value, out, indent=2)
    out.write("\n")


def write_diff(diff: Diff, out: TextIO) -> None:
    _dump(
        {
            "opened": len(diff.opened),
            "closed": len(diff.closed),
            "risks": len(diff.risks),
            "stacks": [
                {
                    "stack": s.name,
                    "base": s.base,
                    "head": s.head,
                    "risks": [{"kind": r.kind, "message": r.message} for r in s.risks],
                    "opened": _flows(s.opened),
                    "closed": _flows(s.closed),
                }
                for s in diff.stacks
            ],
        },
        out,
    )


def write_drift(drift: Drift, out: TextIO) -> None:
    _dump(
        {
            "drift": drift.drifted,
            "stacks": [
                {
                    "stack": s.stack,
                    "desired": s.desired,
                    "live": s.live,
                    "objects": [
                        {"kind": o.kind, "policy": o.policy, "detail": o.detail} for o in s.objects
                    ],
                    "allowed_live_not_declared": _flows(s.live_only),
                    "declared_not_allowed_live": _flows(s.desired_only),
                }
                for s in drift.stacks
            ],
        },
        out,
    )


def write_import(result: ImportResult, out: TextIO) -> None:
    _dump(
        {
            "stack": result.stack,
            "file": result.file,
            "live": result.live,
            "imports": [{"to": e.to, "id": e.id} for e in result.imports],
            "unmanaged": [
                {
                    "policy": u.policy,
                    "source": u.source,
                    "rules": list(u.rules),
                    "widens": _flows(u.widens),
                }
                for u in result.unmanaged
            ],
        },
        out,
    )
