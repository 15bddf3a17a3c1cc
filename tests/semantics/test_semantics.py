"""Table tests for Kubernetes NetworkPolicy semantics in the reachability engine.

Every expected verdict below is worked out by hand from the Kubernetes API
reference for NetworkPolicy v1 and the "Network Policies" concept page, never
from the engine's output. Each row is built so that a plausible shortcut (an
empty rule read as "no rule", a peer's selectors ORed, a named port resolved
against the source, ...) gets at least one verdict wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from netpol_builders import (
    Verdict,
    allow,
    cidr,
    deny,
    expr,
    external,
    from_rule,
    labels,
    peer,
    policy,
    port,
    selector,
    to_rule,
    workload,
)

from constructs_lib.errors import ArtifactError
from constructs_lib.verifier import reachability as reach

# The cluster most rows run against. Labels are chosen so that selectors can
# tell the pods apart along several axes: the same `pod` value in two
# namespaces (x/a, y/a), a pod without a `pod` key (z/d), a pod with `pod: a`
# but another tier (z/e), a namespace without labels (z), and the same port
# name bound to different numbers on different pods (`web`).
BASE: dict[str, Any] = {
    "namespaces": {
        "x": {"labels": {"team": "a"}},
        "y": {"labels": {"team": "b", "env": "prod"}},
        "z": {"labels": {}},
    },
    "workloads": [
        workload("x/a", {"pod": "a", "tier": "web"}, "10.0.1.1", (80, "TCP", "web")),
        workload(
            "x/b",
            {"pod": "b", "tier": "db"},
            "10.0.1.2",
            (80, "TCP", "http"),
            (81, "UDP", "stats"),
            (443, "TCP", "https"),
            (8080, "TCP", "web"),
            (9000, "SCTP", "sig"),
        ),
        workload("y/a", {"pod": "a", "tier": "web"}, "10.0.2.1", (80, "TCP", "web")),
        workload("y/b", {"pod": "b"}, "10.0.2.2", (80, "TCP", "http")),
        workload("z/c", {"pod": "c"}, "10.0.3.1", (80, "TCP", "http")),
        workload("z/d", {}, "10.0.3.2", (80, "TCP", "http")),
        workload("z/e", {"pod": "a", "tier": "batch"}, "10.0.3.3", (80, "TCP", "http")),
    ],
    "external": [
        external("internet", "203.0.113.7", (443, "TCP")),
        external("partner", "203.0.113.200", (443, "TCP")),
        external("v6svc", "2001:db8::10", (443, "TCP")),
        external("mirror", "2001:db8:1::1", (443, "TCP")),
    ],
}

INTERNET = "external/internet"
PARTNER = "external/partner"
V6SVC = "external/v6svc"
MIRROR = "external/mirror"

POD_A = labels(pod="a")
POD_B = labels(pod="b")
ALL = labels()


@dataclass(frozen=True)
class Case:
    id: str
    policies: list[dict[str, Any]]
    expect: list[Verdict]
    inventory: dict[str, Any] = field(default_factory=lambda: BASE)


def deny_all_ingress(namespace: str) -> dict[str, Any]:
    return policy(f"{namespace}-deny-ingress", namespace, ALL, types=["Ingress"])


def deny_all_egress(namespace: str) -> dict[str, Any]:
    return policy(f"{namespace}-deny-egress", namespace, ALL, types=["Egress"])


def ingress_to_xb(*rules: dict[str, Any]) -> list[dict[str, Any]]:
    """One policy that isolates x/b for ingress and allows ``rules``."""
    return [policy("xb-in", "x", POD_B, types=["Ingress"], ingress=list(rules))]


ISOLATION = [
    Case(
        "no_policy_allows_every_direction",
        [],
        [
            allow("x/a", "y/b", 80),
            allow("y/b", "x/a", 80),
            allow(INTERNET, "x/a", 80),
            allow("x/a", INTERNET, 443),
            allow("z/d", V6SVC, 443),
        ],
    ),
    Case(
        "ingress_isolation_leaves_egress_open",
        [policy("a-in", "x", POD_A, types=["Ingress"])],
        [
            deny("x/b", "x/a", 80),
            deny(INTERNET, "x/a", 80),
            allow("x/a", "y/b", 80),
            allow("x/a", INTERNET, 443),
            allow("y/a", "x/b", 80),
        ],
    ),
    Case(
        "egress_isolation_leaves_ingress_open",
        [policy("a-out", "x", POD_A, types=["Egress"])],
        [
            deny("x/a", "x/b", 80),
            deny("x/a", INTERNET, 443),
            allow("x/b", "x/a", 80),
            allow(INTERNET, "x/a", 80),
        ],
    ),
    Case(
        "policy_selects_only_pods_in_its_own_namespace",
        [policy("a-in", "x", POD_A, types=["Ingress"])],
        [deny("y/b", "x/a", 80), allow("x/b", "y/a", 80), allow("z/c", "z/e", 80)],
    ),
    Case(
        "omitted_policy_types_without_egress_rules_isolate_ingress_only",
        [policy("a", "x", POD_A, ingress=[from_rule([peer(POD_B)])])],
        [
            allow("x/b", "x/a", 80),
            deny("y/a", "x/a", 80),
            allow("x/a", "y/a", 80),
            allow("x/a", INTERNET, 443),
        ],
    ),
    Case(
        "omitted_policy_types_without_any_rules_isolate_ingress",
        [policy("a", "x", POD_A)],
        [deny("x/b", "x/a", 80), allow("x/a", "x/b", 80)],
    ),
    Case(
        "omitted_policy_types_with_egress_rules_isolate_both_directions",
        [policy("a", "x", POD_A, egress=[to_rule([peer(POD_B)])])],
        [
            allow("x/a", "x/b", 80),
            deny("x/a", "y/a", 80),
            deny("x/a", INTERNET, 443),
            # Ingress is implied too, and no ingress rule exists.
            deny("x/b", "x/a", 80),
            deny(INTERNET, "x/a", 80),
        ],
    ),
    Case(
        "empty_egress_list_without_policy_types_does_not_isolate_egress",
        [policy("a", "x", POD_A, egress=[])],
        [
            allow("x/a", "y/a", 80),
            allow("x/a", INTERNET, 443),
            deny("y/a", "x/a", 80),
        ],
    ),
    Case(
        "ingress_rules_ignored_when_ingress_not_in_explicit_policy_types",
        [
            policy(
                "a-out", "x", POD_A, types=["Egress"],
                ingress=[from_rule()], egress=[to_rule([peer(POD_B)])],
            ),
            policy("a-in", "x", POD_A, types=["Ingress"]),
        ],
        [
            deny("x/b", "x/a", 80),
            deny(INTERNET, "x/a", 80),
            allow("x/a", "x/b", 80),
            deny("x/a", "y/b", 80),
        ],
    ),
    Case(
        "egress_rules_ignored_when_egress_not_in_explicit_policy_types",
        [
            policy(
                "a-in", "x", POD_A, types=["Ingress"],
                ingress=[from_rule([peer(POD_B)])], egress=[to_rule([cidr("0.0.0.0/0")])],
            ),
            policy("a-out", "x", POD_A, types=["Egress"]),
        ],
        [
            deny("x/a", INTERNET, 443),
            deny("x/a", "y/b", 80),
            allow("x/b", "x/a", 80),
            deny("y/b", "x/a", 80),
        ],
    ),
    Case(
        "policy_types_order_is_irrelevant",
        [
            policy(
                "a", "x", POD_A, types=["Egress", "Ingress"],
                ingress=[from_rule([peer(POD_B)])], egress=[to_rule([peer(POD_B)])],
            )
        ],
        [
            allow("x/b", "x/a", 80),
            deny("y/a", "x/a", 80),
            allow("x/a", "x/b", 80),
            deny("x/a", "y/a", 80),
        ],
    ),
]

COMBINATION = [
    Case(
        "policies_selecting_one_pod_are_additive",
        [
            policy("from-b", "x", POD_A, types=["Ingress"], ingress=[from_rule([peer(POD_B)])]),
            policy(
                "from-team-b", "x", POD_A, types=["Ingress"],
                ingress=[from_rule([peer(namespaces=labels(team="b"))])],
            ),
        ],
        [
            allow("x/b", "x/a", 80),
            allow("y/a", "x/a", 80),
            allow("y/b", "x/a", 80),
            deny("z/c", "x/a", 80),
        ],
    ),
    Case(
        "allow_policy_wins_over_namespace_default_deny",
        [
            deny_all_ingress("x"),
            policy("a-open", "x", POD_A, types=["Ingress"], ingress=[from_rule()]),
        ],
        [
            allow("z/c", "x/a", 80),
            allow(INTERNET, "x/a", 80),
            deny("z/c", "x/b", 80),
            deny("x/a", "x/b", 80),
        ],
    ),
    Case(
        "egress_allowed_but_destination_ingress_denies",
        [
            policy(
                "a-out", "x", POD_A, types=["Egress"],
                egress=[to_rule([peer(namespaces=labels(team="b"))])],
            ),
            policy("b-in", "y", POD_B, types=["Ingress"]),
        ],
        [deny("x/a", "y/b", 80), allow("x/a", "y/a", 80), deny("x/a", "z/c", 80)],
    ),
    Case(
        "ingress_allowed_but_source_egress_denies",
        [
            policy(
                "b-in", "y", POD_B, types=["Ingress"],
                ingress=[from_rule([peer(namespaces=labels(team="a"))])],
            ),
            policy("a-out", "x", POD_A, types=["Egress"], egress=[to_rule([peer(POD_B)])]),
        ],
        [
            deny("x/a", "y/b", 80),
            allow("x/b", "y/b", 80),
            allow("x/a", "x/b", 80),
            deny("y/a", "y/b", 80),
        ],
    ),
]

RULES = [
    Case(
        "empty_ingress_rule_allows_all_sources_on_all_ports",
        ingress_to_xb(from_rule()),
        [
            allow("y/a", "x/b", 80),
            allow("z/d", "x/b", 81, "UDP"),
            allow("x/a", "x/b", 9000, "SCTP"),
            allow(INTERNET, "x/b", 443),
            allow(V6SVC, "x/b", 8080),
        ],
    ),
    Case(
        "empty_ingress_list_allows_no_source",
        ingress_to_xb(),
        [
            deny("y/a", "x/b", 80),
            deny("x/a", "x/b", 80),
            deny("z/d", "x/b", 81, "UDP"),
            deny(INTERNET, "x/b", 443),
        ],
    ),
    Case(
        "empty_egress_rule_allows_all_destinations",
        [policy("a-out", "x", POD_A, types=["Egress"], egress=[to_rule()])],
        [
            allow("x/a", "y/b", 80),
            allow("x/a", "x/b", 81, "UDP"),
            allow("x/a", INTERNET, 443),
            allow("x/a", V6SVC, 443),
        ],
    ),
    Case(
        "empty_from_list_allows_all_sources_on_the_listed_ports",
        ingress_to_xb(from_rule([], [port(80)])),
        [
            allow("y/a", "x/b", 80),
            allow(INTERNET, "x/b", 80),
            deny("y/a", "x/b", 81, "UDP"),
            deny("y/a", "x/b", 443),
        ],
    ),
    Case(
        "empty_to_list_allows_all_destinations_on_the_listed_ports",
        [policy("a-out", "x", POD_A, types=["Egress"], egress=[to_rule([], [port(443)])])],
        [
            allow("x/a", INTERNET, 443),
            allow("x/a", "x/b", 443),
            deny("x/a", "x/b", 80),
            deny("x/a", "y/b", 80),
        ],
    ),
    Case(
        "rule_without_ports_allows_every_port_and_protocol_from_its_peers",
        ingress_to_xb(from_rule([peer(POD_A)])),
        [
            allow("x/a", "x/b", 80),
            allow("x/a", "x/b", 81, "UDP"),
            allow("x/a", "x/b", 9000, "SCTP"),
            allow("x/a", "x/b", 12345),
            deny("y/a", "x/b", 80),
        ],
    ),
]

SELECTORS = [
    Case(
        "namespace_and_pod_selector_in_one_peer_are_anded",
        ingress_to_xb(from_rule([peer(POD_A, labels(team="b"))])),
        [
            allow("y/a", "x/b", 80),
            deny("y/b", "x/b", 80),
            deny("x/a", "x/b", 80),
            deny("z/e", "x/b", 80),
        ],
    ),
    Case(
        "namespace_and_pod_selector_in_two_peers_are_ored",
        ingress_to_xb(from_rule([peer(namespaces=labels(team="b")), peer(POD_A)])),
        [
            allow("y/a", "x/b", 80),
            allow("y/b", "x/b", 80),
            allow("x/a", "x/b", 80),
            deny("z/e", "x/b", 80),
            deny("z/c", "x/b", 80),
            deny(INTERNET, "x/b", 80),
        ],
    ),
    Case(
        "pod_selector_alone_selects_in_the_policy_namespace",
        ingress_to_xb(from_rule([peer(POD_A)])),
        [allow("x/a", "x/b", 80), deny("y/a", "x/b", 80), deny("z/e", "x/b", 80)],
    ),
    Case(
        "empty_pod_selector_alone_selects_all_pods_of_the_policy_namespace",
        ingress_to_xb(from_rule([peer(ALL)])),
        [allow("x/a", "x/b", 80), deny("y/a", "x/b", 80), deny(INTERNET, "x/b", 80)],
    ),
    Case(
        "empty_namespace_selector_selects_pods_in_all_namespaces",
        ingress_to_xb(from_rule([peer(namespaces=ALL)])),
        [
            allow("x/a", "x/b", 80),
            allow("y/b", "x/b", 80),
            allow("z/d", "x/b", 80),
            deny(INTERNET, "x/b", 80),
            deny(V6SVC, "x/b", 80),
        ],
    ),
    Case(
        "empty_namespace_selector_with_pod_selector_selects_those_pods_everywhere",
        ingress_to_xb(from_rule([peer(POD_A, ALL)])),
        [
            allow("x/a", "x/b", 80),
            allow("y/a", "x/b", 80),
            allow("z/e", "x/b", 80),
            deny("y/b", "x/b", 80),
            deny("z/c", "x/b", 80),
        ],
    ),
    Case(
        "namespace_selected_by_automatic_metadata_name_label",
        ingress_to_xb(
            from_rule([peer(namespaces=labels(**{"kubernetes.io/metadata.name": "y"}))])
        ),
        [
            allow("y/a", "x/b", 80),
            allow("y/b", "x/b", 80),
            deny("x/a", "x/b", 80),
            deny("z/c", "x/b", 80),
        ],
    ),
    Case(
        "match_expressions_in",
        ingress_to_xb(from_rule([peer(selector(None, expr("pod", "In", "a", "c")), ALL)])),
        [
            allow("x/a", "x/b", 80),
            allow("y/a", "x/b", 80),
            allow("z/c", "x/b", 80),
            allow("z/e", "x/b", 80),
            deny("y/b", "x/b", 80),
            deny("z/d", "x/b", 80),
        ],
    ),
    Case(
        "match_expressions_not_in_matches_pods_without_the_key",
        ingress_to_xb(from_rule([peer(selector(None, expr("pod", "NotIn", "a")), ALL)])),
        [
            allow("y/b", "x/b", 80),
            allow("z/c", "x/b", 80),
            allow("z/d", "x/b", 80),
            deny("x/a", "x/b", 80),
            deny("y/a", "x/b", 80),
            deny("z/e", "x/b", 80),
        ],
    ),
    Case(
        "match_expressions_exists_across_selected_namespaces",
        ingress_to_xb(from_rule([peer(selector(None, expr("tier", "Exists")), ALL)])),
        [
            allow("x/a", "x/b", 80),
            allow("y/a", "x/b", 80),
            allow("z/e", "x/b", 80),
            deny("y/b", "x/b", 80),
            deny("z/d", "x/b", 80),
        ],
    ),
    Case(
        "match_expressions_does_not_exist_matches_pods_without_the_key",
        ingress_to_xb(from_rule([peer(selector(None, expr("tier", "DoesNotExist")), ALL)])),
        [
            allow("y/b", "x/b", 80),
            allow("z/c", "x/b", 80),
            allow("z/d", "x/b", 80),
            deny("x/a", "x/b", 80),
            deny("y/a", "x/b", 80),
            deny("z/e", "x/b", 80),
        ],
    ),
    Case(
        "namespace_match_expressions_not_in_matches_namespaces_without_the_key",
        ingress_to_xb(from_rule([peer(namespaces=selector(None, expr("team", "NotIn", "a")))])),
        [
            allow("y/b", "x/b", 80),
            allow("z/d", "x/b", 80),
            deny("x/a", "x/b", 80),
        ],
    ),
    Case(
        "namespace_match_expressions_does_not_exist",
        ingress_to_xb(from_rule([peer(namespaces=selector(None, expr("team", "DoesNotExist")))])),
        [allow("z/c", "x/b", 80), deny("y/b", "x/b", 80), deny("x/a", "x/b", 80)],
    ),
    Case(
        "namespace_match_expressions_exists",
        ingress_to_xb(from_rule([peer(namespaces=selector(None, expr("env", "Exists")))])),
        [allow("y/a", "x/b", 80), deny("z/c", "x/b", 80), deny("x/a", "x/b", 80)],
    ),
    Case(
        "match_labels_and_match_expressions_are_anded",
        ingress_to_xb(
            from_rule([peer(selector({"pod": "a"}, expr("tier", "In", "web")), ALL)])
        ),
        [
            allow("x/a", "x/b", 80),
            allow("y/a", "x/b", 80),
            deny("z/e", "x/b", 80),
            deny("y/b", "x/b", 80),
        ],
    ),
    Case(
        "policy_pod_selector_with_match_expressions",
        [
            policy(
                "not-db", "x", selector(None, expr("tier", "NotIn", "db")), types=["Ingress"]
            )
        ],
        [deny("x/b", "x/a", 80), allow("x/a", "x/b", 80)],
    ),
]

IP_BLOCKS = [
    Case(
        "ip_block_admits_an_external_endpoint",
        [
            policy(
                "a-in", "x", POD_A, types=["Ingress"],
                ingress=[from_rule([cidr("203.0.113.0/24")])],
            )
        ],
        [
            allow(INTERNET, "x/a", 80),
            allow(PARTNER, "x/a", 80),
            deny(V6SVC, "x/a", 80),
            deny("y/a", "x/a", 80),
        ],
    ),
    Case(
        "ip_block_except_removes_part_of_the_cidr",
        [
            policy(
                "a-in", "x", POD_A, types=["Ingress"],
                ingress=[from_rule([cidr("203.0.113.0/24", "203.0.113.0/29")])],
            )
        ],
        [deny(INTERNET, "x/a", 80), allow(PARTNER, "x/a", 80)],
    ),
    Case(
        "ip_block_matches_a_pod_ip_as_a_slash_32",
        ingress_to_xb(from_rule([cidr("10.0.2.1/32")])),
        [allow("y/a", "x/b", 80), deny("y/b", "x/b", 80), deny("x/a", "x/b", 80)],
    ),
    Case(
        "ip_block_except_removes_pod_ips",
        ingress_to_xb(from_rule([cidr("10.0.0.0/16", "10.0.2.0/24")])),
        [
            allow("x/a", "x/b", 80),
            allow("z/c", "x/b", 80),
            deny("y/a", "x/b", 80),
            deny("y/b", "x/b", 80),
            deny(INTERNET, "x/b", 80),
        ],
    ),
    Case(
        "egress_ip_block_with_except_to_externals_and_pods",
        [
            policy(
                "a-out", "x", POD_A, types=["Egress"],
                egress=[to_rule([cidr("0.0.0.0/0", "203.0.113.0/25")])],
            )
        ],
        [
            deny("x/a", INTERNET, 443),
            allow("x/a", PARTNER, 443),
            allow("x/a", "y/b", 80),
            deny("x/a", V6SVC, 443),
        ],
    ),
    Case(
        "ipv6_ip_block_matches_ipv6_endpoints_only",
        [
            policy(
                "a-out", "x", POD_A, types=["Egress"],
                egress=[to_rule([cidr("2001:db8::/64")])],
            )
        ],
        [
            allow("x/a", V6SVC, 443),
            deny("x/a", MIRROR, 443),
            deny("x/a", INTERNET, 443),
            deny("x/a", "y/b", 80),
        ],
    ),
    Case(
        "ipv6_ip_block_except",
        [
            policy(
                "a-out", "x", POD_A, types=["Egress"],
                egress=[to_rule([cidr("::/0", "2001:db8::/120")])],
            )
        ],
        [allow("x/a", MIRROR, 443), deny("x/a", V6SVC, 443), deny("x/a", INTERNET, 443)],
    ),
    Case(
        "external_reaches_a_pod_only_through_an_ip_block",
        ingress_to_xb(from_rule([peer(ALL, ALL)]), from_rule([peer(ALL)])),
        [deny(INTERNET, "x/b", 80), deny(V6SVC, "x/b", 443), allow("z/d", "x/b", 80)],
    ),
    Case(
        "default_deny_egress_blocks_external_endpoints",
        [deny_all_egress("x")],
        [
            deny("x/a", INTERNET, 443),
            deny("x/b", V6SVC, 443),
            allow("y/a", INTERNET, 443),
            allow(INTERNET, "x/a", 80),
        ],
    ),
    Case(
        "workload_without_ip_is_not_matched_by_any_ip_block",
        [policy("c-in", "z", labels(pod="c"), types=["Ingress"],
                ingress=[from_rule([cidr("0.0.0.0/0")])])],
        [deny("z/noip", "z/c", 80), allow("x/a", "z/c", 80), allow(INTERNET, "z/c", 80)],
        {
            **BASE,
            "workloads": [*BASE["workloads"], workload("z/noip", {"pod": "n"}, None)],
        },
    ),
]

PORTS = [
    Case(
        "numeric_port_allows_only_that_port",
        ingress_to_xb(from_rule(ports=[port(80, "TCP")])),
        [
            allow("y/a", "x/b", 80),
            deny("y/a", "x/b", 443),
            deny("y/a", "x/b", 8080),
            deny("y/a", "x/b", 80, "UDP"),
        ],
    ),
    Case(
        "end_port_range_is_inclusive",
        ingress_to_xb(from_rule(ports=[port(443, "TCP", end=8080)])),
        [
            allow("y/a", "x/b", 443),
            allow("y/a", "x/b", 8080),
            allow("y/a", "x/b", 5000),
            deny("y/a", "x/b", 442),
            deny("y/a", "x/b", 8081),
            deny("y/a", "x/b", 80),
            deny("y/a", "x/b", 1000, "UDP"),
        ],
    ),
    Case(
        "protocols_are_distinct",
        ingress_to_xb(from_rule(ports=[port(81, "UDP")])),
        [
            allow("y/a", "x/b", 81, "UDP"),
            deny("y/a", "x/b", 81, "TCP"),
            deny("y/a", "x/b", 81, "SCTP"),
        ],
    ),
    Case(
        "sctp_port",
        ingress_to_xb(from_rule(ports=[port(9000, "SCTP")])),
        [allow("y/a", "x/b", 9000, "SCTP"), deny("y/a", "x/b", 9000, "TCP")],
    ),
    Case(
        "port_without_protocol_means_tcp",
        ingress_to_xb(from_rule(ports=[port(81)])),
        [allow("y/a", "x/b", 81, "TCP"), deny("y/a", "x/b", 81, "UDP")],
    ),
    Case(
        "protocol_without_port_means_every_port_of_that_protocol",
        ingress_to_xb(from_rule(ports=[port(protocol="UDP")])),
        [
            allow("y/a", "x/b", 81, "UDP"),
            allow("y/a", "x/b", 53, "UDP"),
            deny("y/a", "x/b", 80),
            deny("y/a", "x/b", 9000, "SCTP"),
        ],
    ),
    Case(
        "ports_of_different_rules_do_not_mix_with_their_peers",
        ingress_to_xb(
            from_rule([peer(POD_A)], [port(80)]),
            from_rule([peer(namespaces=labels(team="b"))], [port(443)]),
        ),
        [
            allow("x/a", "x/b", 80),
            deny("x/a", "x/b", 443),
            allow("y/b", "x/b", 443),
            deny("y/b", "x/b", 80),
        ],
    ),
    Case(
        "named_port_only_some_destination_pods_declare",
        [policy("web-in", "x", ALL, types=["Ingress"], ingress=[from_rule(ports=[port("web")])])],
        [
            allow("y/b", "x/a", 80),
            allow("y/b", "x/b", 8080),
            deny("y/b", "x/b", 80),
            deny("y/b", "x/b", 443),
        ],
    ),
    Case(
        "named_port_in_egress_resolves_against_the_destination",
        [
            policy(
                "a-out", "x", POD_A, types=["Egress"],
                egress=[to_rule([peer(namespaces=ALL)], [port("web")])],
            )
        ],
        [
            allow("x/a", "x/b", 8080),
            deny("x/a", "x/b", 80),
            allow("x/a", "y/a", 80),
            deny("x/a", "y/b", 80),
        ],
    ),
    Case(
        "named_port_with_its_protocol",
        ingress_to_xb(from_rule(ports=[port("stats", "UDP")])),
        [allow("y/a", "x/b", 81, "UDP"), deny("y/a", "x/b", 80), deny("y/a", "x/b", 81, "TCP")],
    ),
    Case(
        "named_port_to_an_external_endpoint_matches_nothing",
        [
            policy(
                "a-out", "x", POD_A, types=["Egress"],
                egress=[to_rule([cidr("0.0.0.0/0")], [port("https")])],
            )
        ],
        [deny("x/a", INTERNET, 443), allow("x/a", "x/b", 443), deny("x/a", "x/b", 80)],
    ),
]

DNS_INVENTORY: dict[str, Any] = {
    "namespaces": {"kube-system": {"labels": {}}, "shop": {"labels": {"team": "shop"}}},
    "workloads": [
        workload(
            "kube-system/coredns",
            {"k8s-app": "kube-dns"},
            "10.96.0.10",
            (53, "UDP", "dns"),
            (53, "TCP", "dns-tcp"),
        ),
        workload("shop/api", {"app": "api"}, "10.1.0.1", (8080, "TCP", "http")),
        workload("shop/db", {"app": "db"}, "10.1.0.2", (5432, "TCP", "pg")),
    ],
    "external": [external("internet", "198.51.100.1", (443, "TCP"))],
}

ZERO_TRUST_SHOP = [
    policy("default-deny", "shop", ALL, types=["Ingress", "Egress"]),
    policy(
        "allow-dns", "shop", ALL, types=["Egress"],
        egress=[
            to_rule(
                [
                    peer(
                        labels(**{"k8s-app": "kube-dns"}),
                        labels(**{"kubernetes.io/metadata.name": "kube-system"}),
                    )
                ],
                [port(53, "UDP"), port(53, "TCP")],
            )
        ],
    ),
    policy(
        "api-egress", "shop", labels(app="api"), types=["Egress"],
        egress=[to_rule([peer(labels(app="db"))], [port(5432, "TCP")])],
    ),
    policy(
        "db-ingress", "shop", labels(app="db"), types=["Ingress"],
        ingress=[from_rule([peer(labels(app="api"))], [port(5432, "TCP")])],
    ),
]

ZERO_TRUST = [
    Case(
        "zero_trust_namespace_allows_declared_flow_and_dns_only",
        ZERO_TRUST_SHOP,
        [
            allow("shop/api", "shop/db", 5432),
            deny("shop/db", "shop/api", 8080),
            allow("shop/api", "kube-system/coredns", 53, "UDP"),
            allow("shop/db", "kube-system/coredns", 53, "TCP"),
            deny("shop/api", "external/internet", 443),
            deny("external/internet", "shop/api", 8080),
            allow("kube-system/coredns", "external/internet", 443),
            deny("kube-system/coredns", "shop/api", 8080),
        ],
        DNS_INVENTORY,
    ),
]

CASES = ISOLATION + COMBINATION + RULES + SELECTORS + IP_BLOCKS + PORTS + ZERO_TRUST


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_verdicts(case: Case) -> None:
    result = reach(case.policies, case.inventory)
    wrong = [
        str(verdict)
        for verdict in case.expect
        if result.allowed(verdict.source, verdict.destination, verdict.port, verdict.protocol)
        is not verdict.allowed
    ]
    assert wrong == [], "expected but not computed: " + "; ".join(wrong)


def test_protocol_defaults_to_tcp_in_allowed() -> None:
    result = reach(ingress_to_xb(from_rule(ports=[port(443, "TCP")])), BASE)
    assert result.allowed("y/a", "x/b", 443) is True
    assert result.allowed("y/a", "x/b", 80) is False


# -- the whole matrix ---------------------------------------------------------

SMALL: dict[str, Any] = {
    "namespaces": {"x": {"labels": {}}, "y": {"labels": {}}},
    "workloads": [
        workload("x/a", {"app": "a"}, "10.0.0.1", (80, "TCP", "web")),
        workload("x/b", {"app": "b"}, "10.0.0.2", (53, "UDP", "dns"), (80, "TCP", "web")),
        workload("y/c", {"app": "c"}, "10.0.1.1", (443, "TCP", "https")),
    ],
    "external": [external("internet", "203.0.113.7", (443, "TCP"))],
}

SMALL_POLICIES = [
    policy("deny-in", "x", ALL, types=["Ingress"]),
    policy(
        "b-in", "x", labels(app="b"), types=["Ingress"],
        ingress=[from_rule([peer(namespaces=ALL)], [port("dns", "UDP")])],
    ),
    policy(
        "c-out", "y", ALL, types=["Egress"],
        egress=[to_rule([peer(namespaces=ALL)], [port(53, "UDP")])],
    ),
]


def entry(source: str, destination: str, number: int, protocol: str, ok: bool) -> dict[str, Any]:
    return {
        "from": source,
        "to": destination,
        "port": number,
        "protocol": protocol,
        "allowed": ok,
    }


SMALL_MATRIX = [
    entry(INTERNET, "x/a", 80, "TCP", False),
    entry(INTERNET, "x/b", 53, "UDP", False),
    entry(INTERNET, "x/b", 80, "TCP", False),
    entry(INTERNET, "y/c", 443, "TCP", True),
    entry("x/a", INTERNET, 443, "TCP", True),
    entry("x/a", "x/b", 53, "UDP", True),
    entry("x/a", "x/b", 80, "TCP", False),
    entry("x/a", "y/c", 443, "TCP", True),
    entry("x/b", INTERNET, 443, "TCP", True),
    entry("x/b", "x/a", 80, "TCP", False),
    entry("x/b", "y/c", 443, "TCP", True),
    entry("y/c", INTERNET, 443, "TCP", False),
    entry("y/c", "x/a", 80, "TCP", False),
    entry("y/c", "x/b", 53, "UDP", True),
    entry("y/c", "x/b", 80, "TCP", False),
]

OPEN: dict[str, Any] = {
    "namespaces": {"x": {"labels": {}}},
    "workloads": [
        workload("x/a", {"app": "a"}, "10.0.0.1", (80, "TCP", "web")),
        workload("x/b", {"app": "b"}, "10.0.0.2", (80, "TCP", "web"), (9000, "SCTP", "sig")),
    ],
    "external": [external("ext", "192.0.2.1", (443, "TCP"), (53, "UDP"))],
}

# Ports sort as numbers (53 before 443) and self pairs (x/a -> x/a) are absent.
OPEN_MATRIX = [
    entry("external/ext", "x/a", 80, "TCP", True),
    entry("external/ext", "x/b", 80, "TCP", True),
    entry("external/ext", "x/b", 9000, "SCTP", True),
    entry("x/a", "external/ext", 53, "UDP", True),
    entry("x/a", "external/ext", 443, "TCP", True),
    entry("x/a", "x/b", 80, "TCP", True),
    entry("x/a", "x/b", 9000, "SCTP", True),
    entry("x/b", "external/ext", 53, "UDP", True),
    entry("x/b", "external/ext", 443, "TCP", True),
    entry("x/b", "x/a", 80, "TCP", True),
]

ZERO_TRUST_MATRIX = [
    entry("external/internet", "kube-system/coredns", 53, "TCP", True),
    entry("external/internet", "kube-system/coredns", 53, "UDP", True),
    entry("external/internet", "shop/api", 8080, "TCP", False),
    entry("external/internet", "shop/db", 5432, "TCP", False),
    entry("kube-system/coredns", "external/internet", 443, "TCP", True),
    entry("kube-system/coredns", "shop/api", 8080, "TCP", False),
    entry("kube-system/coredns", "shop/db", 5432, "TCP", False),
    entry("shop/api", "external/internet", 443, "TCP", False),
    entry("shop/api", "kube-system/coredns", 53, "TCP", True),
    entry("shop/api", "kube-system/coredns", 53, "UDP", True),
    entry("shop/api", "shop/db", 5432, "TCP", True),
    entry("shop/db", "external/internet", 443, "TCP", False),
    entry("shop/db", "kube-system/coredns", 53, "TCP", True),
    entry("shop/db", "kube-system/coredns", 53, "UDP", True),
    entry("shop/db", "shop/api", 8080, "TCP", False),
]


@pytest.mark.parametrize(
    ("policies", "inventory", "expected"),
    [
        pytest.param(SMALL_POLICIES, SMALL, SMALL_MATRIX, id="mixed_isolation_and_named_port"),
        pytest.param([], OPEN, OPEN_MATRIX, id="no_policies_every_pair_but_self"),
        pytest.param(ZERO_TRUST_SHOP, DNS_INVENTORY, ZERO_TRUST_MATRIX, id="zero_trust_with_dns"),
    ],
)
def test_to_json_lists_every_pair_and_port_sorted(
    policies: list[dict[str, Any]], inventory: dict[str, Any], expected: list[dict[str, Any]]
) -> None:
    assert reach(policies, inventory).to_json() == {"connections": expected}


@pytest.mark.parametrize(
    ("bad_port", "field_name"),
    [
        pytest.param(port("web", "TCP", end=90), "endPort", id="end_port_with_named_port"),
        pytest.param(port(90, "TCP", end=80), "endPort", id="end_port_below_port"),
        pytest.param(port(80, "ICMP"), "protocol", id="protocol_outside_tcp_udp_sctp"),
    ],
)
def test_refuses_ports_the_api_server_rejects(bad_port: dict[str, Any], field_name: str) -> None:
    """NetworkPolicyPort validation: such a policy never exists in a cluster, so no verdict."""
    with pytest.raises(ArtifactError, match=field_name):
        reach(ingress_to_xb(from_rule(ports=[bad_port])), BASE)
