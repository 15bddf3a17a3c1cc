"""``netfence import``: adopt what already runs instead of failing with "already exists".

Live objects are matched to the resources the stack will create by kind,
namespace and name; each match becomes an ``{"to": ADDRESS, "id": ID}``
entry, the format ``constructs_lib.config.load_imports`` reads, so the next
synth emits Terraform ``import`` blocks. A live NetworkPolicy in one of the
stack's namespaces that the stack does not declare is a finding: policies
are additive, so it widens access beyond the intent, and the finding says
by how much.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from constructs_lib.errors import ArtifactError
from constructs_lib.loaders import find_stacks
from constructs_lib.loaders._spec import TERRAFORM, Reader
from constructs_lib.loaders.network_policy import NetworkPolicy, Peer, PolicyPort
from constructs_lib.loaders.terraform import _name as resolve_name
from constructs_lib.review.diff import FlowChange, compare, read_stack
from constructs_lib.review.live import KINDS, LiveState
from constructs_lib.review.world import WorldBuilder

# Terraform resource type -> Kubernetes kind; kubernetes_labels patches, it never creates.
RESOURCE_KINDS: dict[str, str] = {
    "kubernetes_namespace_v1": "Namespace",
    "kubernetes_network_policy_v1": "NetworkPolicy",
    "kubernetes_service_account_v1": "ServiceAccount",
    "kubernetes_role_v1": "Role",
    "kubernetes_role_binding_v1": "RoleBinding",
}


@dataclass(frozen=True)
class ImportEntry:
    to: str
    id: str


@dataclass(frozen=True)
class Unmanaged:
    """A live policy in the stack's namespaces that the stack would not manage."""

    policy: str
    source: str
    rules: tuple[str, ...]
    widens: tuple[FlowChange, ...]

    @property
    def verdict(self) -> str:
        """What the analysis found, in the words every report uses."""
        if self.widens:
            return "widens access beyond the intent"
        return "allows nothing beyond the intent (it can only isolate pods further)"


@dataclass(frozen=True)
class ImportResult:
    stack: str
    file: str
    live: str
    imports: tuple[ImportEntry, ...]
    unmanaged: tuple[Unmanaged, ...]

    def imports_json(self) -> str:
        """The imports file, sorted and stable so re-running it gives no diff."""
        entries = [{"to": e.to, "id": e.id} for e in self.imports]
        return json.dumps(entries, indent=2) + "\n"


def plan_imports(stack: str | Path, live: LiveState) -> ImportResult:
    files = find_stacks(stack)
    if len(files) != 1:
        raise ArtifactError(
            str(stack),
            f"holds {len(files)} stacks; name one stack dir (imports are per stack)",
        )
    file = files[0]
    stack_data = read_stack(file, need_record=True)
    data, record, declared = stack_data.data, stack_data.record, stack_data.policies
    assert record is not None
    live_keys = {o.key for o in live.objects}
    imports = []
    for address, key in _resources(data, str(file)).items():
        if key in live_keys:
            _, namespace, name = key
            imports.append(
                ImportEntry(address, name if namespace is None else f"{namespace}/{name}")
            )
    namespaces = {ns.name for ns in record.namespaces}
    mine = {p.key for p in declared}
    unmanaged = []
    for policy in sorted(live.policies, key=lambda p: p.key):
        if policy.namespace not in namespaces or policy.key in mine:
            continue
        builder = WorldBuilder()
        builder.record(record)
        builder.selectors([policy])
        widened, _ = compare(declared, [*declared, policy], builder.build())
        unmanaged.append(
            Unmanaged(policy.key, str(policy.source), describe_policy(policy), tuple(widened))
        )
    return ImportResult(
        record.stack or file.parent.name,
        str(file),
        live.source,
        tuple(sorted(imports, key=lambda e: e.to)),
        tuple(unmanaged),
    )


def _resources(data: Mapping[str, Any], file: str) -> dict[str, tuple[str, str | None, str]]:
    """Terraform address -> (kind, namespace, name) of every object the stack creates."""
    reader = Reader(file, None, TERRAFORM)
    resources = reader.mapping(data.get("resource", {}), "resource")
    out: dict[str, tuple[str, str | None, str]] = {}
    for rtype, kind in RESOURCE_KINDS.items():
        group = reader.mapping(resources.get(rtype, {}), f"resource.{rtype}")
        for rname, config in group.items():
            path = f"resource.{rtype}.{rname}"
            body = reader.mapping(config, path)
            meta, meta_path = reader.block(body.get("metadata"), f"{path}.metadata")
            if meta is None:
                reader.fail(f"{path}.metadata", "missing required field")
            name = resolve_name(
                reader, meta.get("name"), f"{meta_path}.name", resources, required=True
            )
            namespace = None
            if KINDS[kind]:
                namespace = (
                    resolve_name(
                        reader,
                        meta.get("namespace"),
                        f"{meta_path}.namespace",
                        resources,
                        required=False,
                    )
                    or "default"
                )
            out[f"{rtype}.{rname}"] = (kind, namespace, name)
    return out


def describe_policy(policy: NetworkPolicy) -> tuple[str, ...]:
    """What a policy says, one line per rule, in Kubernetes terms."""
    pods = "all pods" if policy.pod_selector.is_empty() else f"pods {policy.pod_selector}"
    lines = [f"selects {pods}; isolates {', '.join(policy.policy_types) or 'nothing'}"]
    for direction, rules in (("Ingress", policy.ingress), ("Egress", policy.egress)):
        if direction not in policy.policy_types:
            continue
        word = "from" if direction == "Ingress" else "to"
        for rule in rules:
            peers = "; ".join(_peer(p, policy.namespace) for p in rule.peers) or "anywhere"
            ports = ", ".join(_port(p) for p in rule.ports) or "any port"
            lines.append(f"{direction.lower()} {word} {peers} on {ports}")
    return tuple(lines)


def _peer(peer: Peer, namespace: str) -> str:
    if peer.ip_block is not None:
        holes = f" except {', '.join(peer.ip_block.except_)}" if peer.ip_block.except_ else ""
        return f"{peer.ip_block.cidr}{holes}"
    pods = peer.pod_selector
    what = "all pods" if pods is None or pods.is_empty() else f"pods {pods}"
    ns = peer.namespace_selector
    if ns is None:
        return f"{what} in namespace {namespace}"
    if ns.is_empty():
        return f"{what} in every namespace"
    return f"{what} in namespaces {ns}"


def _port(port: PolicyPort) -> str:
    if port.port is None:
        return f"{port.protocol} all"
    if port.end_port is not None:
        return f"{port.protocol} {port.port}-{port.end_port}"
    return f"{port.protocol} {port.port}"
