"""The checks: small functions over loaded policies, each yielding findings.

``POLICY_CHECKS`` look at one policy, ``SET_CHECKS`` at all policies at once,
``INVENTORY_CHECKS`` at the policies against the pods of an inventory.
Every finding carries the field path the loaders use (prefix of the policy
object included); lint turns it into a line afterwards.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from constructs_lib.addresses import covers_internet, internet_coverage
from constructs_lib.lint.cover import implies, own_namespace, rule_covers
from constructs_lib.lint.finding import RULE_BY_NAME, Finding, Severity
from constructs_lib.lint.locate import join_path, split_path
from constructs_lib.loaders._spec import KUBERNETES, TERRAFORM, Spelling
from constructs_lib.loaders.inventory import NAME_LABEL, Inventory, Workload
from constructs_lib.loaders.network_policy import (
    EGRESS,
    INGRESS,
    LabelSelector,
    NetworkPolicy,
    Peer,
    PolicyRule,
)
from constructs_lib.verifier.engine import rule_connections
from constructs_lib.verifier.selectors import LabelIndex

_DIRECTIONS = ((INGRESS, "ingress", "from"), (EGRESS, "egress", "to"))


@dataclass(frozen=True)
class Subject:
    """A policy with the spelling and field-path prefix of the file it came from."""

    policy: NetworkPolicy

    @cached_property
    def spelling(self) -> Spelling:
        # Manifests are read per document; Terraform sources carry an address.
        return KUBERNETES if self.policy.source.document is not None else TERRAFORM

    def at(self, *segments: str | int) -> str:
        """A field path inside this policy, with the policy's own prefix."""
        return join_path([*split_path(self.policy.source.path), *segments])

    @property
    def item(self) -> str | None:
        """A Terraform address, or the List item (``items[3]``) a manifest policy is."""
        source = self.policy.source
        return source.address or (source.path.rstrip(".") or None)

    def rules(self, direction: str) -> tuple[PolicyRule, ...]:
        return self.policy.ingress if direction == INGRESS else self.policy.egress

    def finding(
        self,
        rule: str,
        path: str,
        message: str,
        fix: str,
        severity: Severity | None = None,
    ) -> Finding:
        source = self.policy.source
        known = RULE_BY_NAME[rule]
        return Finding(
            rule=known,
            severity=severity or known.severity,
            file=source.file,
            message=message,
            fix=fix,
            path=path,
            document=source.document,
            item=self.item,
            namespace=self.policy.namespace,
            name=self.policy.name,
        )


def _is_everything(selector: LabelSelector | None) -> bool:
    return selector is None or selector.is_empty()


# one policy ---------------------------------------------------------------


def check_empty_rules(s: Subject) -> Iterator[Finding]:
    for direction, key, peers_key in _DIRECTIONS:
        if direction not in s.policy.policy_types:
            continue
        for i, rule in enumerate(s.rules(direction)):
            if rule.peers or rule.ports:
                continue
            what = (
                "admits every source (all pods, all namespaces, all addresses) on every port"
                if direction == INGRESS
                else "lets the selected pods reach every destination on every port"
            )
            yield s.finding(
                "empty-rule",
                s.at("spec", key, i),
                f"{key} rule {i} is empty: it {what}",
                f"name the peers ({peers_key}) and ports this rule should allow",
            )


def check_broad_peers(s: Subject) -> Iterator[Finding]:
    for direction, key, peers_key in _DIRECTIONS:
        if direction not in s.policy.policy_types:
            continue
        rules = s.rules(direction)
        only = len(rules) == 1 and len(rules[0].peers) == 1
        for i, rule in enumerate(rules):
            for j, peer in enumerate(rule.peers):
                if peer.ip_block is not None:
                    continue
                path = s.at("spec", key, i, peers_key, j)
                if peer.namespace_selector is not None and peer.namespace_selector.is_empty():
                    if not _is_everything(peer.pod_selector):
                        continue
                    yield s.finding(
                        "all-namespaces-peer",
                        path,
                        f"{key} rule {i} peer {j} selects every pod of every namespace "
                        f"({s.spelling.namespace_selector}: {{}})",
                        "select the namespaces by label, e.g. kubernetes.io/metadata.name, "
                        "or add a podSelector",
                        # the policy's one and only peer: a deliberate "all namespaces" policy
                        Severity.INFO if only else None,
                    )
                elif peer.namespace_selector is None and _is_everything(peer.pod_selector):
                    yield s.finding(
                        "all-pods-peer",
                        path,
                        f"{key} rule {i} peer {j} selects every pod of namespace "
                        f"{s.policy.namespace} ({s.spelling.pod_selector}: {{}})",
                        "select the pods by label if not every pod of the namespace is meant",
                    )


def check_internet_ingress(s: Subject) -> Iterator[Finding]:
    if INGRESS not in s.policy.policy_types:
        return
    for i, rule in enumerate(s.policy.ingress):
        for j, peer in enumerate(rule.peers):
            block = peer.ip_block
            if block is None or not _internet(block.cidr, block.except_):
                continue
            coverage = internet_coverage([block.cidr], block.except_).describe()
            yield s.finding(
                "ingress-from-internet",
                s.at("spec", "ingress", i, "from", j, s.spelling.ip_block),
                f"ingress rule {i} admits {block.cidr}"
                + (f" except {', '.join(block.except_)}" if block.except_ else "")
                + f", which covers {coverage}; on CNIs that match pod IPs (most do) it also "
                "admits every pod of the cluster",
                "list the cluster's pod CIDRs under except, or narrow cidr to the real clients",
            )


@lru_cache(maxsize=4096)
def _internet(cidr: str, excepts: tuple[str, ...]) -> bool:
    return covers_internet([cidr], excepts)


def check_policy_types(s: Subject) -> Iterator[Finding]:
    p = s.policy
    types_key = s.spelling.policy_types
    if p.declared_types is None and p.egress:
        denies = "" if p.ingress else "; with no ingress rules it denies all ingress to them"
        yield s.finding(
            "policy-types-omitted",
            s.at("spec"),
            f"{types_key} is omitted and there are egress rules, so Kubernetes sets "
            f"[Ingress, Egress]: the policy isolates the selected pods for ingress too{denies}",
            f"write {types_key} explicitly: [Egress] if ingress should stay as it is, "
            "[Ingress, Egress] if both are meant",
        )
    if p.declared_types is None:
        return
    for direction, key, _ in _DIRECTIONS:
        if direction not in p.policy_types and s.rules(direction):
            yield s.finding(
                "rules-ignored",
                s.at("spec", key),
                f"{len(s.rules(direction))} {key} rule(s) are ignored: {types_key} is "
                f"[{', '.join(p.declared_types)}], without {direction}",
                f"add {direction} to {types_key}, or delete the {key} rules",
            )


def check_shadowed_rules(s: Subject) -> Iterator[Finding]:
    for direction, key, _ in _DIRECTIONS:
        if direction not in s.policy.policy_types:
            continue
        rules = s.rules(direction)
        if len(rules) < 2:
            continue
        for i, narrow in enumerate(rules):
            for j, wide in enumerate(rules):
                if i == j or not rule_covers(wide, narrow, s.policy.namespace):
                    continue
                # Two rules that cover each other: report only the later one.
                if j > i and rule_covers(narrow, wide, s.policy.namespace):
                    continue
                yield s.finding(
                    "shadowed-rule",
                    s.at("spec", key, i),
                    f"{key} rule {i} adds nothing: {key} rule {j} of the same policy already "
                    "allows every peer and port it allows",
                    f"delete {key} rule {i}, or narrow rule {j} if it is wider than meant",
                )
                break


POLICY_CHECKS: tuple[Callable[[Subject], Iterator[Finding]], ...] = (
    check_empty_rules,
    check_broad_peers,
    check_internet_ingress,
    check_policy_types,
    check_shadowed_rules,
)


# all policies -------------------------------------------------------------


class Pods:
    """The inventory's pods and namespaces, selected through label indexes (bitsets)."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.by_namespace: dict[str, list[Workload]] = defaultdict(list)
        for w in inventory.workloads:
            self.by_namespace[w.namespace].append(w)
        self._namespaces = LabelIndex([dict(ns.labels) for ns in inventory.namespaces])
        self._pods: dict[str, LabelIndex] = {}

    def select(self, namespace: str, selector: LabelSelector) -> list[Workload]:
        members = self.by_namespace.get(namespace, [])
        index = self._pods.get(namespace)
        if index is None:
            index = self._pods[namespace] = LabelIndex([dict(w.labels) for w in members])
        return [members[i] for i in _bits(index.select(selector))]

    def selected(self, policy: NetworkPolicy) -> list[Workload]:
        return self.select(policy.namespace, policy.pod_selector)

    def namespaces(self, selector: LabelSelector) -> list[str]:
        names = self.inventory.namespaces
        return [names[i].name for i in _bits(self._namespaces.select(selector))]

    def peer_pods(self, peer: Peer, namespace: str) -> tuple[list[str], list[Workload]]:
        """(namespaces in scope, pods matched) for a selector peer."""
        scope = self.namespaces(peer.namespace_selector or own_namespace(namespace))
        selector = peer.pod_selector or LabelSelector()
        return scope, [w for ns in scope for w in self.select(ns, selector)]


def _bits(bits: int) -> Iterator[int]:
    while bits:
        low = bits & -bits
        yield low.bit_length() - 1
        bits ^= low


def _allows_dns(rule: PolicyRule, namespace: str) -> bool:
    """UDP 53 to a peer that can be the cluster's DNS (not a pod of the own namespace)."""
    conns = rule_connections(rule)
    if not (conns.contains_port("UDP", 53) or conns.contains_name("UDP", "dns")):
        return False
    return (
        not rule.peers
        or namespace == "kube-system"
        or any(p.ip_block is not None or p.namespace_selector is not None for p in rule.peers)
    )


def check_dns(subjects: Sequence[Subject], inventory: Inventory | None) -> Iterator[Finding]:
    """Egress isolation without DNS: by pod with an inventory, by selector without."""
    by_namespace: dict[str, list[Subject]] = defaultdict(list)
    for s in subjects:
        by_namespace[s.policy.namespace].append(s)
    pods = Pods(inventory) if inventory is not None else None
    for namespace, group in sorted(by_namespace.items()):
        isolating = [s for s in group if EGRESS in s.policy.policy_types]
        dns = [
            s.policy.pod_selector
            for s in isolating
            if any(_allows_dns(r, namespace) for r in s.policy.egress)
        ]
        covered = {id(w) for d in dns for w in pods.select(namespace, d)} if pods else set()
        for s in isolating:
            selector = s.policy.pod_selector
            if pods is not None:
                bare = [w for w in pods.select(namespace, selector) if id(w) not in covered]
                if not bare:
                    continue
                who = f"pods {', '.join(w.name for w in bare[:3])}" + (
                    f" and {len(bare) - 3} more" if len(bare) > 3 else ""
                )
            elif any(implies(selector, d) for d in dns):
                continue
            else:
                who = f"the pods it selects ({selector})"
            yield s.finding(
                "egress-without-dns",
                s.at("spec", s.spelling.pod_selector),
                f"isolates egress for {who}, and no policy in namespace {namespace} allows "
                "DNS (UDP 53) to all of them",
                "allow egress to kube-dns (namespace kube-system, k8s-app: kube-dns) on "
                "53/UDP and 53/TCP",
            )


def check_duplicates(subjects: Sequence[Subject], inventory: Inventory | None) -> Iterator[Finding]:
    by_key: dict[str, Subject] = {}
    by_content: dict[tuple[object, ...], Subject] = {}
    for s in subjects:
        p = s.policy
        first = by_key.get(p.key)
        if first is not None:
            yield s.finding(
                "duplicate-name",
                s.at("metadata"),
                f"policy {p.key} is defined twice (first in {first.policy.source.file}, "
                f"{first.policy.source}); Kubernetes keeps whichever is applied last",
                "rename one of them or merge them",
            )
            continue
        by_key[p.key] = s
        content = (
            p.namespace,
            p.pod_selector,
            p.policy_types,
            frozenset(p.ingress) if INGRESS in p.policy_types else frozenset(),
            frozenset(p.egress) if EGRESS in p.policy_types else frozenset(),
        )
        twin = by_content.get(content)
        if twin is not None:
            yield s.finding(
                "duplicate-policy",
                s.at("spec"),
                f"policy {p.key} selects the same pods and allows the same as "
                f"{twin.policy.key} ({twin.policy.source.file})",
                "delete one of the two",
            )
        else:
            by_content[content] = s


# against an inventory -----------------------------------------------------


def _names_namespaces(selector: LabelSelector | None) -> bool:
    """The selector picks namespaces by name (kubernetes.io/metadata.name)."""
    if selector is None:
        return False
    return NAME_LABEL in dict(selector.match_labels) or any(
        r.key == NAME_LABEL and r.operator == "In" for r in selector.match_expressions
    )


def _declares(pods: Iterable[Workload], protocol: str, name: str) -> bool:
    return any(p.name == name and p.protocol == protocol for w in pods for p in w.ports)


def check_against_inventory(subjects: Sequence[Subject], inventory: Inventory) -> Iterator[Finding]:
    pods = Pods(inventory)
    for s in subjects:
        p = s.policy
        selected = pods.selected(p)
        if not selected:
            yield s.finding(
                "selects-no-pod",
                s.at("spec", s.spelling.pod_selector),
                f"{s.spelling.pod_selector} {p.pod_selector} selects no pod of namespace "
                f"{p.namespace} in the inventory",
                "fix the labels or the namespace, or delete the policy",
            )
        for direction, key, peers_key in _DIRECTIONS:
            if direction not in p.policy_types:
                continue
            for i, rule in enumerate(s.rules(direction)):
                destinations: list[Workload] | None = selected if direction == INGRESS else None
                if direction == EGRESS and not rule.peers:
                    destinations = list(inventory.workloads)
                matched: list[Workload] = []
                for j, peer in enumerate(rule.peers):
                    if peer.ip_block is not None:
                        continue
                    scope, hit = pods.peer_pods(peer, p.namespace)
                    matched.extend(hit)
                    if hit:
                        continue
                    path = s.at("spec", key, i, peers_key, j)
                    if not scope and _names_namespaces(peer.namespace_selector):
                        continue  # namespaces the inventory does not list: not judged
                    if scope:
                        yield s.finding(
                            "peer-matches-nothing",
                            path,
                            f"{key} rule {i} peer {j} matches no pod of the inventory "
                            f"(namespaces {', '.join(scope)})",
                            "fix the peer's labels, or add the workload to the inventory",
                        )
                    else:
                        yield s.finding(
                            "peer-matches-nothing",
                            path,
                            f"{key} rule {i} peer {j} matches no namespace of the inventory",
                            "fix the namespace selector, or list the namespace in the inventory",
                            Severity.INFO,
                        )
                if direction == EGRESS and rule.peers:
                    destinations = matched if matched else None
                if not destinations:
                    continue
                for k, port in enumerate(rule.ports):
                    if isinstance(port.port, str) and not _declares(
                        destinations, port.protocol, port.port
                    ):
                        whose = "selected pods" if direction == INGRESS else "destination pods"
                        yield s.finding(
                            "named-port-undeclared",
                            s.at("spec", key, i, "ports", k),
                            f"named port {port.port!r} ({port.protocol}) is declared by none "
                            f"of the {len(destinations)} {whose}",
                            "use the container port's name as the pods declare it, or the number",
                        )
    yield from _check_default_deny(subjects, pods)


def _default_deny(subjects: Sequence[Subject]) -> dict[str, list[Subject]]:
    """Per namespace, the policies that select every pod (its default deny, if any)."""
    out: dict[str, list[Subject]] = defaultdict(list)
    for s in subjects:
        if s.policy.pod_selector.is_empty():
            out[s.policy.namespace].append(s)
    return out


def check_half_open(subjects: Sequence[Subject], inventory: Inventory | None) -> Iterator[Finding]:
    """A default deny of one direction only: with an inventory, where the namespace has pods."""
    with_pods = {w.namespace for w in inventory.workloads} if inventory is not None else None
    for namespace, group in sorted(_default_deny(subjects).items()):
        directions = {t for s in group for t in s.policy.policy_types}
        if len(directions) != 1 or (with_pods is not None and namespace not in with_pods):
            continue
        [closed] = directions
        [open_] = {INGRESS, EGRESS} - directions
        s = group[0]
        yield s.finding(
            "half-open-namespace",
            s.at("spec", s.spelling.policy_types),
            f"namespace {namespace} denies {closed.lower()} by default but not "
            f"{open_.lower()}: every pod stays open for {open_.lower()}",
            f"add {open_} to the default deny once the {open_.lower()} flows are known",
        )


def _check_default_deny(subjects: Sequence[Subject], pods: Pods) -> Iterator[Finding]:
    deny = _default_deny(subjects)
    for namespace, workloads in sorted(pods.by_namespace.items()):
        if namespace in deny:
            continue  # both directions, or one (half-open-namespace says so)
        count = f"{len(workloads)} pod{'s' if len(workloads) != 1 else ''}"
        known = RULE_BY_NAME["no-default-deny"]
        yield Finding(
            rule=known,
            severity=known.severity,
            file="<inventory>",
            message=f"namespace {namespace} has {count} and no default deny: pods that no "
            "policy selects accept and send anything",
            fix="add a policy with podSelector {} and policyTypes [Ingress, Egress], "
            "then allow what is needed",
            path=f"namespaces.{namespace}",
            namespace=namespace,
        )


SET_CHECKS: tuple[Callable[[Sequence[Subject], Inventory | None], Iterator[Finding]], ...] = (
    check_dns,
    check_duplicates,
    check_half_open,
)
