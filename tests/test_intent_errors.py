"""Every class of bad input gets an InvalidIntentError with an exact, useful message."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from constructs_lib import (
    DnsTarget,
    ExternalEndpoint,
    InvalidIntentError,
    Port,
    Protocol,
    Workload,
    WorkloadSelection,
)
from constructs_lib.model import Topology
from constructs_lib.model.build import BuildEnvironment
from constructs_lib.model.pipeline import Pipeline


def _shop() -> Topology:
    topo = Topology("prod")
    shop = topo.add_namespace("prod/shop", name="shop", environment="prod")
    shop.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080)])
    shop.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432, name="pg")])
    return topo


def _wl(topo: Topology, name: str, ns: str = "shop"):  # type: ignore[no-untyped-def]
    return topo.workloads[(ns, name)]


def _external_namespace(workload_first: bool) -> Callable[[], None]:
    def declare() -> None:
        topo = _shop()
        outside = topo.add_namespace("prod/external", name="external", environment="prod")
        payments = ExternalEndpoint("payments", cidr="203.0.113.0/24", ports=[Port.tcp(443)])
        if workload_first:
            outside.workload("payments", labels={"app": "payments"})
            _wl(topo, "api").allow_to(payments)
        else:
            _wl(topo, "api").allow_to(payments)
            outside.workload("payments", labels={"app": "payments"})

    return declare


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


def _stage(**props: object) -> object:
    topo = _shop()
    pipeline = Pipeline(topo, "prod/etl", "etl")
    return pipeline.stage("load", namespace=topo.namespaces["shop"], **props)  # type: ignore[arg-type]


def _feeds_cycle_flag() -> None:
    topo = _shop()
    pipeline = Pipeline(topo, "prod/etl", "etl")
    a = pipeline.stage("a", namespace=topo.namespaces["shop"], ports=[Port.tcp(80)])
    b = pipeline.stage("b", namespace=topo.namespaces["shop"], ports=[Port.tcp(80)])
    a.feeds(b, cycle="no")  # type: ignore[arg-type]


def _deploys_to_another_stack() -> None:
    staging = Topology("staging")
    target = staging.add_namespace("staging/web", name="web", environment="prod")
    _stage(deploys_to=target)


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
        "ExternalEndpoint('bank'): cidr: '300.1.2.0/24' is not a valid CIDR "
        "(e.g. '203.0.113.0/24' or '2001:db8::/32')",
    ),
    (
        "cidr_with_host_bits",
        lambda: ExternalEndpoint("bank", cidr="203.0.113.7/24", ports=[Port.tcp(443)]),
        "ExternalEndpoint('bank'): cidr: '203.0.113.7/24' has host bits set; "
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
        "external_endpoint_named_like_a_workload_of_namespace_external",
        _external_namespace(workload_first=True),
        "prod/shop/api.allow_to(): destination: workload 'payments' of namespace 'external' and "
        "external endpoint 'payments' would both be external/payments in maps, findings and the "
        "intent record; rename one of them",
    ),
    (
        "workload_of_namespace_external_named_like_an_external_endpoint",
        _external_namespace(workload_first=False),
        "prod/external/payments: name: workload 'payments' of namespace 'external' and "
        "external endpoint 'payments' would both be external/payments in maps, findings and the "
        "intent record; rename one of them",
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
    # props of the wrong type: one validator per kind of prop, the same message everywhere
    (
        "workload_ports_a_bare_number",
        lambda: _shop().namespaces["shop"].workload("web", labels={"app": "w"}, ports=8080),
        "prod/shop/web: ports: 8080 is not a list of Ports; write ports=[Port.tcp(8080)]",
    ),
    (
        "workload_ports_a_bare_port",
        lambda: _shop().namespaces["shop"].workload("web", labels={"app": "w"}, ports=Port.udp(53)),
        "prod/shop/web: ports: Port.udp(53) is not a list of Ports; write ports=[Port.udp(53)]",
    ),
    (
        "allow_to_ports_a_bare_number",
        lambda: _wl((t := _shop()), "api").allow_to(_wl(t, "db"), ports=5432),
        "prod/shop/api.allow_to(): ports: 5432 is not a list of Ports; write "
        "ports=[Port.tcp(5432)]",
    ),
    (
        "raw_port_with_a_string_protocol",
        lambda: Port("tcp", 80),  # type: ignore[arg-type]
        "Port: protocol: 'tcp' is not a Protocol; build ports with Port.tcp(443), Port.udp(53), "
        "Port.tcp_range(8000, 8100) or Port.named('http')",
    ),
    (
        "raw_port_with_end_below_start",
        lambda: Port(Protocol.TCP, 8000, end=10),
        "Port: end: end port 10 is below start port 8000 (end must be >= start)",
    ),
    (
        "raw_port_out_of_range",
        lambda: Port(Protocol.UDP, 70000),
        "Port: number: port 70000 is outside the allowed range 1-65535",
    ),
    (
        "raw_port_with_invalid_name",
        lambda: Port(Protocol.TCP, None, None, "HTTP"),
        "Port: name: 'HTTP' is not a valid port name (1-15 lowercase letters, digits and '-', "
        "at least one letter, no '--', not starting or ending with '-')",
    ),
    (
        "raw_named_port_range",
        lambda: Port(Protocol.TCP, None, 9000, "http"),
        "Port: end: a range needs a numeric start: Kubernetes endPort works only with a numeric "
        "port",
    ),
    (
        "port_range_with_a_name",
        lambda: Port.of("TCP", 8000, end=8100, name="web"),
        "Port.tcp: name: a port range cannot carry a container port name",
    ),
    (
        "port_a_float",
        lambda: Port.tcp(8080.0),  # type: ignore[arg-type]
        "Port.tcp: port: 8080.0 is not a port number (an int from 1 to 65535, e.g. 8080)",
    ),
    (
        "port_a_bool",
        lambda: Port.tcp(True),
        "Port.tcp: port: True is not a port number (an int from 1 to 65535, e.g. 8080)",
    ),
    (
        "port_range_a_string",
        lambda: Port.udp_range(1000, "2000"),  # type: ignore[arg-type]
        "Port.udp_range: end: '2000' is not a port number (an int from 1 to 65535, e.g. 8080)",
    ),
    (
        "cidrs_a_bare_string",
        lambda: ExternalEndpoint("bank", cidrs="10.0.0.0/8"),
        "ExternalEndpoint('bank'): cidrs: '10.0.0.0/8' is not a list of CIDR strings; write "
        "cidrs=['10.0.0.0/8']",
    ),
    (
        "except_a_bare_string",
        lambda: ExternalEndpoint("bank", cidr="10.0.0.0/8", except_="10.1.0.0/16"),
        "ExternalEndpoint('bank'): except_: '10.1.0.0/16' is not a list of CIDR strings; write "
        "except_=['10.1.0.0/16']",
    ),
    (
        "cidr_and_cidrs_together",
        lambda: ExternalEndpoint("bank", cidr="10.0.0.0/8", cidrs=["192.0.2.0/24"]),
        "ExternalEndpoint('bank'): cidr: cidr='10.0.0.0/8' and cidrs=['192.0.2.0/24'] are both "
        "given; pass one CIDR as cidr= or several as cidrs=[...], not both",
    ),
    (
        "cidr_with_an_ipv6_zone",
        lambda: ExternalEndpoint("link", cidr="fe80::%eth0/64", ports=[Port.tcp(22)]),
        "ExternalEndpoint('link'): cidr: 'fe80::%eth0/64' has an IPv6 zone ('%...'); Kubernetes "
        "ipBlocks take plain CIDRs such as 'fe80::/64'",
    ),
    (
        "internet_a_string",
        lambda: ExternalEndpoint("any", cidr="0.0.0.0/0", internet="no"),  # type: ignore[arg-type]
        "ExternalEndpoint('any'): internet: 'no' is not True or False; write internet=True or "
        "internet=False",
    ),
    (
        "adopt_a_string",
        lambda: Topology("p").add_namespace(
            "p/x",
            name="x",
            environment="prod",
            adopt="no",  # type: ignore[arg-type]
        ),
        "p/x: adopt: 'no' is not True or False; write adopt=True or adopt=False",
    ),
    (
        "allow_dns_a_number",
        lambda: Topology("p").add_namespace(
            "p/x",
            name="x",
            environment="prod",
            allow_dns=1,  # type: ignore[arg-type]
        ),
        "p/x: allow_dns: 1 is not True or False; write allow_dns=True or allow_dns=False",
    ),
    (
        "cross_environment_a_string",
        lambda: _wl((t := _shop()), "api").allow_to(_wl(t, "db"), cross_environment="yes"),
        "prod/shop/api.allow_to(): cross_environment: 'yes' is not True or False; write "
        "cross_environment=True or cross_environment=False",
    ),
    (
        "stage_service_account_a_string",
        lambda: _stage(service_account="no"),
        "prod/etl/load: service_account: 'no' is not True or False; write "
        "service_account=True or service_account=False",
    ),
    (
        "stage_automount_token_a_number",
        lambda: _stage(automount_token=0),
        "prod/etl/load: automount_token: 0 is not True or False; write automount_token=True or "
        "automount_token=False",
    ),
    (
        "stage_labels_not_a_mapping",
        lambda: _stage(labels=["app"]),
        "prod/etl/load: labels: ['app'] is not a mapping of label keys to values",
    ),
    (
        "stage_labels_replace_the_stage_selector",
        lambda: _stage(labels={"netfence.io/stage": "other"}),
        "prod/etl/load: labels: label 'netfence.io/stage' is set by the pipeline to select the "
        "stage; leave it out",
    ),
    (
        "feeds_cycle_a_string",
        _feeds_cycle_flag,
        "prod/shop/a.feeds(): cycle: 'no' is not True or False; write cycle=True or cycle=False",
    ),
    (
        "deploys_to_a_namespace_of_another_stack",
        _deploys_to_another_stack,
        "prod/etl/load: deploys_to: namespace 'web' belongs to stack 'staging', not 'prod'; a "
        "deployer's Role and RoleBinding are written by its own stack, so it can only deploy to "
        "a namespace of that stack",
    ),
    (
        "stage_in_a_namespace_of_another_stack",
        lambda: Pipeline(_shop(), "prod/etl", "etl").stage(
            "load",
            namespace=Topology("staging").add_namespace(
                "staging/web", name="web", environment="prod"
            ),
        ),
        "prod/etl/load: namespace: namespace 'web' belongs to stack 'staging', not 'prod'",
    ),
    (
        "flow_to_a_workload_built_directly",
        lambda: _wl((t := _shop()), "api").allow_to(
            Workload(t.namespaces["shop"], "prod/shop/x", "x", (("app", "x"),), (Port.tcp(1),))
        ),
        "prod/shop/api.allow_to(): destination: workload shop/x was built directly, not "
        "declared; declare workloads with namespace.workload(id, labels=..., ports=[...])",
    ),
    (
        "deploys_to_not_a_namespace",
        lambda: _stage(deploys_to="web"),
        "prod/etl/load: deploys_to: 'web' is not a namespace of this stack (pass the "
        "ZeroTrustNamespace's model, or the construct itself)",
    ),
    (
        "prod_environments_a_bare_string",
        lambda: BuildEnvironment(_shop().namespaces["shop"], prod_environments="prod"),
        "prod/shop: prod_environments: 'prod' is not a list of environment names; write "
        "prod_environments=['prod']",
    ),
    (
        "dns_target_built_directly_with_a_bad_namespace",
        lambda: DnsTarget("Kube-System"),
        "DnsTarget: namespace: 'Kube-System' is not a DNS-1123 label (lowercase letters, digits "
        "and '-', starting and ending with a letter or digit, at most 63 characters)",
    ),
    (
        "dns_target_built_directly_without_ports",
        lambda: DnsTarget("kube-system", ports=()),
        "DnsTarget: ports: at least one port is required",
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


def test_a_raw_port_of_one_port_equals_the_factory_port() -> None:
    assert Port(Protocol.TCP, 80, 80) == Port.tcp(80)
    assert Port(Protocol.TCP, 80, 80).end is None


# A trailing newline passed every validator while they used re.match with '$';
# the API server and Terraform refuse it. Every validated string: the valid
# value is accepted, the same value with a trailing newline refused.
def _ns(**props: object) -> object:
    return Topology("p").add_namespace("p/x", **({"name": "x", "environment": "prod"} | props))  # type: ignore[arg-type]


def _web(**props: object) -> object:
    return _shop().namespaces["shop"].workload(**({"id": "web", "labels": {"app": "w"}} | props))  # type: ignore[arg-type]


def _in_pipeline(stage: str = "s", name: str = "p") -> object:
    topo = _shop()
    return Pipeline(topo, "prod/p", name).stage(stage, namespace=topo.namespaces["shop"])


NEWLINE_CASES: list[tuple[str, str, Callable[[str], object]]] = [
    ("namespace_name", "shop2", lambda v: _ns(name=v)),
    ("environment", "prod", lambda v: _ns(environment=v)),
    ("namespace_label_key", "team", lambda v: _ns(labels={v: "a"})),
    ("namespace_label_value", "a", lambda v: _ns(labels={"team": v})),
    ("label_key_prefix", "example.com", lambda v: _web(labels={f"{v}/app": "w"})),
    ("workload_id", "web", lambda v: _web(id=v)),
    ("workload_name", "web2", lambda v: _web(name=v)),
    ("selection_labels", "m", lambda v: _shop().namespaces["shop"].select({"app": v})),
    (
        "environment_selection",
        "prod",
        lambda v: WorkloadSelection.in_environment(v, labels={"app": "m"}),
    ),
    ("port_name", "http", lambda v: Port.tcp(80, name=v)),
    ("named_port", "http", lambda v: Port.named(v)),
    ("protocol", "TCP", lambda v: Port.of(v, 80)),
    ("endpoint_name", "bank", lambda v: ExternalEndpoint(v, cidr="192.0.2.0/24")),
    ("endpoint_cidr", "192.0.2.0/24", lambda v: ExternalEndpoint("e", cidr=v)),
    (
        "endpoint_except",
        "192.0.2.0/28",
        lambda v: ExternalEndpoint("e", cidr="192.0.2.0/24", except_=[v]),
    ),
    (
        "dns_namespace",
        "dns",
        lambda v: DnsTarget.create(namespace=v, labels={"a": "b"}, ports=[Port.udp(53)]),
    ),
    ("pipeline_name", "etl", lambda v: _in_pipeline(name=v)),
    ("stage_id", "load", lambda v: _in_pipeline(stage=v)),
    (
        "prod_environments",
        "live",
        lambda v: BuildEnvironment(_shop().namespaces["shop"], prod_environments=[v]),
    ),
]


@pytest.mark.parametrize(
    ("valid", "declare"), [c[1:] for c in NEWLINE_CASES], ids=[c[0] for c in NEWLINE_CASES]
)
def test_a_trailing_newline_is_refused_in_every_validated_string(
    valid: str, declare: Callable[[str], object]
) -> None:
    declare(valid)
    with pytest.raises(InvalidIntentError) as info:
        declare(valid + "\n")
    assert repr(valid + "\n") in str(info.value)


def _dollar_anchored(source: str) -> list[int]:
    """Lines of ``re.<fn>("...$")`` calls: '$' also matches before a trailing newline."""
    import ast

    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "re"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
        and node.args[0].value.endswith("$")
        and not node.args[0].value.endswith("\\$")
    ]


def test_no_pattern_in_the_library_is_anchored_with_dollar() -> None:
    """Patterns are written for re.fullmatch (see constructs_lib/syntax.py)."""
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "constructs_lib"
    offenders = [
        f"{path.relative_to(package.parent)}:{line}"
        for path in sorted(package.rglob("*.py"))
        for line in _dollar_anchored(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_dollar_check_would_catch_an_anchored_pattern() -> None:
    source = 'import re\nA = re.compile(r"^[a-z]+$")\nB = re.compile(r"\\$")\n'
    assert _dollar_anchored(source) == [2]
