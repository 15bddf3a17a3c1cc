"""Which pods policies isolate, and in which direction, without evaluating any rule.

A pod is isolated for a direction when some policy of its namespace selects
it and has that direction in policyTypes; a namespace isolates every pod when
such a policy has an empty podSelector. ``diff`` flags a pod or namespace
that loses a direction from these; a namespace whose default deny isolates
one direction only (``default_deny="ingress"``) is what lint calls half-open.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from constructs_lib.loaders.network_policy import EGRESS, INGRESS, NetworkPolicy
from constructs_lib.verifier.selectors import matches

DIRECTIONS = (INGRESS, EGRESS)


def default_deny_directions(policies: Iterable[NetworkPolicy]) -> dict[str, frozenset[str]]:
    """Per namespace with some policy: the directions every one of its pods is isolated in."""
    out: dict[str, set[str]] = {}
    for p in policies:
        here = out.setdefault(p.namespace, set())
        if p.pod_selector.is_empty():
            here.update(d for d in p.policy_types if d in DIRECTIONS)
    return {ns: frozenset(dirs) for ns, dirs in out.items()}


class Isolation:
    """Answers ``directions(namespace, labels)`` for many pods of one policy set."""

    def __init__(self, policies: Iterable[NetworkPolicy]) -> None:
        self._by_namespace: dict[str, list[NetworkPolicy]] = {}
        for p in policies:
            self._by_namespace.setdefault(p.namespace, []).append(p)

    def directions(self, namespace: str, labels: Mapping[str, str]) -> frozenset[str]:
        """The directions a pod with ``labels`` in ``namespace`` is isolated in."""
        out: set[str] = set()
        for p in self._by_namespace.get(namespace, ()):
            if matches(p.pod_selector, labels):
                out.update(d for d in p.policy_types if d in DIRECTIONS)
        return frozenset(out)
