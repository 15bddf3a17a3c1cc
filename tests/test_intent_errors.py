"""Every class of bad input gets an InvalidIntentError with an exact, useful message."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from constructs_lib import DnsTarget, ExternalEndpoint, InvalidIntentError, Port, WorkloadSelection
from constructs_lib.model import Topology


def _shop() -> Topology:
    topo = Topology("prod")
    shop = topo.add_namespace("prod/shop", name="shop", environment="prod")
    shop.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080)])
    shop.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432, name="pg")])
    return topo


def _wl(topo: Topology, name: str, ns: str = "shop"):  # type: ignore[no-untyped-def]
    return topo.workloads[(ns, name)]


def _duplicate_flow() -> None:
    topo = _shop()
    _wl(topo, "api").allow_to(_wl(topo, "db"))
    _wl(topo, "db").allow_from(_wl(topo, "api"))


def _other_stack() -> None:
    staging = Topology("staging")
    ns = staging.add_namespace("staging/shop", name="shop", environment="prod")
    other = ns.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432)])
    _wl(_shop(), "api").allow_to(other)


def _cross_environment() -> None:
    topo = _shop()
    ops = topo.add_namespace("prod/ops", name="ops", environment="staging")
    ops.workload("probe", labels={"app": "probe"}).allow_to(_wl(topo, "api"))


CASES: list[tuple[str, Callable[[], object], str]] = [
    (
        "namespace_name_not_dns_label",
        lambda: Topology("prod").add_namespace("prod/Shop", name="Shop", environment="prod"),
        "prod/Shop: name: 'Shop' is not a DNS-1123 label (lowercase letters, digits and '-', "
        "starting and ending with a letter or digit, at most 63 characters)",
    ),
    (
        "workload_id_not_dns_label",
        lambda: _shop().namespaces["shop"].workload("my_api", labels={"app": "x"}),
        "prod/shop/my_api: id: 'my_api' is not a DNS-1123 label (lowercase letters, digits and "
        "'-', starting and ending with a letter or digit, at most 63 characters)",
    ),
    (
        "label_key_invalid",
        lambda: _shop().namespaces["shop"].workload("web", labels={"-app": "web"}),
        "prod/shop/web: labels: label key '-app' has an invalid name '-app' (at most 63 "
        "characters: letters, digits, '-', '_' and '.', starting and ending with a letter or "
        "digit)",
    ),
    (
        "label_key_prefix_invalid",
        lambda: _shop().namespaces["shop"].workload("web", labels={"Example.com/app": "web"}),
        "prod/shop/web: labels: label key 'Example.com/app' has an invalid prefix 'Example.com' "
        "(a DNS subdomain of at most 253 characters, e.g. 'example.com')",
    ),
    (
        "label_value_invalid",
        lambda: _shop().namespaces["shop"].workload("web", labels={"app": "web server"}),
        "prod/shop/web: labels: label 'app' has an invalid value 'web server' (at most 63 "
        "characters: letters, digits, '-', '_' and '.', starting and ending with a letter or "
        "digit)",
    ),
    (
        "empty_label_selector",
        lambda: _shop().namespaces["shop"].workload("web", labels={}),
        "prod/shop/web: labels: an empty label selector selects every pod; declare labels, or "
        "use namespace.all_workloads() to allow all pods of a namespace explicitly",
    ),
    (
        "invalid_cidr",
        lambda: ExternalEndpoint("bank", cidr="300.1.2.0/24", ports=[Port.tcp(443)]),
        "ExternalEndpoint('bank'): cidrs[0]: '300.1.2.0/24' is not a valid CIDR "
        "(e.g. '203.0.113.0/24' or '2001:db8::/32')",
    ),
    (
        "cidr_with_host_bits",
        lambda: ExternalEndpoint("bank", cidr="203.0.113.7/24", ports=[Port.tcp(443)]),
        "ExternalEndpoint('bank'): cidrs[0]: '203.0.113.7/24' has host bits set; "
        "did you mean '203.0.113.0/24'?",
    ),
    (
        "except_outside_cidr",
        lambda: ExternalEndpoint("bank", cidr="203.0.113.0/24", except_=["198.51.100.0/28"]),
        "ExternalEndpoint('bank'): except_[0]: 198.51.100.0/28 is not inside any of the "
        "endpoint's CIDRs (203.0.113.0/24); an except must be a strict subnet of a CIDR",
    ),
    (
        "internet_without_flag",
        lambda: ExternalEndpoint("anywhere", cidr="0.0.0.0/0", ports=[Port.tcp(443)]),
        "ExternalEndpoint('anywhere'): cidrs: 0.0.0.0/0 covers the internet (3,702,258,688 "
        "public IPv4 addresses (more than a /8 holds, 16,777,216)); create the endpoint with "
        "internet=True to allow that explicitly",
    ),
    (
        "ipv6_internet_without_flag",
        lambda: ExternalEndpoint("anywhere", cidrs=["2000::/3"], ports=[Port.tcp(443)]),
        "ExternalEndpoint('anywhere'): cidrs: 2000::/3 covers the internet (about 8,192 IPv6 "
        "/16s of global unicast space (more than one)); create the endpoint with "
        "internet=True to allow that explicitly",
    ),
    (
        "internet_split_in_halves_without_flag",
        lambda: ExternalEndpoint("halves", cidrs=["0.0.0.0/1", "128.0.0.0/1"]),
        "ExternalEndpoint('halves'): cidrs: 0.0.0.0/1, 128.0.0.0/1 covers the internet "
        "(3,702,258,688 public IPv4 addresses (more than a /8 holds, 16,777,216)); create the "
        "endpoint with internet=True to allow that explicitly",
    ),
    (
        "ipv4_mapped_internet_without_flag",
        lambda: ExternalEndpoint("mapped", cidr="::ffff:0.0.0.0/96"),
        "ExternalEndpoint('mapped'): cidrs: ::ffff:0:0/96 covers the internet (3,702,258,688 "
        "public IPv4 addresses (more than a /8 holds, 16,777,216)); create the endpoint with "
        "internet=True to allow that explicitly",
    ),
    (
        "internet_left_after_excepts_without_flag",
        lambda: ExternalEndpoint("most", cidr="0.0.0.0/0", except_=["0.0.0.0/1"]),
        "ExternalEndpoint('most'): cidrs: 0.0.0.0/0 except 0.0.0.0/1 covers the internet "
        "(1,609,300,992 public IPv4 addresses (more than a /8 holds, 16,777,216)); create the "
        "endpoint with internet=True to allow that explicitly",
    ),
    (
        "port_above_range",
        lambda: Port.tcp(70000),
        "Port.tcp: port: port 70000 is outside the allowed range 1-65535",
    ),
    (
        "port_zero",
        lambda: Port.udp(0),
        "Port.udp: port: port 0 is outside the allowed range 1-65535",
    ),
    (
        "end_port_below_port",
        lambda: Port.tcp_range(8100, 8000),
        "Port.tcp_range: end: end port 8000 is below start port 8100 (end must be >= start)",
    ),
    (
        "range_on_named_port",
        lambda: Port.of("TCP", "http", end=8100),
        "Port.tcp: end: a range on the named port 'http' is not possible: Kubernetes endPort "
        "works only with a numeric port",
    ),
    (
        "unknown_protocol",
        lambda: Port.of("ICMP", 8),
        "Port.icmp: protocol: unknown protocol 'ICMP' (allowed: TCP, UDP, SCTP)",
    ),
    (
        "invalid_port_name",
        lambda: Port.named("HTTP_PORT"),
        "Port.named: name: 'HTTP_PORT' is not a valid port name (1-15 lowercase letters, "
        "digits and '-', at least one letter, no '--', not starting or ending with '-')",
    ),
    (
        "flow_to_workload_of_another_stack",
        _other_stack,
        "prod/shop/api.allow_to(): destination: workload shop/db belongs to stack 'staging', "
        "not 'prod'; a flow can only join workloads of one stack (use a WorkloadSelection for "
        "pods managed elsewhere)",
    ),
    (
        "flow_to_workload_of_another_app",
        lambda: _wl(_shop(), "api").allow_to(_wl(_shop(), "db")),
        "prod/shop/api.allow_to(): destination: workload shop/db belongs to stack 'prod' of "
        "another app, not to this one; a flow can only join workloads of one stack (use a "
        "WorkloadSelection for pods managed elsewhere)",
    ),
    (
        "duplicate_workload",
        lambda: _shop().namespaces["shop"].workload("api", labels={"app": "api2"}),
        "prod/shop/api: id: workload 'api' is already declared in namespace 'shop' at "
        "prod/shop/api",
    ),
    (
        "duplicate_namespace",
        lambda: _shop().add_namespace("prod/shop2", name="shop", environment="prod"),
        "prod/shop2: name: namespace 'shop' is already declared in this stack at prod/shop",
    ),
    (
        "duplicate_flow",
        _duplicate_flow,
        "prod/shop/db.allow_from(): destination: flow workload shop/api -> workload shop/db on "
        "5432/TCP is already declared at prod/shop/api.allow_to()",
    ),
    (
        "cross_environment_without_flag",
        _cross_environment,
        "prod/ops/probe.allow_to(): cross_environment: workload ops/probe (environment "
        "'staging') -> workload shop/api (environment 'prod') crosses environments; pass "
        "cross_environment=True to allow it explicitly",
    ),
    (
        "destination_without_ports",
        lambda: _wl(_shop(), "api").allow_to(
            WorkloadSelection.in_environment("prod", labels={"app": "metrics"})
        ),
        "prod/shop/api.allow_to(): ports: namespaces labelled environment=prod / "
        "pods app=metrics declares no ports; pass ports=[...] to the flow or declare "
        "ports on the destination",
    ),
    (
        "empty_port_list",
        lambda: _wl((t := _shop()), "api").allow_to(_wl(t, "db"), ports=[]),
        "prod/shop/api.allow_to(): ports: an empty port list would allow every port; list the "
        "ports",
    ),
    (
        "named_port_not_declared",
        lambda: _wl((t := _shop()), "api").allow_to(_wl(t, "db"), ports=[Port.named("http")]),
        "prod/shop/api.allow_to(): ports[0]: named port http/TCP is not declared by workload "
        "shop/db (declared: 5432/TCP)",
    ),
    (
        "named_port_with_another_protocol",
        lambda: _wl((t := _shop()), "api").allow_to(_wl(t, "db"), ports=[Port.named("pg", "UDP")]),
        "prod/shop/api.allow_to(): ports[0]: named port pg/UDP is not declared by workload "
        "shop/db (declared: 5432/TCP)",
    ),
    (
        "flow_to_itself",
        lambda: _wl((t := _shop()), "api").allow_to(_wl(t, "api")),
        "prod/shop/api.allow_to(): destination: workload shop/api is the source itself; a pod "
        "can always reach itself",
    ),
    (
        "not_a_port",
        lambda: _shop().namespaces["shop"].workload("web", labels={"app": "w"}, ports=[80]),
        "prod/shop/web: ports[0]: 80 is not a Port (use Port.tcp(443), Port.udp(53), "
        "Port.tcp_range(8000, 8100) or Port.named('http'))",
    ),
    (
        "dns_target_empty_labels",
        lambda: DnsTarget.create(namespace="dns", labels={}, ports=[Port.udp(53)]),
        "DnsTarget: labels: an empty label selector selects every pod; declare labels, or use "
        "namespace.all_workloads() to allow all pods of a namespace explicitly",
    ),
    (
        "dns_target_without_ports",
        lambda: DnsTarget.create(namespace="dns", labels={"app": "dns"}, ports=[]),
        "DnsTarget: ports: at least one port is required",
    ),
    (
        "metadata_name_label_reserved",
        lambda: Topology("p").add_namespace(
            "p/x", name="x", environment="prod", labels={"kubernetes.io/metadata.name": "y"}
        ),
        "p/x: labels: label 'kubernetes.io/metadata.name' is set by Kubernetes to the namespace "
        "name and cannot be set",
    ),
]


@pytest.mark.parametrize(("make", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_exact_message(make: Callable[[], object], message: str) -> None:
    with pytest.raises(InvalidIntentError) as info:
        make()
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


def test_same_ports_on_a_second_flow_only_clash_when_they_overlap() -> None:
    topo = _shop()
    api, db = _wl(topo, "api"), _wl(topo, "db")
    api.allow_to(db, ports=[Port.tcp(5432)])
    api.allow_to(db, ports=[Port.tcp(9187)])  # metrics port: a second, distinct flow
    assert len(topo.flows) == 2


def test_cross_environment_flag_allows_the_flow() -> None:
    topo = _shop()
    ops = topo.add_namespace("prod/ops", name="ops", environment="staging")
    probe = ops.workload("probe", labels={"app": "probe"})
    flow = probe.allow_to(_wl(topo, "api"), cross_environment=True)
    assert flow.cross_environment
