"""The reachability engine: Kubernetes NetworkPolicy v1 semantics over pod classes.

Pods that no selector, ipBlock or named port can tell apart behave the same,
so the engine groups them into classes keyed by namespace, the label pairs
whose keys some selector mentions, the ipBlocks their IP falls in and the
referenced named ports they declare. Selectors become bitsets over classes
(see selectors.LabelIndex); a connection A -> B is the intersection of what
A's egress allows towards B and what B's ingress allows from A, each side
open when no policy isolates it in that direction.

A Python int is as long as its highest bit, so what each rule admits is kept
as a ``Span``: the bits shifted down to the lowest class they hold. A rule
admitting two neighbours of class 99,000 then takes a few bytes, not 12 KB;
with one plain bitset per rule and per class, 100,000 workloads took 8 GB.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from constructs_lib.loaders.inventory import ANY_PROTOCOL, NAME_LABEL, DeclaredPort, External
from constructs_lib.loaders.network_policy import (
    EGRESS,
    INGRESS,
    LabelSelector,
    NetworkPolicy,
    Peer,
    PolicyPort,
    PolicyRule,
)
from constructs_lib.verifier.connections import (
    ALL_CONNECTIONS,
    NO_CONNECTIONS,
    ConnectionSet,
    NamedPort,
)
from constructs_lib.verifier.ipset import ALL_IPS, EMPTY_IPS, IPSet, partition
from constructs_lib.verifier.selectors import LabelIndex


@dataclass(frozen=True)
class Pod:
    """A pod (or a stand-in for a set of pods) the engine reasons about."""

    key: str
    namespace: str
    labels: Mapping[str, str]
    ports: tuple[DeclaredPort, ...] = ()
    ip: str | None = None


Span = tuple[int, int]  # (low, bits): the classes ``bits << low``
_FEW_NAMESPACES = 8  # a peer selecting at most this many namespaces selects in each
NO_CLASSES: Span = (0, 0)
_EVERY_POD = LabelSelector()


def span_of(bits: int) -> Span:
    if not bits:
        return NO_CLASSES
    low = (bits & -bits).bit_length() - 1
    return (low, bits >> low)


def span_union(a: Span, b: Span) -> Span:
    if not a[1]:
        return b
    if not b[1]:
        return a
    low = min(a[0], b[0])
    return (low, (a[1] << (a[0] - low)) | (b[1] << (b[0] - low)))


def in_span(span: Span, i: int) -> bool:
    return i >= span[0] and bool((span[1] >> (i - span[0])) & 1)


def iter_span(span: Span) -> Iterator[int]:
    return iter_bits(span[1], span[0])


class Rule(NamedTuple):
    """A compiled rule: the classes and addresses it admits and on which connections.

    A tuple, so that building one per rule stays cheap; the classes a policy
    selects share its compiled rules (one per class only where named ports resolve).
    """

    classes: Span
    ips: IPSet
    conns: ConnectionSet
    policy: int


@dataclass
class PodClass:
    namespace: str
    named: Mapping[NamedPort, tuple[int, ...]]
    ingress_isolated: bool = False
    egress_isolated: bool = False
    ingress: list[Rule] = field(default_factory=list)
    egress: list[Rule] = field(default_factory=list)
    ingress_policies: list[int] = field(default_factory=list)
    egress_policies: list[int] = field(default_factory=list)
    ingress_any: Span = NO_CLASSES  # classes some ingress rule admits
    egress_any: Span = NO_CLASSES


def rule_connections(rule: PolicyRule) -> ConnectionSet:
    return _port_connections(rule.ports)


@lru_cache(maxsize=4096)
def _port_connections(ports: tuple[PolicyPort, ...]) -> ConnectionSet:
    if not ports:
        return ALL_CONNECTIONS
    parts = []
    for p in ports:
        if p.port is None:
            parts.append(ConnectionSet.all_ports(p.protocol))
        elif isinstance(p.port, str):
            parts.append(ConnectionSet.named(p.protocol, p.port))
        else:
            parts.append(ConnectionSet.port_range(p.protocol, p.port, p.end_port))
    return ConnectionSet.union_all(parts)


def declared_connections(
    ports: Iterable[DeclaredPort], named: Mapping[NamedPort, tuple[int, ...]] | None = None
) -> ConnectionSet:
    """Connections a list of declared ports stands for (names resolved when known)."""
    return _declared(tuple(ports), tuple(sorted((named or {}).items())))


@lru_cache(maxsize=4096)
def _declared(
    ports: tuple[DeclaredPort, ...], named_items: tuple[tuple[NamedPort, tuple[int, ...]], ...]
) -> ConnectionSet:
    named = dict(named_items)
    parts = []
    for p in ports:
        if p.any_port:
            any_protocol = p.protocol == ANY_PROTOCOL
            parts.append(ALL_CONNECTIONS if any_protocol else ConnectionSet.all_ports(p.protocol))
        elif p.port is not None:
            parts.append(ConnectionSet.port_range(p.protocol, p.port, p.end_port))
        elif p.name is not None:
            numbers = named.get((p.protocol, p.name), ())
            parts.append(ConnectionSet.named(p.protocol, p.name))
            parts.extend(ConnectionSet.port_range(p.protocol, n) for n in numbers)
    return ConnectionSet.union_all(parts)


class Engine:
    """Compiled policies over a fixed set of pods, answering pair and IP questions."""

    def __init__(
        self,
        policies: Sequence[NetworkPolicy],
        namespaces: Mapping[str, Mapping[str, str]],
        pods: Sequence[Pod],
    ) -> None:
        self.policies = list(policies)
        self.pods = list(pods)
        self.pod_index = {pod.key: i for i, pod in enumerate(self.pods)}
        # Every namespace carries its name label, whether or not the caller listed it.
        self._namespaces = {
            name: {NAME_LABEL: name, **labels} for name, labels in namespaces.items()
        }
        for pod in self.pods:
            self._namespaces.setdefault(pod.namespace, {NAME_LABEL: pod.namespace})
        # Policies repeat the same few selectors; keyed by their fields (hashed in C).
        pod_selectors: dict[tuple[object, ...], LabelSelector] = {}
        names: set[NamedPort] = set()
        blocks: dict[tuple[str, tuple[str, ...]], int] = {}
        for policy in self.policies:
            targets = policy.pod_selector
            pod_selectors[(targets.match_labels, targets.match_expressions)] = targets
            for rules in (policy.ingress, policy.egress):
                for rule in rules:
                    for peer in rule.peers:
                        sel = peer.pod_selector
                        if sel is not None:
                            pod_selectors[(sel.match_labels, sel.match_expressions)] = sel
                        if peer.ip_block is not None:
                            ident = (peer.ip_block.cidr, peer.ip_block.except_)
                            blocks.setdefault(ident, len(blocks))
                    for port in rule.ports:
                        if isinstance(port.port, str):
                            names.add((port.protocol, port.port))
        pod_keys = set().union(*(selector.keys() for selector in pod_selectors.values()))
        self._block_sets = [IPSet.block(cidr, exc) for cidr, exc in blocks]
        self._block_index = blocks

        # Group pods into classes.
        class_of: dict[tuple[object, ...], int] = {}
        self.pod_class: list[int] = []
        self.classes: list[PodClass] = []
        class_labels: list[dict[str, str]] = []
        self._class_blocks: list[tuple[int, ...]] = []
        for pod in self.pods:
            relevant = tuple(sorted((k, v) for k, v in pod.labels.items() if k in pod_keys))
            in_blocks: tuple[int, ...] = ()
            if pod.ip is not None and self._block_sets:
                addr = IPSet.from_address(pod.ip)
                in_blocks = tuple(i for i, s in enumerate(self._block_sets) if s.covers(addr))
            named: dict[NamedPort, tuple[int, ...]] = {}
            for p in pod.ports:
                if p.name is not None and p.port is not None and (p.protocol, p.name) in names:
                    named[(p.protocol, p.name)] = (*named.get((p.protocol, p.name), ()), p.port)
            key = (pod.namespace, relevant, in_blocks, tuple(sorted(named.items())))
            index = class_of.get(key)
            if index is None:
                index = class_of[key] = len(self.classes)
                self.classes.append(PodClass(pod.namespace, named))
                class_labels.append(dict(relevant))
                self._class_blocks.append(in_blocks)
            self.pod_class.append(index)
        self.members: list[list[int]] = [[] for _ in self.classes]
        for pod_i, class_i in enumerate(self.pod_class):
            self.members[class_i].append(pod_i)

        self.all = (1 << len(self.classes)) - 1
        # Each namespace's classes with their own label index: selecting pods in one
        # namespace (a policy's, a peer's without namespaceSelector, a peer's in a few
        # selected namespaces) costs that namespace's classes, not a bitset of all of them
        # (that grew with classes squared). Selecting in many namespaces uses one index
        # over every class, built when first needed.
        self._class_labels = class_labels
        self._ns_classes: dict[str, list[int]] = {}
        for i, pod_class in enumerate(self.classes):
            self._ns_classes.setdefault(pod_class.namespace, []).append(i)
        self._ns_labels: dict[str, LabelIndex] = {}
        self._all_labels: LabelIndex | None = None
        self._block_bits = [0] * len(self._block_sets)
        for i, blocks_of_class in enumerate(self._class_blocks):
            for b in blocks_of_class:
                self._block_bits[b] |= 1 << i
        self._ns_names = list(self._namespaces)
        self._ns_index = LabelIndex([self._namespaces[n] for n in self._ns_names])
        # Keyed by the selectors' fields: a tuple of strings hashes in C, a selector in Python.
        self._ns_cache: dict[tuple[object, ...], tuple[list[str], int]] = {}
        self._peer_spans: dict[tuple[object, ...], Span] = {}
        self._resolved: dict[tuple[ConnectionSet, int], ConnectionSet] = {}
        self._compile()
        # Only compiling asks these; what they hold lives on in the rules where needed.
        self._peer_spans.clear()
        self._ns_cache.clear()

    # compilation ------------------------------------------------------------

    def _selected_namespaces(self, selector: LabelSelector) -> tuple[list[str], int]:
        """The namespaces ``selector`` selects, and (when many) the bitset of their classes."""
        key = (selector.match_labels, selector.match_expressions)
        cached = self._ns_cache.get(key)
        if cached is None:
            names = [self._ns_names[i] for i in iter_bits(self._ns_index.select(selector))]
            scope = 0
            if len(names) > _FEW_NAMESPACES:
                for name in names:
                    classes = self._ns_classes.get(name, [])
                    if classes and classes[-1] - classes[0] + 1 == len(classes):
                        scope |= ((1 << len(classes)) - 1) << classes[0]
                    else:
                        for c in classes:
                            scope |= 1 << c
            cached = self._ns_cache[key] = (names, scope)
        return cached

    def _select_in(self, namespace: str, selector: LabelSelector) -> Span:
        """The classes of ``namespace`` that ``selector`` selects."""
        classes = self._ns_classes.get(namespace)
        if not classes:
            return NO_CLASSES
        index = self._ns_labels.get(namespace)
        if index is None:
            index = self._ns_labels[namespace] = LabelIndex(
                [self._class_labels[c] for c in classes]
            )
        local = index.select(selector)
        if not local:
            return NO_CLASSES
        low = classes[0]
        if classes[-1] - low + 1 != len(classes):  # not one run of classes: place each
            bits = 0
            for i in iter_bits(local):
                bits |= 1 << (classes[i] - low)
            local = bits
        first = (local & -local).bit_length() - 1
        return (low + first, local >> first)

    def _peers_in(self, namespace: str, selector: LabelSelector) -> Span:
        """``_select_in`` for peers, which select the same pods in the same namespace over
        and over. (Not for policies' own selectors: a namespace's classes need not be one
        run, so a span can be as wide as all classes, and those seldom repeat.)"""
        key = (namespace, selector.match_labels, selector.match_expressions)
        span = self._peer_spans.get(key)
        if span is None:
            span = self._peer_spans[key] = self._select_in(namespace, selector)
        return span

    def _select_all(self, namespaces: tuple[list[str], int], selector: LabelSelector) -> Span:
        """The classes of the selected ``namespaces`` that ``selector`` selects."""
        names, scope = namespaces
        if len(names) <= _FEW_NAMESPACES:
            out = NO_CLASSES
            for name in names:
                out = span_union(out, self._peers_in(name, selector))
            return out
        if self._all_labels is None:
            self._all_labels = LabelIndex(self._class_labels)
        return span_of(scope & self._all_labels.select(selector))

    def _peer(self, peer: Peer, namespace: str) -> tuple[Span, IPSet]:
        if peer.ip_block is not None:
            b = self._block_index[(peer.ip_block.cidr, peer.ip_block.except_)]
            return span_of(self._block_bits[b]), self._block_sets[b]
        pods = peer.pod_selector or _EVERY_POD
        if peer.namespace_selector is None:
            return self._peers_in(namespace, pods), EMPTY_IPS
        namespaces = self._selected_namespaces(peer.namespace_selector)
        return self._select_all(namespaces, pods), EMPTY_IPS

    def _rules(
        self, rules: Iterable[PolicyRule], namespace: str, policy: int
    ) -> tuple[list[Rule], Span]:
        """The compiled rules, and the classes any of them admits."""
        out = []
        admitted = NO_CLASSES
        for rule in rules:
            if not rule.peers:
                classes, ips = (0, self.all), ALL_IPS
            else:
                classes, ips = NO_CLASSES, EMPTY_IPS
                for peer in rule.peers:
                    c, i = self._peer(peer, namespace)
                    classes = span_union(classes, c)
                    ips = ips | i if not i.is_empty() else ips
            out.append(Rule(classes, ips, rule_connections(rule), policy))
            admitted = span_union(admitted, classes)
        return out, admitted

    def _compile(self) -> None:
        for pi, policy in enumerate(self.policies):
            targets = self._select_in(policy.namespace, policy.pod_selector)
            if not targets[1]:
                continue
            selected = [self.classes[c] for c in iter_span(targets)]
            if INGRESS in policy.policy_types:
                rules, admitted = self._rules(policy.ingress, policy.namespace, pi)
                named = any(r.conns.names for r in rules)
                for cls in selected:
                    cls.ingress_isolated = True
                    cls.ingress_policies.append(pi)
                    if named:  # the names mean the ports this class declares
                        cls.ingress.extend(
                            r._replace(conns=r.conns.resolve(cls.named)) if r.conns.names else r
                            for r in rules
                        )
                    else:
                        cls.ingress.extend(rules)
                    cls.ingress_any = span_union(cls.ingress_any, admitted)
            if EGRESS in policy.policy_types:
                rules, admitted = self._rules(policy.egress, policy.namespace, pi)
                for cls in selected:
                    cls.egress_isolated = True
                    cls.egress_policies.append(pi)
                    cls.egress.extend(rules)
                    cls.egress_any = span_union(cls.egress_any, admitted)

    # questions --------------------------------------------------------------

    def selected(self, selector: LabelSelector, namespace: str) -> int:
        """The classes a policy of ``namespace`` with podSelector ``selector`` selects."""
        low, bits = self._select_in(namespace, selector)
        return bits << low

    def peer_classes(self, peer: Peer, namespace: str) -> int:
        """The classes a peer of a policy of ``namespace`` matches (ipBlocks: by pod IP), as
        bits (``selected``'s form)."""
        low, bits = self._peer(peer, namespace)[0]
        return bits << low

    def resolve_for(self, conns: ConnectionSet, dst: int) -> ConnectionSet:
        if not conns.names:
            return conns
        key = (conns, dst)
        out = self._resolved.get(key)
        if out is None:
            out = self._resolved[key] = conns.resolve(self.classes[dst].named)
        return out

    def ingress_from(self, src: int, dst: int) -> ConnectionSet:
        cls = self.classes[dst]
        if not cls.ingress_isolated:
            return ALL_CONNECTIONS
        out = NO_CONNECTIONS
        if in_span(cls.ingress_any, src):
            for r in cls.ingress:
                low, bits = r.classes
                if src >= low and (bits >> (src - low)) & 1:  # in_span, inlined: the hot loop
                    out = r.conns if out is NO_CONNECTIONS else out | r.conns
        return out

    def egress_to(self, src: int, dst: int) -> ConnectionSet:
        cls = self.classes[src]
        if not cls.egress_isolated:
            return ALL_CONNECTIONS
        out = NO_CONNECTIONS
        if in_span(cls.egress_any, dst):
            for r in cls.egress:
                low, bits = r.classes
                if dst >= low and (bits >> (dst - low)) & 1:  # in_span, inlined: the hot loop
                    conns = self.resolve_for(r.conns, dst) if r.conns.names else r.conns
                    out = conns if out is NO_CONNECTIONS else out | conns
        return out

    def between(self, src: int, dst: int) -> ConnectionSet:
        """Connections allowed from class ``src`` to class ``dst``."""
        ingress = self.ingress_from(src, dst)
        if ingress.is_empty():
            return NO_CONNECTIONS
        egress = self.egress_to(src, dst)
        if egress.is_empty():
            return NO_CONNECTIONS
        return egress & ingress

    def sources_of(self, dst: int) -> Iterator[int]:
        """Classes that may have some connection to ``dst`` (a superset, cheap)."""
        d = self.classes[dst]
        return iter_span(d.ingress_any) if d.ingress_isolated else iter_bits(self.all)

    def egress_rects(self, src: int) -> list[tuple[IPSet, ConnectionSet, int]]:
        """(addresses, connections, policy) that ``src`` may send to by IP."""
        cls = self.classes[src]
        if not cls.egress_isolated:
            return [(ALL_IPS, ALL_CONNECTIONS, -1)]
        return [(r.ips, r.conns, r.policy) for r in cls.egress if not r.ips.is_empty()]

    def ingress_rects(self, dst: int) -> list[tuple[IPSet, ConnectionSet, int]]:
        cls = self.classes[dst]
        if not cls.ingress_isolated:
            return [(ALL_IPS, ALL_CONNECTIONS, -1)]
        return [(r.ips, r.conns, r.policy) for r in cls.ingress if not r.ips.is_empty()]

    def contributing(self, src: int, dst: int, conns: ConnectionSet) -> tuple[list[int], list[int]]:
        """Policies (egress, ingress) whose rules allow part of ``conns`` from src to dst."""
        eg = sorted(
            {
                r.policy
                for r in self.classes[src].egress
                if in_span(r.classes, dst)
                and not (self.resolve_for(r.conns, dst) & conns).is_empty()
            }
        )
        ing = sorted(
            {
                r.policy
                for r in self.classes[dst].ingress
                if in_span(r.classes, src) and not (r.conns & conns).is_empty()
            }
        )
        return eg, ing


def covered(rects: Sequence[tuple[IPSet, ConnectionSet, int]], target: IPSet) -> ConnectionSet:
    """Connections allowed to (or from) EVERY address of ``target``."""
    if target.is_empty():
        return NO_CONNECTIONS
    result: ConnectionSet | None = None
    for segment in partition([r[0] for r in rects], target):
        here = ConnectionSet.union_all(c for ips, c, _ in rects if ips.covers(segment))
        result = here if result is None else result & here
        if result.is_empty():
            break
    return result if result is not None else NO_CONNECTIONS


def external_set(external: External) -> IPSet:
    return IPSet.from_cidrs(external.cidrs) - IPSet.from_cidrs(external.except_)


def iter_bits(bits: int, offset: int = 0) -> Iterator[int]:
    """The positions of the set bits, lowest first, plus ``offset``."""
    while bits:
        low = bits & -bits
        yield low.bit_length() - 1 + offset
        bits ^= low
