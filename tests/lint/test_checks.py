"""Every lint check: a policy that triggers it, and a near miss that does not."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from semantics.netpol_builders import labels
from semantics.netpol_builders import policy as manifest

from constructs_lib.lint import RULES, Finding, LintResult, Severity, lint_paths
from constructs_lib.loaders import load_policies

DNS_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}
DNS_RULE = {
    "to": [DNS_PEER],
    "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
}
INVENTORY: dict[str, Any] = {
    "namespaces": {"shop": {"labels": {"team": "shop"}}, "ops": {"labels": {"team": "ops"}}},
    "workloads": [
        {"namespace": "shop", "name": "web", "labels": {"app": "web"},
         "ports": [{"port": 8080, "name": "http"}]},
        {"namespace": "shop", "name": "api", "labels": {"app": "api"},
         "ports": [{"port": 9090, "name": "grpc"}]},
        {"namespace": "ops", "name": "scraper", "labels": {"app": "scraper"}},
    ],
}  # fmt: skip


def policy(
    name: str,
    *,
    ns: str = "shop",
    select: dict[str, str] | None = None,
    types: list[str] | None = None,
    ingress: list[Any] | None = None,
    egress: list[Any] | None = None,
) -> dict[str, Any]:
    return manifest(name, ns, labels(**(select or {})), types=types, ingress=ingress, egress=egress)


def pods(labels: dict[str, str]) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": labels}}


def ip(cidr: str, *excepts: str) -> dict[str, Any]:
    block: dict[str, Any] = {"cidr": cidr}
    if excepts:
        block["except"] = list(excepts)
    return {"ipBlock": block}


def in_namespaces(**labels: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": labels}}


def from_api(port: int | str = 8080) -> dict[str, Any]:
    return {"from": [pods({"app": "api"})], "ports": [{"port": port}]}


DENY_BOTH = policy("default-deny", types=["Ingress", "Egress"], egress=[DNS_RULE])


def lint(
    tmp_path: Path, *docs: dict[str, Any], inventory: dict[str, Any] | None = None
) -> LintResult:
    file = tmp_path / "policies.yaml"
    file.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    inv = None
    if inventory is not None:
        inv = tmp_path / "inventory.yaml"
        inv.write_text(yaml.safe_dump(inventory, sort_keys=False))
    return lint_paths([file], inv)


def named(result: LintResult, rule: str) -> list[Finding]:
    return [f for f in result.findings if f.rule.name == rule]


@dataclass
class Case:
    rule: str
    bad: list[dict[str, Any]]
    good: list[dict[str, Any]]
    path: str  # where the finding points in the bad policy
    inventory: dict[str, Any] | None = None
    severity: Severity | None = None
    extra: dict[str, Any] = field(default_factory=dict)


WEB = {"app": "web"}
CASES = [
    Case(
        "empty-rule",
        [policy("web-in", select=WEB, types=["Ingress"], ingress=[{}])],
        [policy("web-in", select=WEB, types=["Ingress"], ingress=[from_api()])],
        "spec.ingress[0]",
    ),
    Case(
        "empty-rule",
        [policy("web-out", select=WEB, types=["Egress"], egress=[DNS_RULE, {}])],
        [policy("web-out", select=WEB, types=["Egress"], egress=[DNS_RULE])],
        "spec.egress[1]",
    ),
    Case(
        "all-namespaces-peer",
        [policy("web-in", select=WEB, types=["Ingress"],
                ingress=[from_api(), {"from": [{"namespaceSelector": {}}]}])],
        [policy("web-in", select=WEB, types=["Ingress"],
                ingress=[from_api(),
                         {"from": [{"namespaceSelector": {}, **pods({"app": "probe"})}]}])],
        "spec.ingress[1].from[0]",
        severity=Severity.WARNING,
    ),
    Case(
        "all-pods-peer",
        [policy("web-in", select=WEB, types=["Ingress"], ingress=[{"from": [pods({})]}])],
        [policy("web-in", select=WEB, types=["Ingress"], ingress=[from_api()])],
        "spec.ingress[0].from[0]",
        severity=Severity.INFO,
    ),
    Case(
        "ingress-from-internet",
        [policy("web-in", select=WEB, types=["Ingress"],
                ingress=[{"from": [ip("0.0.0.0/1"), ip("203.0.113.0/24")]}])],
        [policy("web-in", select=WEB, types=["Ingress"],
                ingress=[{"from": [ip("203.0.113.0/24")]}])],
        "spec.ingress[0].from[0].ipBlock",
    ),
    Case(
        "egress-without-dns",
        [policy("web-out", select=WEB, types=["Egress"], egress=[{"to": [pods({"app": "api"})]}])],
        [policy("web-out", select=WEB, types=["Egress"], egress=[{"to": [pods({"app": "api"})]}]),
         policy("dns", types=["Egress"], egress=[DNS_RULE])],
        "spec.podSelector",
    ),
    Case(
        "egress-without-dns",
        [policy("web-out", select=WEB, types=["Egress"], egress=[{"to": [pods({"app": "api"})]}]),
         policy("dns", select={"app": "api"}, types=["Egress"], egress=[DNS_RULE])],
        [policy("web-out", select=WEB, types=["Egress"], egress=[{"to": [pods({"app": "api"})]}]),
         policy("dns", select={"tier": "front"}, types=["Egress"], egress=[DNS_RULE])],
        "spec.podSelector",
        # per pod: web has tier=front in this inventory, so the DNS policy covers it
        inventory={"namespaces": {"shop": {}},
                   "workloads": [{"namespace": "shop", "name": "web",
                                  "labels": {"app": "web", "tier": "front"}}]},
    ),
    Case(
        "policy-types-omitted",
        [policy("web-out", select=WEB, egress=[DNS_RULE])],
        [policy("web-out", select=WEB, types=["Egress"], egress=[DNS_RULE])],
        "spec",
    ),
    Case(
        "rules-ignored",
        [policy("web-in", select=WEB, types=["Ingress"], ingress=[from_api()], egress=[DNS_RULE])],
        [policy("web-in", select=WEB, types=["Ingress", "Egress"], ingress=[from_api()],
                egress=[DNS_RULE])],
        "spec.egress",
    ),
    Case(
        "non-canonical-cidr",
        [policy("web-in", select=WEB, types=["Ingress"],
                ingress=[{"from": [{"ipBlock": {"cidr": "10.1.2.3/16"}}]}])],
        [policy("web-in", select=WEB, types=["Ingress"],
                ingress=[{"from": [{"ipBlock": {"cidr": "10.1.0.0/16"}}]}])],
        "spec.ingress[0].from[0].ipBlock.cidr",
    ),
    Case(
        "except-outside-cidr",
        [policy("web-in", select=WEB, types=["Ingress"],
                ingress=[{"from": [ip("10.0.0.0/16", "10.1.0.0/24")]}])],
        [policy("web-in", select=WEB, types=["Ingress"],
                ingress=[{"from": [ip("10.0.0.0/16", "10.0.1.0/24")]}])],
        "spec.ingress[0].from[0].ipBlock.except[0]",
    ),
    Case(
        "invalid-end-port",
        [policy("web-in", select=WEB, types=["Ingress"],
                ingress=[{"ports": [{"port": 9000, "endPort": 8000}]}])],
        [policy("web-in", select=WEB, types=["Ingress"],
                ingress=[{"ports": [{"port": 8000, "endPort": 9000}]}])],
        "spec.ingress[0].ports[0].endPort",
    ),
    Case(
        "invalid-end-port",
        [policy("web-in", select=WEB, types=["Ingress"],
                ingress=[{"ports": [{"port": "http", "endPort": 8081}]}])],
        [policy("web-in", select=WEB, types=["Ingress"], ingress=[{"ports": [{"port": "http"}]}])],
        "spec.ingress[0].ports[0].endPort",
    ),
    Case(
        "named-port-undeclared",
        [DENY_BOTH, policy("web-in", select=WEB, types=["Ingress"], ingress=[from_api("grpc")])],
        [DENY_BOTH, policy("web-in", select=WEB, types=["Ingress"], ingress=[from_api("http")])],
        "spec.ingress[0].ports[0]",
        inventory=INVENTORY,
    ),
    Case(
        "named-port-undeclared",
        [DENY_BOTH, policy("web-out", select=WEB, types=["Egress"],
                           egress=[{"to": [pods({"app": "api"})], "ports": [{"port": "http"}]}])],
        [DENY_BOTH, policy("web-out", select=WEB, types=["Egress"],
                           egress=[{"to": [pods({"app": "api"})], "ports": [{"port": "grpc"}]}])],
        "spec.egress[0].ports[0]",
        inventory=INVENTORY,
    ),
    Case(
        "selects-no-pod",
        [DENY_BOTH,
         policy("web-in", select={"app": "wbe"}, types=["Ingress"], ingress=[from_api()])],
        [DENY_BOTH, policy("web-in", select=WEB, types=["Ingress"], ingress=[from_api()])],
        "spec.podSelector",
        inventory=INVENTORY,
    ),
    Case(
        "no-default-deny",
        [policy("web-in", select=WEB, types=["Ingress"], ingress=[from_api()])],
        [DENY_BOTH, policy("web-in", select=WEB, types=["Ingress"], ingress=[from_api()])],
        "namespaces.shop",
        inventory={"namespaces": {"shop": {}},
                   "workloads": [{"namespace": "shop", "name": "web", "labels": WEB}]},
    ),
    Case(
        "half-open-namespace",
        [policy("deny-in", types=["Ingress"])],
        [policy("deny", types=["Ingress", "Egress"], egress=[DNS_RULE])],
        "spec.policyTypes",
        inventory={"namespaces": {"shop": {}},
                   "workloads": [{"namespace": "shop", "name": "web", "labels": WEB}]},
    ),
    Case(
        "half-open-namespace",  # without an inventory: any namespace with policies
        [policy("deny-out", types=["Egress"], egress=[DNS_RULE])],
        [policy("deny", types=["Ingress", "Egress"], egress=[DNS_RULE])],
        "spec.policyTypes",
    ),
    Case(
        "no-default-deny",  # namespaces given as a list
        [policy("web-in", select=WEB, types=["Ingress"], ingress=[from_api()])],
        [DENY_BOTH, policy("web-in", select=WEB, types=["Ingress"], ingress=[from_api()])],
        "namespaces[0]",
        inventory={"namespaces": [{"name": "shop"}],
                   "workloads": [{"namespace": "shop", "name": "web", "labels": WEB}]},
    ),
    Case(
        "peer-matches-nothing",
        [DENY_BOTH, policy("web-in", select=WEB, types=["Ingress"],
                           ingress=[{"from": [pods({"app": "apj"})]}])],
        [DENY_BOTH, policy("web-in", select=WEB, types=["Ingress"],
                           ingress=[{"from": [pods({"app": "api"})]}])],
        "spec.ingress[0].from[0]",
        inventory=INVENTORY,
    ),
    Case(
        "peer-matches-nothing",
        [DENY_BOTH, policy("web-in", select=WEB, types=["Ingress"],
                           ingress=[{"from": [in_namespaces(team="opz")]}])],
        [DENY_BOTH, policy("web-in", select=WEB, types=["Ingress"],
                           ingress=[{"from": [in_namespaces(team="ops")]}])],
        "spec.ingress[0].from[0]",
        inventory=INVENTORY,
        severity=Severity.INFO,
    ),
    Case(
        "shadowed-rule",
        [policy("web-in", select=WEB, types=["Ingress"], ingress=[
            {"from": [pods({"app": "api"})]},
            {"from": [pods({"app": "api", "v": "2"})], "ports": [{"port": 80}]},
        ])],
        [policy("web-in", select=WEB, types=["Ingress"], ingress=[
            {"from": [pods({"app": "api"})], "ports": [{"port": 8080}]},
            {"from": [pods({"app": "api", "v": "2"})], "ports": [{"port": 80}]},
        ])],
        "spec.ingress[1]",
    ),
    Case(
        "duplicate-policy",
        [policy("web-in", select=WEB, types=["Ingress"], ingress=[from_api()]),
         policy("web-in-copy", select=WEB, types=["Ingress"], ingress=[from_api()])],
        [policy("web-in", select=WEB, types=["Ingress"], ingress=[from_api()]),
         policy("web-in-copy", select=WEB, types=["Ingress"], ingress=[from_api(9090)])],
        "spec",
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.rule}:{c.path}")
def test_check_fires_on_the_bad_policy_and_not_on_the_near_miss(case: Case, tmp_path: Path) -> None:
    bad = named(lint(tmp_path, *case.bad, inventory=case.inventory), case.rule)
    assert [f.path for f in bad] == [case.path]
    assert bad[0].severity == (case.severity or bad[0].rule.severity)
    assert bad[0].line is not None and bad[0].message and bad[0].fix
    good = lint(tmp_path, *case.good, inventory=case.inventory)
    assert named(good, case.rule) == []


def test_every_rule_has_a_case() -> None:
    assert {c.rule for c in CASES} | {"duplicate-name"} == {r.name for r in RULES}


def test_rule_ids_are_unique_and_stable() -> None:
    assert [(r.id, r.name) for r in RULES][:3] == [
        ("NF101", "empty-rule"),
        ("NF102", "all-namespaces-peer"),
        ("NF103", "all-pods-peer"),
    ]
    assert len({r.id for r in RULES}) == len({r.name for r in RULES}) == len(RULES)


def test_a_clean_namespace_has_no_findings_at_all(tmp_path: Path) -> None:
    docs = [
        DENY_BOTH,
        policy("web-in", select=WEB, types=["Ingress"], ingress=[from_api("http")]),
        policy("api-out", select={"app": "api"}, types=["Egress"],
               egress=[{"to": [pods(WEB)], "ports": [{"port": 8080}]}]),
    ]  # fmt: skip
    inventory = {**INVENTORY, "workloads": INVENTORY["workloads"][:2]}
    result = lint(tmp_path, *docs, inventory=inventory)
    assert result.findings == ()
    assert result.policies == 3


def test_the_same_name_twice_is_an_error_finding_not_a_refusal(tmp_path: Path) -> None:
    first = policy("web-in", select=WEB, types=["Ingress"], ingress=[from_api()])
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(first))
    second = policy("web-in", select=WEB, types=["Ingress"], ingress=[from_api(9090)])
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(second))
    result = lint_paths([tmp_path])
    [dup] = named(result, "duplicate-name")
    assert dup.severity == Severity.ERROR
    assert dup.file == str(tmp_path / "b.yaml")
    assert dup.message == (
        f"policy shop/web-in is defined twice (first in {tmp_path / 'a.yaml'}, "
        f"{tmp_path / 'a.yaml'} (document 0)); Kubernetes keeps whichever is applied last"
    )


def test_an_only_all_namespaces_peer_is_a_deliberate_policy_and_only_info(tmp_path: Path) -> None:
    doc = policy("status", select=WEB, types=["Ingress"],
                 ingress=[{"from": [{"namespaceSelector": {}}]}])  # fmt: skip
    [f] = named(lint(tmp_path, doc), "all-namespaces-peer")
    assert f.severity == Severity.INFO


def test_policy_types_omitted_with_no_ingress_rules_says_it_denies_all_ingress(
    tmp_path: Path,
) -> None:
    [f] = named(lint(tmp_path, policy("web-out", select=WEB, egress=[DNS_RULE])),
                "policy-types-omitted")  # fmt: skip
    assert f.message == (
        "policyTypes is omitted and there are egress rules, so Kubernetes sets "
        "[Ingress, Egress]: the policy isolates the selected pods for ingress too; "
        "with no ingress rules it denies all ingress to them"
    )


def test_empty_policy_types_defaults_like_omitted(tmp_path: Path) -> None:
    """The API server defaults policyTypes when it is empty (len == 0), not only when absent."""
    doc = policy("web-out", select=WEB, types=[], egress=[DNS_RULE])
    file = tmp_path / "p.yaml"
    file.write_text(yaml.safe_dump(doc))
    [loaded] = load_policies(file)
    assert loaded.policy_types == ("Ingress", "Egress")
    assert loaded.declared_types is None
    assert [f.rule.name for f in lint_paths([file]).findings] == ["policy-types-omitted"]


def test_rules_of_an_ignored_direction_are_not_judged_otherwise(tmp_path: Path) -> None:
    doc = policy("web-in", select=WEB, types=["Ingress"], ingress=[from_api()], egress=[{}])
    assert [f.rule.name for f in lint(tmp_path, doc).findings] == ["rules-ignored"]


def test_non_canonical_cidr_message_names_the_network_address(tmp_path: Path) -> None:
    doc = policy("web-in", select=WEB, types=["Ingress"],
                 ingress=[{"from": [{"ipBlock": {"cidr": "10.1.2.3/16"}}]}])  # fmt: skip
    [f] = lint(tmp_path, doc).findings
    assert f.message == (
        "10.1.2.3/16 has host bits set; network plugins read it differently (as 10.1.0.0/16, "
        "as one address, or not at all) and netfence refuses it"
    )
    assert f.fix == "write 10.1.0.0/16"


def test_verify_and_reach_still_refuse_what_lint_reports(tmp_path: Path) -> None:
    from constructs_lib.errors import ArtifactError

    doc = policy("web-in", select=WEB, types=["Ingress"],
                 ingress=[{"ports": [{"port": 9000, "endPort": 8000}]}])  # fmt: skip
    file = tmp_path / "p.yaml"
    file.write_text(yaml.safe_dump(doc))
    with pytest.raises(ArtifactError, match=r"endPort 8000 is below port 9000$"):
        load_policies(file)


def test_dns_through_a_named_port_counts(tmp_path: Path) -> None:
    dns = {"to": [DNS_PEER], "ports": [{"port": "dns", "protocol": "UDP"}]}
    doc = policy("web-out", select=WEB, types=["Egress"], egress=[dns])
    assert named(lint(tmp_path, doc), "egress-without-dns") == []


def test_shadowing_by_an_ip_block_inside_a_wider_one(tmp_path: Path) -> None:
    doc = policy("web-in", select=WEB, types=["Ingress"], ingress=[
        {"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 443}]},
        {"from": [{"ipBlock": {"cidr": "10.2.0.0/16"}}], "ports": [{"port": 443}]},
    ])  # fmt: skip
    [f] = named(lint(tmp_path, doc), "shadowed-rule")
    assert f.path == "spec.ingress[1]"
    assert f.message == (
        "ingress rule 1 adds nothing: ingress rule 0 of the same policy already allows "
        "every peer and port it allows"
    )


def test_two_identical_rules_report_only_the_later_one(tmp_path: Path) -> None:
    doc = policy("web-in", select=WEB, types=["Ingress"], ingress=[from_api(), from_api()])
    assert [f.path for f in named(lint(tmp_path, doc), "shadowed-rule")] == ["spec.ingress[1]"]


def test_half_open_with_an_inventory_only_where_there_are_pods(tmp_path: Path) -> None:
    inventory = {"namespaces": {"shop": {}, "ops": {}},
                 "workloads": [{"namespace": "ops", "name": "x", "labels": {}}]}  # fmt: skip
    result = lint(tmp_path, policy("deny-in", types=["Ingress"]), inventory=inventory)
    assert [(f.rule.name, f.namespace) for f in result.findings] == [
        ("no-default-deny", "ops"),
        ("selects-no-pod", "shop"),
    ]
    [f] = named(lint(tmp_path, policy("deny-in", types=["Ingress"])), "half-open-namespace")
    assert f.message == (
        "namespace shop denies ingress by default but not egress: every pod stays open for egress"
    )
