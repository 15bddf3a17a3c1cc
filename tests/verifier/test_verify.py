"""``verify`` on hand-written stacks: exact is clean, each defect gives its finding."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.verifier import verify_stack

from .stacks import RECORD, exact_stack, policies, write_stack

Mutation = Callable[[dict[str, Any]], None]
DB_IN = "kubernetes_network_policy_v1.shop_db-ingress (shop/db-ingress)"
API_OUT = "kubernetes_network_policy_v1.shop_api-egress (shop/api-egress)"
API_IN = "kubernetes_network_policy_v1.shop_api-ingress (shop/api-ingress)"
DENY = "kubernetes_network_policy_v1.shop_default-deny (shop/default-deny)"
DNS = "kubernetes_network_policy_v1.shop_allow-dns (shop/allow-dns)"


def findings(tmp_path: Path, mutate: Mutation) -> list[str]:
    data = exact_stack()
    mutate(data)
    return [str(f) for f in verify_stack(write_stack(tmp_path, data)).findings]


def spec(data: dict[str, Any], name: str) -> dict[str, Any]:
    result: dict[str, Any] = policies(data)[f"shop_{name}"]["spec"]
    return result


def test_exact_stack_has_no_findings(tmp_path: Path) -> None:
    result = verify_stack(write_stack(tmp_path, exact_stack()))
    assert result.ok
    assert [(s.stack, s.policies, s.flows) for s in result.stacks] == [("prod", 5, 3)]


def test_all_stacks_under_cdktf_out(tmp_path: Path) -> None:
    write_stack(tmp_path, exact_stack(), "prod")
    broken = exact_stack()
    del policies(broken)["shop_default-deny"]
    write_stack(tmp_path, broken, "staging")
    result = verify_stack(tmp_path / "cdktf.out")
    assert [(s.stack, bool(s.findings)) for s in result.stacks] == [
        ("prod", False),
        ("prod", True),
    ]
    assert "default-deny: namespace shop has no default-deny policy" in str(result.findings[0])


def close_db_port(data: dict[str, Any]) -> None:
    spec(data, "db-ingress")["ingress"][0]["ports"][0]["port"] = "5433"


def shrink_payments_block(data: dict[str, Any]) -> None:
    spec(data, "api-egress")["egress"][1]["to"][0]["ip_block"]["cidr"] = "203.0.113.0/25"


def drop_dns(data: dict[str, Any]) -> None:
    del policies(data)["shop_allow-dns"]


def open_db_to_api(data: dict[str, Any]) -> None:
    policies(data)["shop_db-egress"] = {
        "metadata": {"name": "db-egress", "namespace": "shop"},
        "spec": {
            "pod_selector": {"match_labels": {"app": "db"}},
            "policy_types": ["Egress"],
            "egress": [
                {
                    "to": [{"pod_selector": {"match_labels": {"app": "api"}}}],
                    "ports": [{"port": "8080"}],
                }
            ],
        },
    }
    spec(data, "api-ingress")["ingress"].append(
        {"from": [{"pod_selector": {"match_labels": {"app": "db"}}}], "ports": [{"port": "http"}]}
    )


def drop_db_ports(data: dict[str, Any]) -> None:
    del spec(data, "db-ingress")["ingress"][0]["ports"]
    del spec(data, "api-egress")["egress"][0]["ports"]


def admit_other_namespaces(data: dict[str, Any]) -> None:
    spec(data, "db-ingress")["ingress"][0]["from"].append(
        {
            "namespace_selector": {
                "match_expressions": [{"key": "team", "operator": "NotIn", "values": ["shop"]}]
            }
        }
    )


def widen_payments_block(data: dict[str, Any]) -> None:
    spec(data, "api-egress")["egress"][1]["to"][0]["ip_block"]["cidr"] = "203.0.112.0/23"


def open_egress(data: dict[str, Any]) -> None:
    spec(data, "api-egress")["egress"][1]["to"][0]["ip_block"] = {
        "cidr": "0.0.0.0/0",
        "except": ["203.0.112.0/24"],
    }


def drop_default_deny(data: dict[str, Any]) -> None:
    del policies(data)["shop_default-deny"]


def db_from_whole_namespace(data: dict[str, Any]) -> None:
    spec(data, "db-ingress")["ingress"][0]["from"] = [{"pod_selector": {}}]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            close_db_port,
            [
                "missing-flow: declared flow shop/api -> shop/db is not allowed on TCP 5432 "
                f"(blocked at ingress of shop/db) [{DB_IN}; {DENY}]",
            ],
        ),
        (
            shrink_payments_block,
            [
                "missing-flow: declared flow shop/api -> external/payments is not allowed on "
                "TCP 443 for 203.0.113.128/25 (blocked at egress of shop/api) "
                f"[{DNS}; {API_OUT}; {DENY}]",
            ],
        ),
        (
            drop_dns,
            [
                "dns: an unlisted pod in namespace shop cannot reach DNS (kube-system "
                f"k8s-app=kube-dns) on TCP 53, UDP 53 (blocked at egress of an unlisted pod in "
                f"namespace shop) [{DENY}]",
                "dns: shop/api cannot reach DNS (kube-system k8s-app=kube-dns) on TCP 53, UDP 53 "
                f"(blocked at egress of shop/api) [{API_OUT}; {DENY}]",
                "dns: shop/db cannot reach DNS (kube-system k8s-app=kube-dns) on TCP 53, UDP 53 "
                f"(blocked at egress of shop/db) [{DENY}]",
            ],
        ),
        (
            open_db_to_api,
            [
                "undeclared-flow: shop/db -> shop/api is allowed on TCP 8080 but no flow is "
                "declared "
                f"[{API_IN}; kubernetes_network_policy_v1.shop_db-egress (shop/db-egress)]",
            ],
        ),
        (
            drop_db_ports,
            [
                "excess-ports: shop/api -> shop/db is allowed on TCP 1-5431, TCP 5433-65535, "
                f"UDP any port, SCTP any port beyond the declared TCP 5432 [{API_OUT}; {DB_IN}]",
            ],
        ),
        (
            widen_payments_block,
            [
                "internet: shop/api -> addresses outside every declared external endpoint "
                f"(in 203.0.112.0/23) is allowed on TCP 443 [{API_OUT}]",
            ],
        ),
        (
            open_egress,
            [
                "internet: shop/api -> addresses outside every declared external endpoint "
                f"(in 0.0.0.0/0 except 203.0.112.0/24) is allowed on TCP 443 [{API_OUT}]",
                "pod-ip: shop/api-egress egress rule 1 peer 0: ipBlock 0.0.0.0/0 except "
                "203.0.112.0/24 (for external/payments) reaches pods at 10.244.0.0/16 by IP "
                "(pods have IPs in the pod CIDRs 10.244.0.0/16), pods the intent did not name; "
                "except the pod CIDRs from the ipBlock (netfence does for the endpoints it "
                "compiles), or declare the endpoint with include_cluster_ranges=True if pods "
                f"are meant to match [{API_OUT}]",
                "open-egress: shop/api-egress egress rule 1 allows 0.0.0.0/0 except "
                "203.0.112.0/24, which covers the internet, but no external endpoint is "
                f"declared with internet=true [{API_OUT}]",
            ],
        ),
        (
            db_from_whole_namespace,
            [
                "wildcard-peer: shop/db-ingress ingress rule 0 peer 0 selects all pods in "
                f"namespace shop [{DB_IN}]",
            ],
        ),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_each_defect_gives_exactly_its_finding(
    tmp_path: Path, mutate: Mutation, expected: list[str]
) -> None:
    assert findings(tmp_path, mutate) == expected


def test_pods_outside_the_intent_are_reported(tmp_path: Path) -> None:
    found = findings(tmp_path, admit_other_namespaces)
    assert (
        "unlisted-pod: any pod in an unlisted namespace -> shop/db is allowed on TCP 5432 but no "
        f"flow is declared (egress of the source is not isolated) [{DB_IN}]"
    ) in found
    assert (
        "undeclared-flow: DNS (kube-system k8s-app=kube-dns) -> shop/db is allowed on TCP 5432 "
        f"but no flow is declared (egress of the source is not isolated) [{DB_IN}]"
    ) in found


def test_missing_default_deny_is_reported_with_what_it_opens(tmp_path: Path) -> None:
    found = findings(tmp_path, drop_default_deny)
    assert found[0] == (
        "default-deny: namespace shop has no default-deny policy (empty podSelector, policyTypes "
        "Ingress and Egress, no rules)"
    )
    assert any(
        f.startswith(
            "unlisted-pod: any pod in an unlisted namespace -> an unlisted pod "
            "in namespace shop is allowed on any port"
        )
        for f in found
    )


def test_declared_selection_of_all_pods_is_not_a_wildcard(tmp_path: Path) -> None:
    def select_all_of_prod(data: dict[str, Any]) -> None:
        data["//"]["metadata"]["netfence"]["flows"][0]["from"]["labels"] = {}
        spec(data, "api-ingress")["ingress"][0]["from"][0]["pod_selector"] = {}

    assert findings(tmp_path, select_all_of_prod) == []
    assert RECORD["flows"][0]["from"]["labels"] == {"app": "prometheus"}


def _with_sites(mutate: Mutation) -> Mutation:
    """``mutate``, on a record that says where each flow was declared (``declared_at``)."""

    def both(data: dict[str, Any]) -> None:
        flows = data["//"]["metadata"]["netfence"]["flows"]
        flows[0]["declared_at"] = "prod/shop/api.allow_from()"
        flows[1]["declared_at"] = "prod/shop/api.allow_to()"
        flows[2]["declared_at"] = "prod/shop/api.allow_to()"
        mutate(data)

    return both


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            close_db_port,
            "missing-flow: declared flow shop/api -> shop/db is not allowed on TCP 5432 "
            f"(blocked at ingress of shop/db; declared at prod/shop/api.allow_to()) [{DB_IN}; "
            f"{DENY}]",
        ),
        (
            shrink_payments_block,
            "missing-flow: declared flow shop/api -> external/payments is not allowed on "
            "TCP 443 for 203.0.113.128/25 (blocked at egress of shop/api; declared at "
            f"prod/shop/api.allow_to()) [{DNS}; {API_OUT}; {DENY}]",
        ),
        (
            drop_db_ports,
            "excess-ports: shop/api -> shop/db is allowed on TCP 1-5431, TCP 5433-65535, "
            "UDP any port, SCTP any port beyond the TCP 5432 declared at "
            f"prod/shop/api.allow_to() [{API_OUT}; {DB_IN}]",
        ),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_a_finding_on_a_declared_flow_names_where_it_was_declared(
    tmp_path: Path, mutate: Mutation, expected: str
) -> None:
    assert findings(tmp_path, _with_sites(mutate)) == [expected]


def test_a_pair_declared_twice_names_both_sites(tmp_path: Path) -> None:
    def second_flow(data: dict[str, Any]) -> None:
        flows = data["//"]["metadata"]["netfence"]["flows"]
        flows.append({**flows[2], "ports": [{"port": 5433, "protocol": "TCP"}],
                      "declared_at": "prod/shop/db.allow_from()"})  # fmt: skip

    assert findings(tmp_path, _with_sites(second_flow)) == [
        "missing-flow: declared flow shop/api -> shop/db is not allowed on TCP 5433 "
        "(blocked at egress of shop/api and ingress of shop/db; declared at "
        f"prod/shop/api.allow_to(), prod/shop/db.allow_from()) [{DNS}; {API_OUT}; {DB_IN}; "
        f"{DENY}]",
    ]
