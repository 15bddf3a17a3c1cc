"""The intent record that synthesis writes into cdk.tf.json (docs/artifact.md).

``verify`` compares reachability computed from the policies with this
record; reading it here, apart from the compiler, keeps the proof honest:
only what reached the disk counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from constructs_lib.errors import ArtifactError
from constructs_lib.loaders._spec import KUBERNETES, Reader
from constructs_lib.loaders.inventory import (
    NAME_LABEL,
    DeclaredPort,
    External,
    Inventory,
    Namespace,
    Workload,
    _cidr,
    read_external,
    read_ports,
    refuse_shared_key,
    with_name_label,
)
from constructs_lib.loaders.manifests import policy_from_manifest
from constructs_lib.loaders.network_policy import Labels, LabelSelector, NetworkPolicy

RECORD_PATH = "//.metadata.netfence"
ENVIRONMENT_LABEL = "environment"
END_KINDS = ("workload", "external", "selection", "namespaces")
# default_deny of a namespace: the directions it isolates for every pod
DEFAULT_DENY: dict[str, tuple[str, ...]] = {
    "both": ("Ingress", "Egress"),
    "ingress": ("Ingress",),
    "egress": ("Egress",),
    "none": (),
}
DIRECTIONS = ("ingress", "egress")
# the fields each part of the record has (docs/artifact.md); anything else is refused
RECORD_FIELDS = frozenset(
    ("version", "stack", "cluster", "namespaces", "workloads", "external", "flows", "raw_policies")
)
NAMESPACE_FIELDS = frozenset(
    ("name", "environment", "managed", "allow_dns", "labels", "default_deny", "dns")
)
DNS_FIELDS = frozenset(("namespace", "labels", "ports"))
WORKLOAD_FIELDS = frozenset(("namespace", "name", "labels", "ports", "allow_dns", "isolate"))
EXTERNAL_FIELDS = frozenset(
    ("name", "cidrs", "except", "ports", "internet", "include_cluster_ranges")
)
FLOW_FIELDS = frozenset(("from", "to", "ports", "cross_environment", "declared_at"))
END_FIELDS = {
    "workload": frozenset(("kind", "namespace", "name")),
    "external": frozenset(("kind", "name")),
    # environment: older records
    "selection": frozenset(("kind", "labels", "namespace", "environment")),
    "namespaces": frozenset(("kind", "namespaces", "labels")),
}


@dataclass(frozen=True)
class DnsTarget:
    namespace: str
    labels: Labels
    ports: tuple[DeclaredPort, ...]


@dataclass(frozen=True)
class IntentNamespace:
    name: str
    labels: Labels
    environment: str | None = None
    managed: bool = True
    allow_dns: bool = True
    dns: DnsTarget | None = None
    default_deny: str = "both"

    @property
    def isolated(self) -> tuple[str, ...]:
        """policyTypes the default deny must hold: ``Ingress``, ``Egress``."""
        return DEFAULT_DENY[self.default_deny]

    @property
    def open(self) -> tuple[str, ...]:
        """The directions (``Ingress``, ``Egress``) the default deny leaves open."""
        return tuple(d for d in ("Ingress", "Egress") if d not in self.isolated)


@dataclass(frozen=True)
class FlowEnd:
    """A workload, an external endpoint, a label selection of pods in one namespace
    (``selection``), or pods of the namespaces a selector picks (``namespaces``).

    ``labels`` selects the pods (empty: all pods). A ``namespaces`` end holds
    its namespace selector; an old ``selection`` by environment is read as one.
    """

    kind: str
    name: str | None = None
    namespace: str | None = None
    labels: Labels = ()
    namespace_selector: LabelSelector | None = None

    def __str__(self) -> str:
        if self.kind == "workload":
            return f"{self.namespace}/{self.name}"
        if self.kind == "external":
            return f"external/{self.name}"
        if self.kind == "namespaces":
            return f"{self.scope_text()} / {self.pods_text()}"
        pods = ",".join(f"{k}={v}" for k, v in self.labels) or "all pods"
        return f"selection({pods} in namespace {self.namespace})"

    @property
    def environment(self) -> str | None:
        """The environment a ``namespaces`` end is restricted to, if any."""
        if self.namespace_selector is None:
            return None
        return dict(self.namespace_selector.match_labels).get(ENVIRONMENT_LABEL)

    def named(self) -> tuple[str, ...]:
        """The namespace names a ``namespaces`` end is restricted to (empty: not by name)."""
        sel = self.namespace_selector
        if sel is None:
            return ()
        names = {v for k, v in sel.match_labels if k == NAME_LABEL}
        for req in sel.match_expressions:
            if req.key == NAME_LABEL and req.operator == "In":
                names = names & set(req.values) if names else set(req.values)
        return tuple(sorted(names))

    def scope_text(self) -> str:
        """The namespaces as the user wrote them: named, labelled or all."""
        sel = self.namespace_selector or LabelSelector()
        names = self.named()
        rest = [f"{k}={v}" for k, v in sel.match_labels if k != NAME_LABEL]
        rest += [
            str(LabelSelector(match_expressions=(e,)))[1:-1]
            for e in sel.match_expressions
            if not (names and e.key == NAME_LABEL and e.operator == "In")
        ]
        if names:
            return f"namespaces named {', '.join(names)}" + (
                f" ({', '.join(rest)})" if rest else ""
            )
        return f"namespaces labelled {', '.join(rest)}" if rest else "all namespaces"

    def stand_in_namespace(self, *, other_environment: bool = False) -> tuple[str, Labels]:
        """The namespace (name, labels) a ``namespaces`` end's stand-in pods live in.

        A named namespace is itself; a selection by label gets a namespace of its
        own, labelled to match (an end of all namespaces has none: the caller's
        unlisted namespace stands for it). ``other_environment``: a namespace like
        it (the same labels) but of another environment.
        """
        selector = self.namespace_selector
        assert selector is not None and not selector.is_empty(), self
        labels = selector.satisfying_labels()
        if other_environment:
            name = f"netfence-other-environment-{self.scope_text()}"
            # a named one keeps its name label: only the environment tells it apart
            labels = {NAME_LABEL: name, **labels, ENVIRONMENT_LABEL: "netfence-another-environment"}
        else:
            name = labels.get(NAME_LABEL) or f"netfence-namespaces-{self.scope_text()}"
            labels = {NAME_LABEL: name, **labels}
        return name, tuple(sorted(labels.items()))

    def pods_text(self) -> str:
        pods = ",".join(f"{k}={v}" for k, v in self.labels)
        return f"pods {pods}" if pods else "all pods"


@dataclass(frozen=True)
class Flow:
    source: FlowEnd
    destination: FlowEnd
    ports: tuple[DeclaredPort, ...]
    cross_environment: bool = False
    # where the flow was declared (its construct path); None in records written
    # before ``declared_at`` existed. Not part of what the flow allows.
    declared_at: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class IntentRecord:
    stack: str
    namespaces: tuple[IntentNamespace, ...]
    workloads: tuple[Workload, ...]
    external: tuple[External, ...]
    flows: tuple[Flow, ...]
    file: str = "<memory>"
    pod_cidrs: tuple[str, ...] = ()  # where pods have IPs; empty: anywhere
    service_cidrs: tuple[str, ...] = ()
    # ns.raw_policy(): policies kept verbatim, declared as written (reason per key)
    raw_policies: tuple[NetworkPolicy, ...] = ()
    raw_reasons: tuple[tuple[str, str], ...] = ()

    def inventory(self) -> Inventory:
        """Declared namespaces, workloads and externals, plus one stand-in per selection.

        A selection (``ns.all_workloads()``, ingress-nginx's controller pods)
        is a declared party to flows, so a map for audits must show it: it
        gets a workload ``[labels]`` in its namespace, or ``[pods labels]`` in
        a namespace ``[namespaces named N]`` / ``[namespaces labelled ...]``
        labelled like the namespaces it stands for (square brackets: Mermaid
        and GitHub treat ``<...>`` as HTML).
        """
        namespaces = {n.name: Namespace(n.name, n.labels) for n in self.namespaces}
        stand_ins: dict[tuple[str, str], Workload] = {}
        for flow in self.flows:
            for end in (flow.source, flow.destination):
                if end.kind not in ("selection", "namespaces"):
                    continue
                if end.namespace_selector is None:
                    namespace = str(end.namespace)
                    name = "[" + (",".join(f"{k}={v}" for k, v in end.labels) or "all pods") + "]"
                else:
                    namespace = f"[{end.scope_text()}]"
                    labels = end.namespace_selector.satisfying_labels()
                    namespaces.setdefault(
                        namespace, Namespace(namespace, tuple(sorted(labels.items())))
                    )
                    name = f"[{end.pods_text()}]"
                ports = flow.ports if end is flow.destination else ()
                known = stand_ins.get((namespace, name))
                merged = tuple(dict.fromkeys((*known.ports, *ports))) if known else ports
                stand_ins[(namespace, name)] = Workload(namespace, name, end.labels, merged)
        return Inventory(
            tuple(namespaces.values()),
            (*self.workloads, *(stand_ins[k] for k in sorted(stand_ins))),
            self.external,
        )


def load_intent(path: str | Path) -> IntentRecord:
    from constructs_lib.loaders._read import read_json

    return intent_from_artifact(read_json(path), str(path))


def intent_from_artifact(data: Any, file: str) -> IntentRecord:
    record: Any = data
    for key in ("//", "metadata", "netfence"):
        record = record.get(key) if isinstance(record, dict) else None
    if record is None:
        raise ArtifactError(
            file,
            "no netfence intent record; synthesize the stack with netfence (see docs/artifact.md)",
            field=RECORD_PATH,
        )
    return intent_from_record(record, file)


def intent_from_record(record: Any, file: str = "<memory>") -> IntentRecord:
    r = Reader(file, None, KUBERNETES)
    top = r.mapping(record, RECORD_PATH)
    r.known(top, RECORD_PATH, RECORD_FIELDS)
    if top.get("version") != 1:
        r.fail(f"{RECORD_PATH}.version", f"unsupported version {top.get('version')!r}; expected 1")
    namespaces = tuple(
        _namespace(r, item, where)
        for item, where in r.blocks(top.get("namespaces"), f"{RECORD_PATH}.namespaces")
    )
    # Below, a value of the exact type is taken as it is; anything else goes to the
    # Reader, which reads it (a subclass) or refuses it. (The record is JSON: a string
    # reads as itself, no Terraform templates.) Each field in the order it is checked.
    workloads = []
    path = f"{RECORD_PATH}.workloads"
    for i, item in enumerate(r.block_items(top.get("workloads"), path)[0]):
        where = f"{path}[{i}]"
        r.known(item, where, WORKLOAD_FIELDS)
        namespace = item.get("namespace")
        if namespace.__class__ is not str:
            namespace = r.string(namespace, f"{where}.namespace")
        name = r.name(item.get("name"), f"{where}.name", label=True)  # as the SDK names them
        labels = r.labels(item.get("labels"), f"{where}.labels")
        ports = read_ports(r, item, where)
        allow_dns = item.get("allow_dns", True)
        if allow_dns.__class__ is not bool:
            allow_dns = r.boolean(allow_dns, f"{where}.allow_dns", True)
        isolate = item.get("isolate")
        isolate = () if isolate is None else _isolate(r, isolate, f"{where}.isolate")
        workloads.append(Workload(namespace, name, labels, ports, None, allow_dns, isolate))
    external_items = r.blocks(top.get("external"), f"{RECORD_PATH}.external")
    for item, where in external_items:
        r.known(item, where, EXTERNAL_FIELDS)
    listed = {w.key: f"{RECORD_PATH}.workloads[{i}]" for i, w in enumerate(workloads)}
    externals = []
    for item, where in external_items:
        external = read_external(
            r,
            item,
            where,
            include_cluster_ranges=r.boolean(
                item.get("include_cluster_ranges"), f"{where}.include_cluster_ranges", False
            ),
        )
        refuse_shared_key(r, external, where, listed)
        externals.append(external)
    known = {
        "workload": {w.key for w in workloads},
        "external": {e.name for e in externals},
    }
    # the ends that name a declared workload or external endpoint (see _flow_end)
    ends: dict[tuple[str, ...], FlowEnd] = {
        ("workload", w.namespace, w.name): FlowEnd("workload", w.name, w.namespace)
        for w in workloads
    }
    ends.update((("external", e.name), FlowEnd("external", e.name)) for e in externals)
    flows = []
    path = f"{RECORD_PATH}.flows"
    for i, item in enumerate(r.block_items(top.get("flows"), path)[0]):
        where = f"{path}[{i}]"
        r.known(item, where, FLOW_FIELDS)
        source = _flow_end(r, item.get("from"), where, ".from", known, ends)
        destination = _flow_end(r, item.get("to"), where, ".to", known, ends)
        ports = read_ports(r, item, where)
        cross = item.get("cross_environment", False)
        if cross.__class__ is not bool:
            cross = r.boolean(cross, f"{where}.cross_environment", False)
        declared_at = None  # records older than the field
        if "declared_at" in item:
            declared_at = _declared_at(r, item["declared_at"], f"{where}.declared_at")
        flows.append(Flow(source, destination, ports, cross, declared_at))
    cluster = r.mapping(top.get("cluster", {}), f"{RECORD_PATH}.cluster")
    r.known(cluster, f"{RECORD_PATH}.cluster", ("pod_cidrs", "service_cidrs"))
    ranges = {
        key: tuple(
            _cidr(r, v, f"{RECORD_PATH}.cluster.{key}[{i}]")
            for i, v in enumerate(r.items(cluster.get(key), f"{RECORD_PATH}.cluster.{key}"))
        )
        for key in ("pod_cidrs", "service_cidrs")
    }
    raw_policies, raw_reasons = [], []
    for item, where in r.blocks(top.get("raw_policies", []), f"{RECORD_PATH}.raw_policies"):
        r.known(item, where, ("namespace", "name", "reason", "spec"))
        namespace = r.string(item.get("namespace"), f"{where}.namespace")
        name = r.string(item.get("name"), f"{where}.name")
        reason = r.string(item.get("reason"), f"{where}.reason")
        doc = {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace},
            "spec": item.get("spec"),
        }
        raw_policies.append(policy_from_manifest(doc, f"{file} ({where})"))
        raw_reasons.append((f"{namespace}/{name}", reason))
    stack = top.get("stack")
    return IntentRecord(
        raw_policies=tuple(raw_policies),
        raw_reasons=tuple(raw_reasons),
        pod_cidrs=ranges["pod_cidrs"],
        service_cidrs=ranges["service_cidrs"],
        stack=r.string(stack, f"{RECORD_PATH}.stack") if stack is not None else "",
        namespaces=namespaces,
        workloads=tuple(workloads),
        external=tuple(externals),
        flows=tuple(flows),
        file=file,
    )


def _declared_at(r: Reader, value: Any, path: str) -> str:
    """A flow's construct path (a flow of a record older than the field has none)."""
    text = r.string(value, path)
    if not text.strip():
        r.fail(path, f"expected the construct path the flow was declared at, got {text!r}")
    return text


def _isolate(r: Reader, value: Any, path: str) -> tuple[str, ...]:
    seen: list[str] = []
    for i, v in enumerate(r.items(value, path)):
        if v not in DIRECTIONS:
            r.fail(f"{path}[{i}]", f"expected 'ingress' or 'egress', got {v!r}")
        if v in seen:
            r.fail(f"{path}[{i}]", f"{v!r} is listed twice")
        seen.append(v)
    return tuple(d for d in DIRECTIONS if d in seen)


def _namespace(r: Reader, item: Mapping[str, Any], where: str) -> IntentNamespace:
    r.known(item, where, NAMESPACE_FIELDS)
    name = r.string(item.get("name"), f"{where}.name")
    allow_dns = r.boolean(item.get("allow_dns"), f"{where}.allow_dns", False)
    dns = None
    if allow_dns:
        body = r.mapping(item.get("dns"), f"{where}.dns")
        r.known(body, f"{where}.dns", DNS_FIELDS)
        dns = DnsTarget(
            namespace=r.string(body.get("namespace"), f"{where}.dns.namespace"),
            labels=r.labels(body.get("labels"), f"{where}.dns.labels"),
            ports=read_ports(r, body, f"{where}.dns"),
        )
    environment = item.get("environment")
    default_deny = item.get("default_deny", "both")
    if not isinstance(default_deny, str) or default_deny not in DEFAULT_DENY:
        r.fail(
            f"{where}.default_deny",
            f"expected one of 'both', 'ingress', 'egress', 'none', got {default_deny!r}",
        )
    return IntentNamespace(
        name=name,
        labels=with_name_label(name, r.labels(item.get("labels"), f"{where}.labels")),
        environment=r.string(environment, f"{where}.environment")
        if environment is not None
        else None,
        managed=r.boolean(item.get("managed"), f"{where}.managed", True),
        allow_dns=allow_dns,
        dns=dns,
        default_deny=default_deny,
    )


def _flow_end(
    r: Reader,
    value: Any,
    where: str,
    side: str,
    known: Mapping[str, set[str]],
    ends: dict[tuple[str, ...], FlowEnd],
) -> FlowEnd:
    """A flow's ``from`` or ``to`` (``side``), read by ``_end``, or found in ``ends``.

    A workload or external end of no other fields, named by strings, is fixed by its
    kind and names: when they are those of a declared workload or external endpoint
    (``ends`` starts with those) or of an end read before, it is that end. Every
    other end is read afresh, so each refusal names its own path.
    """
    key: tuple[str, ...] | None = None
    if value.__class__ is dict:
        kind = value.get("kind")
        # (the fields named are given: there are no others when there are no more)
        if kind == "workload":
            name, namespace = value.get("name"), value.get("namespace")
            if name.__class__ is str and namespace.__class__ is str and len(value) == 3:
                key = ("workload", namespace, name)
        elif kind == "external":
            name = value.get("name")
            if name.__class__ is str and len(value) == 2:
                key = ("external", name)
    if key is not None:
        end = ends.get(key)
        if end is not None:
            return end
    end = _end(r, value, where + side, known)
    if key is not None:
        ends[key] = end
    return end


def _end(r: Reader, value: Any, path: str, known: Mapping[str, set[str]]) -> FlowEnd:
    body = r.mapping(value, path)
    kind = body.get("kind")
    if kind not in END_KINDS:
        r.fail(f"{path}.kind", f"unknown kind {kind!r}; expected {', '.join(END_KINDS)}")
    r.known(body, path, END_FIELDS[kind])
    if kind == "workload":
        end = FlowEnd(
            kind,
            name=r.string(body.get("name"), f"{path}.name"),
            namespace=r.string(body.get("namespace"), f"{path}.namespace"),
        )
        if f"{end.namespace}/{end.name}" not in known["workload"]:
            r.fail(path, f"flow end {end} is not a declared workload")
        return end
    if kind == "external":
        end = FlowEnd(kind, name=r.string(body.get("name"), f"{path}.name"))
        if end.name not in known["external"]:
            r.fail(path, f"flow end {end} is not a declared external endpoint")
        return end
    labels = r.labels(body.get("labels"), f"{path}.labels")
    if kind == "namespaces":
        if body.get("namespaces") is None:
            r.fail(f"{path}.namespaces", "missing required field (a namespace selector)")
        selector = r.selector(body.get("namespaces"), f"{path}.namespaces")
        return FlowEnd(kind, labels=labels, namespace_selector=selector or LabelSelector())
    namespace = body.get("namespace")
    environment = body.get("environment")
    if (namespace is None) == (environment is None):
        r.fail(path, "a selection needs exactly one of namespace and environment")
    if environment is not None:  # an older record's WorkloadSelection.in_environment
        env = r.string(environment, f"{path}.environment")
        return FlowEnd(
            "namespaces",
            labels=labels,
            namespace_selector=LabelSelector(((ENVIRONMENT_LABEL, env),)),
        )
    return FlowEnd(kind, namespace=r.string(namespace, f"{path}.namespace"), labels=labels)
