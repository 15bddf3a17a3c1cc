"""Label selector matching, one pod at a time and for many at once via a label index.

The index answers a selector with a bitset over members (pod classes), so
selecting costs a few big-integer operations per requirement instead of a
pass over every pod: what lets the engine scale with the number of distinct
selectors rather than with pods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from constructs_lib.loaders.network_policy import LabelRequirement, LabelSelector


def requirement_matches(req: LabelRequirement, labels: Mapping[str, str]) -> bool:
    if req.operator == "In":
        return labels.get(req.key) in req.values
    if req.operator == "NotIn":
        # A pod without the key matches NotIn, as in Kubernetes.
        return labels.get(req.key) not in req.values
    if req.operator == "Exists":
        return req.key in labels
    return req.key not in labels  # DoesNotExist


def matches(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    """True when ``labels`` satisfy the selector; the empty selector matches all."""
    return all(labels.get(k) == v for k, v in selector.match_labels) and all(
        requirement_matches(req, labels) for req in selector.match_expressions
    )


class LabelIndex:
    """Bitsets of members per label pair and per key, for selecting by set algebra."""

    def __init__(self, members: Sequence[Mapping[str, str]]) -> None:
        self.all = (1 << len(members)) - 1
        self._pairs: dict[tuple[str, str], int] = {}
        self._keys: dict[str, int] = {}
        for i, labels in enumerate(members):
            bit = 1 << i
            for key, value in labels.items():
                self._pairs[(key, value)] = self._pairs.get((key, value), 0) | bit
                self._keys[key] = self._keys.get(key, 0) | bit
        self._cache: dict[LabelSelector, int] = {}

    def select(self, selector: LabelSelector) -> int:
        cached = self._cache.get(selector)
        if cached is not None:
            return cached
        bits = self.all
        for pair in selector.match_labels:
            bits &= self._pairs.get(pair, 0)
        for req in selector.match_expressions:
            bits &= self._requirement(req)
        self._cache[selector] = bits
        return bits

    def _requirement(self, req: LabelRequirement) -> int:
        if req.operator in ("In", "NotIn"):
            hit = 0
            for value in req.values:
                hit |= self._pairs.get((req.key, value), 0)
            return hit if req.operator == "In" else self.all & ~hit
        has_key = self._keys.get(req.key, 0)
        return has_key if req.operator == "Exists" else self.all & ~has_key
