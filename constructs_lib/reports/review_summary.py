"""Wording every review format shares, so text, JSON and Markdown agree."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from constructs_lib.review.diff import Diff, FlowChange


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def by_group(flows: Iterable[FlowChange]) -> list[tuple[str, list[FlowChange]]]:
    """Flows by namespace, in the order they come (already sorted by namespace)."""
    out: dict[str, list[FlowChange]] = {}
    for f in flows:
        out.setdefault(f.group, []).append(f)
    return list(out.items())


def diff_summary(diff: Diff) -> str:
    opened: Sequence[FlowChange] = diff.opened
    if not opened and not diff.closed:
        return "no connectivity change"
    return (
        f"{plural(len(opened), 'flow')} opened, {len(diff.closed)} closed, "
        f"{plural(len(diff.risks), 'risk flag')}"
    )
