"""The one normalised NetworkPolicy model every loader produces.

Terraform JSON, plans, state and Kubernetes manifests spell the same object
differently (snake_case blocks as objects or lists, camelCase); loaders
translate at the edge so the verifier sees a single frozen shape, and each
policy keeps its ``source`` so findings can name the file and address that
are responsible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from constructs_lib.errors import ArtifactError

OPERATORS: tuple[str, ...] = ("In", "NotIn", "Exists", "DoesNotExist")
INGRESS = "Ingress"
EGRESS = "Egress"

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Source:
    """Where a policy came from: a Terraform address, or a document (and List item) in a file.

    ``path`` is the field path of the policy object inside its document, as
    loader errors spell it (``items[3].``, ``resource.TYPE.NAME.``); lint
    maps it back to a line, and a policy without an address is cited by it.
    """

    file: str
    address: str | None = None
    document: int | None = None
    path: str = ""

    def __str__(self) -> str:
        if self.address:
            return self.address
        item = self.path.rstrip(".")
        if item:
            where = f" (document {self.document})" if self.document else ""
            return f"{self.file}{where} {item}"
        if self.document is not None:
            return f"{self.file} (document {self.document})"
        return self.file


@dataclass(frozen=True)
class LabelRequirement:
    key: str
    operator: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class LabelSelector:
    """A Kubernetes label selector; the empty selector selects everything in its scope."""

    match_labels: Labels = ()
    match_expressions: tuple[LabelRequirement, ...] = ()

    def is_empty(self) -> bool:
        return not self.match_labels and not self.match_expressions

    def keys(self) -> set[str]:
        return {k for k, _ in self.match_labels} | {e.key for e in self.match_expressions}

    def satisfying_labels(self) -> dict[str, str]:
        """Labels that satisfy the selector (absent keys already satisfy NotIn/DoesNotExist)."""
        out = dict(self.match_labels)
        for req in self.match_expressions:
            if req.operator == "In" and req.key not in out:
                out[req.key] = req.values[0]
            elif req.operator == "Exists" and req.key not in out:
                out[req.key] = "x"
        return out

    def __str__(self) -> str:
        parts = [f"{k}={v}" for k, v in self.match_labels]
        for e in self.match_expressions:
            if e.values:
                parts.append(f"{e.key} {e.operator} ({','.join(e.values)})")
            else:
                parts.append(f"{e.key} {e.operator}")
        return "{" + ", ".join(parts) + "}"


@dataclass(frozen=True)
class IPBlock:
    cidr: str
    except_: tuple[str, ...] = ()


@dataclass(frozen=True)
class Peer:
    """One entry of ``from``/``to``: selectors are ANDed inside a peer; peers are ORed."""

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None


@dataclass(frozen=True)
class PolicyPort:
    """``port`` None means every port of ``protocol``; a str is a named port."""

    protocol: str = "TCP"
    port: int | str | None = None
    end_port: int | None = None


@dataclass(frozen=True)
class PolicyRule:
    """Empty ``peers`` matches every peer; empty ``ports`` matches every port."""

    peers: tuple[Peer, ...] = ()
    ports: tuple[PolicyPort, ...] = ()


@dataclass(frozen=True)
class NetworkPolicy:
    """``policy_types`` is already defaulted the way the API server does it.

    ``declared_types`` is policyTypes as written (None when omitted or empty),
    for lint, which warns about what the defaulting does.
    """

    namespace: str
    name: str
    pod_selector: LabelSelector
    policy_types: tuple[str, ...]
    ingress: tuple[PolicyRule, ...] = ()
    egress: tuple[PolicyRule, ...] = ()
    source: Source = field(default=Source("<memory>"), compare=False)
    declared_types: tuple[str, ...] | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def describe(self) -> str:
        """How findings name a policy: its address (or file) and namespace/name."""
        if self.source.file == "<memory>":
            return self.key
        return f"{self.source} ({self.key})"


def default_policy_types(
    declared: tuple[str, ...] | None, egress: tuple[PolicyRule, ...]
) -> tuple[str, ...]:
    """policyTypes as the API server stores it.

    Omitted or empty (the API server tests ``len == 0``): Ingress always,
    Egress only when the egress list is non-empty (``egress: []`` does not
    isolate egress).
    """
    if declared:
        return _TYPES[INGRESS in declared, EGRESS in declared]
    return _TYPES[True, bool(egress)]


# (Ingress?, Egress?) -> policyTypes in the API server's order
_TYPES: dict[tuple[bool, bool], tuple[str, ...]] = {
    (True, True): (INGRESS, EGRESS),
    (True, False): (INGRESS,),
    (False, True): (EGRESS,),
    (False, False): (),
}


def unique_policies(policies: list[NetworkPolicy], file: str) -> list[NetworkPolicy]:
    """Refuse the same namespace/name twice in one input: Kubernetes keeps only one."""
    seen: dict[str, NetworkPolicy] = {}
    for policy in policies:
        key = policy.key
        first = seen.get(key)
        if first is not None:
            raise ArtifactError(
                file,
                f"policy {key} is defined twice: at {first.source} and at "
                f"{policy.source}; Kubernetes would keep only one of them",
            )
        seen[key] = policy
    return policies
