"""ConnectionSet and IPSet algebra: the arithmetic every verdict rests on."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from constructs_lib.verifier.connections import ConnectionSet
from constructs_lib.verifier.ipset import ALL_IPS, IPSet, partition

TCP = ConnectionSet.port_range


def test_union_merges_touching_ranges() -> None:
    merged = TCP("TCP", 80, 89) | TCP("TCP", 90, 100) | TCP("UDP", 53)
    assert str(merged) == "TCP 80-100, UDP 53"


def test_intersection_is_per_protocol() -> None:
    a = TCP("TCP", 1, 1000) | TCP("UDP", 53)
    b = TCP("TCP", 443) | TCP("SCTP", 9)
    assert str(a & b) == "TCP 443"
    assert (TCP("UDP", 53) & TCP("TCP", 53)).is_empty()


def test_difference_splits_a_range() -> None:
    assert str(TCP("TCP", 8000, 8100) - TCP("TCP", 8050)) == "TCP 8000-8049, TCP 8051-8100"


def test_all_contains_every_named_port_and_none_contains_nothing() -> None:
    everything = ConnectionSet.all()
    assert everything.is_all()
    assert everything.contains("SCTP", "metrics")
    assert everything.contains("UDP", 65535)
    assert ConnectionSet.none().is_empty()
    assert not ConnectionSet.none().contains("TCP", 80)
    assert str(everything) == "any port"
    assert str(ConnectionSet.none()) == "no ports"


def test_named_port_resolves_to_the_destination_number_and_keeps_its_name() -> None:
    named = ConnectionSet.named("TCP", "http")
    resolved = named.resolve({("TCP", "http"): (8080,)})
    assert resolved.contains("TCP", 8080)
    assert resolved.contains("TCP", "http")
    assert not named.resolve({("UDP", "http"): (8080,)}).contains("TCP", 8080)


def test_names_are_absorbed_by_a_whole_protocol() -> None:
    whole = ConnectionSet.all_ports("TCP") | ConnectionSet.named("TCP", "http")
    assert whole.names == frozenset()
    assert (ConnectionSet.named("TCP", "http") - ConnectionSet.all_ports("TCP")).is_empty()
    assert str(ConnectionSet.named("UDP", "dns") | TCP("TCP", 1, 65535)) == "TCP any port, UDP dns"


def test_bad_port_range_and_protocol_are_refused() -> None:
    with pytest.raises(ValueError, match="port range 0-10 is outside 1-65535"):
        TCP("TCP", 0, 10)
    with pytest.raises(ValueError, match="unknown protocol 'ICMP'"):
        TCP("ICMP", 1)


_PARTS = st.one_of(
    st.tuples(st.sampled_from(["TCP", "UDP"]), st.integers(1, 12), st.integers(0, 4)).map(
        lambda t: TCP(t[0], t[1], t[1] + t[2])
    ),
    st.sampled_from(["TCP", "UDP"]).map(ConnectionSet.all_ports),
    st.sampled_from([("TCP", "http"), ("UDP", "dns")]).map(lambda n: ConnectionSet.named(*n)),
)
_SETS = st.lists(_PARTS, max_size=4).map(ConnectionSet.union_all)
_PROBES = [(proto, port) for proto in ("TCP", "UDP") for port in (*range(1, 18), "http", "dns")]


@settings(max_examples=150, derandomize=True, deadline=None)
@given(_SETS, _SETS)
def test_operators_hold_port_by_port_whether_or_not_the_sets_are_one_object(
    a: ConnectionSet, b: ConnectionSet
) -> None:
    # The operators answer the same object and empty sets without their caches:
    # a copy that is equal but not the same object must get the same answers.
    for right in (b, a, ConnectionSet(a.ports, a.names)):
        union, meet, rest = a | right, a & right, a - right
        for proto, port in _PROBES:
            left_has, right_has = a.contains(proto, port), right.contains(proto, port)
            assert union.contains(proto, port) == (left_has or right_has)
            assert meet.contains(proto, port) == (left_has and right_has)
            if isinstance(port, int):
                assert rest.contains(proto, port) == (left_has and not right_has)
    assert (a - ConnectionSet(a.ports, a.names)) == (a - a) == ConnectionSet.none()
    assert ConnectionSet.port_range("TCP", 7) is ConnectionSet.port_range("TCP", 7, 7)


def test_ipblock_except_carves_holes_in_both_families() -> None:
    block = IPSet.block("10.0.0.0/8", ["10.1.0.0/16"])
    assert block.contains_address("10.2.3.4")
    assert not block.contains_address("10.1.2.3")
    six = IPSet.block("2001:db8::/32", ["2001:db8:1::/48"])
    assert six.contains_address("2001:db8:2::1")
    assert not six.contains_address("2001:db8:1::1")
    assert not six.contains_address("10.2.3.4")


def test_ipset_prints_minimal_cidrs() -> None:
    rest = IPSet.from_cidr("10.0.0.0/24") - IPSet.from_cidr("10.0.0.0/25")
    assert str(rest) == "10.0.0.128/25"
    assert str(ALL_IPS - IPSet.from_cidr("::/0")) == "0.0.0.0/0"


def test_partition_cuts_at_every_piece_boundary() -> None:
    within = IPSet.from_cidr("10.0.0.0/24")
    pieces = [IPSet.from_cidr("10.0.0.0/25"), IPSet.from_cidr("10.0.0.64/26")]
    assert [str(p) for p in partition(pieces, within)] == [
        "10.0.0.0/26",
        "10.0.0.64/26",
        "10.0.0.128/25",
    ]
