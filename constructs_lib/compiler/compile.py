"""Compile a Topology into namespaces and NetworkPolicies.

Per namespace: one default-deny policy (ingress and egress), one DNS policy
(unless ``allow_dns=False``). Per workload and direction that has flows: one
policy named ``<workload>-ingress`` / ``<workload>-egress`` holding one rule
per peer. A flow writes the egress rule at its source and the ingress rule at
its destination, for every end that stands for pods of this stack: a
workload, or a selection whose pods live in this stack's namespaces (the
default deny isolates those too; their policies are ``all-pods-*`` or
``pods-<hash>-*``). External endpoints and pods elsewhere get no policy here.

``default_deny`` narrows the namespace's default deny to one direction (or
none). In an open direction only ``workload.isolate()`` isolates pods (a
policy of no rules to start with), and a flow's half there is written only
where it reaches isolated pods (``Topology.receivers``): elsewhere the
direction already allows it, and a policy would isolate what the intent
leaves open. A workload isolated for egress there gets its own
``<name>-dns`` policy unless DNS is off for it, since the namespace-wide DNS
policy (which would isolate every pod for egress) is written only where the
default deny isolates egress.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from constructs_lib.errors import InvalidIntentError
from constructs_lib.model.pipeline import DEPLOYER_RULES
from constructs_lib.model.port import Port
from constructs_lib.model.topology import Namespace, Subject, Topology, Workload
from constructs_lib.spec import (
    CompiledStack,
    Direction,
    NamespaceSpec,
    Peer,
    PolicySpec,
    Requirement,
    RoleRule,
    RoleSpec,
    Rule,
    Selector,
    ServiceAccountSpec,
)

_T = TypeVar("_T")

DEFAULT_DENY = "default-deny"
ALLOW_DNS = "allow-dns"


def policy_name(workload: str, direction: Direction) -> str:
    return f"{workload}-{direction.value.lower()}"


def compile_topology(topology: Topology) -> CompiledStack:
    namespaces = []
    policies: list[PolicySpec] = []
    for name in sorted(topology.namespaces):
        ns = topology.namespaces[name]
        namespaces.append(NamespaceSpec(ns.name, ns.all_labels, managed=not ns.adopt))
        if ns.isolated:
            what = " and ".join(d.value.lower() for d in ns.isolated)
            left = "".join(
                f"; {d.value.lower()} stays open (default_deny={ns.default_deny!r})"
                for d in ns.open
            )
            policies.append(
                PolicySpec(
                    namespace=ns.name,
                    name=DEFAULT_DENY,
                    pod_selector=Selector(),
                    policy_types=ns.isolated,
                    purpose=f"deny all {what} that no other policy allows{left}",
                )
            )
        if ns.allow_dns and Direction.EGRESS in ns.isolated:
            without = _without_dns(topology, ns, ())
            purpose = "let every pod resolve names through cluster DNS"
            if without:
                purpose += (
                    f" except workloads {', '.join(w.name for w in without)} (allow_dns=False)"
                )
            policies += _dns_policies(ns, ALLOW_DNS, (), without, purpose)

    rules: dict[tuple[Subject, Direction], list[Rule]] = defaultdict(list)
    for (ns_name, wl_name), directions in sorted(topology.isolated.items()):
        wl = topology.workloads[(ns_name, wl_name)]
        for subject in wl.subjects(topology):
            for direction in directions:
                # a policy of no rules: isolated, nothing allowed but its flows
                rules.setdefault((subject, direction), [])
    for flow in topology.flows:
        for subject in flow.source.subjects(topology):
            rule = Rule(flow.destination.peers(subject.namespace, topology.cluster), flow.ports)
            for receiver in topology.receivers(subject, Direction.EGRESS):
                rules[(receiver, Direction.EGRESS)].append(rule)
        for subject in flow.destination.subjects(topology):
            rule = Rule(flow.source.peers(subject.namespace, topology.cluster), flow.ports)
            for receiver in topology.receivers(subject, Direction.INGRESS):
                rules[(receiver, Direction.INGRESS)].append(rule)
    cluster_ranges = {str(n) for n in topology.cluster.all}
    for (subject, direction), subject_rules in sorted(
        rules.items(), key=lambda item: (item[0][0].namespace, item[0][0].name, item[0][1].value)
    ):
        ns = topology.namespaces[subject.namespace]
        isolated = topology.isolated.get((subject.namespace, subject.name), ())
        if direction is Direction.EGRESS and direction in ns.open and direction in isolated:
            # isolate("egress") closed DNS for it too; give it back unless told not to
            policies += _subject_dns(topology, ns, subject) if ns.allow_dns else []
        merged = _merge(subject_rules)
        excepted = sorted(
            {
                ex
                for rule in merged
                for peer in rule.peers
                if peer.ip_block is not None
                for ex in peer.ip_block.except_
                if ex in cluster_ranges
            }
        )
        note = (
            f"; the cluster ranges {', '.join(excepted)} are excepted from its ipBlocks "
            "(pods and services are never reached by IP)"
            if excepted
            else ""
        )
        policies.append(
            PolicySpec(
                namespace=subject.namespace,
                name=policy_name(subject.name, direction),
                pod_selector=Selector(subject.labels),
                policy_types=(direction,),
                ingress=merged if direction is Direction.INGRESS else (),
                egress=merged if direction is Direction.EGRESS else (),
                purpose=(
                    f"connections {subject.description} accepts"
                    if direction is Direction.INGRESS
                    else f"connections {subject.description} may open"
                )
                + note,
            )
        )
    generated = {(p.namespace, p.name) for p in policies}
    for key in sorted(topology.raw_policies):
        raw = topology.raw_policies[key]
        if key in generated:
            raise InvalidIntentError(
                raw.path,
                "name",
                f"{raw.name!r} is also the name of a policy netfence generates in namespace "
                f"{raw.namespace!r}; choose another name",
            )
        policies.append(raw.policy_spec())
    policies.sort(key=lambda p: (p.namespace, p.name))
    accounts, roles = _rbac(topology)
    return CompiledStack(tuple(namespaces), tuple(policies), topology.to_record(), accounts, roles)


def _rbac(topology: Topology) -> tuple[tuple[ServiceAccountSpec, ...], tuple[RoleSpec, ...]]:
    """Service accounts of pipeline stages, and Roles for deployer stages."""
    accounts: list[ServiceAccountSpec] = []
    roles: list[RoleSpec] = []
    for pipeline in topology.pipelines.values():
        for stage in pipeline.stages.values():
            if stage.service_account is None:
                continue
            ns = stage.namespace.name
            accounts.append(ServiceAccountSpec(ns, stage.service_account, stage.automount_token))
            if stage.deploys_to is not None:
                roles.append(
                    RoleSpec(
                        namespace=stage.deploys_to.name,
                        name=f"{stage.service_account}-deployer",
                        rules=tuple(RoleRule(*rule) for rule in DEPLOYER_RULES),
                        subject_namespace=ns,
                        subject_name=stage.service_account,
                    )
                )
    accounts.sort(key=lambda a: (a.namespace, a.name))
    roles.sort(key=lambda r: (r.namespace, r.name))
    return tuple(accounts), tuple(roles)


def _without_dns(
    topology: Topology, ns: Namespace, labels: tuple[tuple[str, str], ...]
) -> list[Workload]:
    """Workloads of ``ns`` left out of DNS (allow_dns=False) that pods with ``labels`` may be."""
    given = dict(labels)
    return sorted(
        (
            w
            for w in topology.workloads_in(ns.name)
            if not w.allow_dns and all(given.get(k, v) == v for k, v in w.labels)
        ),
        key=lambda w: w.name,
    )


def _dns_policies(
    ns: Namespace,
    name: str,
    labels: tuple[tuple[str, str], ...],
    without: list[Workload],
    purpose: str,
) -> list[PolicySpec]:
    """DNS egress for the pods with ``labels`` (all: none) except those of ``without``."""
    dns = ns.dns
    peer = Peer(
        namespace_selector=Selector.namespace_named(dns.namespace),
        pod_selector=Selector(dns.labels),
    )
    given = dict(labels)
    selectors = [  # a NotIn of a value ``labels`` require selects nothing: leave it out
        Selector(labels, s.match_expressions)
        for s in _dns_selectors(without)
        if not any(given.get(r.key) in r.values for r in s.match_expressions)
    ]
    return [
        PolicySpec(
            namespace=ns.name,
            name=name if i == 0 else f"{name}-{i + 1}",
            pod_selector=selector,
            policy_types=(Direction.EGRESS,),
            egress=(Rule((peer,), dns.ports),),
            purpose=purpose,
        )
        for i, selector in enumerate(selectors)
    ]


def _subject_dns(topology: Topology, ns: Namespace, subject: Subject) -> list[PolicySpec]:
    """``<subject>-dns``: DNS for pods isolated for egress where the namespace leaves it open."""
    wl = topology.workloads.get((ns.name, subject.name))
    if wl is not None and wl.labels == subject.labels and not wl.allow_dns:
        return []
    without = [w for w in _without_dns(topology, ns, subject.labels) if w is not wl]
    purpose = (
        f"let {subject.description} resolve names through cluster DNS (its egress is "
        f"isolated; namespace {ns.name} leaves egress open)"
    )
    if without:
        purpose += f" except workloads {', '.join(w.name for w in without)} (allow_dns=False)"
    return _dns_policies(ns, f"{subject.name}-dns", subject.labels, without, purpose)


def _dns_selectors(without: list[Workload]) -> list[Selector]:
    """Pod selectors that together select every pod except those of ``without``.

    A pod is outside a workload when one of its labels differs (NotIn also
    matches a pod without the key); outside all of them when that holds for
    each. Selectors AND their requirements and policies OR, so the union
    takes one selector per choice of a label of each workload.
    """
    out: set[Selector] = set()
    for choice in itertools.product(*(w.labels for w in without)):
        excluded: dict[str, set[str]] = defaultdict(set)
        for key, value in choice:
            excluded[key].add(value)
        out.add(
            Selector(
                match_expressions=tuple(
                    Requirement(k, "NotIn", tuple(sorted(v))) for k, v in sorted(excluded.items())
                )
            )
        )
    return sorted(out, key=Selector.sort_key)


def _merge(rules: list[Rule]) -> tuple[Rule, ...]:
    """One rule per peer set, ports united, everything sorted."""
    by_peers: dict[tuple[Peer, ...], set[Port]] = defaultdict(set)
    for rule in rules:
        by_peers[_sorted(rule.peers, Peer.sort_key)].update(rule.ports)
    out = [Rule(peers, _sorted(ports, Port.sort_key)) for peers, ports in by_peers.items()]
    return _sorted(out, Rule.sort_key)


def _sorted(items: Collection[_T], key: Callable[[_T], Any]) -> tuple[_T, ...]:
    """``tuple(sorted(items, key=key))``; one item (most rules, peers, ports) needs no key."""
    return tuple(items) if len(items) < 2 else tuple(sorted(items, key=key))
