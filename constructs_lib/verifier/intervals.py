"""Closed integer interval sets, the arithmetic under both port sets and IP sets.

A set is a tuple of disjoint, non-adjacent ``(low, high)`` pairs in ascending
order. Keeping that normal form makes equality and hashing structural, which
the engine relies on to cache results per distinct set.
"""

from __future__ import annotations

from collections.abc import Iterable

Interval = tuple[int, int]
Intervals = tuple[Interval, ...]


def normalise(pairs: Iterable[Interval]) -> Intervals:
    """Sort and merge overlapping or touching intervals."""
    out: list[Interval] = []
    for low, high in sorted(pairs):
        if out and low <= out[-1][1] + 1:
            if high > out[-1][1]:
                out[-1] = (out[-1][0], high)
        else:
            out.append((low, high))
    return tuple(out)


def union(a: Intervals, b: Intervals) -> Intervals:
    if not a:
        return b
    if not b or a == b:
        return a
    return normalise(a + b)


def intersection(a: Intervals, b: Intervals) -> Intervals:
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        low = max(a[i][0], b[j][0])
        high = min(a[i][1], b[j][1])
        if low <= high:
            out.append((low, high))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def difference(a: Intervals, b: Intervals) -> Intervals:
    if not a or not b:
        return a
    out: list[Interval] = []
    j = 0
    for low, high in a:
        while j < len(b) and b[j][1] < low:
            j += 1
        k = j
        cur = low
        while k < len(b) and b[k][0] <= high:
            if b[k][0] > cur:
                out.append((cur, b[k][0] - 1))
            cur = max(cur, b[k][1] + 1)
            k += 1
        if cur <= high:
            out.append((cur, high))
    return tuple(out)


def contains(a: Intervals, value: int) -> bool:
    # Linear scan: port and IP sets in policies hold a handful of intervals.
    return any(low <= value <= high for low, high in a)


def covers(a: Intervals, b: Intervals) -> bool:
    """True when every value of ``b`` is in ``a``."""
    return not difference(b, a)
