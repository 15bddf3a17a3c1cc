"""How much of the public internet a set of address ranges covers.

One predicate decides "is this the internet?" for every part of netfence that
asks: the intent model (an endpoint that covers the internet needs
``internet=True``), the diff's internet risk flag, and lint. It looks at what a
set of ranges *covers* after its excepts, not at how it is written, so
``0.0.0.0/1`` plus ``128.0.0.0/1``, or ``::ffff:0.0.0.0/96``, count as the
internet just like ``0.0.0.0/0``.

The rule: a set is the internet when it covers more public address space than
an IPv4 /8 (2**24 addresses) or more IPv6 global unicast space than a /16
(2**112 addresses). IPv6 ranges that embed IPv4 addresses (IPv4-mapped
``::ffff:0:0/96`` and the NAT64 prefix ``64:ff9b::/96``) count as the IPv4
addresses they carry. Private, loopback, link-local, shared (CGNAT),
documentation, benchmarking, multicast and reserved ranges are not public.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

V4_THRESHOLD = 1 << 24  # an IPv4 /8
V6_THRESHOLD = 1 << 112  # an IPv6 /16


def _nets(texts: Iterable[str | Network]) -> list[Network]:
    return [t if not isinstance(t, str) else ipaddress.ip_network(t, strict=False) for t in texts]


_V4_NOT_PUBLIC = _nets(
    [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    ]
)
_V6_GLOBAL = ipaddress.IPv6Network("2000::/3")
_V6_NOT_PUBLIC = _nets(["2001:db8::/32", "3fff::/20"])
# IPv6 prefixes whose low 32 bits are an IPv4 address.
_V4_IN_V6 = (ipaddress.IPv6Network("::ffff:0:0/96"), ipaddress.IPv6Network("64:ff9b::/96"))


def _minus(nets: list[Network], holes: list[Network]) -> list[Network]:
    """``nets`` without ``holes``, as disjoint networks (one family per call)."""
    for hole in holes:
        kept: list[Network] = []
        for net in nets:
            if net.version != hole.version or not net.overlaps(hole):
                kept.append(net)
            elif hole.subnet_of(net) and hole != net:  # type: ignore[arg-type]
                kept.extend(net.address_exclude(hole))  # type: ignore[arg-type]
            # else: net lies inside hole and is gone
        nets = kept
    return list(ipaddress.collapse_addresses(nets))  # type: ignore[type-var]


def _within(nets: list[Network], scope: Network) -> list[Network]:
    """The parts of ``nets`` inside ``scope`` (CIDRs either nest or are disjoint)."""
    out: list[Network] = []
    for net in nets:
        if net.version == scope.version and net.subnet_of(scope):  # type: ignore[arg-type]
            out.append(net)
        elif net.version == scope.version and scope.subnet_of(net):  # type: ignore[arg-type]
            out.append(scope)
    return out


@dataclass(frozen=True)
class InternetCoverage:
    """Public addresses a set of ranges covers, per family."""

    public_v4: int
    public_v6: int

    @property
    def is_internet(self) -> bool:
        return self.public_v4 > V4_THRESHOLD or self.public_v6 > V6_THRESHOLD

    def describe(self) -> str:
        """Why the set counts as the internet, in a reviewer's words."""
        parts = []
        if self.public_v4 > V4_THRESHOLD:
            parts.append(
                f"{self.public_v4:,} public IPv4 addresses (more than a /8 holds, {V4_THRESHOLD:,})"
            )
        if self.public_v6 > V6_THRESHOLD:
            share = self.public_v6 / V6_THRESHOLD
            parts.append(f"about {share:,.0f} IPv6 /16s of global unicast space (more than one)")
        return " and ".join(parts) if parts else "less public address space than an IPv4 /8"


def internet_coverage(
    cidrs: Iterable[str | Network], excepts: Iterable[str | Network] = ()
) -> InternetCoverage:
    """How much public space ``cidrs`` minus ``excepts`` covers.

    Host bits are ignored (``10.0.0.1/8`` covers ``10.0.0.0/8``): callers that
    must refuse them do so before asking.
    """
    nets, holes = _nets(cidrs), _nets(excepts)
    v4 = _minus([n for n in nets if n.version == 4], [h for h in holes if h.version == 4])
    v6 = _minus([n for n in nets if n.version == 6], [h for h in holes if h.version == 6])
    for prefix in _V4_IN_V6:
        for part in _within(v6, prefix):
            offset = int(part.network_address) - int(prefix.network_address)
            v4.append(ipaddress.IPv4Network((offset, part.prefixlen - 96)))
    v4 = list(ipaddress.collapse_addresses(v4))  # type: ignore[type-var]
    return InternetCoverage(
        public_v4=sum(n.num_addresses for n in _minus(v4, _V4_NOT_PUBLIC)),
        public_v6=sum(n.num_addresses for n in _minus(_within(v6, _V6_GLOBAL), _V6_NOT_PUBLIC)),
    )


def covers_internet(cidrs: Iterable[str | Network], excepts: Iterable[str | Network] = ()) -> bool:
    """True when ``cidrs`` minus ``excepts`` is, for review purposes, the internet."""
    return internet_coverage(cidrs, excepts).is_internet
