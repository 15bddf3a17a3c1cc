"""The intent of one stack: namespaces, workloads, external endpoints, flows.

Pure Python. Everything is validated when it is declared, so synthesis never
fails half-way. The cdktf constructs are a thin layer over these objects.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from constructs_lib.errors import InvalidIntentError
from constructs_lib.model import validation
from constructs_lib.model.port import Port
from constructs_lib.model.validation import Labels, Network
from constructs_lib.spec import IPBlock, Peer, Selector

if TYPE_CHECKING:
    from constructs_lib.model.pipeline import Pipeline

ENVIRONMENT_LABEL = "environment"


def _port_example(value: object) -> str:
    """How to write ``value`` as a ports list, for messages."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"Port.tcp({value})"
    if isinstance(value, Port):
        return repr(value)
    return "Port.tcp(443)"


def _ports(path: str, field_name: str, ports: Iterable[Port] | None) -> tuple[Port, ...]:
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


class Endpoint(Protocol):
    """What a flow can connect: a Workload, a WorkloadSelection, an ExternalEndpoint.

    The compiler asks each end for its Kubernetes peer form; it never checks
    which kind of end it holds.
    """

    def peers(self, policy_namespace: str) -> tuple[Peer, ...]: ...

    def subjects(self, topology: Topology) -> tuple[Subject, ...]:
        """The pods of ``topology``'s namespaces this end stands for."""
        ...

    def default_ports(self) -> tuple[Port, ...]: ...

    def environment(self) -> str | None: ...

    def describe(self) -> str: ...

    def to_record(self) -> dict[str, Any]: ...


@dataclass(frozen=True, eq=False)
class Namespace:
    """A zero-trust namespace: default deny both ways, DNS unless told not to."""

    topology: Topology = field(repr=False)
    path: str
    name: str
    environment: str
    labels: Labels
    allow_dns: bool
    dns: DnsTarget
    adopt: bool

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
    ) -> Workload:
        """Declare the pods selected by ``labels`` as a workload of this namespace.

        ports: the container ports the pods listen on; flows to the workload
            default to them. Left out, flows to it must name their ports.
        name: the Kubernetes-side name (policy names derive from it); left out,
            ``id`` is used. Set it to keep policy names when renaming the id.
        """
        return self.topology.add_workload(self, id, labels=labels, ports=ports, name=name)

    def all_workloads(self) -> WorkloadSelection:
        """Every pod of this namespace, declared or not: an explicit allow-all peer."""
        return WorkloadSelection(self.name, None, (), _namespace=self)

    def select(self, labels: Mapping[str, str]) -> WorkloadSelection:
        """Every pod of this namespace whose labels include ``labels``."""
        path = f"{self.path}.select()"
        return WorkloadSelection(
            self.name,
            None,
            validation.labels(path, "labels", labels, allow_empty=False),
            _namespace=self,
        )

    def to_record(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "environment": self.environment,
            "managed": not self.adopt,
            "allow_dns": self.allow_dns,
            "labels": dict(self.all_labels),
        }
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

    @property
    def ref(self) -> str:
        return f"{self.namespace.name}/{self.name}"

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

    # Endpoint protocol
    def peers(self, policy_namespace: str) -> tuple[Peer, ...]:
        pods = Selector(self.labels)
        if policy_namespace == self.namespace.name:
            return (Peer(pod_selector=pods),)
        return (
            Peer(
                namespace_selector=Selector.namespace_named(self.namespace.name), pod_selector=pods
            ),
        )

    def subjects(self, topology: Topology) -> tuple[Subject, ...]:
        return (Subject(self.namespace.name, self.name, self.labels, self.name),)

    def default_ports(self) -> tuple[Port, ...]:
        return self.ports

    def environment(self) -> str | None:
        return self.namespace.environment

    def describe(self) -> str:
        return f"workload {self.ref}"

    def to_record(self) -> dict[str, Any]:
        return {"kind": "workload", "namespace": self.namespace.name, "name": self.name}

    def inventory_record(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace.name,
            "name": self.name,
            "labels": dict(self.labels),
            "ports": [p.to_record() for p in self.ports],
        }


@dataclass(frozen=True)
class WorkloadSelection:
    """Pods chosen by labels, in one namespace or in all namespaces of an environment.

    Build with ``namespace.all_workloads()``, ``namespace.select(labels)`` or
    ``WorkloadSelection.in_environment("prod", labels={...})``. Pods need not
    be declared workloads: a selection is how a flow reaches a shared service
    (monitoring, ingress controllers) that another team runs.
    """

    namespace: str | None
    environment_name: str | None
    labels: Labels
    _namespace: Namespace | None = field(default=None, repr=False, compare=False)

    @classmethod
    def in_environment(cls, environment: str, *, labels: Mapping[str, str]) -> WorkloadSelection:
        path = "WorkloadSelection.in_environment()"
        env = validation.label_value(path, "environment", ENVIRONMENT_LABEL, environment)
        if not env:
            raise InvalidIntentError(path, "environment", "'' is not an environment name")
        return cls(None, env, validation.labels(path, "labels", labels, allow_empty=False))

    def peers(self, policy_namespace: str) -> tuple[Peer, ...]:
        pods = Selector(self.labels)
        if self.namespace is not None:
            if self.namespace == policy_namespace:
                return (Peer(pod_selector=pods),)
            return (
                Peer(
                    namespace_selector=Selector.namespace_named(self.namespace), pod_selector=pods
                ),
            )
        assert self.environment_name is not None
        return (
            Peer(
                namespace_selector=Selector(((ENVIRONMENT_LABEL, self.environment_name),)),
                pod_selector=pods,
            ),
        )

    def subjects(self, topology: Topology) -> tuple[Subject, ...]:
        """Selected pods in this stack's namespaces: default deny isolates them
        too, so the flow needs a rule on them as well."""
        if self.namespace is not None:
            covered = [self.namespace] if self.namespace in topology.namespaces else []
        else:
            covered = [
                n
                for n, ns in sorted(topology.namespaces.items())
                if ns.environment == self.environment_name
            ]
        what = ",".join(f"{k}={v}" for k, v in self.labels) or "all pods"
        name = selection_policy_name(self.labels)
        return tuple(Subject(ns, name, self.labels, what) for ns in covered)

    def default_ports(self) -> tuple[Port, ...]:
        return ()

    def environment(self) -> str | None:
        if self._namespace is not None:
            return self._namespace.environment
        return self.environment_name

    def describe(self) -> str:
        what = ",".join(f"{k}={v}" for k, v in self.labels) or "all pods"
        where = (
            f"namespace {self.namespace}"
            if self.namespace is not None
            else f"environment {self.environment_name}"
        )
        return f"selection {what} in {where}"

    def to_record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "selection", "labels": dict(self.labels)}
        if self.namespace is not None:
            out["namespace"] = self.namespace
        else:
            out["environment"] = self.environment_name
        return out


_INTERNET = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))


@dataclass(frozen=True, init=False)
class ExternalEndpoint:
    """Something outside the cluster, reached by IP: an API, a database, a registry.

    cidrs: the address ranges (``cidr=`` takes a single one).
    except_: ranges inside ``cidrs`` that stay unreachable.
    ports: flows to the endpoint default to them; left out, flows must name ports.
    internet: must be True for 0.0.0.0/0 or ::/0; left out, those are refused.
    """

    name: str
    cidrs: tuple[Network, ...]
    except_: tuple[Network, ...]
    ports: tuple[Port, ...]
    internet: bool

    def __init__(
        self,
        name: str,
        *,
        cidrs: Sequence[str] | None = None,
        cidr: str | None = None,
        except_: Sequence[str] = (),
        ports: Sequence[Port] | None = None,
        internet: bool = False,
    ) -> None:
        path = f"ExternalEndpoint({name!r})"
        validation.dns_label(path, "name", name)
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
        for i, net in enumerate(nets):
            if net in _INTERNET and not internet:
                raise InvalidIntentError(
                    path,
                    where[i],
                    f"{net} is the whole internet; create the endpoint with internet=True "
                    "to allow that explicitly",
                )
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
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "cidrs", tuple(sorted(set(nets), key=_net_key)))
        object.__setattr__(self, "except_", tuple(sorted(set(excepts), key=_net_key)))
        object.__setattr__(self, "ports", _ports(path, "ports", ports))
        object.__setattr__(self, "internet", internet)

    def peers(self, policy_namespace: str) -> tuple[Peer, ...]:
        out = []
        for net in self.cidrs:
            inside = tuple(
                str(ex)
                for ex in self.except_
                if ex.version == net.version and ex.subnet_of(net)  # type: ignore[arg-type]
            )
            out.append(Peer(ip_block=IPBlock(str(net), inside)))
        return tuple(out)

    def subjects(self, topology: Topology) -> tuple[Subject, ...]:
        return ()

    def default_ports(self) -> tuple[Port, ...]:
        return self.ports

    def environment(self) -> str | None:
        return None

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
        }


def _cidr_example(value: object) -> str:
    return repr(value) if isinstance(value, str) else "'203.0.113.0/24'"


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
        return {
            "from": self.source.to_record(),
            "to": self.destination.to_record(),
            "ports": [p.to_record() for p in self.ports],
            "cross_environment": self.cross_environment,
        }


class Topology:
    """The intent of one stack. Mutable while constructs declare into it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.namespaces: dict[str, Namespace] = {}
        self.workloads: dict[tuple[str, str], Workload] = {}
        self.externals: dict[str, ExternalEndpoint] = {}
        self.flows: list[Flow] = []
        self._pairs: dict[tuple[Endpoint, Endpoint], dict[Port, str]] = {}
        self.pipelines: dict[str, Pipeline] = {}
        self.version = 0  # bumped on every change, so compiled output can be cached

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
    ) -> Namespace:
        validation.dns_label(path, "name", name)
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
        ns = Namespace(self, path, name, environment, lab, allow_dns, dns or DnsTarget(), adopt)
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
        make: Callable[[Namespace, str, str, Labels, tuple[Port, ...]], Workload] | None = None,
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
        if _RESERVED_NAME.fullmatch(wl_name):
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
        wl = (make or Workload)(namespace, path, wl_name, lab, _ports(path, "ports", ports))
        self.workloads[key] = wl
        self.version += 1
        return wl

    def foreign(self, other: Topology) -> str:
        """Why something of ``other`` cannot be used in this stack, for messages."""
        if other.name == self.name:
            return f"belongs to stack {other.name!r} of another app, not to this one"
        return f"belongs to stack {other.name!r}, not {self.name!r}"

    def _check_end(self, path: str, field_name: str, end: object) -> None:
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
            known = self.externals.get(end.name)
            if known is not None and known != end:
                raise InvalidIntentError(
                    path,
                    field_name,
                    f"another external endpoint named {end.name!r} with "
                    "different CIDRs or ports is already used in this stack; names must be unique",
                )
        else:
            raise InvalidIntentError(
                path,
                field_name,
                f"{end!r} is not a Workload, WorkloadSelection or ExternalEndpoint",
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
        flow_ports = _ports(path, "ports", ports) if ports is not None else ()
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
        flow = Flow(source, destination, flow_ports, cross_environment, path)
        pair = self._pairs.setdefault((source, destination), {})
        common = sorted((p for p in flow_ports if p in pair), key=Port.sort_key)
        if common:
            raise InvalidIntentError(
                path,
                "destination",
                f"flow {source.describe()} -> {destination.describe()} on "
                f"{', '.join(map(str, common))} is already declared at {pair[common[0]]}",
            )
        pair.update((p, path) for p in flow_ports)
        for end in (source, destination):
            if isinstance(end, ExternalEndpoint):
                self.externals[end.name] = end
        self.flows.append(flow)
        self.version += 1
        return flow

    def to_record(self) -> dict[str, Any]:
        """The intent record written into the artifact (docs/artifact.md)."""
        return {
            "version": 1,
            "stack": self.name,
            "namespaces": [self.namespaces[n].to_record() for n in sorted(self.namespaces)],
            "workloads": [self.workloads[k].inventory_record() for k in sorted(self.workloads)],
            "external": [self.externals[n].inventory_record() for n in sorted(self.externals)],
            "flows": sorted(
                (f.to_record() for f in self.flows),
                key=lambda r: json.dumps(r, sort_keys=True),
            ),
        }
