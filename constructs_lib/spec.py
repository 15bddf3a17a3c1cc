"""Provider-neutral policy objects: what the compiler produces, emitters render.

They mirror the Kubernetes NetworkPolicy v1 shape closely so that the
Terraform and YAML emitters are plain translations, and they sort, so output
is deterministic whatever order the intent was declared in.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from constructs_lib.model.port import Port

Labels = tuple[tuple[str, str], ...]

NAME_LABEL = "kubernetes.io/metadata.name"
MANAGED_BY = ("app.kubernetes.io/managed-by", "netfence")


class Direction(enum.Enum):
    INGRESS = "Ingress"
    EGRESS = "Egress"


@dataclass(frozen=True, order=True)
class Requirement:
    """One matchExpressions entry: ``key`` In / NotIn ``values``, or Exists / DoesNotExist."""

    key: str
    operator: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True, order=True)
class Selector:
    """A label selector: matchLabels AND matchExpressions. Empty selects all in its scope."""

    match_labels: Labels = ()
    match_expressions: tuple[Requirement, ...] = ()

    def sort_key(self) -> tuple[object, ...]:
        return (self.match_labels, self.match_expressions)

    @classmethod
    def of(cls, labels: dict[str, str]) -> Selector:
        return cls(tuple(sorted(labels.items())))

    @classmethod
    def namespace_named(cls, name: str) -> Selector:
        return cls(((NAME_LABEL, name),))

    def to_kubernetes(self) -> dict[str, Any]:
        """The selector as the API writes it (``{}`` selects everything in scope)."""
        out: dict[str, Any] = {}
        if self.match_labels:
            out["matchLabels"] = dict(self.match_labels)
        if self.match_expressions:
            out["matchExpressions"] = [
                {
                    "key": e.key,
                    "operator": e.operator,
                    **({"values": list(e.values)} if e.values else {}),
                }
                for e in self.match_expressions
            ]
        return out


@dataclass(frozen=True, order=True)
class IPBlock:
    cidr: str
    except_: tuple[str, ...] = ()


@dataclass(frozen=True, order=True)
class Peer:
    """One entry of a rule's from/to list.

    A namespace selector and a pod selector in one Peer are ANDed; separate
    Peers are ORed. ``None`` means the field is absent (pod selector absent =
    the policy's own namespace scope).
    """

    namespace_selector: Selector | None = None
    pod_selector: Selector | None = None
    ip_block: IPBlock | None = None

    def sort_key(self) -> tuple[object, ...]:
        return self._sort_key

    @functools.cached_property
    def _sort_key(self) -> tuple[object, ...]:
        # made once: a workload's peers are shared by every rule naming it
        return (
            self.ip_block is not None,
            self.namespace_selector.sort_key() if self.namespace_selector else (),
            self.pod_selector.sort_key() if self.pod_selector else (),
            _cidr_key(self.ip_block.cidr) if self.ip_block else (),
            self.ip_block.except_ if self.ip_block else (),
        )


def _cidr_key(cidr: str) -> tuple[int, int, int]:
    """IPv4 before IPv6, then numeric address order (not string order)."""
    net = ipaddress.ip_network(cidr)
    return (net.version, int(net.network_address), net.prefixlen)


@dataclass(frozen=True)
class Rule:
    """An ingress or egress rule; never empty (an empty rule allows all).

    ``verbatim``: a rule of a ``raw_policy``, emitted as written: empty
    ``peers`` is a rule without from/to (every peer), empty ``ports`` one
    without ports (every port).
    """

    peers: tuple[Peer, ...]
    ports: tuple[Port, ...]
    verbatim: bool = False

    def sort_key(self) -> tuple[object, ...]:
        return (
            tuple([p.sort_key() for p in self.peers]),
            tuple([p.sort_key() for p in self.ports]),
        )


@dataclass(frozen=True)
class PolicySpec:
    namespace: str
    name: str
    pod_selector: Selector
    policy_types: tuple[Direction, ...]
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    purpose: str = ""
    labels: Labels = (MANAGED_BY,)


@dataclass(frozen=True)
class NamespaceSpec:
    name: str
    labels: Labels
    managed: bool  # False: adopted, labels patched onto an existing namespace


@dataclass(frozen=True)
class ServiceAccountSpec:
    namespace: str
    name: str
    automount_token: bool
    labels: Labels = (MANAGED_BY,)


@dataclass(frozen=True)
class RoleRule:
    api_groups: tuple[str, ...]
    resources: tuple[str, ...]
    verbs: tuple[str, ...]


@dataclass(frozen=True)
class RoleSpec:
    """A namespaced Role and the RoleBinding that grants it to one service account."""

    namespace: str
    name: str
    rules: tuple[RoleRule, ...]
    subject_namespace: str
    subject_name: str
    labels: Labels = (MANAGED_BY,)


@dataclass(frozen=True)
class Override:
    """An ``add_override`` on one generated object, as both artifacts apply it.

    ``path`` is the Kubernetes field path (``spec.podSelector...``) of the
    object ``kind`` ``namespace``/``name``, so manifests.yaml and the Terraform
    resource get the same change; for a Terraform-only setting that leaves the
    object alone (``lifecycle.prevent_destroy``) it is the Terraform path.
    ``address`` is the resource the user named, for messages.
    """

    address: str
    kind: str
    namespace: str | None
    name: str
    path: tuple[str, ...]
    value: object
    terraform_only: bool = False


@dataclass(frozen=True)
class CompiledStack:
    """Everything one stack emits, in deterministic order."""

    namespaces: tuple[NamespaceSpec, ...]
    policies: tuple[PolicySpec, ...]
    record: dict[str, object] = field(default_factory=dict, compare=False)
    service_accounts: tuple[ServiceAccountSpec, ...] = ()
    roles: tuple[RoleSpec, ...] = ()
    overrides: tuple[Override, ...] = ()  # applied last, by both emitters
