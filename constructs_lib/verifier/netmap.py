"""NetworkMap: the allowed flows between endpoints, for audit maps (``netfence map``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cached_property

from constructs_lib.loaders.intent import IntentRecord
from constructs_lib.loaders.network_policy import NetworkPolicy
from constructs_lib.verifier.connections import ConnectionSet
from constructs_lib.verifier.reach import Reachability


@dataclass(frozen=True)
class NetworkMap:
    nodes: tuple[str, ...]
    edges: tuple[tuple[str, str, ConnectionSet], ...]

    def groups(self) -> dict[str, list[str]]:
        """Nodes by namespace (``external`` for external endpoints), in node order."""
        out: dict[str, list[str]] = {}
        for node in self.nodes:
            out.setdefault(node.split("/", 1)[0], []).append(node)
        return out

    def label(self, source: str, destination: str) -> str:
        """What the map shows for a pair: its connections, or "" when nothing is allowed."""
        found = self._labels.get((source, destination))
        return str(found) if found is not None else ""

    @cached_property
    def _labels(self) -> dict[tuple[str, str], ConnectionSet]:
        return {(s, d): conns for s, d, conns in self.edges}


def network_map(reach: Reachability, scope: Collection[str] | None = None) -> NetworkMap:
    """Every ordered pair (not self, not external to external) that allows something,
    in node order.

    scope: namespaces the map answers for (a stack's own); pairs with neither
    end in them, e.g. an environment's Prometheus and an external API, are
    left out: nothing in the stack governs them. Left out, every pair.
    """
    nodes = tuple(reach.endpoints)

    def inside(node: str) -> bool:
        return scope is None or node.split("/", 1)[0] in scope

    edges = sorted(
        (edge for edge in reach.open_pairs() if inside(edge[0]) or inside(edge[1])),
        key=lambda edge: (edge[0], edge[1]),
    )
    return NetworkMap(nodes, tuple(edges))


def stack_network(policies: Sequence[NetworkPolicy], record: IntentRecord) -> NetworkMap:
    """The map of one stack: its declared endpoints, the pairs its namespaces govern."""
    scope = {ns.name for ns in record.namespaces}
    return network_map(Reachability(policies, record.inventory()), scope)
