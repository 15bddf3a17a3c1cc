"""``netfence migrate``: existing NetworkPolicies -> intent code, proven equal on an inventory.

read (loaders: files, or a cluster through review/live.py) -> an ``Intent``
(namespaces adopted, workloads named from labels, deny-alls as the
namespace's ``default_deny``, each other policy as ``isolate()`` and one
flow per peer wherever that says it exactly — the other half of each flow
checked against the original — and the rest kept through ``ns.raw_policy``
with the reason) -> the model in process (its refusals keep a policy raw)
-> main.py (codegen.py) -> ``python main.py`` in a subprocess -> the proof:
the reach engine on the original policies and on each written artifact
(cdk.tf.json, manifests.yaml) over the inventory, every ordered pair,
compared connection set by connection set (every port of every protocol),
differences listed on declared and probe ports -> MIGRATION.md. Where
the proof differs, the translated policies that touch a differing pair go
back to raw_policy and the run repeats (bounded): the safety net under the
static reasoning.

``--zero-trust`` writes default deny both ways in every namespace instead:
the differences it causes are all closings (intended) and are listed; an
opening would be a defect and fails the run.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from constructs_lib.brownfield.intent import (
    EndpointIntent,
    EndRef,
    FlowIntent,
    Intent,
    NamespaceIntent,
    RawPolicyIntent,
    WorkloadIntent,
    build_topology,
    dns_name,
    to_record,
    unique,
)
from constructs_lib.brownfield.learn import SynthesisFailed, synthesize, write_app
from constructs_lib.errors import InvalidIntentError
from constructs_lib.fsutil import write_atomic
from constructs_lib.loaders.inventory import (
    NAME_LABEL,
    DeclaredPort,
    External,
    Inventory,
    Namespace,
    Workload,
)
from constructs_lib.loaders.network_policy import (
    EGRESS,
    INGRESS,
    IPBlock,
    LabelSelector,
    NetworkPolicy,
    Peer,
    PolicyPort,
    PolicyRule,
)
from constructs_lib.model.port import Port, Protocol
from constructs_lib.model.topology import _RESERVED_NAME
from constructs_lib.verifier.connections import ConnectionSet
from constructs_lib.verifier.engine import iter_bits, rule_connections
from constructs_lib.verifier.reach import Reachability

__all__ = ["MigrateResult", "SynthesisFailed", "migrate"]

NAME_LABELS = ("app.kubernetes.io/name", "app")
UNLISTED_NAMESPACE = "netfence-unlisted"
OUTSIDE_IP = "203.0.113.77/32"  # TEST-NET-3: an address no policy of a real cluster names
PROBE_PORTS = (
    DeclaredPort("TCP", 53),
    DeclaredPort("UDP", 53),
    DeclaredPort("TCP", 80),
    DeclaredPort("TCP", 443),
    DeclaredPort("TCP", 8080),
    DeclaredPort("TCP", 65535),
    DeclaredPort("UDP", 65535),
    DeclaredPort("SCTP", 9),
)
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")  # used with fullmatch
_DIRECTIONS = {(INGRESS,): "ingress", (EGRESS,): "egress", (INGRESS, EGRESS): "both"}


@dataclass(frozen=True)
class Difference:
    source: str
    destination: str
    port: int | str
    protocol: str
    original: bool
    migrated: bool
    artifact: str

    @property
    def closes(self) -> bool:
        return self.original and not self.migrated

    def line(self) -> str:
        verb = "closes" if self.closes else "OPENS"
        return (
            f"{self.artifact}: {verb} {self.source} -> {self.destination} "
            f"{self.port}/{self.protocol}"
        )


@dataclass(frozen=True)
class Proof:
    pairs: int
    checks: int
    differences: tuple[Difference, ...]
    zero_trust: bool

    @property
    def unintended(self) -> tuple[Difference, ...]:
        if self.zero_trust:
            return tuple(d for d in self.differences if not d.closes)
        return self.differences

    @property
    def ok(self) -> bool:
        return not self.unintended


@dataclass(frozen=True)
class MigrateResult:
    out: Path
    intent: Intent
    policies: int
    kept_as: dict[str, str]  # original namespace/name -> how it is kept
    proof: Proof
    verify_findings: tuple[str, ...]
    seconds: float
    fell_back: dict[str, str] = field(default_factory=dict)  # translated, then kept raw: why


# deriving the intent ---------------------------------------------------------------------

_CLOSED = {"none": (), "both": (INGRESS, EGRESS), "ingress": (INGRESS,), "egress": (EGRESS,)}
# A rule without from / to: every pod of every namespace, and every address.
_EVERY_PEER = (
    Peer(namespace_selector=LabelSelector()),
    Peer(ip_block=IPBlock("0.0.0.0/0")),
    Peer(ip_block=IPBlock("::/0")),
)
MAX_ROUNDS = 25  # model refusals handled before everything still translated is kept raw


def _deny_all(policy: NetworkPolicy) -> str | None:
    """The directions of a deny-all (every pod, no rules), or None."""
    if not policy.pod_selector.is_empty():
        return None
    if policy.ingress and INGRESS in policy.policy_types:
        return None
    if policy.egress and EGRESS in policy.policy_types:
        return None
    return _DIRECTIONS.get(policy.policy_types)


def _merge_deny(a: str, b: str) -> str:
    dirs = {d for m in (a, b) for d in (("ingress", "egress") if m == "both" else (m,)) if d}
    dirs.discard("none")
    if dirs == {"ingress", "egress"}:
        return "both"
    return next(iter(dirs)) if dirs else "none"


def _spec_json(policy: NetworkPolicy) -> str:
    """The spec as the emitters write it (policyTypes explicit, as the API server defaults it)."""
    from constructs_lib.emitters.kubernetes import policy_object
    from constructs_lib.model.raw import policy_spec_of

    return json.dumps(policy_object(policy_spec_of(policy, "-"))["spec"], sort_keys=True)


def _port(p: DeclaredPort) -> Port | None:
    if p.any_port or p.port is None:
        return None
    if p.end_port is not None and p.end_port != p.port:
        return Port.range(p.protocol, p.port, p.end_port)
    return Port.of(Protocol(p.protocol), p.port, name=p.name)


def _environment(labels: Mapping[str, str]) -> str:
    return labels.get("environment") or "default"


def _ports_text(ports: Iterable[Port]) -> str:
    return ", ".join(map(str, ports))


class Original:
    """The original policies over the proof's pods: what a translation may write.

    A netfence flow writes its egress half on every isolated source pod and
    its ingress half on every isolated destination pod. Translating one rule
    of the original into a flow is exact only if the other half adds nothing
    the original does not already allow there; this asks that question of the
    reach engine, class by class, over the pods the proof places.
    """

    def __init__(self, policies: Sequence[NetworkPolicy], inventory: Inventory) -> None:
        self.inventory = proof_inventory(inventory, policies)
        self.reach = Reachability(policies, self.inventory)
        self.engine = self.reach.engine

    def pods(self, classes: int) -> frozenset[str]:
        eng = self.engine
        return frozenset(eng.pods[i].key for c in iter_bits(classes) for i in eng.members[c])

    def _pod(self, cls: int) -> str:
        return self.engine.pods[self.engine.members[cls][0]].key

    def widening(
        self, direction: str, targets: int, peers: int, rule: PolicyRule, flow: str
    ) -> str | None:
        """Why the other half of the flow for ``rule`` would allow more, or None."""
        eng = self.engine
        conns = rule_connections(rule)
        for p in iter_bits(peers):
            peer = eng.classes[p]
            if not (peer.egress_isolated if direction == INGRESS else peer.ingress_isolated):
                continue
            for t in iter_bits(targets):
                if direction == INGRESS:  # the flow writes the peer's egress half
                    ok = eng.resolve_for(conns, t).issubset(eng.egress_to(p, t))
                else:  # ... and here the peer's ingress half
                    ok = eng.resolve_for(conns, p).issubset(eng.ingress_from(t, p))
                if ok:
                    continue
                other = self._pod(t) if p != t else f"another pod like {self._pod(t)}"
                if direction == INGRESS:
                    return (
                        f"the flow {flow} would also open the egress of {self._pod(p)} to "
                        f"{other}, which the original's egress policies of "
                        f"{self._pod(p)} do not allow (a flow writes its egress half on every "
                        "isolated source)"
                    )
                return (
                    f"the flow {flow} would also open the ingress of {self._pod(p)} from "
                    f"{other}, which the original's ingress policies of {self._pod(p)} "
                    "do not allow (a flow writes its ingress half on every isolated destination)"
                )
        return None


@dataclass(frozen=True)
class Translation:
    """How one original policy is said in netfence terms."""

    policy: str
    isolate: str  # "", "ingress", "egress" or "both": isolate() of ``target``
    target: WorkloadIntent | None
    flows: tuple[FlowIntent, ...]
    endpoints: tuple[EndpointIntent, ...]
    touched: frozenset[str]  # pods of the proof it writes for or about
    every_pod: bool = False  # podSelector {}: it isolates the namespace as a deny-all does

    def describe(self, deny: str, namespace: str) -> str:
        parts = []
        if self.every_pod:
            parts.append(f"default_deny={deny!r} of namespace {namespace}")
        if self.target is not None:
            parts.append(f"workload {self.target.key}: isolate({self.isolate!r})")
        if self.flows:
            parts.append(
                "flows "
                + "; ".join(
                    f"{f.source.key} -> {f.destination.key} {_ports_text(f.ports)}"
                    for f in self.flows
                )
            )
        if not parts:
            parts.append(
                f"nothing to write: default_deny={deny!r} of namespace {namespace} already "
                "isolates its pods"
            )
        return "; ".join(parts)


@dataclass
class _Context:
    deny: Mapping[str, str]
    environments: Mapping[str, str]
    workloads: Sequence[WorkloadIntent]
    by_selector: Mapping[tuple[str, tuple[tuple[str, str], ...]], int]
    original: Original
    _by_key: dict[str, WorkloadIntent] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_key = {w.key: w for w in self.workloads}

    def local(self, namespace: str, labels: tuple[tuple[str, str], ...]) -> EndRef:
        """Pods of a namespace of the stack: its workload with this selector, else a selection."""
        found = self.by_selector.get((namespace, labels))
        if found is not None:
            w = self.workloads[found]
            return EndRef("workload", w.name, w.namespace)
        return EndRef.selection(namespace, labels)

    def workload(self, ref: EndRef) -> WorkloadIntent | None:
        if ref.kind != "workload":
            return None
        return self._by_key.get(ref.key)  # its declared ports: isolate() never changes them

    def environment(self, ref: EndRef) -> str | None:
        if ref.kind in ("workload", "selection"):
            return self.environments[ref.namespace]
        if ref.kind == "namespaces":
            return ref.environment
        return None


def _endpoint(block: IPBlock) -> EndpointIntent | str:
    import hashlib
    import ipaddress

    from constructs_lib.addresses import internet_coverage

    for cidr in (block.cidr, *block.except_):
        try:
            ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            return (
                f"its ipBlock {cidr} has host bits set; an ExternalEndpoint takes the CIDR "
                "exactly as the network is written"
            )
    whole = {"0.0.0.0/0": "any-ipv4", "::/0": "any-ipv6"}
    name = whole.get(block.cidr) or dns_name(f"ip {block.cidr}", "ip")
    if block.except_:
        name = dns_name(f"{name} except {' '.join(block.except_)}", "ip")
        if len(name) > 63:
            digest = hashlib.sha256(" ".join(block.except_).encode()).hexdigest()[:8]
            name = f"{dns_name(name[:50], 'ip')}-{digest}"
    internet = internet_coverage([block.cidr], block.except_).is_internet
    return EndpointIntent(
        name,
        (block.cidr,),
        internet=internet,
        excepts=block.except_,
        include_cluster_ranges=True,  # the original's ipBlock matches pods by IP as well
    )


def _peer_end(peer: Peer, namespace: str, ctx: _Context) -> EndRef | EndpointIntent | str:
    if peer.ip_block is not None:
        return _endpoint(peer.ip_block)
    pods = peer.pod_selector or LabelSelector()
    scope = peer.namespace_selector
    if pods.match_expressions or (scope is not None and scope.match_expressions):
        return "a peer selects by matchExpressions, which no flow end declares exactly"
    labels = tuple(sorted(pods.match_labels))
    if scope is None:
        return ctx.local(namespace, labels)
    wanted = dict(scope.match_labels)
    name = wanted.pop(NAME_LABEL, None)
    if name is not None:
        if wanted:
            return (
                "a peer's namespaceSelector names a namespace and other labels at once; "
                "Namespaces.named() selects by name only"
            )
        if name in ctx.environments:
            return ctx.local(name, labels)
        return EndRef.namespaces(labels, names=(name,))
    return EndRef.namespaces(labels, namespace_labels=tuple(sorted(wanted.items())))


def _flow_ports(ports: Sequence[PolicyPort]) -> tuple[Port, ...] | str:
    if not ports:
        return (Port.all(),)
    out: set[Port] = set()
    for p in ports:
        if p.port is None:
            if p.protocol == "SCTP":
                return "a rule allows every SCTP port, which no Port factory says"
            out.add(Port.all_tcp() if p.protocol == "TCP" else Port.all_udp())
            continue
        end = p.end_port if p.end_port not in (None, p.port) else None
        try:
            out.add(Port.of(p.protocol, p.port, end=end))
        except InvalidIntentError as err:
            return f"the model refuses its port {p.port}/{p.protocol}: {err}"
    return tuple(sorted(out, key=Port.sort_key))


def _cross(ctx: _Context, a: EndRef, b: EndRef) -> bool:
    """Whether the flow must say cross_environment=True (as the model asks it to)."""
    ea, eb = ctx.environment(a), ctx.environment(b)
    if ea and eb and ea != eb:
        return True
    for here, there in ((a, b), (b, a)):
        if there.kind == "namespaces" and ctx.environment(here) and there.environment is None:
            return True
    return False


def _translate(policy: NetworkPolicy, ctx: _Context) -> Translation | str:
    """``policy`` as isolation and flows, or why it stays raw."""
    ns = policy.namespace
    sel = policy.pod_selector
    if sel.match_expressions:
        return "its podSelector uses matchExpressions, which a workload or selection cannot declare"
    deny = ctx.deny[ns]
    types = policy.policy_types
    open_types = tuple(d for d in types if d not in _CLOSED[deny])
    labels = tuple(sorted(sel.match_labels))
    eng = ctx.original.engine
    targets = eng.selected(sel, ns)
    touched = targets
    isolate, isolated = "", None
    if open_types:  # only a workload's own policy may isolate it here (isolate())
        found = ctx.by_selector.get((ns, labels))
        dirs = _DIRECTIONS[open_types]
        if found is None:
            return (
                f"its podSelector {dict(labels)} is no workload's selector, and namespace {ns} "
                f"leaves {dirs} open: only a workload can be isolated on its own (isolate())"
            )
        wanted = set(labels)
        for i, w in enumerate(ctx.workloads):
            if i != found and w.namespace == ns and wanted <= set(w.pod_labels):
                return (
                    f"its podSelector also selects the pods of workload {w.key}, in a "
                    f"direction namespace {ns} leaves open ({dirs}): isolate() isolates the "
                    "pods of one workload"
                )
        isolate, isolated = dirs, ctx.workloads[found]
    target = ctx.local(ns, labels)
    flows: list[FlowIntent] = []
    endpoints: list[EndpointIntent] = []
    for direction, rules in ((INGRESS, policy.ingress), (EGRESS, policy.egress)):
        if direction not in types:
            continue  # Kubernetes ignores rules of a direction the policy does not isolate
        for rule in rules:
            ports = _flow_ports(rule.ports)
            if isinstance(ports, str):
                return ports
            for peer in rule.peers or _EVERY_PEER:
                end = _peer_end(peer, ns, ctx)
                if isinstance(end, str):
                    return end
                if isinstance(end, EndpointIntent):
                    endpoints.append(end)
                    other = EndRef("external", end.name)
                else:
                    other = end
                    touched |= eng.peer_classes(peer, ns)
                if other == target and target.kind == "workload":
                    return (
                        f"its pods admit each other: netfence says that only through a "
                        f"selection of the same pods (ns.select({dict(labels)})), which "
                        f"verify reads as pods apart from workload {target.key}, so it is "
                        "kept as written"
                    )
                if direction == INGRESS:
                    source, destination = other, target
                else:
                    source, destination = target, other
                if any(p.is_named for p in ports):
                    named = ctx.workload(destination)
                    declared = named.ports if named is not None else ()
                    missing = [
                        p for p in ports if p.is_named and not any(p.matches(d) for d in declared)
                    ]
                    if missing:
                        return (
                            f"its named port {missing[0]} resolves on {destination.key}, which "
                            "is no workload declaring that port in the inventory"
                        )
                flow = f"{source.key} -> {destination.key}"
                if other.kind != "external":
                    why = ctx.original.widening(
                        direction, targets, eng.peer_classes(peer, ns), rule, flow
                    )
                    if why is not None:
                        return why
                cross = _cross(ctx, source, destination)
                flows.append(FlowIntent(source, destination, ports, cross))
    return Translation(
        policy.key,
        isolate,
        isolated,
        tuple(flows),
        tuple(endpoints),
        ctx.original.pods(touched),
        every_pod=not labels,
    )


@dataclass(frozen=True)
class Derivation:
    intent: Intent
    kept_as: dict[str, str]  # original namespace/name -> how it is kept
    touched: dict[str, frozenset[str]]  # translated policy -> pods of the proof it writes for
    sources: dict[FlowIntent, tuple[str, ...]]  # each flow -> the policies it says


def derivation(
    policies: Sequence[NetworkPolicy],
    inventory: Inventory,
    *,
    stack: str,
    zero_trust: bool,
    source: str,
    raw: Mapping[str, str] | None = None,
    original: Original | None = None,
) -> Derivation:
    """The intent that says ``policies`` exactly (or, zero_trust, default deny both ways),
    with what the safety net needs, the model's refusals already heard.

    raw: policies to keep verbatim whatever the translation says, with why.

    The intent is built through the model in process (``build_topology``)
    before main.py is written: a policy whose flow the model refuses is kept
    raw with the model's message, and the rest is derived again. The
    policies the flows generate are compiled there too, so a raw policy never
    takes the name of one.
    """
    from constructs_lib.compiler import compile_topology

    forced = dict(raw or {})
    original = original or Original(policies, inventory)
    for _ in range(MAX_ROUNDS):
        found = _derive(policies, inventory, stack, zero_trust, source, forced, original)
        refusals = _Refusals(found.sources)
        topology = build_topology(replace(found.intent, raw_policies=()), refusals)
        if not refusals.found:
            break
        forced.update(refusals.found)
    else:  # never seen: each round keeps at least one more policy raw
        every = {k: "the model kept refusing its flows" for k in found.touched}
        forced = {**every, **forced}
        found = _derive(policies, inventory, stack, zero_trust, source, forced, original)
        topology = build_topology(replace(found.intent, raw_policies=()))
    generated = {(p.namespace, p.name) for p in compile_topology(topology).policies}
    kept_as = dict(found.kept_as)
    raws = _name_raws(found.intent.raw_policies, generated, kept_as)
    intent = replace(found.intent, raw_policies=raws).sorted()
    return replace(found, intent=intent, kept_as=kept_as)


def _defaulted(ports: set[Port], destination: WorkloadIntent | None) -> tuple[Port, ...]:
    """The destination's declared ports when they are the same numbers (main.py then
    leaves ports= out, as a person would), else ``ports`` sorted."""

    def numbers(of: Iterable[Port]) -> set[tuple[object, ...]]:
        return {(p.protocol, p.number, p.end) for p in of}

    if (
        destination is not None
        and destination.ports
        and all(p.number is not None for p in ports)
        and numbers(ports) == numbers(destination.ports)
        and len(destination.ports) == len(numbers(destination.ports))
    ):
        return destination.ports
    return tuple(sorted(ports, key=Port.sort_key))


class _Refusals:
    """Collects, per policy, the first refusal of a flow it contributes to."""

    def __init__(self, sources: Mapping[FlowIntent, tuple[str, ...]]) -> None:
        self.sources = sources
        self.found: dict[str, str] = {}

    def __call__(self, flow: FlowIntent, err: InvalidIntentError) -> None:
        for key in self.sources.get(flow, ()):
            self.found.setdefault(key, f"the model refuses its flow: {err}")


def _name_raws(
    raws: Sequence[RawPolicyIntent], generated: set[tuple[str, str]], kept_as: dict[str, str]
) -> tuple[RawPolicyIntent, ...]:
    """Raw policies keep their names unless a generated policy has it or it is no DNS label."""
    renamed = []
    raw_names: dict[str, set[str]] = {}
    for r in raws:
        if not _DNS_LABEL.fullmatch(r.name):  # Kubernetes allows dots and 253 characters here
            new = RawPolicyIntent(r.namespace, dns_name(r.name, "policy"), r.spec, r.reason)
            kept_as[r.key] = f"raw_policy {new.name} (netfence names policies by DNS labels)"
            r = new
        if (r.namespace, r.name) in generated:
            new = RawPolicyIntent(r.namespace, f"{r.name}-original"[:63], r.spec, r.reason)
            kept_as[r.key] = f"raw_policy {new.name} (its name is one netfence generates)"
            r = new
        taken_raw = raw_names.setdefault(
            r.namespace, {n for ns, n in generated if ns == r.namespace}
        )
        if r.name in taken_raw:
            new = RawPolicyIntent(r.namespace, unique(r.name, taken_raw), r.spec, r.reason)
            kept_as[r.key] = f"raw_policy {new.name}"
            r = new
        else:
            taken_raw.add(r.name)
        renamed.append(r)
    return tuple(renamed)


def _derive(
    policies: Sequence[NetworkPolicy],
    inventory: Inventory,
    stack: str,
    zero_trust: bool,
    source: str,
    forced: Mapping[str, str],
    original: Original,
) -> Derivation:
    ns_labels: dict[str, dict[str, str]] = {n.name: dict(n.labels) for n in inventory.namespaces}
    for w in inventory.workloads:
        ns_labels.setdefault(w.namespace, {})
    for p in policies:
        ns_labels.setdefault(p.namespace, {})
    deny: dict[str, str] = {n: "none" for n in ns_labels}
    kept_as: dict[str, str] = {}
    rest: list[NetworkPolicy] = []
    deny_alls: list[NetworkPolicy] = []
    for p in sorted(policies, key=lambda p: (p.namespace, p.name)):
        directions = _deny_all(p)
        if directions is None:
            rest.append(p)
            if not p.pod_selector.is_empty():
                continue
            # every pod of the namespace: it isolates them as a deny-all would
            directions = _DIRECTIONS.get(p.policy_types, "none")
        else:
            deny_alls.append(p)
        deny[p.namespace] = _merge_deny(deny[p.namespace], directions)
    for p in deny_alls:
        kept_as[p.key] = f"default_deny={deny[p.namespace]!r} of namespace {p.namespace}"
    if zero_trust:
        deny = {n: "both" for n in deny}
    workloads = _workloads(inventory)
    ctx = _Context(
        deny,
        {n: _environment(labels) for n, labels in ns_labels.items()},
        workloads,
        {(w.namespace, w.selector): i for i, w in enumerate(workloads)},
        original,
    )
    translations: list[Translation] = []
    raws: list[RawPolicyIntent] = []
    for p in rest:
        why = forced.get(p.key)
        done = _translate(p, ctx) if why is None else why
        if isinstance(done, str):
            raws.append(RawPolicyIntent(p.namespace, p.name, _spec_json(p), done))
            kept_as[p.key] = "raw_policy"
            continue
        translations.append(done)
        kept_as[p.key] = done.describe(deny[p.namespace], p.namespace)
    index = {w.key: i for i, w in enumerate(workloads)}
    merged: dict[tuple[EndRef, EndRef], tuple[set[Port], bool, list[str]]] = {}
    endpoints: dict[str, EndpointIntent] = {}
    for t in translations:
        if t.target is not None:
            i = index[t.target.key]
            found = workloads[i]
            workloads[i] = replace(found, isolate=_merge_deny(found.isolate or "none", t.isolate))
        for e in t.endpoints:
            endpoints.setdefault(e.name, e)
        for f in t.flows:
            ports, cross, keys = merged.setdefault((f.source, f.destination), (set(), False, []))
            ports.update(f.ports)
            keys.append(t.policy)
            merged[(f.source, f.destination)] = (ports, cross or f.cross_environment, keys)
    sources: dict[FlowIntent, tuple[str, ...]] = {}
    for (src, dst), (ports, cross, keys) in merged.items():
        flow = FlowIntent(src, dst, _defaulted(ports, ctx.workload(dst)), cross)
        sources[flow] = tuple(dict.fromkeys(keys))
    namespaces = tuple(
        NamespaceIntent(
            name,
            _environment(labels),
            adopt=True,
            allow_dns=False,  # DNS only where the original allows it: as its flows
            default_deny=deny[name],
        )
        for name, labels in sorted(ns_labels.items())
    )
    notes = (f"Migrated by `netfence migrate` from {source}; see MIGRATION.md for the proof.",)
    intent = Intent(
        stack,
        namespaces,
        tuple(workloads),
        tuple(endpoints.values()),
        tuple(sources),
        title=f"Stack {stack}: network policies migrated into netfence intent.",
        notes=notes,
        raw_policies=tuple(raws),
    )
    return Derivation(
        intent.sorted(), kept_as, {t.policy: t.touched for t in translations}, sources
    )


def _workloads(inventory: Inventory) -> list[WorkloadIntent]:
    workloads = []
    taken: dict[str, set[str]] = {}
    seen_selectors: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for w in sorted(inventory.workloads, key=lambda w: (w.namespace, w.name)):
        labels = dict(w.labels)
        key = next((k for k in NAME_LABELS if k in labels), None)
        if key is not None:
            selector: tuple[tuple[str, str], ...] = ((key, labels[key]),)
            name = dns_name(labels[key], dns_name(w.name, "workload"))
        else:
            selector = tuple(sorted(labels.items()))
            name = dns_name(w.name, "workload")
        if not selector:
            continue  # a pod without labels: no workload can select it; the proof still has it
        if (w.namespace, selector) in seen_selectors:
            selector = tuple(sorted(labels.items()))
            if (w.namespace, selector) in seen_selectors:
                continue
        seen_selectors.add((w.namespace, selector))
        if _RESERVED_NAME.fullmatch(name):  # policy names netfence gives selections
            name = f"{name}-app"
        name = unique(name, taken.setdefault(w.namespace, set()))
        ports = tuple(p for p in (_port(d) for d in w.ports) if p is not None)
        workloads.append(
            WorkloadIntent(w.namespace, name, selector, tuple(dict.fromkeys(ports)), w.labels)
        )
    return workloads


# the proof ---------------------------------------------------------------------------------


def proof_inventory(inventory: Inventory, policies: Sequence[NetworkPolicy]) -> Inventory:
    """The inventory plus an unlisted pod per namespace, one of an unlisted namespace, and
    outside addresses (one outside every policy, and one inside/except of each ipBlock)."""
    named: set[tuple[str, str]] = set()
    numbers: set[tuple[str, int]] = set()
    cidrs: set[str] = set()
    for p in policies:
        for rule in p.ingress + p.egress:
            for port in rule.ports:
                if isinstance(port.port, str):
                    named.add((port.protocol, port.port))
                elif port.port is not None:
                    numbers.add((port.protocol, port.port))
                    if port.end_port is not None:
                        numbers.add((port.protocol, port.end_port))
                        if port.end_port < 65535:
                            numbers.add((port.protocol, port.end_port + 1))
                    if port.port > 1:
                        numbers.add((port.protocol, port.port - 1))
            for peer in rule.peers:
                if peer.ip_block is not None:
                    cidrs.add(peer.ip_block.cidr)
                    cidrs.update(peer.ip_block.except_)
    probes = tuple(
        dict.fromkeys((*PROBE_PORTS, *(DeclaredPort(proto, n) for proto, n in sorted(numbers))))
    )

    def ports(own: Sequence[DeclaredPort]) -> tuple[DeclaredPort, ...]:
        return tuple(dict.fromkeys((*own, *probes)))

    namespaces = {n.name: n for n in inventory.namespaces}
    for w in inventory.workloads:
        namespaces.setdefault(w.namespace, Namespace(w.namespace))
    for p in policies:
        namespaces.setdefault(p.namespace, Namespace(p.namespace))
    workloads = [
        Workload(w.namespace, w.name, w.labels, ports(w.ports), w.ip) for w in inventory.workloads
    ]
    for name in sorted(namespaces):
        workloads.append(Workload(name, "<unlisted>", (), ports(()), None))
    namespaces[UNLISTED_NAMESPACE] = Namespace(UNLISTED_NAMESPACE)
    workloads.append(Workload(UNLISTED_NAMESPACE, "<unlisted>", (), ports(()), None))
    externals = [*inventory.external, External("outside", (OUTSIDE_IP,), (), probes)]
    import ipaddress

    for i, cidr in enumerate(sorted(cidrs)):
        net = ipaddress.ip_network(cidr, strict=False)
        address = net.network_address
        externals.append(
            External(f"ipblock-{i}", (f"{address}/{address.max_prefixlen}",), (), probes)
        )
    del named
    return Inventory(tuple(namespaces.values()), tuple(workloads), tuple(externals))


def compare(
    original: Reachability, migrated: Reachability, artifact: str
) -> tuple[int, int, list[Difference]]:
    """Pairs compared, port checks, and the differences on declared + probe ports.

    Pairs are compared by their whole connection sets (every port of every
    protocol, named ports resolved against the destination); only a pair
    whose sets differ is expanded into port verdicts for the report.
    """
    names = original.endpoints
    a_eng, b_eng = original.engine, migrated.engine
    memo: dict[tuple[int, int, int, int], bool] = {}
    diffs: list[Difference] = []
    ports_of = {w.key: len(w.ports) for w in original.inventory.workloads}
    ports_of.update({e.key: len(e.ports) for e in original.inventory.external})
    # Every ordered pair of distinct endpoints but external to external is compared;
    # a pair neither side opens allows nothing on both, so only the pairs open on
    # either side are looked at (as the map finds them), in endpoint order.
    pods = sum(1 for name in names if name in a_eng.pod_index)
    others = len(names) - pods
    pairs = len(names) * (len(names) - 1) - others * (others - 1)
    checks = sum(
        ports_of.get(name, 0) * (len(names) - 1 if name in a_eng.pod_index else pods)
        for name in names
    )
    known = set(names)
    candidates = sorted(
        {(s, d) for s, d, _ in original.open_pairs()}
        | {(s, d) for s, d, _ in migrated.open_pairs() if s in known and d in known}
    )
    for source, destination in candidates:
        sa, sb = a_eng.pod_index.get(source), b_eng.pod_index.get(source)
        da, db = a_eng.pod_index.get(destination), b_eng.pod_index.get(destination)
        if sa is None and da is None:
            continue
        if sa is not None and da is not None and sb is not None and db is not None:
            key = (
                a_eng.pod_class[sa],
                a_eng.pod_class[da],
                b_eng.pod_class[sb],
                b_eng.pod_class[db],
            )
            same = memo.get(key)
            if same is None:
                same = memo[key] = _resolved(original, sa, da) == _resolved(migrated, sb, db)
        else:
            same = _conns(original, source, destination) == _conns(migrated, source, destination)
        if same:
            continue
        wanted = _checks(original, destination)
        for label, proto in wanted:
            was = original.allowed(source, destination, label, proto)
            now = migrated.allowed(source, destination, label, proto)
            if was != now:
                diffs.append(Difference(source, destination, label, proto, was, now, artifact))
        if not any(d.source == source and d.destination == destination for d in diffs[-1:]):
            diffs.append(
                Difference(source, destination, "(other ports)", "*", True, False, artifact)
                if _conns(migrated, source, destination).issubset(
                    _conns(original, source, destination)
                )
                else Difference(source, destination, "(other ports)", "*", False, True, artifact)
            )
    # two pods of one kind (replicas of a workload): the same class at both ends
    for source in names:
        sa, sb = a_eng.pod_index.get(source), b_eng.pod_index.get(source)
        if sa is None or sb is None:
            continue
        pairs += 1
        checks += ports_of.get(source, 0)
        key = (a_eng.pod_class[sa], a_eng.pod_class[sa], b_eng.pod_class[sb], b_eng.pod_class[sb])
        same = memo.get(key)
        if same is None:
            same = memo[key] = _resolved(original, sa, sa) == _resolved(migrated, sb, sb)
        if same:
            continue
        before, after = _resolved(original, sa, sa), _resolved(migrated, sb, sb)
        twin = f"{source} (another replica)"
        found = False
        for port in a_eng.pods[sa].ports:
            if port.port is None:
                continue
            a = before.contains_port(port.protocol, port.port)
            b = after.contains_port(port.protocol, port.port)
            if a != b:
                found = True
                diffs.append(Difference(source, twin, port.port, port.protocol, a, b, artifact))
        if not found:
            closes = after.issubset(before)
            diffs.append(
                Difference(source, twin, "(other ports)", "*", closes, not closes, artifact)
            )
    return pairs, checks, diffs


def _resolved(reach: Reachability, s: int, d: int) -> ConnectionSet:
    eng = reach.engine
    conns = eng.between(eng.pod_class[s], eng.pod_class[d])
    if conns.names:
        conns = eng.resolve_for(conns, eng.pod_class[d])
    return conns


def _conns(reach: Reachability, source: str, destination: str) -> ConnectionSet:
    conns = reach.connection_set(source, destination)
    d = reach.engine.pod_index.get(destination)
    if d is not None and conns.names:
        conns = reach.engine.resolve_for(conns, reach.engine.pod_class[d])
    return conns


def _checks(reach: Reachability, endpoint: str) -> list[tuple[int | str, str]]:
    index = reach.engine.pod_index.get(endpoint)
    if index is not None:
        ports: Sequence[DeclaredPort] = reach.engine.pods[index].ports
    else:
        ports = next(e.ports for e in reach.inventory.external if e.key == endpoint)
    return [(p.label, p.protocol) for p in ports if not p.any_port]


def prove(
    original: Original,
    stack_dir: Path,
    zero_trust: bool,
    env: Mapping[str, Mapping[str, str]],
) -> tuple[Proof, list[NetworkPolicy]]:
    """Original vs each written artifact; ``env``: the labels netfence patches on namespaces."""
    from constructs_lib.loaders import load_policies, read_json
    from constructs_lib.loaders.terraform import policies_from_synth

    inv = original.inventory
    # after the apply, each adopted namespace also carries netfence's environment label
    patched = Inventory(
        tuple(
            Namespace(n.name, tuple(sorted({**dict(n.labels), **env.get(n.name, {})}.items())))
            for n in inv.namespaces
        ),
        inv.workloads,
        inv.external,
    )
    pairs = checks = 0
    diffs: list[Difference] = []
    tf = stack_dir / "cdk.tf.json"
    manifests = stack_dir / "manifests.yaml"
    written: list[NetworkPolicy] = []
    for file in (tf, manifests):
        loaded = (
            policies_from_synth(read_json(file), str(file)) if file == tf else load_policies(file)
        )
        written = loaded
        p, c, d = compare(original.reach, Reachability(loaded, patched), file.name)
        pairs, checks = p, c
        diffs += d
    return Proof(pairs, checks, tuple(diffs), zero_trust), written


# the command -------------------------------------------------------------------------------

MAX_FALLBACKS = 3  # proof rounds that move policies back to raw_policy before giving up


def migrate(
    policies: Sequence[NetworkPolicy],
    inventory: Inventory,
    out: str | Path,
    *,
    stack: str = "migrated",
    zero_trust: bool = False,
    source: str = "",
) -> MigrateResult:
    """Derive, write, synthesize, prove; where the proof differs, fall back and prove again.

    The safety net: a difference the proof finds that a translated policy may
    have caused (its flows write for or about either pod of the pair) moves
    every such policy back to ``raw_policy`` and the whole run is repeated,
    at most MAX_FALLBACKS times. MIGRATION.md lists each fallback and why.
    """
    start = time.monotonic()
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    original = Original(policies, inventory)
    forced: dict[str, str] = {}
    fell_back: dict[str, str] = {}
    for round_ in range(MAX_FALLBACKS + 1):
        found = derivation(
            policies,
            inventory,
            stack=stack,
            zero_trust=zero_trust,
            source=source,
            raw=forced,
            original=original,
        )
        intent = found.intent
        write_app(intent, directory)
        synthesize(directory)
        stack_dir = directory / "cdktf.out" / "stacks" / stack
        env = {n.name: {"environment": n.environment} for n in intent.namespaces}
        proof, written = prove(original, stack_dir, zero_trust, env)
        if proof.ok or round_ == MAX_FALLBACKS:
            break
        blamed = _implicated(found, proof.unintended)
        if not blamed:
            break  # nothing translated touches the differing pairs: the report says so
        forced.update(blamed)
        fell_back.update(blamed)
    from constructs_lib.verifier.verify import verify_intent

    findings = tuple(str(f) for f in verify_intent(written, to_record(intent)))
    kept_as = {
        k: (f"{v} (fell back after the proof)" if k in fell_back else v)
        for k, v in found.kept_as.items()
    }
    result = MigrateResult(
        directory,
        intent,
        len(policies),
        kept_as,
        proof,
        findings,
        time.monotonic() - start,
        fell_back,
    )
    write_atomic(directory / "MIGRATION.md", render_report(result))
    return result


def _implicated(found: Derivation, diffs: Sequence[Difference]) -> dict[str, str]:
    """Translated policies whose flows write for or about a pod of a differing pair."""
    out: dict[str, str] = {}
    for d in diffs:
        for key, pods in sorted(found.touched.items()):
            if key not in out and (d.source in pods or d.destination in pods):
                out[key] = (
                    f"the proof found {d.line()}, and its flows write for or about "
                    f"{d.source if d.source in pods else d.destination}"
                )
    return out


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;")


def render_report(result: MigrateResult) -> str:
    intent, proof = result.intent, result.proof
    raws = intent.raw_policies
    out = [
        f"# Migration of {result.policies} network policies into stack `{intent.stack}`",
        "",
        "Generated by `netfence migrate`. `python main.py` synthesizes "
        f"`cdktf.out/stacks/{intent.stack}/` (cdk.tf.json and manifests.yaml).",
        "",
        "## Result",
        "",
        "- mode: "
        + (
            "--zero-trust (default deny both ways everywhere)"
            if proof.zero_trust
            else "exact (connectivity preserved)"
        ),
        f"- namespaces: {len(intent.namespaces)} (all adopted: Terraform only patches labels)",
        f"- workloads: {len(intent.workloads)}",
        f"- flows: {len(intent.flows)}, external endpoints: {len(intent.endpoints)}",
        f"- policies kept verbatim (raw_policy): {len(raws)}"
        + (f", {len(result.fell_back)} of them after the proof" if result.fell_back else ""),
        f"- ordered pairs compared: {proof.pairs} per artifact (cdk.tf.json and manifests.yaml)",
        f"- port checks (declared and probe ports): {proof.checks} per artifact",
        f"- differences: {len(proof.differences)}"
        + (
            f" ({len(proof.differences) - len(proof.unintended)} intended closings)"
            if proof.zero_trust
            else ""
        ),
        f"- unintended differences: {len(proof.unintended)}",
        "- verify on the written artifact: "
        + (f"{len(result.verify_findings)} findings" if result.verify_findings else "no findings"),
        "",
        "Verdict: "
        + (
            "**the migrated stack allows exactly what the original policies allow**"
            if not proof.differences
            else "**only intended closings (--zero-trust)**"
            if proof.ok
            else "**UNINTENDED DIFFERENCES: do not apply**"
        ),
        "",
        "The proof places every inventory pod, an unlisted pod (no labels) in every namespace, "
        "a pod of an unlisted namespace, an outside IP and one address of each ipBlock, and "
        "compares the allowed connections of every ordered pair (and of each pod with another "
        "replica of it) on every port of every protocol; differences are listed on the "
        "declared and probe ports.",
        "",
    ]
    if proof.differences:
        out += ["## Differences", "", "| artifact | change | from | to | port |"]
        out.append("|---|---|---|---|---|")
        for d in proof.differences:
            change = "closes" if d.closes else "OPENS"
            out.append(
                f"| {d.artifact} | {change} | {_md(d.source)} | {_md(d.destination)} | "
                f"{_md(str(d.port))}/{d.protocol} |"
            )
        out.append("")
    if result.verify_findings:
        out += ["## verify findings", ""]
        out += [f"- {_md(f)}" for f in result.verify_findings]
        out.append("")
    out += ["## Where each original policy went", "", "| policy | kept as |", "|---|---|"]
    for key in sorted(result.kept_as):
        out.append(f"| {_md(key)} | {_md(result.kept_as[key])} |")
    out.append("")
    if result.fell_back:
        out += [
            "## Fallbacks (translated, then kept verbatim)",
            "",
            "The proof of a first migration found differences its flows may have caused; "
            "these policies went back to raw_policy and the migration was proved again.",
            "",
        ]
        out += [f"- `{k}`: {_md(v)}" for k, v in sorted(result.fell_back.items())]
        out.append("")
    if raws:
        out += [
            "## Policies kept verbatim (escape hatch)",
            "",
            "Each is declared in main.py with `ns.raw_policy(name, spec, reason=...)`: "
            "emitted as written into both artifacts and recorded as declared intent, "
            "so `netfence verify` checks it is unchanged and does not flag what it allows.",
            "",
        ]
        for r in raws:
            out.append(f"- `{r.key}`: {_md(r.reason)}")
        out.append("")
    out += [
        "## Cutover",
        "",
        "See docs/migrate.md: apply this stack next to the original policies (the union "
        "allows exactly what the originals allow), `netfence verify`, then delete the "
        "originals that `netfence import` lists as unmanaged.",
        "",
        f"Time: {result.seconds:.1f} s including synthesis and the proof.",
        "",
    ]
    return "\n".join(out)
