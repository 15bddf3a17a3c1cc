"""ConnectionSet: which (protocol, port) pairs a rule, a pair of pods or an intent allows.

Numeric ports are interval sets per protocol. Named ports stay names until
they are resolved against the destination's declared container ports (the
only place Kubernetes gives them meaning). A protocol whose whole port range
is in the set also contains every name of that protocol, because a rule
without ports allows named container ports too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from constructs_lib.verifier import intervals as iv

PROTOCOLS: tuple[str, ...] = ("TCP", "UDP", "SCTP")
MIN_PORT = 1
MAX_PORT = 65535
_FULL: iv.Intervals = ((MIN_PORT, MAX_PORT),)
_EMPTY: iv.Intervals = ()

PortIntervals = tuple[iv.Intervals, iv.Intervals, iv.Intervals]
NamedPort = tuple[str, str]  # (protocol, name)


def protocol_index(protocol: str) -> int:
    try:
        return PROTOCOLS.index(protocol)
    except ValueError:
        raise ValueError(
            f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}"
        ) from None


@dataclass(frozen=True, slots=True)
class ConnectionSet:
    """An immutable set of connections; build it with the class methods."""

    ports: PortIntervals = (_EMPTY, _EMPTY, _EMPTY)
    names: frozenset[NamedPort] = frozenset()
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Sets are hashed constantly (operation caches); compute it once.
        object.__setattr__(self, "_hash", hash((self.ports, self.names)))

    def __hash__(self) -> int:
        return self._hash

    # construction -----------------------------------------------------------

    @classmethod
    def none(cls) -> ConnectionSet:
        return NO_CONNECTIONS

    @classmethod
    def all(cls) -> ConnectionSet:
        return ALL_CONNECTIONS

    @classmethod
    def port_range(cls, protocol: str, low: int, high: int | None = None) -> ConnectionSet:
        return _port_range(protocol, low, low if high is None else high)

    @classmethod
    def all_ports(cls, protocol: str) -> ConnectionSet:
        return cls.port_range(protocol, MIN_PORT, MAX_PORT)

    @classmethod
    def named(cls, protocol: str, name: str) -> ConnectionSet:
        protocol_index(protocol)
        return cls(names=frozenset({(protocol, name)}))

    @classmethod
    def union_all(cls, sets: Iterable[ConnectionSet]) -> ConnectionSet:
        result = NO_CONNECTIONS
        for item in sets:
            result = item if result is NO_CONNECTIONS else result | item
        return result

    # algebra ----------------------------------------------------------------

    def _normal(self, ports: PortIntervals, names: Iterable[NamedPort]) -> ConnectionSet:
        kept = frozenset(
            (proto, name) for proto, name in names if ports[PROTOCOLS.index(proto)] != _FULL
        )
        return ConnectionSet(ports, kept)

    # The engine meets the same few sets over and over; the operators are cached,
    # after the answers that need no lookup (the same set, an empty one).

    def __or__(self, other: ConnectionSet) -> ConnectionSet:
        if other is self or other.is_empty():
            return self
        if self.is_empty():
            return other
        return _union(self, other)

    def __and__(self, other: ConnectionSet) -> ConnectionSet:
        if other is self:
            return self
        return _intersection(self, other)

    def __sub__(self, other: ConnectionSet) -> ConnectionSet:
        if other.is_empty():
            return self
        if other is self:
            return NO_CONNECTIONS
        return _difference(self, other)

    def _union(self, other: ConnectionSet) -> ConnectionSet:
        a, b = self.ports, other.ports
        ports = (iv.union(a[0], b[0]), iv.union(a[1], b[1]), iv.union(a[2], b[2]))
        return self._normal(ports, self.names | other.names)

    def _intersection(self, other: ConnectionSet) -> ConnectionSet:
        a, b = self.ports, other.ports
        ports = (
            iv.intersection(a[0], b[0]),
            iv.intersection(a[1], b[1]),
            iv.intersection(a[2], b[2]),
        )
        names = {n for n in self.names if other.contains_name(*n)}
        names |= {n for n in other.names if self.contains_name(*n)}
        return self._normal(ports, names)

    def _difference(self, other: ConnectionSet) -> ConnectionSet:
        a, b = self.ports, other.ports
        ports = (
            iv.difference(a[0], b[0]),
            iv.difference(a[1], b[1]),
            iv.difference(a[2], b[2]),
        )
        names = {n for n in self.names if not other.contains_name(*n)}
        return self._normal(ports, names)

    union = __or__
    intersection = __and__
    difference = __sub__

    # queries ----------------------------------------------------------------

    def is_empty(self) -> bool:
        return not (self.ports[0] or self.ports[1] or self.ports[2] or self.names)

    def is_all(self) -> bool:
        return self.ports == (_FULL, _FULL, _FULL)

    def contains_port(self, protocol: str, port: int) -> bool:
        return iv.contains(self.ports[protocol_index(protocol)], port)

    def contains_name(self, protocol: str, name: str) -> bool:
        return (protocol, name) in self.names or self.ports[protocol_index(protocol)] == _FULL

    def contains(self, protocol: str, port: int | str) -> bool:
        if isinstance(port, str):
            return self.contains_name(protocol, port)
        return self.contains_port(protocol, port)

    def issubset(self, other: ConnectionSet) -> bool:
        return (self - other).is_empty()

    def resolve(self, declared: Mapping[NamedPort, tuple[int, ...]]) -> ConnectionSet:
        """Add the port numbers that the destination gives to the names in this set.

        The names stay, so a destination port that is only known by name
        still matches.
        """
        extra = [
            ConnectionSet.port_range(proto, number)
            for proto, name in self.names
            for number in declared.get((proto, name), ())
        ]
        return ConnectionSet.union_all([self, *extra])

    def __str__(self) -> str:
        if self.is_all():
            return "any port"
        if self.is_empty():
            return "no ports"
        parts: list[str] = []
        for index, proto in enumerate(PROTOCOLS):
            ranges = self.ports[index]
            if ranges == _FULL:
                parts.append(f"{proto} any port")
                continue
            for low, high in ranges:
                parts.append(f"{proto} {low}" if low == high else f"{proto} {low}-{high}")
        parts.extend(f"{proto} {name}" for proto, name in sorted(self.names))
        return ", ".join(parts)


@lru_cache(maxsize=1 << 12)
def _port_range(protocol: str, low: int, high: int) -> ConnectionSet:
    """One set per range: sets built from the same ranges are then the same object,
    which the operators answer without a lookup (and the caches by identity)."""
    if not MIN_PORT <= low <= high <= MAX_PORT:
        raise ValueError(f"port range {low}-{high} is outside {MIN_PORT}-{MAX_PORT}")
    slots: list[iv.Intervals] = [_EMPTY, _EMPTY, _EMPTY]
    slots[protocol_index(protocol)] = ((low, high),)
    return ConnectionSet((slots[0], slots[1], slots[2]))


@lru_cache(maxsize=1 << 16)
def _union(a: ConnectionSet, b: ConnectionSet) -> ConnectionSet:
    return a._union(b)


@lru_cache(maxsize=1 << 16)
def _intersection(a: ConnectionSet, b: ConnectionSet) -> ConnectionSet:
    return a._intersection(b)


@lru_cache(maxsize=1 << 16)
def _difference(a: ConnectionSet, b: ConnectionSet) -> ConnectionSet:
    return a._difference(b)


NO_CONNECTIONS = ConnectionSet()
ALL_CONNECTIONS = ConnectionSet((_FULL, _FULL, _FULL))
