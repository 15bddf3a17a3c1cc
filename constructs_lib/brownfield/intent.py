"""The intent description a code generator writes out, whatever it was derived from.

``learn`` fills it from observed flows, ``migrate`` from existing policies;
``codegen.render_app`` turns it into main.py and ``to_record`` into the
record the verifier checks the synthesized artifact against. Values are the
model's own (``Port``) and are validated by the model when main.py runs.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from constructs_lib.errors import InvalidIntentError
from constructs_lib.loaders.intent import DnsTarget as RecordDns
from constructs_lib.loaders.intent import Flow as RecordFlow
from constructs_lib.loaders.intent import FlowEnd, IntentNamespace, IntentRecord
from constructs_lib.loaders.inventory import (
    ANY_PROTOCOL,
    NAME_LABEL,
    DeclaredPort,
    External,
    Workload,
    with_name_label,
)
from constructs_lib.loaders.network_policy import LabelSelector
from constructs_lib.model.port import Port
from constructs_lib.model.topology import DnsTarget

if TYPE_CHECKING:
    from constructs_lib.model.topology import Topology

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class NamespaceIntent:
    """A namespace to declare as ``ZeroTrustNamespace``.

    adopt: True when the namespace exists already (Terraform only patches labels).
    """

    name: str
    environment: str
    adopt: bool = True
    allow_dns: bool = True
    comment: str = ""
    default_deny: str = "both"


@dataclass(frozen=True)
class WorkloadIntent:
    """Pods of ``namespace`` selected by ``selector``.

    pod_labels: labels the real pods carry (a superset of the selector), as
        the inventory lists them. Left empty, the selector.
    """

    namespace: str
    name: str
    selector: Labels
    ports: tuple[Port, ...] = ()
    pod_labels: Labels = ()
    comment: str = ""
    isolate: str = ""  # "", "ingress", "egress" or "both": workload.isolate(...)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class EndpointIntent:
    """An ``ExternalEndpoint``: addresses outside the cluster."""

    name: str
    cidrs: tuple[str, ...]
    ports: tuple[Port, ...] = ()
    internet: bool = False
    comment: str = ""
    excepts: tuple[str, ...] = ()  # ranges inside ``cidrs`` that stay unreachable
    include_cluster_ranges: bool = False  # its ipBlocks may match pods by IP, on purpose

    @property
    def key(self) -> str:
        return f"external/{self.name}"


@dataclass(frozen=True, order=True)
class EndRef:
    """A flow end: a declared workload, an external endpoint, a selection, or
    pods of namespaces outside the stack.

    A selection is every pod of ``namespace`` carrying ``labels`` (all pods
    when empty), declared or not: how a workload's pods reach each other, or
    a peer that no single workload stands for. A ``namespaces`` end is
    ``Namespaces.named(*names)`` (``names`` set), ``Namespaces.labelled(
    namespace_labels)`` or ``Namespaces.all()`` (neither), then
    ``.pods(labels)`` (``.all_pods()`` when empty).
    """

    kind: str  # "workload" | "external" | "selection" | "namespaces"
    name: str
    namespace: str = ""
    labels: Labels = ()
    names: tuple[str, ...] = ()
    namespace_labels: Labels = ()

    @property
    def key(self) -> str:
        if self.kind == "workload":
            return f"{self.namespace}/{self.name}"
        if self.kind == "external":
            return f"external/{self.name}"
        pods = f"[{','.join(f'{k}={v}' for k, v in self.labels)}]"
        if self.kind == "namespaces":
            if self.names:
                scope = ",".join(self.names)
            elif self.namespace_labels:
                scope = "{" + ",".join(f"{k}={v}" for k, v in self.namespace_labels) + "}"
            else:
                scope = "*"
            return f"{scope}/{pods}"
        return f"{self.namespace}/{pods}"

    @property
    def environment(self) -> str | None:
        """The environment a ``namespaces`` end is restricted to (by its label), if any."""
        return dict(self.namespace_labels).get("environment")

    @classmethod
    def selection(cls, namespace: str, labels: Labels) -> EndRef:
        return cls("selection", "", namespace, labels)

    @classmethod
    def namespaces(
        cls, labels: Labels, *, names: tuple[str, ...] = (), namespace_labels: Labels = ()
    ) -> EndRef:
        return cls("namespaces", "", "", labels, names, namespace_labels)


@dataclass(frozen=True)
class FlowIntent:
    source: EndRef
    destination: EndRef
    ports: tuple[Port, ...]
    cross_environment: bool = False


@dataclass(frozen=True)
class RawPolicyIntent:
    """A policy kept verbatim through ``ns.raw_policy`` (what the model cannot say exactly)."""

    namespace: str
    name: str
    spec: str  # the NetworkPolicy spec as JSON (sorted keys)
    reason: str

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Intent:
    """Everything a generated app declares, in one stack."""

    stack: str
    namespaces: tuple[NamespaceIntent, ...]
    workloads: tuple[WorkloadIntent, ...]
    endpoints: tuple[EndpointIntent, ...]
    flows: tuple[FlowIntent, ...]
    title: str = "Intent generated by netfence."
    notes: tuple[str, ...] = field(default=())
    pod_cidrs: tuple[str, ...] = ()  # the cluster's ranges (KubernetesCluster); empty: unknown
    service_cidrs: tuple[str, ...] = ()
    raw_policies: tuple[RawPolicyIntent, ...] = ()

    def sorted(self) -> Intent:
        """The same intent in the canonical order (output never depends on input order)."""
        return Intent(
            self.stack,
            tuple(sorted(self.namespaces, key=lambda n: n.name)),
            tuple(sorted(self.workloads, key=lambda w: (w.namespace, w.name))),
            tuple(sorted(self.endpoints, key=lambda e: e.name)),
            tuple(
                sorted(
                    self.flows,
                    key=lambda f: (f.source.key, f.destination.key),
                )
            ),
            self.title,
            self.notes,
            self.pod_cidrs,
            self.service_cidrs,
            tuple(sorted(self.raw_policies, key=lambda r: (r.namespace, r.name))),
        )


def to_record(intent: Intent) -> IntentRecord:
    """The record ``verify`` would read from an artifact that declares exactly ``intent``.

    Built from the description, not from the generated code, so checking the
    synthesized policies against it also checks the generator.
    """
    dns = DnsTarget()
    record_dns = RecordDns(dns.namespace, dns.labels, _declared(dns.ports))
    namespaces = tuple(
        IntentNamespace(
            n.name,
            with_name_label(n.name, (("environment", n.environment),)),
            n.environment,
            managed=not n.adopt,
            allow_dns=n.allow_dns,
            dns=record_dns if n.allow_dns else None,
            default_deny=n.default_deny,
        )
        for n in intent.namespaces
    )
    workloads = tuple(
        Workload(
            w.namespace,
            w.name,
            w.selector,  # as the artifact records it: isolate() covers every pod it selects
            _declared(w.ports),
            isolate={"": (), "both": ("ingress", "egress")}.get(w.isolate, (w.isolate,)),
        )
        for w in intent.workloads
    )
    externals = tuple(
        External(
            e.name, e.cidrs, e.excepts, _declared(e.ports), e.internet, e.include_cluster_ranges
        )
        for e in intent.endpoints
    )
    flows = tuple(
        RecordFlow(_end(f.source), _end(f.destination), _declared(f.ports), f.cross_environment)
        for f in intent.flows
    )
    from constructs_lib.loaders.manifests import policy_from_manifest
    from constructs_lib.model.raw import manifest

    raw = tuple(
        policy_from_manifest(manifest(r.namespace, r.name, json.loads(r.spec)), r.key)
        for r in intent.raw_policies
    )
    reasons = tuple((r.key, r.reason) for r in intent.raw_policies)
    return IntentRecord(
        intent.stack,
        namespaces,
        workloads,
        externals,
        flows,
        raw_policies=raw,
        raw_reasons=reasons,
        pod_cidrs=intent.pod_cidrs,
        service_cidrs=intent.service_cidrs,
    )


def _end(ref: EndRef) -> FlowEnd:
    if ref.kind == "workload":
        return FlowEnd("workload", name=ref.name, namespace=ref.namespace)
    if ref.kind == "selection":
        return FlowEnd("selection", namespace=ref.namespace, labels=ref.labels)
    if ref.kind == "namespaces":
        return FlowEnd("namespaces", labels=ref.labels, namespace_selector=_scope(ref))
    return FlowEnd("external", name=ref.name)


def _scope(ref: EndRef) -> LabelSelector:
    """The namespaceSelector of a ``namespaces`` end, as ``Namespaces.selector()`` writes it."""
    from constructs_lib.loaders.network_policy import LabelRequirement

    labels = dict(ref.namespace_labels)
    expressions: tuple[LabelRequirement, ...] = ()
    if len(ref.names) == 1:
        labels[NAME_LABEL] = ref.names[0]
    elif ref.names:
        expressions = (LabelRequirement(NAME_LABEL, "In", tuple(sorted(ref.names))),)
    return LabelSelector(tuple(sorted(labels.items())), expressions)


def _declared(ports: Iterable[Port]) -> tuple[DeclaredPort, ...]:
    return tuple(
        DeclaredPort(ANY_PROTOCOL, any_port=True)
        if p.protocol is None
        else DeclaredPort(p.protocol.value, p.number, p.name, p.end, p.is_any)
        for p in ports
    )


# names -----------------------------------------------------------------------------------

_NOT_DNS = re.compile(r"[^a-z0-9]+")


def dns_name(text: str, fallback: str) -> str:
    """A readable DNS-1123 label from a label value (``Payment_API.v2`` -> ``payment-api-v2``)."""
    name = _NOT_DNS.sub("-", text.lower()).strip("-")[:63].strip("-")
    return name or fallback


def unique(name: str, taken: set[str], limit: int = 63) -> str:
    """``name``, or ``name-2``, ``name-3``... whichever is free; the result is taken."""
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        suffix = f"-{n}"
        candidate = name[: limit - len(suffix)].rstrip("-") + suffix
    taken.add(candidate)
    return candidate


def identifier(name: str, taken: set[str]) -> str:
    """A Python variable name from Kubernetes names, unique within the module."""
    ident = re.sub(r"\W+", "_", name).strip("_") or "x"
    if ident[0].isdigit():
        ident = f"n_{ident}"
    if keyword.iskeyword(ident) or keyword.issoftkeyword(ident):
        ident += "_"
    candidate, n = ident, 1
    while candidate in taken:
        n += 1
        candidate = f"{ident}_{n}"
    taken.add(candidate)
    return candidate


# the model, in process -----------------------------------------------------------------


def build_topology(
    intent: Intent, refused: Callable[[FlowIntent, InvalidIntentError], None] | None = None
) -> Topology:
    """The model of what main.py declares, built through the same public model calls.

    Lets a generator hear the model's refusals before it writes main.py:
    with ``refused``, a flow (or its external endpoint) the model refuses is
    reported there and left out, and the rest is still built; without it,
    the refusal is raised.
    """
    from constructs_lib.model.peers import Namespaces
    from constructs_lib.model.topology import Endpoint, ExternalEndpoint, Topology

    topology = Topology(intent.stack)
    if intent.pod_cidrs or intent.service_cidrs:
        topology.set_cluster_ranges(
            f"{intent.stack}/cluster",
            pod_cidrs=intent.pod_cidrs,
            service_cidrs=intent.service_cidrs,
        )
    namespaces = {
        n.name: topology.add_namespace(
            f"{intent.stack}/{n.name}",
            name=n.name,
            environment=n.environment,
            allow_dns=n.allow_dns,
            adopt=n.adopt,
            default_deny=n.default_deny,
        )
        for n in intent.namespaces
    }
    workloads = {
        (w.namespace, w.name): namespaces[w.namespace].workload(
            w.name, labels=dict(w.selector), ports=list(w.ports)
        )
        for w in intent.workloads
    }
    for w in intent.workloads:
        if w.isolate:
            workloads[(w.namespace, w.name)].isolate(w.isolate)
    endpoints: dict[str, ExternalEndpoint | InvalidIntentError] = {}
    for e in intent.endpoints:
        try:
            endpoints[e.name] = ExternalEndpoint(
                e.name,
                cidrs=list(e.cidrs),
                except_=list(e.excepts),
                ports=list(e.ports),
                internet=e.internet,
                include_cluster_ranges=e.include_cluster_ranges,
            )
        except InvalidIntentError as err:
            endpoints[e.name] = err

    def end(ref: EndRef) -> Endpoint:
        if ref.kind == "workload":
            return workloads[(ref.namespace, ref.name)]
        if ref.kind == "selection":
            ns = namespaces[ref.namespace]
            return ns.select(dict(ref.labels)) if ref.labels else ns.all_workloads()
        if ref.kind == "namespaces":
            if ref.names:
                scope = Namespaces.named(*ref.names)
            elif ref.namespace_labels:
                scope = Namespaces.labelled(dict(ref.namespace_labels))
            else:
                scope = Namespaces.all()
            return scope.pods(dict(ref.labels)) if ref.labels else scope.all_pods()
        found = endpoints[ref.name]
        if isinstance(found, InvalidIntentError):
            raise found
        return found

    for f in intent.flows:
        try:
            topology.add_flow(
                end(f.source),
                end(f.destination),
                ports=list(f.ports),
                cross_environment=f.cross_environment,
                path=f"{f.source.key} -> {f.destination.key}",
            )
        except InvalidIntentError as err:
            if refused is None:
                raise
            refused(f, err)
    for r in intent.raw_policies:
        namespaces[r.namespace].raw_policy(r.name, json.loads(r.spec), reason=r.reason)
    return topology
