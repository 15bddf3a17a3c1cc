"""The internet-coverage predicate: by what a set covers, not how it is written."""

from __future__ import annotations

import pytest

from constructs_lib.addresses import V4_THRESHOLD, covers_internet, internet_coverage


@pytest.mark.parametrize(
    ("cidrs", "excepts"),
    [
        (["0.0.0.0/0"], []),
        (["::/0"], []),
        (["0.0.0.0/1", "128.0.0.0/1"], []),
        (["::ffff:0.0.0.0/96"], []),
        (["64:ff9b::/96"], []),
        (["2000::/3"], []),
        (["2001:4860::/15"], []),  # two /16s of global unicast
        (["8.0.0.0/7"], []),  # a /7 of public space
        (["0.0.0.0/0"], ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]),
        # a /8 of public space plus one address more, split over two ranges
        (["11.0.0.0/8", "12.0.0.0/32"], []),
    ],
)
def test_sets_covering_more_than_a_slash_8_are_the_internet(
    cidrs: list[str], excepts: list[str]
) -> None:
    assert covers_internet(cidrs, excepts)


@pytest.mark.parametrize(
    ("cidrs", "excepts"),
    [
        (["203.0.113.0/24"], []),
        (["11.0.0.0/8"], []),  # exactly a /8 is not more than a /8
        (["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"], []),
        (["224.0.0.0/3"], []),  # multicast and reserved
        (["fc00::/7", "fe80::/10", "::1/128"], []),
        (["2001:db8::/32"], []),
        (["2001:4860::/16"], []),  # exactly one /16
        (["0.0.0.0/0"], ["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/3"]),
        (["::ffff:10.0.0.0/104"], []),
        (["::/0"], ["::/1", "8000::/1"]),
    ],
)
def test_smaller_or_private_sets_are_not_the_internet(cidrs: list[str], excepts: list[str]) -> None:
    assert not covers_internet(cidrs, excepts)


def test_mapped_ipv6_counts_as_the_ipv4_it_carries_once() -> None:
    both = internet_coverage(["11.0.0.0/8", "::ffff:11.0.0.0/104"])
    assert both.public_v4 == V4_THRESHOLD
    assert not both.is_internet


def test_description_names_the_family_and_the_threshold() -> None:
    assert internet_coverage(["0.0.0.0/1", "128.0.0.0/1"]).describe() == (
        "3,702,258,688 public IPv4 addresses (more than a /8 holds, 16,777,216)"
    )
    assert internet_coverage(["203.0.113.0/24"]).describe() == (
        "less public address space than an IPv4 /8"
    )
