"""``verify``: does the artifact allow exactly what its intent record declares?

Reachability comes from the policies alone; the record only supplies the
endpoints and the declared flows. Besides the declared workloads and
external endpoints, the check places stand-in pods where an accidental allow
would show: an unlisted pod in each namespace, a pod in a namespace nobody
listed, the DNS pods, one pod per declared selection, and every address
outside the declared external endpoints.

A direction a namespace's ``default_deny`` leaves open is declared too: a pod
there that no workload's ``isolate()`` or flow isolates may make (or accept)
every connection in that direction, and the report notes it instead of
listing each. The artifact must leave such pods open, not only allow the
flows (a stricter artifact would break what the intent left running).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from constructs_lib.addresses import covers_internet
from constructs_lib.loaders import collector_paused, find_stacks, read_synth
from constructs_lib.loaders.intent import FlowEnd, IntentRecord, intent_from_artifact
from constructs_lib.loaders.inventory import NAME_LABEL, DeclaredPort, External
from constructs_lib.loaders.network_policy import (
    EGRESS,
    INGRESS,
    LabelSelector,
    NetworkPolicy,
    Peer,
)
from constructs_lib.loaders.terraform import policies_from_synth
from constructs_lib.verifier.connections import NO_CONNECTIONS, ConnectionSet
from constructs_lib.verifier.engine import Engine, Pod, declared_connections, external_set
from constructs_lib.verifier.ipset import ALL_IPS, EMPTY_IPS, IPSet, partition
from constructs_lib.verifier.selectors import matches

KINDS: tuple[str, ...] = (
    "missing-raw-policy",
    "changed-raw-policy",
    "default-deny",
    "isolated",
    "missing-flow",
    "dns",
    "undeclared-flow",
    "excess-ports",
    "unlisted-pod",
    "internet",
    "pod-ip",
    "wildcard-peer",
    "open-egress",
)
UNLISTED_NAMESPACE = "netfence-unlisted-namespace"


@dataclass(frozen=True)
class Finding:
    """One way the artifact departs from the intent, with the policies behind it."""

    kind: str
    message: str
    policies: tuple[str, ...] = ()

    def __str__(self) -> str:
        if not self.policies:
            return f"{self.kind}: {self.message}"
        return f"{self.kind}: {self.message} [{'; '.join(self.policies)}]"


@dataclass(frozen=True)
class StackResult:
    stack: str
    file: str
    policies: int
    flows: int
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = ()  # open directions the intent declares (not findings)


@dataclass(frozen=True)
class Verification:
    stacks: tuple[StackResult, ...]

    @property
    def findings(self) -> list[Finding]:
        return [f for s in self.stacks for f in s.findings]

    @property
    def ok(self) -> bool:
        return not self.findings


def verify_stack(path: str | Path) -> Verification:
    """Verify a cdk.tf.json, a stack dir, or every stack under cdktf.out."""
    results = []
    for file in find_stacks(path):
        with collector_paused():  # reading and checking make no reference cycles
            data = read_synth(file)
            record = intent_from_artifact(data, str(file))
            policies = policies_from_synth(data, str(file))
            del data  # the parsed JSON: most of the memory read so far, free for the engine
            findings = verify_intent(policies, record)
        results.append(
            StackResult(
                record.stack or file.parent.name,
                str(file),
                len(policies),
                len(record.flows),
                tuple(findings),
                tuple(intent_notes(record)),
            )
        )
    return Verification(tuple(results))


@dataclass
class _Endpoint:
    key: str
    display: str
    kind: str  # workload | unlisted | dns | selection
    managed: bool  # in a namespace of the record, so its policies are under test


@dataclass
class _Check:
    record: IntentRecord
    policies: Sequence[NetworkPolicy]
    findings: list[Finding] = field(default_factory=list)
    # (source key, destination key) -> construct paths of the flows declaring it
    sites: Mapping[tuple[str, str], Sequence[str]] = field(default_factory=dict)

    def declared_at(self, a: str, b: str) -> str:
        """`` declared at <paths>`` for a declared pair whose record says where; else ''."""
        found = self.sites.get((a, b))
        return f" declared at {', '.join(sorted(set(found)))}" if found else ""

    def also_where(self, a: str, b: str) -> str:
        """``; declared at <paths>`` to close a parenthesis, or ''."""
        at = self.declared_at(a, b)
        return f";{at}" if at else ""

    def add(self, kind: str, message: str, policies: Iterable[int] = ()) -> None:
        names = tuple(sorted({self.policies[i].describe() for i in policies if i >= 0}))
        self.findings.append(Finding(kind, message, names))

    def excess(
        self,
        pair: str,
        excess: ConnectionSet,
        want: ConnectionSet,
        policies: Iterable[int],
        note: str = "",
        *,
        unlisted: bool = False,
        at: str = "",
    ) -> None:
        """Report connections allowed on ``pair`` beyond the declared ``want``
        (``at``: where the flows behind ``want`` were declared, see ``declared_at``)."""
        if want.is_empty():
            kind = "unlisted-pod" if unlisted else "undeclared-flow"
            text = f"{pair} is allowed on {excess} but no flow is declared"
        else:
            kind = "unlisted-pod" if unlisted else "excess-ports"
            declared = f"the {want}{at}" if at else f"the declared {want}"
            text = f"{pair} is allowed on {excess} beyond {declared}"
        self.add(kind, text + note, policies)


def verify_intent(policies: Sequence[NetworkPolicy], record: IntentRecord) -> list[Finding]:
    """Findings for ``policies`` against ``record``; empty when they match exactly.

    A recorded ``raw_policy`` must be in the artifact exactly as recorded; it
    is then declared intent as written, and the rest of the artifact is
    checked against the rest of the record.
    """
    raw_findings: list[Finding] = []
    if record.raw_policies:
        raw = {p.key: p for p in record.raw_policies}
        found = {p.key: p for p in policies if p.key in raw}
        for key in sorted(raw):
            if key not in found:
                raw_findings.append(
                    Finding("missing-raw-policy", f"raw policy {key} is recorded but not written")
                )
            elif found[key] != raw[key]:
                raw_findings.append(
                    Finding(
                        "changed-raw-policy",
                        f"raw policy {key} differs from the spec the intent record declares",
                        (found[key].describe(),),
                    )
                )
        policies = [p for p in policies if p.key not in raw]
    check = _Check(record, list(policies))
    check.findings.extend(raw_findings)
    managed_ns = {ns.name for ns in record.namespaces}
    namespaces: dict[str, dict[str, str]] = {ns.name: dict(ns.labels) for ns in record.namespaces}
    pods: list[Pod] = []
    endpoints: list[_Endpoint] = []

    keys: set[str] = set()

    def add_pod(pod: Pod, display: str, kind: str) -> None:
        if pod.key in keys:  # stand-ins shared by several ends: the first one counts
            return
        keys.add(pod.key)
        namespaces.setdefault(pod.namespace, {NAME_LABEL: pod.namespace})
        pods.append(pod)
        endpoints.append(_Endpoint(pod.key, display, kind, pod.namespace in managed_ns))

    for w in record.workloads:
        add_pod(Pod(w.key, w.namespace, dict(w.labels), w.ports), w.key, "workload")
    for ns in record.namespaces:
        add_pod(
            Pod(f"{ns.name}/<unlisted>", ns.name, {}),
            f"an unlisted pod in namespace {ns.name}",
            "unlisted",
        )
    add_pod(
        Pod(f"{UNLISTED_NAMESPACE}/<unlisted>", UNLISTED_NAMESPACE, {}),
        "any pod in an unlisted namespace",
        "unlisted",
    )
    dns_keys: dict[str, str] = {}
    dns_pods: set[str] = set()
    for ns in record.namespaces:
        if ns.dns is None:
            continue
        labels = ",".join(f"{k}={v}" for k, v in ns.dns.labels)
        key = f"dns:{ns.dns.namespace}/{labels}"
        dns_keys[ns.name] = key
        if key not in dns_pods:
            dns_pods.add(key)
            add_pod(
                Pod(key, ns.dns.namespace, dict(ns.dns.labels), ns.dns.ports),
                f"DNS ({ns.dns.namespace} {labels})",
                "dns",
            )
    selection_keys: dict[FlowEnd, str] = {}
    for flow in record.flows:
        for end in (flow.source, flow.destination):
            if end.kind not in ("selection", "namespaces") or end in selection_keys:
                continue
            key = selection_keys[end] = f"selection:{end}"
            ports = flow.ports if end is flow.destination else ()
            if end.namespace_selector is None:
                assert end.namespace is not None
                add_pod(Pod(key, end.namespace, dict(end.labels), ports), str(end), "selection")
                continue
            # Pods of namespaces outside the stack: the stand-in, and around it the
            # pods the selection must not admit (same namespaces without the pod
            # labels, the pod labels in a namespace the selector does not pick).
            namespace = _foreign_namespace(end, namespaces)
            add_pod(Pod(key, namespace, dict(end.labels), ports), str(end), "foreign")
            if end.labels:
                add_pod(
                    Pod(f"{namespace}/<unlisted>", namespace, {}),
                    f"an unlisted pod in {end.scope_text()}",
                    "foreign",
                )
            if end.environment is not None:  # environments stay apart: the same elsewhere
                other = _foreign_namespace(end, namespaces, other_environment=True)
                add_pod(
                    Pod(f"{other}/{end.pods_text()}", other, dict(end.labels)),
                    f"a pod with {end.pods_text()} in {end.scope_text()} but of another "
                    "environment",
                    "unlisted",
                )
            if not end.namespace_selector.is_empty() and end.labels:
                add_pod(
                    Pod(
                        f"{UNLISTED_NAMESPACE}/{end.pods_text()}",
                        UNLISTED_NAMESPACE,
                        dict(end.labels),
                    ),
                    f"a pod with {end.pods_text()} in an unlisted namespace",
                    "unlisted",
                )

    engine = Engine(check.policies, namespaces, pods)
    isolation = _isolation(record, pods)
    externals = {e.key: e for e in record.external}
    # An endpoint stands for its addresses outside the cluster's ranges, which the
    # compiler excepts (unless the endpoint includes them on purpose).
    cluster_ips = IPSet.from_cidrs((*record.pod_cidrs, *record.service_cidrs))
    ext_ips = {
        k: external_set(e) - (EMPTY_IPS if e.include_cluster_ranges else cluster_ips)
        for k, e in externals.items()
    }
    display = {**{e.key: e.display for e in endpoints}, **{k: k for k in externals}}

    intended, required, check.sites = _intended(
        record, engine, namespaces, selection_keys, dns_keys
    )
    allowed: dict[tuple[int, int], ConnectionSet] = {}  # engine.between per class pair asked
    _check_declared(check, engine, required, ext_ips, display, dns_keys, allowed)
    _check_pairs(check, engine, intended, endpoints, display, isolation, allowed)
    _check_addresses(check, engine, intended, endpoints, externals, ext_ips, isolation)
    _check_open(check, engine, endpoints, record, isolation)
    _check_invariants(check, record)
    _check_pod_ips(check, record)
    order = {kind: i for i, kind in enumerate(KINDS)}
    return sorted(check.findings, key=lambda f: (order[f.kind], f.message))


def _isolation(record: IntentRecord, pods: Iterable[Pod]) -> dict[str, set[str]]:
    """The directions (``Ingress``, ``Egress``) the intent isolates each managed pod in:
    its namespace's default deny, and in a direction that leaves open, every
    workload's ``isolate()`` whose labels the pod has.

    Flows isolate nothing by themselves: in an open direction they are
    written only on isolated pods. Pods outside the record's namespaces are
    not under test and are absent.
    """
    by_name = {ns.name: ns for ns in record.namespaces}
    isolators: dict[str, list[tuple[Mapping[str, str], str]]] = {}
    for w in record.workloads:
        for d in w.isolate:
            isolators.setdefault(w.namespace, []).append((dict(w.labels), d.capitalize()))
    out: dict[str, set[str]] = {}
    for pod in pods:
        ns = by_name.get(pod.namespace)
        if ns is None:
            continue
        dirs = set(ns.isolated)
        for wanted, d in isolators.get(pod.namespace, ()):
            if all(pod.labels.get(k) == v for k, v in wanted.items()):
                dirs.add(d)
        out[pod.key] = dirs
    return out


def intent_notes(record: IntentRecord) -> list[str]:
    """What verify takes as declared without checking each connection: open directions.

    One note per namespace that leaves a direction open, and one per declared
    workload ``isolate()`` closes there.
    """
    notes = [
        f"raw policy {key} is declared as written (raw_policy): {reason}"
        for key, reason in record.raw_reasons
    ]
    for ns in record.namespaces:
        if not ns.open:
            continue
        dirs = " and ".join(d.lower() for d in ns.open)
        notes.append(
            f"namespace {ns.name}: default_deny={ns.default_deny!r} leaves {dirs} open; "
            f"pods no workload isolate() covers are allowed every {dirs} connection "
            "(declared, not checked one by one)"
        )
        for w in record.workloads:
            closed = [d for d in w.isolate if d.capitalize() in ns.open]
            if w.namespace == ns.name and closed:
                notes.append(
                    f"workload {w.key} is isolated for {' and '.join(closed)} by isolate(): "
                    "only its declared flows are allowed there"
                )
    return notes


def _intended(
    record: IntentRecord,
    engine: Engine,
    namespaces: Mapping[str, Mapping[str, str]],
    selection_keys: Mapping[FlowEnd, str],
    dns_keys: Mapping[str, str],
) -> tuple[
    dict[tuple[str, str], ConnectionSet],
    dict[tuple[str, str], ConnectionSet],
    dict[tuple[str, str], list[str]],
]:
    """Declared connections per ordered endpoint pair: (intended, required, sites).

    Intended expands a selection to every pod it matches, so none of them is
    reported as undeclared. Required holds only the selection's stand-in pod:
    a declared workload that happens to match a selection keeps its own
    isolation, and the compiler is not asked to open it. Sites: where the
    flows behind each pair were declared (records that say so).
    """

    def members(end: FlowEnd) -> list[str]:
        if end.kind == "workload":
            return [f"{end.namespace}/{end.name}"]
        if end.kind == "external":
            return [f"external/{end.name}"]
        wanted = dict(end.labels)
        out = [selection_keys[end]]
        selector = end.namespace_selector
        if selector is None:
            scope = [str(end.namespace)]
        else:
            scope = [n for n, labels in namespaces.items() if matches(selector, labels)]
        for pod in (engine.pods[i] for n in scope for i in by_namespace.get(n, ())):
            if all(pod.labels.get(k) == v for k, v in wanted.items()):
                if selector is None and (
                    pod.key.startswith("dns:") or pod.namespace == UNLISTED_NAMESPACE
                ):
                    continue
                if pod.key != out[0]:  # other selections' stand-ins it covers, too
                    out.append(pod.key)
        return out

    intended: dict[tuple[str, str], ConnectionSet] = {}
    required: dict[tuple[str, str], ConnectionSet] = {}
    sites: dict[tuple[str, str], list[str]] = {}
    by_namespace: dict[str, list[int]] = {}
    for i, pod in enumerate(engine.pods):
        by_namespace.setdefault(pod.namespace, []).append(i)

    def connections(b: str, ports: Iterable[DeclaredPort]) -> ConnectionSet:
        """What ``ports`` stand for towards ``b`` (its declared port names resolved)."""
        index = engine.pod_index.get(b)
        named = _all_named(engine.pods[index].ports) if index is not None else None
        return declared_connections(ports, named)

    def add(a: str, b: str, conns: ConnectionSet, must: bool = True) -> None:
        pair = (a, b)  # one key for both maps
        known = intended.get(pair)
        intended[pair] = conns if known is None else known | conns
        if must:
            known = required.get(pair)
            required[pair] = conns if known is None else known | conns

    for flow in record.flows:
        sources, destinations = members(flow.source), members(flow.destination)
        for a in sources:
            for b in destinations:
                if a == b:
                    continue
                must = a == sources[0] and b == destinations[0]
                add(a, b, connections(b, flow.ports), must)
                if flow.declared_at is not None:
                    sites.setdefault((a, b), []).append(flow.declared_at)
    # allow_dns=False on a workload: its pods (and any stand-in inside it) go without.
    no_dns: dict[str, list[dict[str, str]]] = {}
    for w in record.workloads:
        if not w.allow_dns:
            no_dns.setdefault(w.namespace, []).append(dict(w.labels))
    for ns in record.namespaces:
        if ns.dns is None:
            continue
        without = no_dns.get(ns.name, [])
        dns = dns_keys[ns.name]
        conns = connections(dns, ns.dns.ports)
        for i in by_namespace.get(ns.name, ()):
            pod = engine.pods[i]
            if pod.key.startswith("dns:"):
                continue
            if any(all(pod.labels.get(k) == v for k, v in w.items()) for w in without):
                continue
            add(pod.key, dns, conns)
    return intended, required, sites


def _foreign_namespace(
    end: FlowEnd, namespaces: dict[str, dict[str, str]], *, other_environment: bool = False
) -> str:
    """The namespace a ``namespaces`` end's stand-in pods live in; added to ``namespaces``
    (``FlowEnd.stand_in_namespace``; all namespaces: any namespace nobody listed)."""
    assert end.namespace_selector is not None
    if end.namespace_selector.is_empty():
        return UNLISTED_NAMESPACE
    name, labels = end.stand_in_namespace(other_environment=other_environment)
    if other_environment:
        namespaces[name] = dict(labels)
        return name
    known = namespaces.setdefault(name, {})
    for key, value in labels:
        known.setdefault(key, value)
    return name


def _all_named(ports: Iterable[DeclaredPort]) -> dict[tuple[str, str], tuple[int, ...]]:
    out: dict[tuple[str, str], tuple[int, ...]] = {}
    for p in ports:
        if p.name is not None and p.port is not None:
            out[(p.protocol, p.name)] = (*out.get((p.protocol, p.name), ()), p.port)
    return out


def _check_declared(
    check: _Check,
    engine: Engine,
    intended: Mapping[tuple[str, str], ConnectionSet],
    ext_ips: Mapping[str, IPSet],
    display: Mapping[str, str],
    dns_keys: Mapping[str, str],
    allowed: dict[tuple[int, int], ConnectionSet],
) -> None:
    """Declared connections the policies do not allow (``allowed``: filled for the pair
    check, which asks the same class pairs again)."""
    dns_targets = set(dns_keys.values())
    for (a, b), want in intended.items():
        sa, sb = engine.pod_index.get(a), engine.pod_index.get(b)
        if sa is not None and sb is not None:
            ca, cb = engine.pod_class[sa], engine.pod_class[sb]
            conns = allowed.get((ca, cb))
            if conns is None:
                conns = allowed[(ca, cb)] = engine.between(ca, cb)
            missing = want - conns
            if missing.is_empty():
                continue
            egress = engine.egress_to(ca, cb)
            ingress = engine.ingress_from(ca, cb)
            blame: list[int] = []
            sides = []
            if not (want - egress).is_empty():
                blame += engine.classes[ca].egress_policies
                sides.append(f"egress of {display[a]}")
            if not (want - ingress).is_empty():
                blame += engine.classes[cb].ingress_policies
                sides.append(f"ingress of {display[b]}")
            where = " and ".join(sides)
            if b in dns_targets:
                check.add(
                    "dns",
                    f"{display[a]} cannot reach {display[b]} on {missing} (blocked at {where})",
                    blame,
                )
            else:
                check.add(
                    "missing-flow",
                    f"declared flow {display[a]} -> {display[b]} is not "
                    f"allowed on {missing} (blocked at {where}{check.also_where(a, b)})",
                    blame,
                )
            continue
        if sa is not None or sb is not None:
            pod = sa if sa is not None else sb
            assert pod is not None
            cls = engine.pod_class[pod]
            outward = sa is not None
            rects = engine.egress_rects(cls) if outward else engine.ingress_rects(cls)
            target = ext_ips[b if outward else a]
            gaps = EMPTY_IPS
            missing = NO_CONNECTIONS
            for segment in partition([r[0] for r in rects], target):
                here = ConnectionSet.union_all(c for ips, c, _ in rects if ips.covers(segment))
                lack = want - here
                if not lack.is_empty():
                    gaps = gaps | segment
                    missing = missing | lack
            if missing.is_empty():
                continue
            part = "" if gaps == target else f" for {gaps.summary()}"
            blame = (
                engine.classes[cls].egress_policies
                if outward
                else engine.classes[cls].ingress_policies
            )
            side = f"egress of {display[a]}" if outward else f"ingress of {display[b]}"
            check.add(
                "missing-flow",
                f"declared flow {display[a]} -> {display[b]} is not allowed "
                f"on {missing}{part} (blocked at {side}{check.also_where(a, b)})",
                blame,
            )


def _check_pairs(
    check: _Check,
    engine: Engine,
    intended: Mapping[tuple[str, str], ConnectionSet],
    endpoints: Sequence[_Endpoint],
    display: Mapping[str, str],
    isolation: Mapping[str, set[str]],
    allowed: Mapping[tuple[int, int], ConnectionSet],
) -> None:
    """Pod-to-pod connections the policies allow beyond the intent.

    A pair whose source's egress and destination's ingress are both open by
    intent (or not under test) is intended to allow everything. ``allowed``:
    the class pairs already asked.
    """
    open_out = [EGRESS not in isolation.get(e.key, ()) for e in endpoints]
    open_in = [INGRESS not in isolation.get(e.key, ()) for e in endpoints]
    managed_classes = [False] * len(engine.classes)
    for i, e in enumerate(endpoints):
        if e.managed:
            managed_classes[engine.pod_class[i]] = True
    for dst in range(len(engine.classes)):
        dst_managed = managed_classes[dst]
        for src in engine.sources_of(dst):
            if not dst_managed and not managed_classes[src]:
                continue
            conns = allowed.get((src, dst))
            if conns is None:
                conns = engine.between(src, dst)
            if conns.is_empty():
                continue
            for sp in engine.members[src]:
                for dp in engine.members[dst]:
                    if sp == dp:
                        continue
                    a, b = endpoints[sp], endpoints[dp]
                    if not (a.managed or b.managed) or (open_out[sp] and open_in[dp]):
                        continue
                    want = intended.get((a.key, b.key), NO_CONNECTIONS)
                    excess = conns - want
                    if excess.is_empty():
                        continue
                    if "selection" in (a.kind, b.kind) and want.is_empty():
                        # A stand-in for a selection shares labels with declared
                        # workloads and so their policies; only its own flows count.
                        continue
                    eg, ing = engine.contributing(src, dst, excess)
                    unlisted = "unlisted" in (a.kind, b.kind)
                    pair = f"{a.display} -> {b.display}"
                    note = _openness(engine, src, dst)
                    at = check.declared_at(a.key, b.key)
                    check.excess(pair, excess, want, eg + ing, note, unlisted=unlisted, at=at)


def _openness(engine: Engine, src: int, dst: int) -> str:
    notes = []
    if not engine.classes[src].egress_isolated:
        notes.append("egress of the source is not isolated")
    if not engine.classes[dst].ingress_isolated:
        notes.append("ingress of the destination is not isolated")
    return f" ({'; '.join(notes)})" if notes else ""


def _check_addresses(
    check: _Check,
    engine: Engine,
    intended: Mapping[tuple[str, str], ConnectionSet],
    endpoints: Sequence[_Endpoint],
    externals: Mapping[str, External],
    ext_ips: Mapping[str, IPSet],
    isolation: Mapping[str, set[str]],
) -> None:
    """Connections by IP: to and from declared external endpoints and the rest of the internet.

    A direction open by intent allows every address.
    """
    for index, endpoint in enumerate(endpoints):
        if not endpoint.managed or endpoint.kind == "selection":
            continue
        cls = engine.pod_class[index]
        for outward in (True, False):
            if (EGRESS if outward else INGRESS) not in isolation.get(endpoint.key, ()):
                continue
            rects = engine.egress_rects(cls) if outward else engine.ingress_rects(cls)
            if not rects:
                continue
            covering = EMPTY_IPS
            for ips, _, _ in rects:
                covering = covering | ips
            pieces = [r[0] for r in rects] + list(ext_ips.values())
            internet_ips, internet_conns = EMPTY_IPS, NO_CONNECTIONS
            internet_blame: set[int] = set()
            excess_by_ext: dict[str, tuple[ConnectionSet, ConnectionSet, set[int]]] = {}
            for segment in partition(pieces, covering):
                hits = [(c, p) for ips, c, p in rects if ips.covers(segment)]
                conns = ConnectionSet.union_all(c for c, _ in hits)
                if conns.is_empty():
                    continue
                inside = [k for k, ips in ext_ips.items() if ips.covers(segment)]
                if not inside:
                    internet_ips = internet_ips | segment
                    internet_conns = internet_conns | conns
                    internet_blame |= {p for c, p in hits}
                    continue
                want = ConnectionSet.union_all(
                    intended.get(
                        (endpoint.key, k) if outward else (k, endpoint.key), NO_CONNECTIONS
                    )
                    for k in inside
                )
                excess = conns - want
                if not excess.is_empty():
                    old = excess_by_ext.get(inside[0], (NO_CONNECTIONS, want, set()))
                    blame = old[2] | {p for c, p in hits if not (c & excess).is_empty()}
                    excess_by_ext[inside[0]] = (old[0] | excess, want, blame)
            here = endpoint.display
            for k, (excess, want, blame) in sorted(excess_by_ext.items()):
                pair = f"{here} -> {k}" if outward else f"{k} -> {here}"
                keys = (endpoint.key, k) if outward else (k, endpoint.key)
                check.excess(pair, excess, want, sorted(blame), at=check.declared_at(*keys))
            if not internet_ips.is_empty():
                where = (
                    f"addresses outside every declared external endpoint (in {covering.summary()})"
                )
                pair = f"{here} -> {where}" if outward else f"{where} -> {here}"
                note = ""
                if -1 in internet_blame:
                    note = " (egress is not isolated)" if outward else " (ingress is not isolated)"
                check.add(
                    "internet",
                    f"{pair} is allowed on {internet_conns}{note}",
                    sorted(internet_blame),
                )


def _check_open(
    check: _Check,
    engine: Engine,
    endpoints: Sequence[_Endpoint],
    record: IntentRecord,
    isolation: Mapping[str, set[str]],
) -> None:
    """Pods the intent leaves open in a direction must be open in the artifact too."""
    modes = {ns.name: ns.default_deny for ns in record.namespaces}
    for index, endpoint in enumerate(endpoints):
        if not endpoint.managed or endpoint.key not in isolation:
            continue
        cls = engine.classes[engine.pod_class[index]]
        namespace = engine.pods[index].namespace
        for direction, isolated, blame in (
            (INGRESS, cls.ingress_isolated, cls.ingress_policies),
            (EGRESS, cls.egress_isolated, cls.egress_policies),
        ):
            if isolated and direction not in isolation[endpoint.key]:
                d = direction.lower()
                check.add(
                    "isolated",
                    f"{endpoint.display} is isolated for {d}, but the intent leaves its {d} "
                    f"open (namespace {namespace}: default_deny={modes.get(namespace)!r}, "
                    f"no isolate() covers it for {d})",
                    blame,
                )


def _check_invariants(check: _Check, record: IntentRecord) -> None:
    policies = check.policies
    denying: dict[str, set[str]] = {}
    for p in policies:
        if p.pod_selector.is_empty() and not p.ingress and not p.egress:
            denying.setdefault(p.namespace, set()).update(p.policy_types)
    for ns in record.namespaces:
        if not ns.isolated or set(ns.isolated) <= denying.get(ns.name, set()):
            continue
        if ns.default_deny == "both":
            check.add(
                "default-deny",
                f"namespace {ns.name} has no default-deny policy "
                "(empty podSelector, policyTypes Ingress and Egress, no rules)",
            )
        else:
            check.add(
                "default-deny",
                f"namespace {ns.name} has no default-deny policy for "
                f"{ns.default_deny} (empty podSelector, policyTypes {ns.isolated[0]}, no "
                f"rules; default_deny={ns.default_deny!r})",
            )
    internet = any(e.internet for e in record.external)
    open_selections: set[tuple[LabelSelector | None, LabelSelector | None, str | None]] = set()
    for flow in record.flows:
        for end in (flow.source, flow.destination):
            if end.kind == "namespaces":
                pods = LabelSelector(end.labels) if end.labels else None
                open_selections.add((end.namespace_selector, pods, None))
            elif end.kind == "selection" and not end.labels:
                open_selections.add((None, None, end.namespace))
    for pi, policy in enumerate(policies):
        for direction, rules in (("ingress", policy.ingress), ("egress", policy.egress)):
            if not rules or direction.capitalize() not in policy.policy_types:
                continue
            for ri, rule in enumerate(rules):
                if not rule.peers:
                    side = "source" if direction == "ingress" else "destination"
                    check.add(
                        "wildcard-peer",
                        f"{_rule_at(policy, direction, ri)} has no peers, so it matches every "
                        f"{side}",
                        [pi],
                    )
                for peer_i, peer in enumerate(rule.peers):
                    problem = _wildcard(peer, policy.namespace, open_selections)
                    if problem:
                        check.add(
                            "wildcard-peer",
                            f"{_rule_at(policy, direction, ri)} peer {peer_i} {problem}",
                            [pi],
                        )
                    block = peer.ip_block
                    if (
                        direction == "egress"
                        and block is not None
                        and not internet
                        and _covers_internet(block.cidr, block.except_)
                    ):
                        check.add(
                            "open-egress",
                            f"{_rule_at(policy, direction, ri)} allows {block.cidr}"
                            f"{' except ' + ', '.join(block.except_) if block.except_ else ''}, "
                            "which covers the internet, but no external endpoint is declared "
                            "with internet=true",
                            [pi],
                        )


def _rule_at(policy: NetworkPolicy, direction: str, index: int) -> str:
    """How a finding names a rule (only a finding needs it: most rules have none)."""
    return f"{policy.key} {direction} rule {index}"


@lru_cache(maxsize=1024)
def _covers_internet(cidr: str, excepts: tuple[str, ...]) -> bool:
    """covers_internet for one ipBlock: a stack repeats the same few blocks in many rules."""
    return covers_internet([cidr], excepts)


@lru_cache(maxsize=1024)
def _block_ips(cidr: str, excepts: tuple[str, ...]) -> IPSet:
    """IPSet.block for one ipBlock, parsed once per distinct block."""
    return IPSet.block(cidr, excepts)


def _check_pod_ips(check: _Check, record: IntentRecord) -> None:
    """ipBlocks that can match pod IPs: most CNIs let them, so they admit (or reach)
    pods by address, whichever pods the intent named.

    Pods have IPs in the declared pod CIDRs, or anywhere when none are
    declared. An endpoint declared with include_cluster_ranges=True covers
    pod IPs on purpose.
    """
    pod_ips = IPSet.from_cidrs(record.pod_cidrs) if record.pod_cidrs else ALL_IPS
    on_purpose = EMPTY_IPS
    for e in record.external:
        if e.include_cluster_ranges:
            on_purpose = on_purpose | external_set(e)
    where_pods = (
        f"pods have IPs in the pod CIDRs {', '.join(record.pod_cidrs)}"
        if record.pod_cidrs
        else "pods may have any IP: the stack declares no pod CIDRs"
    )
    fix = (
        "except the pod CIDRs from the ipBlock (netfence does for the endpoints it "
        "compiles), or declare the endpoint with include_cluster_ranges=True if pods are "
        "meant to match"
        if record.pod_cidrs
        else "declare the cluster's ranges with KubernetesCluster(pod_cidrs=[...], "
        "service_cidrs=[...]) so netfence excepts them from external endpoints, or "
        "declare the endpoint with include_cluster_ranges=True if pods are meant to match"
    )
    for pi, policy in enumerate(check.policies):
        for direction, rules in (("ingress", policy.ingress), ("egress", policy.egress)):
            if not rules or direction.capitalize() not in policy.policy_types:
                continue
            for ri, rule in enumerate(rules):
                for peer_i, peer in enumerate(rule.peers):
                    block = peer.ip_block
                    if block is None:
                        continue
                    ips = _block_ips(block.cidr, block.except_)
                    hit = (ips & pod_ips) - on_purpose
                    if hit.is_empty():
                        continue
                    owners = [
                        e.key for e in record.external if not (external_set(e) & ips).is_empty()
                    ]
                    of = f" (for {', '.join(owners)})" if owners else " (of no declared endpoint)"
                    text = "ipBlock" + (
                        f" {block.cidr}"
                        + (f" except {', '.join(block.except_)}" if block.except_ else "")
                    )
                    side = "admits pods from" if direction == "ingress" else "reaches pods at"
                    check.add(
                        "pod-ip",
                        f"{policy.key} {direction} rule {ri} peer {peer_i}: {text}{of} {side} "
                        f"{hit.summary()} by IP ({where_pods}), pods the intent "
                        f"did not name; {fix}",
                        [pi],
                    )


def _wildcard(
    peer: Peer,
    namespace: str,
    open_selections: set[tuple[LabelSelector | None, LabelSelector | None, str | None]],
) -> str:
    """Why a peer is a wildcard the intent did not declare ('' when it is not, or was)."""
    if peer.ip_block is not None:
        return ""
    pods = peer.pod_selector if peer.pod_selector and not peer.pod_selector.is_empty() else None
    every_namespace = peer.namespace_selector is not None and peer.namespace_selector.is_empty()
    if pods is not None and not every_namespace:
        return ""  # some pods of one namespace or of some namespaces
    if (peer.namespace_selector, pods, None) in open_selections:
        return ""  # declared: Namespaces.all(), or all pods of some namespaces
    if every_namespace:
        return "selects all namespaces"
    if peer.namespace_selector is None:
        if (None, None, namespace) in open_selections:
            return ""
        return f"selects all pods in namespace {namespace}"
    labels = dict(peer.namespace_selector.match_labels)
    if NAME_LABEL in labels and (None, None, labels[NAME_LABEL]) in open_selections:
        return ""
    return f"selects all pods in namespaces {peer.namespace_selector}"
