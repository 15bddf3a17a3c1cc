"""``reachability(policies, inventory)``: what the policies allow between inventory endpoints.

The public library answer behind ``netfence reach``: one verdict per ordered
pair of endpoints (never a workload with itself, never external to
external) and per port the destination declares.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from constructs_lib.errors import NetfenceError
from constructs_lib.loaders.inventory import DeclaredPort, External, Inventory, inventory_from_dict
from constructs_lib.loaders.manifests import policy_from_manifest
from constructs_lib.loaders.network_policy import NetworkPolicy
from constructs_lib.verifier.connections import ALL_CONNECTIONS, ConnectionSet
from constructs_lib.verifier.engine import (
    Engine,
    Pod,
    covered,
    declared_connections,
    external_set,
    iter_span,
)
from constructs_lib.verifier.ipset import IPSet

Row = tuple[str, str, int | str, str, bool]


class UnknownEndpointError(NetfenceError, KeyError):
    """A name passed to a query is neither a workload nor ``external/<name>``."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class Connection:
    source: str
    destination: str
    port: int | str
    protocol: str
    allowed: bool


def _port_key(port: DeclaredPort) -> tuple[int, int | str, str]:
    return (
        (0, port.port, port.protocol) if port.port is not None else (1, port.label, port.protocol)
    )


def _checks(ports: Iterable[DeclaredPort]) -> list[tuple[int | str, str, ConnectionSet]]:
    """Per declared port: its label, protocol and the connections it needs, sorted, unique."""
    out: dict[tuple[int | str, str], ConnectionSet] = {}
    for p in sorted(ports, key=_port_key):
        label: int | str
        if p.any_port:
            label, need = p.label, declared_connections([p])
        elif p.port is not None:
            label = p.port if p.end_port is None else f"{p.port}-{p.end_port}"
            need = ConnectionSet.port_range(p.protocol, p.port, p.end_port)
        else:
            assert p.name is not None
            label, need = p.name, ConnectionSet.named(p.protocol, p.name)
        out.setdefault((label, p.protocol), need)
    return [(label, proto, need) for (label, proto), need in out.items()]


class Reachability:
    """Allowed connections between the endpoints of an inventory under a set of policies."""

    def __init__(self, policies: Iterable[NetworkPolicy], inventory: Inventory) -> None:
        self.inventory = inventory
        namespaces = {ns.name: dict(ns.labels) for ns in inventory.namespaces}
        pods = [Pod(w.key, w.namespace, dict(w.labels), w.ports, w.ip) for w in inventory.workloads]
        self.engine = Engine(list(policies), namespaces, pods)
        self._externals: dict[str, External] = {e.key: e for e in inventory.external}
        self._external_ips: dict[str, IPSet] = {e.key: external_set(e) for e in inventory.external}

    @property
    def endpoints(self) -> list[str]:
        return sorted([*self.engine.pod_index, *self._externals])

    def is_external(self, name: str) -> bool:
        return name in self._externals and name not in self.engine.pod_index

    def _pod(self, name: str) -> int | None:
        index = self.engine.pod_index.get(name)
        if index is None and name not in self._externals:
            raise UnknownEndpointError(
                f"unknown endpoint {name!r}: not a workload (namespace/name) "
                "or an external endpoint (external/<name>) of the inventory"
            )
        return index

    def connection_set(self, source: str, destination: str) -> ConnectionSet:
        """Everything the policies allow from ``source`` to ``destination``."""
        s, d = self._pod(source), self._pod(destination)
        eng = self.engine
        if s is not None and d is not None:
            if s == d:
                return ALL_CONNECTIONS  # a pod can always reach itself
            return eng.between(eng.pod_class[s], eng.pod_class[d])
        if s is not None:
            return covered(eng.egress_rects(eng.pod_class[s]), self._external_ips[destination])
        if d is not None:
            return covered(eng.ingress_rects(eng.pod_class[d]), self._external_ips[source])
        return ALL_CONNECTIONS  # outside the cluster, policies do not apply

    def open_pairs(self) -> Iterator[tuple[str, str, ConnectionSet]]:
        """Every ordered pair of distinct endpoints (never external to external) with a
        non-empty ``connection_set``, in no particular order.

        Found from what the rules admit, not by asking each pair: a source class's
        candidates are the classes its egress rules admit or, when its egress is open,
        the classes whose ingress is open or admits it; a pair of classes stands for
        all pairs of their pods. Policies admit a few peers per workload, so this
        costs about the pairs that are open, where trying each of 10,000 workloads'
        100 million pairs took minutes.
        """
        eng = self.engine
        keys = [pod.key for pod in eng.pods]
        admitted: list[list[int]] | None = None  # per class: the isolated classes admitting it
        open_ingress = [c for c, cls in enumerate(eng.classes) if not cls.ingress_isolated]
        for cs, sources in enumerate(eng.members):
            cls = eng.classes[cs]
            candidates: Iterable[int]
            if cls.egress_isolated:
                candidates = iter_span(cls.egress_any)
            else:
                if admitted is None:
                    admitted = [[] for _ in eng.classes]
                    for cd, dst in enumerate(eng.classes):
                        if dst.ingress_isolated:
                            for c in iter_span(dst.ingress_any):
                                admitted[c].append(cd)
                candidates = (*open_ingress, *admitted[cs])
            for cd in candidates:
                conns = eng.between(cs, cd)
                if conns.is_empty():
                    continue
                for s in sources:
                    for d in eng.members[cd]:
                        if s != d:
                            yield keys[s], keys[d], conns
        for name, ips in self._external_ips.items():
            if name in eng.pod_index:
                continue  # the name is a workload's (see is_external)
            # per class: what its pods may send to (to) and receive from (back) the endpoint
            to: dict[int, ConnectionSet] = {}
            back: dict[int, ConnectionSet] = {}
            for pod_i, c in enumerate(eng.pod_class):
                if c not in to:
                    to[c] = covered(eng.egress_rects(c), ips)
                    back[c] = covered(eng.ingress_rects(c), ips)
                if not to[c].is_empty():
                    yield keys[pod_i], name, to[c]
                if not back[c].is_empty():
                    yield name, keys[pod_i], back[c]

    def allowed(
        self, source: str, destination: str, port: int | str, protocol: str = "TCP"
    ) -> bool:
        conns = self.connection_set(source, destination)
        if isinstance(port, str):
            d = self._pod(destination)
            numbers = (
                self.engine.classes[self.engine.pod_class[d]].named.get((protocol, port), ())
                if d is not None
                else ()
            )
            declared = self._declared_numbers(destination, port, protocol)
            numbers = (*numbers, *declared)
            if numbers:
                return all(conns.contains_port(protocol, n) for n in numbers)
        return conns.contains(protocol, port)

    def _declared_numbers(self, endpoint: str, name: str, protocol: str) -> tuple[int, ...]:
        index = self.engine.pod_index.get(endpoint)
        ports = (
            self.engine.pods[index].ports if index is not None else self._externals[endpoint].ports
        )
        return tuple(p.port for p in ports if p.name == name and p.protocol == protocol and p.port)

    def rows(self) -> Iterator[Row]:
        """Every verdict in the documented order: from, to, port (numbers first), protocol."""
        eng = self.engine
        names = self.endpoints
        checks: dict[str, list[tuple[int | str, str, ConnectionSet]]] = {}
        for name in names:
            index = eng.pod_index.get(name)
            ports = eng.pods[index].ports if index is not None else self._externals[name].ports
            checks[name] = _checks(ports)
        for source in names:
            s = eng.pod_index.get(source)
            s_cls = eng.pod_class[s] if s is not None else -1
            for destination in names:
                if destination == source:
                    continue
                d = eng.pod_index.get(destination)
                if s is None and d is None:
                    continue
                wanted = checks[destination]
                if not wanted:
                    continue
                if s is not None and d is not None:
                    conns = eng.between(s_cls, eng.pod_class[d])
                else:
                    conns = self.connection_set(source, destination)
                if conns.is_empty():
                    for label, proto, _ in wanted:
                        yield source, destination, label, proto, False
                else:
                    if d is not None and conns.names:
                        conns = eng.resolve_for(conns, eng.pod_class[d])
                    for label, proto, need in wanted:
                        yield source, destination, label, proto, need.issubset(conns)

    @cached_property
    def connections(self) -> list[Connection]:
        return [Connection(*row) for row in self.rows()]

    def to_json(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "connections": [
                {"from": s, "to": d, "port": port, "protocol": proto, "allowed": ok}
                for s, d, port, proto, ok in self.rows()
            ]
        }


def reachability(
    policies: Iterable[NetworkPolicy | Mapping[str, Any]],
    inventory: Inventory | Mapping[str, Any],
) -> Reachability:
    """Reachability of ``inventory`` under ``policies`` (loaded objects or manifest dicts)."""
    loaded = [
        p if isinstance(p, NetworkPolicy) else policy_from_manifest(p, document=i)
        for i, p in enumerate(policies)
    ]
    if not isinstance(inventory, Inventory):
        inventory = inventory_from_dict(inventory)
    return Reachability(loaded, inventory)
