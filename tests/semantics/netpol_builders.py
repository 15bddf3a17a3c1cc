"""Small builders for NetworkPolicy manifests and reach inventories.

They write the plain camelCase Kubernetes shape the engine reads, and leave a
key out entirely when the caller does not give it: several rules under test
turn on the difference between an absent key and an empty one.
"""

from __future__ import annotations

from typing import Any, NamedTuple

Manifest = dict[str, Any]

_ABSENT: Any = object()


def policy(
    name: str,
    namespace: str,
    pod_selector: dict[str, Any] | None = None,
    *,
    types: list[str] | None = None,
    ingress: list[dict[str, Any]] | None = None,
    egress: list[dict[str, Any]] | None = None,
) -> Manifest:
    """A NetworkPolicy; ``types``/``ingress``/``egress`` left as None are omitted."""
    spec: dict[str, Any] = {"podSelector": {} if pod_selector is None else pod_selector}
    if types is not None:
        spec["policyTypes"] = list(types)
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def labels(**pairs: str) -> dict[str, Any]:
    """A selector with matchLabels only (``labels()`` is the empty selector)."""
    return {"matchLabels": dict(pairs)} if pairs else {}


def expr(key: str, operator: str, *values: str) -> dict[str, Any]:
    requirement: dict[str, Any] = {"key": key, "operator": operator}
    if values:
        requirement["values"] = list(values)
    return requirement


def selector(
    match_labels: dict[str, str] | None = None, *expressions: dict[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if match_labels:
        out["matchLabels"] = dict(match_labels)
    if expressions:
        out["matchExpressions"] = list(expressions)
    return out


def peer(
    pods: dict[str, Any] | None = None,
    namespaces: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One NetworkPolicyPeer from selectors (both given = one peer, ANDed)."""
    out: dict[str, Any] = {}
    if namespaces is not None:
        out["namespaceSelector"] = namespaces
    if pods is not None:
        out["podSelector"] = pods
    return out


def cidr(block: str, *excepted: str) -> dict[str, Any]:
    ip_block: dict[str, Any] = {"cidr": block}
    if excepted:
        ip_block["except"] = list(excepted)
    return {"ipBlock": ip_block}


def port(
    number: int | str | None = None, protocol: str | None = None, end: int | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if number is not None:
        out["port"] = number
    if protocol is not None:
        out["protocol"] = protocol
    if end is not None:
        out["endPort"] = end
    return out


def from_rule(peers: Any = _ABSENT, ports: Any = _ABSENT) -> dict[str, Any]:
    """An ingress rule; ``from_rule()`` is the empty rule ``{}``."""
    return _rule("from", peers, ports)


def to_rule(peers: Any = _ABSENT, ports: Any = _ABSENT) -> dict[str, Any]:
    """An egress rule; ``to_rule()`` is the empty rule ``{}``."""
    return _rule("to", peers, ports)


def _rule(key: str, peers: Any, ports: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if peers is not _ABSENT:
        out[key] = list(peers)
    if ports is not _ABSENT:
        out["ports"] = list(ports)
    return out


def workload(
    ref: str,
    pod_labels: dict[str, str],
    ip: str | None,
    *ports: tuple[int, str, str],
) -> dict[str, Any]:
    """An inventory workload from ``"ns/name"`` and ``(port, protocol, name)`` triples."""
    namespace, name = ref.split("/")
    out: dict[str, Any] = {
        "namespace": namespace,
        "name": name,
        "labels": dict(pod_labels),
        "ports": [{"port": p, "protocol": proto, "name": n} for p, proto, n in ports],
    }
    if ip is not None:
        out["ip"] = ip
    return out


def external(name: str, ip: str, *ports: tuple[int, str]) -> dict[str, Any]:
    return {
        "name": name,
        "ip": ip,
        "ports": [{"port": p, "protocol": proto} for p, proto in ports],
    }


class Verdict(NamedTuple):
    source: str
    destination: str
    port: int
    protocol: str
    allowed: bool

    def __str__(self) -> str:
        word = "allow" if self.allowed else "deny"
        return f"{word} {self.source} -> {self.destination}:{self.port}/{self.protocol}"


def allow(source: str, destination: str, number: int, protocol: str = "TCP") -> Verdict:
    return Verdict(source, destination, number, protocol, True)


def deny(source: str, destination: str, number: int, protocol: str = "TCP") -> Verdict:
    return Verdict(source, destination, number, protocol, False)
