"""IPSet: IPv4 and IPv6 address sets, for ipBlock ``cidr`` minus ``except``.

Addresses are integers so CIDR arithmetic is interval arithmetic; the two
families are kept apart because their integer ranges overlap.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from constructs_lib.verifier import intervals as iv

_V4_MAX = (1 << 32) - 1
_V6_MAX = (1 << 128) - 1


def parse_cidr(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """Parse a CIDR strictly; a bare address is a single-address network.

    Raises ValueError with the reason (host bits set, bad syntax).
    """
    return ipaddress.ip_network(text, strict=True)


@dataclass(frozen=True, slots=True)
class IPSet:
    v4: iv.Intervals = ()
    v6: iv.Intervals = ()

    @classmethod
    def from_cidr(cls, text: str) -> IPSet:
        net = parse_cidr(text)
        pair = ((int(net.network_address), int(net.broadcast_address)),)
        return cls(v4=pair) if net.version == 4 else cls(v6=pair)

    @classmethod
    def from_cidrs(cls, texts: Iterable[str]) -> IPSet:
        result = EMPTY_IPS
        for text in texts:
            result = result | cls.from_cidr(text)
        return result

    @classmethod
    def from_address(cls, text: str) -> IPSet:
        addr = ipaddress.ip_address(text)
        value = int(addr)
        return cls(v4=((value, value),)) if addr.version == 4 else cls(v6=((value, value),))

    @classmethod
    def block(cls, cidr: str, excepts: Iterable[str] = ()) -> IPSet:
        return cls.from_cidr(cidr) - cls.from_cidrs(excepts)

    def __or__(self, other: IPSet) -> IPSet:
        return IPSet(iv.union(self.v4, other.v4), iv.union(self.v6, other.v6))

    def __and__(self, other: IPSet) -> IPSet:
        return IPSet(iv.intersection(self.v4, other.v4), iv.intersection(self.v6, other.v6))

    def __sub__(self, other: IPSet) -> IPSet:
        return IPSet(iv.difference(self.v4, other.v4), iv.difference(self.v6, other.v6))

    def is_empty(self) -> bool:
        return not self.v4 and not self.v6

    def covers(self, other: IPSet) -> bool:
        return iv.covers(self.v4, other.v4) and iv.covers(self.v6, other.v6)

    def contains_address(self, text: str) -> bool:
        addr = ipaddress.ip_address(text)
        return iv.contains(self.v4 if addr.version == 4 else self.v6, int(addr))

    def boundaries(self) -> tuple[list[int], list[int]]:
        """Start points and one-past-end points per family, for partitioning."""
        return (
            [p for low, high in self.v4 for p in (low, high + 1)],
            [p for low, high in self.v6 for p in (low, high + 1)],
        )

    def cidrs(self) -> list[str]:
        out: list[str] = []
        for low, high in self.v4:
            out.extend(
                str(n)
                for n in ipaddress.summarize_address_range(
                    ipaddress.IPv4Address(low), ipaddress.IPv4Address(high)
                )
            )
        for low, high in self.v6:
            out.extend(
                str(n)
                for n in ipaddress.summarize_address_range(
                    ipaddress.IPv6Address(low), ipaddress.IPv6Address(high)
                )
            )
        return out

    def __str__(self) -> str:
        return ", ".join(self.cidrs()) if not self.is_empty() else "no addresses"

    def hull(self) -> IPSet:
        """The smallest CIDR per family that holds the whole set."""
        return IPSet(_hull(self.v4, 32), _hull(self.v6, 128))

    def summary(self, limit: int = 4) -> str:
        """Short text for messages: the CIDRs, or a hull with its holes when that is shorter."""
        cidrs = self.cidrs()
        if len(cidrs) <= limit:
            return ", ".join(cidrs) if cidrs else "no addresses"
        hull = self.hull()
        holes = (hull - self).cidrs()
        if len(holes) <= limit:
            return f"{hull} except {', '.join(holes)}"
        return f"{len(cidrs)} ranges within {hull}"


EMPTY_IPS = IPSet()
ALL_IPS = IPSet(v4=((0, _V4_MAX),), v6=((0, _V6_MAX),))


def partition(pieces: Iterable[IPSet], within: IPSet) -> list[IPSet]:
    """Split ``within`` into maximal intervals that each piece holds wholly or not at all.

    Verification needs this to answer "which ports are open to every address
    of this range" when several ipBlocks overlap it.
    """
    cuts4: set[int] = set()
    cuts6: set[int] = set()
    for piece in pieces:
        b4, b6 = piece.boundaries()
        cuts4.update(b4)
        cuts6.update(b6)
    out: list[IPSet] = []
    for is_v4, family, cuts in ((True, within.v4, cuts4), (False, within.v6, cuts6)):
        ordered = sorted(cuts)
        for low, high in family:
            start = low
            for cut in ordered:
                if start < cut <= high:
                    out.append(_segment(is_v4, start, cut - 1))
                    start = cut
            out.append(_segment(is_v4, start, high))
    return out


def _hull(family: iv.Intervals, bits: int) -> iv.Intervals:
    if not family:
        return ()
    low, high = family[0][0], family[-1][1]
    shift = (low ^ high).bit_length()
    start = (low >> shift) << shift
    return ((start, start + (1 << shift) - 1),) if shift <= bits else ()


def _segment(v4: bool, low: int, high: int) -> IPSet:
    return IPSet(v4=((low, high),)) if v4 else IPSet(v6=((low, high),))
