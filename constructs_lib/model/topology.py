"""The intent of one stack: namespaces, workloads, external endpoints, flows.

Pure Python. Everything is validated when it is declared, so synthesis never
fails half-way. The cdktf constructs are a thin layer over these objects.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from constructs_lib.addresses import internet_coverage
from constructs_lib.errors import InvalidIntentError
from constructs_lib.model import validation
from constructs_lib.model.port import Port
from constructs_lib.model.validation import Labels, Network
from constructs_lib.spec import Direction, IPBlock, Peer, Selector

if TYPE_CHECKING:
    from constructs_lib.model.peers import NamespacePods
    from constructs_lib.model.pipeline import Pipeline
    from constructs_lib.model.raw import RawPolicy

ENVIRONMENT_LABEL = "environment"
MAX_DNS_POLICIES = 16
# default_deny= of a namespace, and the directions each isolates for every pod.
DEFAULT_DENY: dict[str, tuple[Direction, ...]] = {
    "both": (Direction.INGRESS, Direction.EGRESS),
    "ingress": (Direction.INGRESS,),
    "egress": (Direction.EGRESS,),
    "none": (),
}
ISOLATE: dict[str, tuple[Direction, ...]] = {
    "ingress": (Direction.INGRESS,),
    "egress": (Direction.EGRESS,),
    "both": (Direction.INGRESS, Direction.EGRESS),
}


def direction_names(directions: Iterable[Direction]) -> str:
    """``ingress``, ``egress`` or ``ingress and egress``."""
    return " and ".join(d.value.lower() for d in directions)


def _port_example(value: object) -> str:
    """How to write ``value`` as a ports list, for messages."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"Port.tcp({value})"
    if isinstance(value, Port):
        return repr(value)
    return "Port.tcp(443)"


def _ports(
    path: str, field_name: str, ports: Iterable[Port] | None, *, flow: bool = False
) -> tuple[Port, ...]:
    if ports is None:
        return ()
    out: list[Port] = []
    for i, port in enumerate(validation.items(path, field_name, ports, "Ports", _port_example)):
        if not isinstance(port, Port):
            raise InvalidIntentError(
                path,
                f"{field_name}[{i}]",
                f"{port!r} is not a Port (use Port.tcp(443), Port.udp(53), "
                "Port.tcp_range(8000, 8100) or Port.named('http'))",
            )
        if port in out:
            raise InvalidIntentError(path, f"{field_name}[{i}]", f"port {port} is listed twice")
        if port.is_any and not flow:
            raise InvalidIntentError(
                path,
                f"{field_name}[{i}]",
                f"{port} is for flows only, never a default: declare the ports listened "
                "on here and pass ports=[Port.all()] (or Port.all_tcp(), "
                "Port.all_udp()) to the flow that needs any port",
            )
        out.append(port)
    return tuple(sorted(out, key=Port.sort_key))


@dataclass(frozen=True)
class DnsTarget:
    """Where the pods of a namespace resolve names.

    The default is kube-dns / CoreDNS in kube-system on 53/UDP and 53/TCP;
    ``DnsTarget.openshift()`` is the OpenShift DNS operator's daemonset on 5353.
    """

    namespace: str = "kube-system"
    labels: Labels = (("k8s-app", "kube-dns"),)
    ports: tuple[Port, ...] = (Port.tcp(53), Port.udp(53))

    def __post_init__(self) -> None:
        """Checked however it was built (``create`` normalises first)."""
        path = "DnsTarget"
        validation.dns_label(path, "namespace", self.namespace)
        if not isinstance(self.labels, tuple) or not all(
            isinstance(pair, tuple) and len(pair) == 2 for pair in self.labels
        ):
            raise InvalidIntentError(
                path, "labels", f"{self.labels!r} is not a label tuple; use DnsTarget.create(...)"
            )
        object.__setattr__(
            self, "labels", validation.labels(path, "labels", dict(self.labels), allow_empty=False)
        )
        checked = _ports(path, "ports", self.ports)
        if not checked:
            raise InvalidIntentError(path, "ports", "at least one port is required")
        object.__setattr__(self, "ports", checked)

    @classmethod
    def create(
        cls, *, namespace: str, labels: Mapping[str, str], ports: Sequence[Port]
    ) -> DnsTarget:
        path = "DnsTarget"
        return cls(
            namespace,
            validation.labels(path, "labels", labels, allow_empty=False),
            tuple(validation.items(path, "ports", ports, "Ports", _port_example)),  # type: ignore[arg-type]
        )

    @classmethod
    def kube_dns(cls) -> DnsTarget:
        return cls()

    @classmethod
    def openshift(cls) -> DnsTarget:
        return cls(
            "openshift-dns",
            (("dns.operator.openshift.io/daemonset-dns", "default"),),
            (Port.tcp(5353), Port.udp(5353)),
        )

    def to_record(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "labels": dict(self.labels),
            "ports": [p.to_record() for p in self.ports],
        }


@dataclass(frozen=True)
class Subject:
    """Pods of this stack that get a policy on behalf of a flow end.

    ``name`` is the policy base name (``<name>-ingress`` / ``<name>-egress``).
    """

    namespace: str
    name: str
    labels: Labels
    description: str


def selection_policy_name(labels: Labels) -> str:
    """Policy base name for a selection: ``all-pods``, or ``pods-<label values>-<hash>``.

    The values make it readable in a plan; the hash of the whole label set
    keeps two selections with the same values apart.
    """
    if not labels:
        return "all-pods"
    digest = hashlib.sha256(json.dumps(labels).encode()).hexdigest()[:8]
    words = re.sub(r"[^a-z0-9]+", "-", "-".join(v for _, v in labels).lower()).strip("-")
    return f"pods-{words[:40].strip('-')}-{digest}" if words else f"pods-{digest}"


_RESERVED_NAME = re.compile(r"all-pods|pods-([a-z0-9-]+-)?[0-9a-f]{8}")


EXTERNAL_NAMES = "external"  # external endpoint X is external/X in maps, findings and records


def _same_name(name: str) -> str:
    return (
        f"workload {name!r} of namespace {EXTERNAL_NAMES!r} and external endpoint {name!r} "
        f"would both be {EXTERNAL_NAMES}/{name} in maps, findings and the intent record; "
        "rename one of them"
    )


def is_reserved_name(name: str) -> bool:
    """Names the policies of workload selections use: no workload may take them."""
    return _RESERVED_NAME.fullmatch(name) is not None


@dataclass(frozen=True)
class ClusterRanges:
    """The cluster's pod and service address ranges (``KubernetesCluster(pod_cidrs=...)``).

    Pod IPs can match an ipBlock with most CNIs, so external endpoints get
    these ranges as excepts unless they say ``include_cluster_ranges=True``.
    """

    pods: tuple[Network, ...] = ()
    services: tuple[Network, ...] = ()

    @property
    def all(self) -> tuple[Network, ...]:
        return tuple(sorted(set(self.pods + self.services), key=_net_key))

    def describe(self, net: Network) -> str:
        kind = "pod" if net in self.pods else "service"
        return f"the cluster's {kind} CIDR {net}"

    def to_record(self) -> dict[str, Any]:
        return {
            "pod_cidrs": [str(n) for n in self.pods],
            "service_cidrs": [str(n) for n in self.services],
        }


class Endpoint(Protocol):
    """What a flow can connect: a Workload, a WorkloadSelection, an ExternalEndpoint,
    or pods of namespaces outside the stack (``Namespaces(...).pods(...)``).

    The compiler asks each end for its Kubernetes peer form; it never checks
    which kind of end it holds.
    """

    def peers(self, policy_namespace: str, cluster: ClusterRanges) -> tuple[Peer, ...]:
        """The NetworkPolicy peers for this end, seen from a policy in ``policy_namespace``."""
        ...

    def subjects(self, topology: Topology) -> tuple[Subject, ...]:
        """The pods of ``topology``'s namespaces this end stands for."""
        ...

    def default_ports(self) -> tuple[Port, ...]: ...

    def environment(self) -> str | None: ...

    def may_cross(self, environment: str) -> bool:
        """Whether some pods of this end may be in an environment other than ``environment``."""
        ...

    def describe(self) -> str: ...

    def to_record(self) -> dict[str, Any]: ...


@dataclass(frozen=True, eq=False)
class Namespace:
    """A zero-trust namespace: default deny both ways (or the directions
    ``default_deny`` names), DNS unless told not to."""

    topology: Topology = field(repr=False)
    path: str
    name: str
    environment: str
    labels: Labels
    allow_dns: bool
    dns: DnsTarget
    adopt: bool
    default_deny: str = field(default="both", kw_only=True)

    @property
    def isolated(self) -> tuple[Direction, ...]:
        """The directions the namespace's default deny isolates for every pod."""
        return DEFAULT_DENY[self.default_deny]

    @property
    def open(self) -> tuple[Direction, ...]:
        """The directions left open: only workloads ``isolate()`` isolates there are closed."""
        return tuple(d for d in Direction if d not in self.isolated)

    @property
    def all_labels(self) -> Labels:
        """The labels netfence sets on the namespace (environment included)."""
        merged = dict(self.labels)
        merged[ENVIRONMENT_LABEL] = self.environment
        hosting = [p for p in self.topology.pipelines.values() if p.namespace_labels(self.name)]
        if len(hosting) == 1:  # a label can name only one pipeline
            merged.update(hosting[0].namespace_labels(self.name))
        return tuple(sorted(merged.items()))

    def workload(
        self,
        id: str,
        *,
        labels: Mapping[str, str],
        ports: Sequence[Port] | None = None,
        name: str | None = None,
        allow_dns: bool = True,
    ) -> Workload:
        """Declare the pods selected by ``labels`` as a workload of this namespace.

        ports: the container ports the pods listen on; flows to the workload
            default to them. Left out, flows to it must name their ports.
        name: the Kubernetes-side name (policy names derive from it); left out,
            ``id`` is used. Set it to keep policy names when renaming the id.
        allow_dns: left out (True), the pods share the namespace's DNS
            allowance; False leaves them out of it (the DNS policy's
            podSelector excludes them), so a workload without egress flows
            can open no connection at all. Where the namespace leaves egress
            open (``default_deny``), it matters only once the workload is
            isolated for egress (``isolate()``).
        """
        return self.topology.add_workload(
            self, id, labels=labels, ports=ports, name=name, allow_dns=allow_dns
        )

    def all_workloads(self) -> WorkloadSelection:
        """Every pod of this namespace, declared or not: an explicit allow-all peer."""
        return WorkloadSelection(self.name, (), _namespace=self)

    def select(self, labels: Mapping[str, str]) -> WorkloadSelection:
        """Every pod of this namespace whose labels include ``labels``."""
        path = f"{self.path}.select()"
        return WorkloadSelection(
            self.name,
            validation.labels(path, "labels", labels, allow_empty=False),
            _namespace=self,
        )

    def raw_policy(self, name: str, spec: Mapping[str, Any], *, reason: str) -> RawPolicy:
        """Keep the NetworkPolicy ``spec`` (a dict) verbatim, as declared intent.

        The escape hatch for what workloads and flows cannot say exactly; see
        ``constructs_lib.model.raw``. ``reason`` says why (it goes into the
        policy's purpose and the intent record).
        """
        return self.topology.add_raw_policy(self, f"{self.path}.raw_policy()", name, spec, reason)

    def to_record(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "environment": self.environment,
            "managed": not self.adopt,
            "allow_dns": self.allow_dns,
            "labels": dict(self.all_labels),
        }
        if self.default_deny != "both":  # written only when set, so older records read the same
            out["default_deny"] = self.default_deny
        if self.allow_dns:
            out["dns"] = self.dns.to_record()
        return out


@dataclass(frozen=True, eq=False)
class Workload:
    """The pods of one namespace that match ``labels``."""

    namespace: Namespace = field(repr=False)
    path: str
    name: str
    labels: Labels
    ports: tuple[Port, ...]
    allow_dns: bool = field(default=True, kw_only=True)

    @property
    def ref(self) -> str:
        return f"{self.namespace.name}/{self.name}"

    @property
    def isolated(self) -> tuple[Direction, ...]:
        """The directions ``isolate()`` isolates this workload in."""
        return self.namespace.topology.isolated.get((self.namespace.name, self.name), ())

    def isolate(self, direction: str = "both") -> None:
        """Isolate just these pods in a direction their namespace leaves open.

        For ``default_deny="none"`` (or the open direction of "ingress" /
        "egress"): the workload gets its own ``<name>-ingress`` /
        ``<name>-egress`` policy with that direction in policyTypes and no
        rules beyond its declared flows, so only those are allowed (without
        isolate(), a flow's half in an open direction is not written: the
        direction allows it already, and a policy would isolate). Isolated
        for egress, it keeps the namespace's DNS allowance (a
        ``<name>-dns`` policy) unless the workload says allow_dns=False.
        direction: "ingress", "egress" or "both"; left out, "both". A
        direction the namespace already isolates is refused when nothing
        else is asked for.
        """
        self.namespace.topology.isolate(self, direction, f"{self.path}.isolate()")

    def allow_to(
        self,
        destination: Endpoint,
        *,
        ports: Sequence[Port] | None = None,
        cross_environment: bool = False,
    ) -> Flow:
        """Allow this workload to open connections to ``destination``.

        Writes an egress rule on this workload and, when the destination is a
        workload of this stack, the matching ingress rule on it.
        ports: left out, the destination's declared ports.
        cross_environment: must be True when the destination is in another
            environment; left out, such a flow is refused.
        """
        return self.namespace.topology.add_flow(
            self,
            destination,
            ports=ports,
            cross_environment=cross_environment,
            path=f"{self.path}.allow_to()",
        )

    def allow_from(
        self,
        source: Endpoint,
        *,
        ports: Sequence[Port] | None = None,
        cross_environment: bool = False,
    ) -> Flow:
        """Allow ``source`` to open connections to this workload (see ``allow_to``).

        ports: left out, this workload's declared ports.
        """
        return self.namespace.topology.add_flow(
            source,
            self,
            ports=ports,
            cross_environment=cross_environment,
            path=f"{self.path}.allow_from()",
        )

    # Endpoint protocol (a workload's peers and subject never change: made once)
    def peers(self, policy_namespace: str, cluster: ClusterRanges) -> tuple[Peer, ...]:
        if policy_namespace == self.namespace.name:
            return self._peers_here
        return self._peers_elsewhere

    @functools.cached_property
    def _peers_here(self) -> tuple[Peer, ...]:
        return (Peer(pod_selector=Selector(self.labels)),)

    @functools.cached_property
    def _peers_elsewhere(self) -> tuple[Peer, ...]:
        return (
            Peer(
                namespace_selector=Selector.namespace_named(self.namespace.name),
                pod_selector=Selector(self.labels),
            ),
        )

    def subjects(self, topology: Topology) -> tuple[Subject, ...]:
        return self._subjects

    @functools.cached_property
    def _subjects(self) -> tuple[Subject, ...]:
        return (Subject(self.namespace.name, self.name, self.labels, self.name),)

    def default_ports(self) -> tuple[Port, ...]:
        return self.ports

    def environment(self) -> str | None:
        return self.namespace.environment

    def may_cross(self, environment: str) -> bool:
        return self.namespace.environment != environment

    def describe(self) -> str:
        return f"workload {self.ref}"

    def to_record(self) -> dict[str, Any]:
        return {"kind": "workload", "namespace": self.namespace.name, "name": self.name}

    def inventory_record(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "namespace": self.namespace.name,
            "name": self.name,
            "labels": dict(self.labels),
            "ports": [p.to_record() for p in self.ports],
        }
        if not self.allow_dns:
            out["allow_dns"] = False
        if self.isolated:
            out["isolate"] = [d.value.lower() for d in self.isolated]
        return out


@dataclass(frozen=True)
class WorkloadSelection:
    """Pods of one namespace of this stack chosen by labels (all of them when none).

    Build with ``namespace.all_workloads()`` or ``namespace.select(labels)``.
    Pods need not be declared workloads. Pods of namespaces other teams run
    are ``Namespaces.named(...).pods(...)`` and friends (see ``Namespaces``).
    """

    namespace: str
    labels: Labels
    _namespace: Namespace | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._namespace is None:  # built by hand, not by a namespace
            raise InvalidIntentError(
                f"WorkloadSelection({self.namespace!r})",
                "namespace",
                "build a selection with namespace.select({...}) or namespace.all_workloads(); "
                "pods of namespaces outside the stack are Namespaces.named(...).pods({...}), "
                "Namespaces.labelled({...}).pods({...}) or Namespaces.all().pods({...})",
            )

    @staticmethod
    def in_environment(environment: str, *, labels: Mapping[str, str]) -> NamespacePods:
        """Pods with ``labels`` in every namespace of ``environment``.

        The same as ``Namespaces.all(environment=environment).pods(labels)``.
        """
        from constructs_lib.model.peers import Namespaces

        path = "WorkloadSelection.in_environment()"
        env = validation.label_value(path, "environment", ENVIRONMENT_LABEL, environment)
        if not env:
            raise InvalidIntentError(path, "environment", "'' is not an environment name")
        validation.labels(path, "labels", labels, allow_empty=False)
        return Namespaces.all(environment=env).pods(labels)

    def allow_to(
        self,
        destination: Endpoint,
        *,
        ports: Sequence[Port] | None = None,
        cross_environment: bool = False,
    ) -> Flow:
        """Allow the selected pods to open connections to ``destination`` (see
        ``Workload.allow_to``): egress on them, ingress on the destination's side
        when it has pods in this stack.

        ports: left out, the destination's declared ports.
        cross_environment: must be True when the destination may be in another
            environment; left out, such a flow is refused.
        """
        return self._topology("allow_to").add_flow(
            self,
            destination,
            ports=ports,
            cross_environment=cross_environment,
            path=f"{self._path()}.allow_to()",
        )

    def allow_from(
        self,
        source: Endpoint,
        *,
        ports: Sequence[Port] | None = None,
        cross_environment: bool = False,
    ) -> Flow:
        """Allow ``source`` to open connections to the selected pods (see ``allow_to``).

        ports: left out, refused: a selection declares no ports, so name them.
        """
        return self._topology("allow_from").add_flow(
            source,
            self,
            ports=ports,
            cross_environment=cross_environment,
            path=f"{self._path()}.allow_from()",
        )

    def _path(self) -> str:
        where = self._namespace.path if self._namespace is not None else self.namespace
        return f"{where}.{'select()' if self.labels else 'all_workloads()'}"

    def _topology(self, verb: str) -> Topology:
        assert self._namespace is not None  # __post_init__ refuses selections without one
        return self._namespace.topology

    def peers(self, policy_namespace: str, cluster: ClusterRanges) -> tuple[Peer, ...]:
        pods = Selector(self.labels)
        if self.namespace == policy_namespace:
            return (Peer(pod_selector=pods),)
        return (
            Peer(namespace_selector=Selector.namespace_named(self.namespace), pod_selector=pods),
        )

    def subjects(self, topology: Topology) -> tuple[Subject, ...]:
        """Selected pods in this stack's namespace: default deny isolates them
        too, so the flow needs a rule on them as well."""
        if self.namespace not in topology.namespaces:
            return ()
        what = ",".join(f"{k}={v}" for k, v in self.labels) or "all pods"
        return (Subject(self.namespace, selection_policy_name(self.labels), self.labels, what),)

    def default_ports(self) -> tuple[Port, ...]:
        return ()

    def environment(self) -> str | None:
        return self._namespace.environment if self._namespace is not None else None

    def may_cross(self, environment: str) -> bool:
        return self.environment() != environment

    def describe(self) -> str:
        what = ",".join(f"{k}={v}" for k, v in self.labels) or "all pods"
        return f"selection {what} in namespace {self.namespace}"

    def to_record(self) -> dict[str, Any]:
        return {"kind": "selection", "labels": dict(self.labels), "namespace": self.namespace}


@dataclass(frozen=True, init=False)
class ExternalEndpoint:
    """Something outside the cluster, reached by IP: an API, a database, a registry.

    cidrs: the address ranges (``cidr=`` takes a single one).
    except_: ranges inside ``cidrs`` that stay unreachable.
    ports: flows to the endpoint default to them; left out, flows must name ports.
    internet: must be True when the endpoint covers the internet: more public
        address space than an IPv4 /8 or an IPv6 /16 of global unicast after its
        excepts, however the ranges are split (0.0.0.0/1 + 128.0.0.0/1 and
        ::ffff:0.0.0.0/96 count); left out, such an endpoint is refused.
    include_cluster_ranges: left out (False), the cluster's pod and service
        CIDRs (``KubernetesCluster(pod_cidrs=..., service_cidrs=...)``) inside
        the endpoint's ranges become excepts, so its ipBlock never admits or
        reaches pods by IP; True keeps them, on purpose.
    """

    name: str
    cidrs: tuple[Network, ...]
    except_: tuple[Network, ...]
    ports: tuple[Port, ...]
    internet: bool
    include_cluster_ranges: bool

    def __init__(
        self,
        name: str,
        *,
        cidrs: Sequence[str] | None = None,
        cidr: str | None = None,
        except_: Sequence[str] = (),
        ports: Sequence[Port] | None = None,
        internet: bool = False,
        include_cluster_ranges: bool = False,
    ) -> None:
        path = f"ExternalEndpoint({name!r})"
        validation.dns_label(path, "name", name)
        validation.boolean(path, "include_cluster_ranges", include_cluster_ranges)
        validation.boolean(path, "internet", internet)
        if cidr is not None and cidrs is not None:
            raise InvalidIntentError(
                path,
                "cidr",
                f"cidr={cidr!r} and cidrs={cidrs!r} are both given; pass one CIDR as cidr= "
                "or several as cidrs=[...], not both",
            )
        if cidr is not None:
            raw: tuple[object, ...] = (cidr,)
        elif cidrs is not None:
            raw = validation.items(path, "cidrs", cidrs, "CIDR strings", _cidr_example)
        else:
            raw = ()
        if not raw:
            raise InvalidIntentError(path, "cidrs", "at least one CIDR is required")
        where = ["cidr"] if cidr is not None else [f"cidrs[{i}]" for i in range(len(raw))]
        nets = [validation.cidr(path, at, c) for at, c in zip(where, raw, strict=True)]
        excepts = [
            validation.cidr(path, f"except_[{i}]", c)
            for i, c in enumerate(
                validation.items(path, "except_", except_, "CIDR strings", _cidr_example)
            )
        ]
        for i, ex in enumerate(excepts):
            if not any(
                ex.version == net.version and ex != net and ex.subnet_of(net)  # type: ignore[arg-type]
                for net in nets
            ):
                raise InvalidIntentError(
                    path,
                    f"except_[{i}]",
                    f"{ex} is not inside any of the endpoint's CIDRs "
                    f"({', '.join(map(str, nets))}); an except must be a strict subnet of a CIDR",
                )
        coverage = internet_coverage(nets, excepts)
        if coverage.is_internet and not internet:
            raise InvalidIntentError(
                path,
                "cidrs",
                f"{', '.join(map(str, nets))}"
                f"{' except ' + ', '.join(map(str, excepts)) if excepts else ''} covers the "
                f"internet ({coverage.describe()}); create the endpoint with internet=True "
                "to allow that explicitly",
            )
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "cidrs", tuple(sorted(set(nets), key=_net_key)))
        object.__setattr__(self, "except_", tuple(sorted(set(excepts), key=_net_key)))
        object.__setattr__(self, "ports", _ports(path, "ports", ports))
        object.__setattr__(self, "internet", internet)
        object.__setattr__(self, "include_cluster_ranges", include_cluster_ranges)

    def check_cluster(self, cluster: ClusterRanges) -> None:
        """Refuse a range that lies wholly inside a cluster range: no except could keep it."""
        if self.include_cluster_ranges:
            return
        path = f"ExternalEndpoint({self.name!r})"
        for i, net in enumerate(self.cidrs):
            for rng in cluster.all:
                if net.version == rng.version and net.subnet_of(rng):  # type: ignore[arg-type]
                    raise InvalidIntentError(
                        path,
                        f"cidrs[{i}]",
                        f"{net} lies inside {cluster.describe(rng)}, which netfence excepts "
                        "from external endpoints; pass include_cluster_ranges=True if the "
                        "endpoint is meant to be reached there",
                    )

    def cluster_excepts(self, net: Network, cluster: ClusterRanges) -> tuple[Network, ...]:
        """The cluster ranges inside ``net`` that its ipBlock gets as excepts."""
        if self.include_cluster_ranges:
            return ()
        return tuple(
            rng
            for rng in cluster.all
            if rng.version == net.version and rng != net and rng.subnet_of(net)  # type: ignore[arg-type]
        )

    def peers(self, policy_namespace: str, cluster: ClusterRanges) -> tuple[Peer, ...]:
        out = []
        for net in self.cidrs:
            added = self.cluster_excepts(net, cluster)
            inside = [
                ex
                for ex in self.except_
                if ex.version == net.version
                and ex.subnet_of(net)  # type: ignore[arg-type]
                and not any(ex.subnet_of(r) for r in added if r.version == ex.version)  # type: ignore[arg-type]
            ]
            excepts = tuple(str(ex) for ex in sorted({*inside, *added}, key=_net_key))
            out.append(Peer(ip_block=IPBlock(str(net), excepts)))
        return tuple(out)

    def subjects(self, topology: Topology) -> tuple[Subject, ...]:
        return ()

    def default_ports(self) -> tuple[Port, ...]:
        return self.ports

    def environment(self) -> str | None:
        return None

    def may_cross(self, environment: str) -> bool:
        return False

    def describe(self) -> str:
        return f"external endpoint {self.name}"

    def to_record(self) -> dict[str, Any]:
        return {"kind": "external", "name": self.name}

    def inventory_record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cidrs": [str(c) for c in self.cidrs],
            "except": [str(c) for c in self.except_],
            "ports": [p.to_record() for p in self.ports],
            "internet": self.internet,
            **({"include_cluster_ranges": True} if self.include_cluster_ranges else {}),
        }


def _cidr_example(value: object) -> str:
    return repr(value) if isinstance(value, str) else "'203.0.113.0/24'"


def _flow_order(record: dict[str, Any]) -> tuple[str, str]:
    """Flows sort by what they allow; where they were declared only breaks ties."""
    what = {k: v for k, v in record.items() if k != "declared_at"}
    return _sorted_json(what), record["declared_at"]


# json.dumps(..., sort_keys=True) with its encoder made once, not once per flow
_sorted_json = json.JSONEncoder(sort_keys=True).encode


def _home_namespaces(end: Endpoint) -> tuple[str, ...] | None:
    """The namespaces where ``end`` can have subjects; None: decided when asked."""
    if isinstance(end, Workload):
        return (end.namespace.name,)
    if isinstance(end, WorkloadSelection):
        return (end.namespace,)
    if isinstance(end, ExternalEndpoint):
        return ()
    return None


def _net_key(net: Network) -> tuple[int, int, int]:
    return (net.version, int(net.network_address), net.prefixlen)


@dataclass(frozen=True)
class Flow:
    """An allowed connection: ``source`` may open connections to ``destination``."""

    source: Endpoint
    destination: Endpoint
    ports: tuple[Port, ...]
    cross_environment: bool
    path: str = field(compare=False)

    def to_record(self) -> dict[str, Any]:
        """The flow's entry in the intent record; ``declared_at`` is its construct path."""
        return {
            "from": self.source.to_record(),
            "to": self.destination.to_record(),
            "ports": [p.to_record() for p in self.ports],
            "cross_environment": self.cross_environment,
            "declared_at": self.path,
        }


class Topology:
    """The intent of one stack. Mutable while constructs declare into it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.namespaces: dict[str, Namespace] = {}
        self.workloads: dict[tuple[str, str], Workload] = {}
        # namespace name -> its workloads in declaration order (what is asked per namespace)
        self._workloads_in: dict[str, list[Workload]] = {}
        self.externals: dict[str, ExternalEndpoint] = {}
        self.flows: list[Flow] = []
        # where isolate() looks for the flows it must re-check: namespace -> indexes
        # of flows with an end there, and flows with an end whose namespaces are
        # decided when asked (Namespaces(...).pods(...))
        self._flows_at: dict[str, list[int]] = {}
        self._flows_anywhere: list[int] = []
        self._pairs: dict[tuple[Endpoint, Endpoint], dict[Port, str]] = {}
        self.pipelines: dict[str, Pipeline] = {}
        self._named_outside: dict[str, str] = {}  # Namespaces.named(...) -> first flow's path
        self.cluster = ClusterRanges()
        # workload.isolate(): (namespace, workload) -> directions, and where each was asked
        self.isolated: dict[tuple[str, str], tuple[Direction, ...]] = {}
        self._isolated_at: dict[tuple[str, str, Direction], str] = {}
        self.version = 0  # bumped on every change, so compiled output can be cached
        # ns.raw_policy(): (namespace, name) -> the policy kept verbatim
        self.raw_policies: dict[tuple[str, str], RawPolicy] = {}

    def set_cluster_ranges(
        self, path: str, *, pod_cidrs: Sequence[str], service_cidrs: Sequence[str]
    ) -> None:
        """Declare the cluster's pod and service CIDRs (see ``ClusterRanges``)."""
        ranges: list[tuple[Network, ...]] = []
        for field_name, values in (("pod_cidrs", pod_cidrs), ("service_cidrs", service_cidrs)):
            items = validation.items(path, field_name, values, "CIDR strings", _cidr_example)
            nets = [validation.cidr(path, f"{field_name}[{i}]", v) for i, v in enumerate(items)]
            ranges.append(tuple(sorted(set(nets), key=_net_key)))
        cluster = ClusterRanges(ranges[0], ranges[1])
        for external in self.externals.values():
            external.check_cluster(cluster)
        self.cluster = cluster
        self.version += 1

    def add_namespace(
        self,
        path: str,
        *,
        name: str,
        environment: str,
        labels: Mapping[str, str] | None = None,
        allow_dns: bool = True,
        dns: DnsTarget | None = None,
        adopt: bool = False,
        default_deny: str = "both",
    ) -> Namespace:
        validation.dns_label(path, "name", name)
        validation.one_of(
            path,
            "default_deny",
            default_deny,
            tuple(DEFAULT_DENY),
            "the directions the namespace's default deny isolates for every pod",
        )
        if not isinstance(environment, str) or not environment:
            raise InvalidIntentError(
                path,
                "environment",
                f"{environment!r} is not an environment name "
                "(a label value such as 'prod' or 'staging')",
            )
        validation.label_value(path, "environment", ENVIRONMENT_LABEL, environment)
        lab = validation.labels(path, "labels", labels, allow_empty=True)
        for key, value in lab:
            if key == ENVIRONMENT_LABEL and value != environment:
                raise InvalidIntentError(
                    path,
                    "labels",
                    f"label 'environment' is {value!r} but environment is "
                    f"{environment!r}; set it through environment= only",
                )
            if key == "kubernetes.io/metadata.name":
                raise InvalidIntentError(
                    path,
                    "labels",
                    "label 'kubernetes.io/metadata.name' is set by Kubernetes "
                    "to the namespace name and cannot be set",
                )
        validation.boolean(path, "allow_dns", allow_dns)
        validation.boolean(path, "adopt", adopt)
        if dns is not None and not isinstance(dns, DnsTarget):
            raise InvalidIntentError(
                path,
                "dns",
                f"{dns!r} is not a DnsTarget (use DnsTarget.create(...) or DnsTarget.openshift())",
            )
        if name in self.namespaces:
            raise InvalidIntentError(
                path,
                "name",
                f"namespace {name!r} is already declared in this stack "
                f"at {self.namespaces[name].path}",
            )
        if name in self._named_outside:
            raise InvalidIntentError(
                path,
                "name",
                f"namespace {name!r} is named through Namespaces.named(...) by the flow at "
                f"{self._named_outside[name]}; declare the namespace first and name it "
                "through this ZeroTrustNamespace instead",
            )
        ns = Namespace(
            self,
            path,
            name,
            environment,
            lab,
            allow_dns,
            dns or DnsTarget(),
            adopt,
            default_deny=default_deny,
        )
        self.namespaces[name] = ns
        self.version += 1
        return ns

    def add_workload(
        self,
        namespace: Namespace,
        id: str,
        *,
        labels: Mapping[str, str],
        ports: Sequence[Port] | None,
        name: str | None,
        make: Callable[..., Workload] | None = None,
        allow_dns: bool = True,
    ) -> Workload:
        path = f"{namespace.path}/{id}"
        if namespace.topology is not self:
            raise InvalidIntentError(
                path,
                "namespace",
                f"namespace {namespace.name!r} {self.foreign(namespace.topology)}",
            )
        validation.dns_label(path, "id", id)
        wl_name = validation.dns_label(path, "name", name) if name is not None else id
        if is_reserved_name(wl_name):
            raise InvalidIntentError(
                path,
                "name",
                f"{wl_name!r} is reserved for the policies of workload "
                "selections ('all-pods', 'pods-...-<8 hex digits>'); choose another name",
            )
        lab = validation.labels(path, "labels", labels, allow_empty=False)
        key = (namespace.name, wl_name)
        if key in self.workloads:
            raise InvalidIntentError(
                path,
                "id",
                f"workload {wl_name!r} is already declared in namespace "
                f"{namespace.name!r} at {self.workloads[key].path}",
            )
        if namespace.name == EXTERNAL_NAMES and wl_name in self.externals:
            raise InvalidIntentError(path, "name", _same_name(wl_name))
        validation.boolean(path, "allow_dns", allow_dns)
        if not allow_dns and namespace.allow_dns:  # in a namespace without DNS: a no-op
            terms = len(lab)
            for other in self.workloads_in(namespace.name):
                if not other.allow_dns:
                    terms *= len(other.labels)
            if terms > MAX_DNS_POLICIES:
                raise InvalidIntentError(
                    path,
                    "allow_dns",
                    f"leaving this workload out of namespace {namespace.name!r}'s DNS "
                    f"allowance needs {terms} DNS policies (one per choice of a label of "
                    f"each workload left out; at most {MAX_DNS_POLICIES}); select the "
                    "workloads without DNS by fewer labels",
                )
        wl = (make or Workload)(
            namespace, path, wl_name, lab, _ports(path, "ports", ports), allow_dns=allow_dns
        )
        self.workloads[key] = wl
        self._workloads_in.setdefault(namespace.name, []).append(wl)
        self.version += 1
        return wl

    def workloads_in(self, namespace: str) -> list[Workload]:
        """The workloads declared in ``namespace`` (a name), in declaration order."""
        return self._workloads_in.get(namespace, [])

    def isolate(self, workload: Workload, direction: str, path: str) -> None:
        """Record ``workload.isolate(direction)`` (see ``Workload.isolate``)."""
        validation.one_of(
            path,
            "direction",
            direction,
            tuple(ISOLATE),
            "the directions to isolate the workload in",
        )
        ns = workload.namespace
        if ns.topology is not self:
            raise InvalidIntentError(
                path, "workload", f"{workload.describe()} {self.foreign(ns.topology)}"
            )
        key = (ns.name, workload.name)
        asked = ISOLATE[direction]
        wanted = [d for d in asked if d in ns.open]
        if not wanted:
            raise InvalidIntentError(
                path,
                "direction",
                f"namespace {ns.name!r} already isolates every pod for {direction_names(asked)} "
                f"(default_deny={ns.default_deny!r}); isolate() is for a direction the "
                "namespace leaves open",
            )
        new = [d for d in wanted if (*key, d) not in self._isolated_at]
        if not new:
            raise InvalidIntentError(
                path,
                "direction",
                f"{workload.describe()} is already isolated for {direction_names(wanted)} at "
                f"{self._isolated_at[(*key, wanted[0])]}",
            )
        have = set(self.isolated.get(key, ())) | set(new)
        before = self.isolated.get(key)
        self.isolated[key] = tuple(d for d in Direction if d in have)
        try:  # the flows declared so far must still have one place to be written
            for index in sorted({*self._flows_at.get(ns.name, ()), *self._flows_anywhere}):
                flow = self.flows[index]
                for end, d in (
                    (flow.source, Direction.EGRESS),
                    (flow.destination, Direction.INGRESS),
                ):
                    if d in new:
                        for subject in end.subjects(self):
                            if subject.namespace == ns.name:
                                self._receivers(subject, d, end, path, "direction")
        except InvalidIntentError:
            if before is None:
                del self.isolated[key]
            else:
                self.isolated[key] = before
            raise
        for d in new:
            self._isolated_at[(*key, d)] = path
        self.version += 1

    def receivers(self, subject: Subject, direction: Direction) -> tuple[Subject, ...]:
        """The policies a flow's half for ``subject`` in ``direction`` is written to.

        Where the namespace isolates the direction: the subject's own. Where it
        leaves it open, only pods isolated by ``isolate()`` need the rule: the
        subject's own policy when all its pods are such (it isolates nothing
        new), else the policy of each isolated workload whose pods are all the
        subject's; none when no isolated pod is among the subject's.
        """
        return self._receivers(subject, direction, None, "", "")

    def _receivers(
        self,
        subject: Subject,
        direction: Direction,
        end: Endpoint | None,
        path: str,
        field_name: str,
    ) -> tuple[Subject, ...]:
        ns = self.namespaces[subject.namespace]
        if direction in ns.isolated:
            return (subject,)
        mine = set(subject.labels)
        isolated = sorted(
            (
                w
                for w in self.workloads_in(ns.name)
                if direction in self.isolated.get((ns.name, w.name), ())
            ),
            key=lambda w: w.name,
        )
        if any(set(w.labels) <= mine for w in isolated):
            return (subject,)
        out = []
        for w in isolated:
            theirs = dict(w.labels)
            if any(k in theirs and theirs[k] != v for k, v in subject.labels):
                continue  # no pod is both
            if mine <= set(w.labels):
                out.append(Subject(ns.name, w.name, w.labels, w.name))
            elif end is not None:
                d = direction.value.lower()
                raise InvalidIntentError(
                    path,
                    field_name,
                    f"{end.describe()} selects part of the pods of {w.describe()}, which is "
                    f"isolated for {d} while namespace {ns.name!r} leaves {d} open: the pods "
                    f"of both would need a policy of their own; declare the flow on "
                    f"{w.describe()} itself, or on pods selected by all of its labels",
                )
        return tuple(out)

    def foreign(self, other: Topology) -> str:
        """Why something of ``other`` cannot be used in this stack, for messages."""
        if other.name == self.name:
            return f"belongs to stack {other.name!r} of another app, not to this one"
        return f"belongs to stack {other.name!r}, not {self.name!r}"

    def _check_end(self, path: str, field_name: str, end: object) -> None:
        from constructs_lib.model.peers import NamespacePods, Namespaces

        if isinstance(end, Workload):
            if end.namespace.topology is not self:
                raise InvalidIntentError(
                    path,
                    field_name,
                    f"{end.describe()} {self.foreign(end.namespace.topology)}; a flow can only "
                    "join workloads of one stack (use a WorkloadSelection for pods managed "
                    "elsewhere)",
                )
            if self.workloads.get((end.namespace.name, end.name)) is not end:
                raise InvalidIntentError(
                    path,
                    field_name,
                    f"{end.describe()} was built directly, not declared; declare workloads "
                    "with namespace.workload(id, labels=..., ports=[...])",
                )
        elif isinstance(end, WorkloadSelection):
            if end._namespace is not None and end._namespace.topology is not self:
                raise InvalidIntentError(
                    path,
                    field_name,
                    f"{end.describe()} {self.foreign(end._namespace.topology)}",
                )
        elif isinstance(end, ExternalEndpoint):
            end.check_cluster(self.cluster)
            known = self.externals.get(end.name)
            if known is not None and known != end:
                raise InvalidIntentError(
                    path,
                    field_name,
                    f"another external endpoint named {end.name!r} with "
                    "different CIDRs or ports is already used in this stack; names must be unique",
                )
        elif isinstance(end, NamespacePods):
            for name in end.namespaces.names:
                if name in self.namespaces:
                    raise InvalidIntentError(
                        path,
                        field_name,
                        f"namespace {name!r} is managed by this stack (declared at "
                        f"{self.namespaces[name].path}); name it through its ZeroTrustNamespace: "
                        "one of its workloads, .select({...}) or .all_workloads()",
                    )
                self._named_outside.setdefault(name, path)
        elif isinstance(end, Namespaces):
            raise InvalidIntentError(
                path,
                field_name,
                f"{end.describe()} is a set of namespaces, not of pods; pass "
                f"{end.path}.pods({{...}}) or {end.path}.all_pods()",
            )
        else:
            raise InvalidIntentError(
                path,
                field_name,
                f"{end!r} is not a Workload, WorkloadSelection, ExternalEndpoint or "
                "Namespaces(...).pods(...)",
            )

    def add_flow(
        self,
        source: Endpoint,
        destination: Endpoint,
        *,
        ports: Sequence[Port] | None,
        cross_environment: bool,
        path: str,
    ) -> Flow:
        self._check_end(path, "source", source)
        self._check_end(path, "destination", destination)
        if source is destination or (isinstance(source, Workload) and source == destination):
            raise InvalidIntentError(
                path,
                "destination",
                f"{destination.describe()} is the source itself; a pod can always reach itself",
            )
        if isinstance(source, ExternalEndpoint) and isinstance(destination, ExternalEndpoint):
            raise InvalidIntentError(
                path,
                "destination",
                "a flow between two external endpoints never crosses the cluster",
            )
        flow_ports = _ports(path, "ports", ports, flow=True) if ports is not None else ()
        if ports is not None and not flow_ports:
            raise InvalidIntentError(
                path, "ports", "an empty port list would allow every port; list the ports"
            )
        if not flow_ports:
            flow_ports = destination.default_ports()
            if not flow_ports:
                raise InvalidIntentError(
                    path,
                    "ports",
                    f"{destination.describe()} declares no ports; pass "
                    "ports=[...] to the flow or declare ports on the destination",
                )
        named_ok = isinstance(destination, Workload)
        for i, port in enumerate(flow_ports):
            if port.is_named:
                if not named_ok:
                    raise InvalidIntentError(
                        path,
                        f"ports[{i}]",
                        f"named port {port} cannot resolve on "
                        f"{destination.describe()}; named ports resolve against a "
                        "destination workload's declared ports: use a number",
                    )
                assert isinstance(destination, Workload)
                if not any(port.matches(d) for d in destination.ports):
                    raise InvalidIntentError(
                        path,
                        f"ports[{i}]",
                        f"named port {port} is not declared by "
                        f"{destination.describe()} (declared: "
                        f"{', '.join(map(str, destination.ports)) or 'none'})",
                    )
        validation.boolean(path, "cross_environment", cross_environment)
        src_env, dst_env = source.environment(), destination.environment()
        if src_env and dst_env and src_env != dst_env and not cross_environment:
            raise InvalidIntentError(
                path,
                "cross_environment",
                f"{source.describe()} (environment {src_env!r}) "
                f"-> {destination.describe()} (environment {dst_env!r}) crosses environments; "
                "pass cross_environment=True to allow it explicitly",
            )
        for here, there, env in ((source, destination, src_env), (destination, source, dst_env)):
            if (
                env
                and there.environment() is None
                and there.may_cross(env)
                and not cross_environment
            ):
                raise InvalidIntentError(
                    path,
                    "cross_environment",
                    f"{there.describe()} is not restricted to environment {env!r} of "
                    f"{here.describe()}, so the flow may cross environments; pass "
                    f"environment={env!r} to the selection, or cross_environment=True "
                    "to allow it explicitly",
                )
        ends = (
            (source, Direction.EGRESS, "source", source.subjects(self)),
            (destination, Direction.INGRESS, "destination", destination.subjects(self)),
        )
        if not ends[0][3] and not ends[1][3]:
            raise InvalidIntentError(
                path,
                "destination",
                f"neither {source.describe()} nor {destination.describe()} has pods in "
                "this stack's namespaces, so no policy of this stack could allow the flow",
            )
        for end, d, side, subjects in ends:
            for subject in subjects:
                self._receivers(subject, d, end, path, side)
        flow = Flow(source, destination, flow_ports, cross_environment, path)
        pair = self._pairs.setdefault((source, destination), {})
        common = sorted((p for p in flow_ports if p in pair), key=Port.sort_key) if pair else []
        if common:
            raise InvalidIntentError(
                path,
                "destination",
                f"flow {source.describe()} -> {destination.describe()} on "
                f"{', '.join(map(str, common))} is already declared at {pair[common[0]]}",
            )
        pair.update((p, path) for p in flow_ports)
        for end, side in ((source, "source"), (destination, "destination")):
            if isinstance(end, ExternalEndpoint) and (EXTERNAL_NAMES, end.name) in self.workloads:
                raise InvalidIntentError(path, side, _same_name(end.name))
        for end in (source, destination):
            if isinstance(end, ExternalEndpoint):
                self.externals[end.name] = end
        self.flows.append(flow)
        for end in (source, destination):
            homes = _home_namespaces(end)
            if homes is None:
                self._flows_anywhere.append(len(self.flows) - 1)
            for name in homes or ():
                self._flows_at.setdefault(name, []).append(len(self.flows) - 1)
        self.version += 1
        return flow

    def add_raw_policy(
        self, namespace: Namespace, path: str, name: str, spec: Mapping[str, Any], reason: str
    ) -> RawPolicy:
        """Record ``ns.raw_policy(...)`` (see ``constructs_lib.model.raw``)."""
        from constructs_lib.model.raw import make_raw_policy

        raw = make_raw_policy(path, namespace.name, name, spec, reason)
        key = (namespace.name, name)
        if key in self.raw_policies:
            raise InvalidIntentError(
                path,
                "name",
                f"raw policy {name!r} is already declared in namespace {namespace.name!r} "
                f"at {self.raw_policies[key].path}",
            )
        self.raw_policies[key] = raw
        self.version += 1
        return raw

    def to_record(self) -> dict[str, Any]:
        """The intent record written into the artifact (docs/artifact.md)."""
        cluster = {"cluster": self.cluster.to_record()} if self.cluster.all else {}
        raw = (
            {"raw_policies": [self.raw_policies[k].to_record() for k in sorted(self.raw_policies)]}
            if self.raw_policies
            else {}
        )
        return {
            "version": 1,
            "stack": self.name,
            **cluster,
            "namespaces": [self.namespaces[n].to_record() for n in sorted(self.namespaces)],
            "workloads": [self.workloads[k].inventory_record() for k in sorted(self.workloads)],
            "external": [self.externals[n].inventory_record() for n in sorted(self.externals)],
            "flows": sorted((f.to_record() for f in self.flows), key=_flow_order),
            **raw,
        }
