"""From observed flows to an ``Intent``: grouping, folding, naming, and what was left out.

Memory is bounded by what is distinct (pods, addresses, flows), not by the
number of lines: every observation is folded into counters as it streams by.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from constructs_lib.addresses import covers_internet
from constructs_lib.brownfield.flows import DENIED, PASSED, Labels, ObservedEndpoint, ObservedFlow
from constructs_lib.brownfield.intent import (
    EndpointIntent,
    EndRef,
    FlowIntent,
    Intent,
    NamespaceIntent,
    WorkloadIntent,
    dns_name,
    unique,
)
from constructs_lib.errors import ArtifactError, InvalidIntentError
from constructs_lib.model.port import Port, Protocol
from constructs_lib.model.topology import DnsTarget, is_reserved_name

DEFAULT_GROUP_BY: tuple[str, ...] = ("app.kubernetes.io/name", "app")
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})
NODE_IDENTITIES = frozenset({"host", "health"})
_DNS = DnsTarget()
_DNS_PORTS = frozenset((p.protocol.value, p.number) for p in _DNS.ports if p.protocol)

Group = tuple[str, str, str]  # namespace, label key, label value
Ref = tuple[str, ...]  # ("w", namespace, key, value) or ("e", endpoint name)


@dataclass(frozen=True)
class EndpointMap:
    """``--endpoints``: CIDR -> name; the longest matching prefix names an address."""

    entries: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = ()

    def lookup(self, ip: str) -> tuple[str, str] | None:
        """The name and CIDR of the longest prefix holding ``ip``."""
        address = ipaddress.ip_address(ip)
        for net, name in self.entries:
            if address.version == net.version and address in net:
                return name, str(net)
        return None


def load_endpoint_map(path: str | Path) -> EndpointMap:
    import yaml

    from constructs_lib.model import validation

    file = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ArtifactError(file, f"cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ArtifactError(file, f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ArtifactError(
            file, "expected a mapping of CIDR to endpoint name, e.g. '203.0.113.0/24: payments'"
        )
    entries = []
    for raw, name in data.items():
        key = str(raw)
        try:
            net = ipaddress.ip_network(key, strict=True)
        except ValueError:
            raise ArtifactError(
                file, f"{key!r} is not a CIDR such as '203.0.113.0/24' (host bits unset)", field=key
            ) from None
        try:
            validation.dns_label(file, key, name)
        except InvalidIntentError:
            raise ArtifactError(
                file,
                f"endpoint name {name!r} is not a DNS-1123 label (lowercase letters, digits, '-')",
                field=key,
            ) from None
        entries.append((net, name))
    entries.sort(key=lambda e: (-e[0].prefixlen, e[0].version, int(e[0].network_address)))
    return EndpointMap(tuple(entries))


def default_network(ip: str) -> str:
    """The /24 (IPv4) or /64 (IPv6) an unmapped outside address is grouped into."""
    address = ipaddress.ip_address(ip)
    return str(ipaddress.ip_network(f"{ip}/{24 if address.version == 4 else 64}", strict=False))


@dataclass
class Observations:
    """Counters of one read: what was learned, folded, dropped and why."""

    read: int = 0
    lost_events: int = 0
    learned: int = 0
    replies: int = 0
    dns: int = 0
    unknown_verdict: int = 0
    node: int = 0
    outside_only: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    no_port: Counter[str] = field(default_factory=Counter)
    system: Counter[str] = field(default_factory=Counter)
    ungrouped: dict[tuple[str, Labels], list[Any]] = field(default_factory=dict)
    self_flows: int = 0
    conflicts: list[str] = field(default_factory=list)
    cluster_addresses: Counter[str] = field(default_factory=Counter)  # inside cluster ranges
    grouped_addresses: dict[str, set[str]] = field(default_factory=dict)  # endpoint -> IPs
    names_seen: dict[str, set[str]] = field(default_factory=dict)  # endpoint -> DNS names
    label_sets: dict[Group, set[Labels]] = field(default_factory=dict)  # distinct per workload
    endpoint_keys: dict[str, str] = field(default_factory=dict)  # endpoint name -> grouping key


class FlowAggregator:
    """Folds a stream of observations into distinct flows between workloads and endpoints."""

    def __init__(
        self,
        *,
        group_by: Sequence[str] = DEFAULT_GROUP_BY,
        endpoints: EndpointMap | None = None,
        environment: str = "default",
    ) -> None:
        self.group_by = tuple(group_by)
        self.endpoint_map = endpoints or EndpointMap()
        self.environment = environment
        self.seen = Observations()
        self.flows: Counter[tuple[Ref, Ref, str, int]] = Counter()
        self._groups: dict[ObservedEndpoint, Group | None] = {}
        self._addresses: dict[str, tuple[str, str]] = {}
        self._endpoint_cidrs: dict[str, set[str]] = {}
        self.members = self.seen.label_sets
        self.environments: dict[str, set[str]] = {}
        self.dns_clients: set[Group] = set()

    def add_all(self, flows: Iterable[ObservedFlow]) -> None:
        for flow in flows:
            self.add(flow)

    def add(self, flow: ObservedFlow) -> None:
        seen = self.seen
        if flow.kind == "lost":
            seen.lost_events += 1
            return
        seen.read += 1
        src, dst = flow.source, flow.destination
        if flow.verdict in DENIED:
            what = f"{self._describe(src)} -> {self._describe(dst)}"
            if flow.port is not None:
                what += f" on {flow.port}/{flow.protocol}"
            seen.dropped[f"{what}: {flow.verdict}"] += 1
            return
        if flow.verdict not in PASSED:
            seen.unknown_verdict += 1
            return
        if flow.is_reply:
            seen.replies += 1
            return
        if flow.protocol is None or flow.port is None:
            seen.no_port[flow.l4 or "no layer 4"] += 1
            return
        if self._is_dns(dst, flow):
            seen.dns += 1
            if src.is_pod and src.namespace not in SYSTEM_NAMESPACES:
                group = self._group(src, flow.source_pod)
                if group is not None:
                    self.dns_clients.add(group)
            return
        if src.reserved in NODE_IDENTITIES or dst.reserved in NODE_IDENTITIES:
            seen.node += 1
            return
        if not src.is_pod and not dst.is_pod:
            seen.outside_only += 1
            return
        if src.namespace in SYSTEM_NAMESPACES or dst.namespace in SYSTEM_NAMESPACES:
            seen.system[
                f"{self._describe(src)} -> {self._describe(dst)} on {flow.port}/{flow.protocol}"
            ] += 1
            return
        a = self._ref(src, flow.source_pod, flow)
        b = self._ref(dst, flow.destination_pod, flow)
        if a is None or b is None:
            return
        if a == b:
            if a[0] == "e" or (flow.source_pod and flow.source_pod == flow.destination_pod):
                seen.self_flows += 1  # a pod can always reach itself
                return
            b = ("s", *a[1:])  # pod to pod of one workload: a selection of its pods
        seen.learned += 1
        self.flows[(a, b, flow.protocol, flow.port)] += 1

    def merge(self, other: FlowAggregator) -> None:
        """Add what ``other`` saw (a later part of the same input) to this aggregator."""
        a, b = self.seen, other.seen
        for name in (
            "read",
            "lost_events",
            "learned",
            "replies",
            "dns",
            "unknown_verdict",
            "node",
            "outside_only",
            "self_flows",
        ):
            setattr(a, name, getattr(a, name) + getattr(b, name))
        a.dropped.update(b.dropped)
        a.no_port.update(b.no_port)
        a.system.update(b.system)
        for pod_key, (count, pod) in b.ungrouped.items():
            entry = a.ungrouped.setdefault(pod_key, [0, pod])
            entry[0] += count
            entry[1] = entry[1] or pod
        _union(a.grouped_addresses, b.grouped_addresses)
        _union(a.names_seen, b.names_seen)
        _union(a.label_sets, b.label_sets)
        _union(self.environments, other.environments)
        _union(self._endpoint_cidrs, other._endpoint_cidrs)
        self._addresses.update(other._addresses)
        self._groups.update(other._groups)
        self.dns_clients |= other.dns_clients
        self.flows.update(other.flows)

    # endpoints ------------------------------------------------------------------

    def _is_dns(self, dst: ObservedEndpoint, flow: ObservedFlow) -> bool:
        return (
            dst.namespace == _DNS.namespace
            and (flow.protocol, flow.port) in _DNS_PORTS
            and all(pair in dst.labels for pair in _DNS.labels)
        )

    def _group(self, pod: ObservedEndpoint, pod_name: str) -> Group | None:
        if pod in self._groups:
            return self._groups[pod]
        labels = dict(pod.labels)
        group: Group | None = None
        assert pod.namespace is not None
        for key in self.group_by:
            if key in labels:
                group = (pod.namespace, key, labels[key])
                break
        self._groups[pod] = group
        if group is None:
            self.seen.ungrouped[(pod.namespace, pod.labels)] = [0, pod_name]
        else:
            self.members.setdefault(group, set()).add(pod.labels)
            env = dict(pod.namespace_labels).get("environment")
            if env:
                self.environments.setdefault(pod.namespace, set()).add(env)
        return group

    def _ref(self, end: ObservedEndpoint, pod_name: str, flow: ObservedFlow) -> Ref | None:
        if end.is_pod:
            group = self._group(end, pod_name)
            if group is None:
                assert end.namespace is not None
                entry = self.seen.ungrouped[(end.namespace, end.labels)]
                entry[0] += 1
                if not entry[1] and pod_name:
                    entry[1] = pod_name
                return None
            return ("w", *group)
        assert end.ip is not None or end.reserved
        if end.ip is None:
            self.seen.no_port[f"an outside end without an IP ({end.reserved})"] += 1
            return None
        name = self._address(end.ip)
        if flow.destination is end and flow.destination_names:
            self.seen.names_seen.setdefault(name, set()).update(flow.destination_names)
        return ("e", name)

    def _address(self, ip: str) -> str:
        known = self._addresses.get(ip)
        if known is None:
            mapped = self.endpoint_map.lookup(ip)
            if mapped is None:
                net = default_network(ip)
                mapped = ("", net)
            self._addresses[ip] = known = mapped
        name, net = known
        key = name or net
        if key not in self._endpoint_cidrs:
            self._endpoint_cidrs[key] = set()
        self._endpoint_cidrs[key].add(net)
        self.seen.grouped_addresses.setdefault(key, set()).add(ip)
        return key

    def _describe(self, end: ObservedEndpoint) -> str:
        if not end.is_pod:
            if end.reserved in NODE_IDENTITIES or end.ip is None:
                return f"[{end.reserved}]" + (f" {end.ip}" if end.ip else "")
            return end.ip
        labels = dict(end.labels)
        for key in self.group_by:
            if key in labels:
                return f"{end.namespace}/{key}={labels[key]}"
        shown = ",".join(f"{k}={v}" for k, v in end.labels) or "no labels"
        return f"{end.namespace}/[{shown}]"

    # the intent -------------------------------------------------------------------

    def intent(
        self,
        stack: str,
        title: str,
        notes: Sequence[str] = (),
        *,
        pod_cidrs: Sequence[str] = (),
        service_cidrs: Sequence[str] = (),
    ) -> Intent:
        """The distinct flows as an ``Intent``: workloads named, ports merged, sorted.

        pod_cidrs / service_cidrs: the cluster's ranges; an outside range that
        lies inside one of them is not an external endpoint (its flows are
        reported, not learned).
        """
        inside = self._inside_cluster([*pod_cidrs, *service_cidrs])
        flows_kept = Counter({k: n for k, n in self.flows.items() if not ({k[0], k[1]} & inside)})
        self.seen.cluster_addresses = Counter(
            {
                f"{self._ref_text(k[0])} -> {self._ref_text(k[1])} on {k[3]}/{k[2]}": n
                for k, n in self.flows.items()
                if {k[0], k[1]} & inside
            }
        )
        groups: set[Group] = set(self.dns_clients)
        for a, b, _, _ in flows_kept:
            for ref in (a, b):
                if ref[0] == "w":
                    groups.add((ref[1], ref[2], ref[3]))
        names: dict[Group, str] = {}
        taken: dict[str, set[str]] = {}
        for group in sorted(groups):
            namespace, key, value = group
            base = dns_name(value, dns_name(key.rpartition("/")[2], "workload"))
            if is_reserved_name(base):
                base = f"{base}-app"
            names[group] = unique(base, taken.setdefault(namespace, set()))
        endpoint_names: dict[str, str] = {}
        taken_ep: set[str] = set()
        for key in sorted({ref[1] for f in flows_kept for ref in f[:2] if ref[0] == "e"}):
            base = key if "/" not in key else "ext-" + dns_name(key, "net")
            endpoint_names[key] = unique(dns_name(base, "ext"), taken_ep)
            self.seen.endpoint_keys[endpoint_names[key]] = key

        def end(ref: Ref) -> EndRef:
            if ref[0] == "w":
                return EndRef("workload", names[(ref[1], ref[2], ref[3])], ref[1])
            if ref[0] == "s":
                return EndRef.selection(ref[1], ((ref[2], ref[3]),))
            return EndRef("external", endpoint_names[ref[1]])

        pair_ports: dict[tuple[EndRef, EndRef], set[Port]] = {}
        into: dict[EndRef, set[Port]] = {}
        for a, b, protocol, port in flows_kept:
            p = Port.of(Protocol(protocol), port)
            src, dst = end(a), end(b)
            pair_ports.setdefault((src, dst), set()).add(p)
            if dst.kind != "selection":
                into.setdefault(dst, set()).add(p)
        env = {ns: min(values) for ns, values in self.environments.items()}
        namespaces = sorted({g[0] for g in groups})
        workloads = []
        for group in sorted(groups):
            here = EndRef("workload", names[group], group[0])
            sets = self.members.get(group, set())
            common = set.intersection(*(set(s) for s in sets)) if sets else set()
            workloads.append(
                WorkloadIntent(
                    group[0],
                    names[group],
                    ((group[1], group[2]),),
                    _sorted_ports(into.get(here, set())),
                    tuple(sorted(common)),
                )
            )
        endpoints = []
        for key, name in sorted(endpoint_names.items(), key=lambda kv: kv[1]):
            cidrs = sorted(self._endpoint_cidrs[key], key=_network_key)
            internet = covers_internet(cidrs)  # the model asks the same predicate
            seen_names = sorted(self.seen.names_seen.get(key, ()))[:5]
            comment = f"seen as {', '.join(seen_names)}" if seen_names else ""
            endpoints.append(
                EndpointIntent(
                    name,
                    tuple(cidrs),
                    _sorted_ports(into.get(EndRef("external", name), set())),
                    internet,
                    comment,
                )
            )
        flows = []
        for (src, dst), ports in pair_ports.items():
            cross = src.kind == dst.kind == "workload" and env.get(
                src.namespace, self.environment
            ) != env.get(dst.namespace, self.environment)
            flows.append(FlowIntent(src, dst, _sorted_ports(ports), cross))
        self._check_selectors(groups, names)
        return Intent(
            stack,
            tuple(
                NamespaceIntent(ns, env.get(ns, self.environment), adopt=True) for ns in namespaces
            ),
            tuple(workloads),
            tuple(endpoints),
            tuple(flows),
            title,
            tuple(notes),
            tuple(pod_cidrs),
            tuple(service_cidrs),
        ).sorted()

    def _inside_cluster(self, ranges: Sequence[str]) -> set[Ref]:
        """Endpoint refs whose every range lies inside a cluster range."""
        nets = [ipaddress.ip_network(r) for r in ranges]
        out: set[Ref] = set()
        for key, cidrs in self._endpoint_cidrs.items():
            if nets and all(
                any(
                    c.version == n.version and c.subnet_of(n)  # type: ignore[arg-type]
                    for n in nets
                )
                for c in map(ipaddress.ip_network, cidrs)
            ):
                out.add(("e", key))
        return out

    def _ref_text(self, ref: Ref) -> str:
        return f"{ref[1]}/{ref[2]}={ref[3]}" if ref[0] != "e" else ref[1]

    def _check_selectors(self, groups: set[Group], names: Mapping[Group, str]) -> None:
        """A selector must match only its own workload's pods (else it would widen another)."""
        holders: dict[tuple[str, str, str], set[Group]] = {}  # (namespace, key, value) -> groups
        for group in groups:
            for labels in self.members.get(group, ()):
                for key, value in labels:
                    holders.setdefault((group[0], key, value), set()).add(group)
        conflicts = []
        for group in sorted(groups):
            namespace, key, value = group
            for other in sorted(holders.get(group, set()) - {group}):
                conflicts.append(
                    f"the selector {key}={value} of workload {namespace}/{names[group]} also "
                    f"selects pods of {namespace}/{names[other]} (grouped by "
                    f"{other[1]}={other[2]}); group by one label with --group-by"
                )
        self.seen.conflicts = conflicts


def _union(mine: dict[Any, set[Any]], theirs: Mapping[Any, set[Any]]) -> None:
    for key, values in theirs.items():
        mine.setdefault(key, set()).update(values)


def _network_key(cidr: str) -> tuple[int, int, int]:
    net = ipaddress.ip_network(cidr)
    return (net.version, int(net.network_address), net.prefixlen)


def _sorted_ports(ports: Iterable[Port]) -> tuple[Port, ...]:
    return tuple(sorted(set(ports), key=Port.sort_key))
