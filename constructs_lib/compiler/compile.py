"""Compile a Topology into namespaces and NetworkPolicies.

Per namespace: one default-deny policy (ingress and egress), one DNS policy
(unless ``allow_dns=False``). Per workload and direction that has flows: one
policy named ``<workload>-ingress`` / ``<workload>-egress`` holding one rule
per peer. A flow writes the egress rule at its source and the ingress rule at
its destination, for every end that is a workload of this stack; ends that
are selections or external endpoints have no policy of their own here.
"""

from __future__ import annotations

from collections import defaultdict

from constructs_lib.model.port import Port
from constructs_lib.model.topology import Flow, Topology, Workload
from constructs_lib.spec import (
    CompiledStack,
    Direction,
    NamespaceSpec,
    Peer,
    PolicySpec,
    Rule,
    Selector,
)

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
        policies.append(
            PolicySpec(
                namespace=ns.name,
                name=DEFAULT_DENY,
                pod_selector=Selector(),
                policy_types=(Direction.INGRESS, Direction.EGRESS),
                purpose="deny all ingress and egress that no other policy allows",
            )
        )
        if ns.allow_dns:
            dns = ns.dns
            peer = Peer(
                namespace_selector=Selector.namespace_named(dns.namespace),
                pod_selector=Selector(dns.labels),
            )
            policies.append(
                PolicySpec(
                    namespace=ns.name,
                    name=ALLOW_DNS,
                    pod_selector=Selector(),
                    policy_types=(Direction.EGRESS,),
                    egress=(Rule((peer,), dns.ports),),
                    purpose="let every pod resolve names through cluster DNS",
                )
            )

    rules: dict[tuple[Workload, Direction], list[Rule]] = defaultdict(list)
    for flow in topology.flows:
        _add_flow_rules(flow, rules)
    for (wl, direction), wl_rules in rules.items():
        merged = _merge(wl_rules)
        policies.append(
            PolicySpec(
                namespace=wl.namespace.name,
                name=policy_name(wl.name, direction),
                pod_selector=Selector(wl.labels),
                policy_types=(direction,),
                ingress=merged if direction is Direction.INGRESS else (),
                egress=merged if direction is Direction.EGRESS else (),
                purpose=(
                    f"connections {wl.name} accepts"
                    if direction is Direction.INGRESS
                    else f"connections {wl.name} may open"
                ),
            )
        )
    policies.sort(key=lambda p: (p.namespace, p.name))
    return CompiledStack(tuple(namespaces), tuple(policies), topology.to_record())


def _add_flow_rules(flow: Flow, rules: dict[tuple[Workload, Direction], list[Rule]]) -> None:
    src, dst = flow.source, flow.destination
    if isinstance(src, Workload):
        rules[(src, Direction.EGRESS)].append(Rule(dst.peers(src.namespace.name), flow.ports))
    if isinstance(dst, Workload):
        rules[(dst, Direction.INGRESS)].append(Rule(src.peers(dst.namespace.name), flow.ports))


def _merge(rules: list[Rule]) -> tuple[Rule, ...]:
    """One rule per peer set, ports united, everything sorted."""
    by_peers: dict[tuple[Peer, ...], set[Port]] = defaultdict(set)
    for rule in rules:
        by_peers[tuple(sorted(rule.peers, key=Peer.sort_key))].update(rule.ports)
    out = [
        Rule(peers, tuple(sorted(ports, key=Port.sort_key))) for peers, ports in by_peers.items()
    ]
    return tuple(sorted(out, key=Rule.sort_key))
