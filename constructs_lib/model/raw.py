"""``ns.raw_policy(name, spec, reason=...)``: a NetworkPolicy kept verbatim, as declared intent.

The escape hatch for what the intent model cannot say exactly (match
expressions on the policy's own pods, a rule that isolates one direction of
a peer without touching the other, ...). The spec is read by the same
strict reader as any policy netfence loads (a bad field is refused, never
guessed), emitted as written into cdk.tf.json and manifests.yaml, and
recorded in the intent record under ``raw_policies``; ``verify`` checks that
each one is in the artifact exactly as recorded and treats what it allows
as declared.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from constructs_lib.errors import ArtifactError, InvalidIntentError
from constructs_lib.loaders.network_policy import LabelSelector, NetworkPolicy, PolicyRule
from constructs_lib.model import validation
from constructs_lib.model.port import Port, Protocol
from constructs_lib.spec import (
    Direction,
    IPBlock,
    Peer,
    PolicySpec,
    Requirement,
    Rule,
    Selector,
)

RAW_LABEL = ("netfence.io/raw-policy", "true")


@dataclass(frozen=True)
class RawPolicy:
    namespace: str
    name: str
    spec: str  # the spec as JSON with sorted keys: what the record carries
    reason: str
    path: str

    def to_record(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "name": self.name,
            "reason": self.reason,
            "spec": json.loads(self.spec),
        }

    def policy_spec(self) -> PolicySpec:
        return to_policy_spec(self.namespace, self.name, json.loads(self.spec), self.reason)


def manifest(namespace: str, name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def make_raw_policy(
    path: str, namespace: str, name: str, spec: Mapping[str, Any], reason: str
) -> RawPolicy:
    validation.dns_label(path, "name", name)
    if not isinstance(spec, Mapping):
        raise InvalidIntentError(
            path, "spec", f"{spec!r} is not a mapping (the NetworkPolicy's spec as a dict)"
        )
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidIntentError(
            path, "reason", "say why the intent model cannot express this policy (a sentence)"
        )
    try:
        text = json.dumps(spec, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise InvalidIntentError(path, "spec", f"not plain data: {exc}") from None
    try:
        to_policy_spec(namespace, name, json.loads(text), reason)
    except ArtifactError as exc:
        raise InvalidIntentError(path, "spec", str(exc)) from None
    return RawPolicy(namespace, name, text, reason.strip(), path)


def to_policy_spec(namespace: str, name: str, spec: Mapping[str, Any], reason: str) -> PolicySpec:
    """The spec read strictly (as the loaders read any policy), as a provider-neutral policy."""
    from constructs_lib.loaders.manifests import policy_from_manifest

    loaded = policy_from_manifest(manifest(namespace, name, spec), f"raw_policy {namespace}/{name}")
    return policy_spec_of(loaded, reason)


def policy_spec_of(loaded: NetworkPolicy, reason: str) -> PolicySpec:
    """A loaded policy as the provider-neutral one the emitters write, rule for rule."""

    def selector(sel: LabelSelector) -> Selector:
        return Selector(
            tuple(sel.match_labels),
            tuple(Requirement(r.key, r.operator, tuple(r.values)) for r in sel.match_expressions),
        )

    def rules(items: tuple[PolicyRule, ...]) -> tuple[Rule, ...]:
        out = []
        for rule in items:
            peers = tuple(
                Peer(
                    selector(p.namespace_selector) if p.namespace_selector is not None else None,
                    selector(p.pod_selector) if p.pod_selector is not None else None,
                    IPBlock(p.ip_block.cidr, tuple(p.ip_block.except_))
                    if p.ip_block is not None
                    else None,
                )
                for p in rule.peers
            )
            ports = tuple(_port(p.protocol, p.port, p.end_port) for p in rule.ports)
            out.append(Rule(peers, ports, verbatim=True))
        return tuple(out)

    return PolicySpec(
        namespace=loaded.namespace,
        name=loaded.name,
        pod_selector=selector(loaded.pod_selector),
        policy_types=tuple(Direction(t) for t in loaded.policy_types),
        ingress=rules(loaded.ingress),
        egress=rules(loaded.egress),
        purpose=f"kept verbatim (raw_policy): {reason.strip()}",
        labels=(("app.kubernetes.io/managed-by", "netfence"), RAW_LABEL),
    )


def _port(protocol: str, port: int | str | None, end: int | None) -> Port:
    proto = Protocol(protocol)
    if port is None:
        return Port(proto)
    if isinstance(port, str):
        return Port(proto, None, None, port)
    return Port(proto, port, end if end is not None and end != port else None, None)
