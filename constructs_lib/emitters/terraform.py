"""Render a CompiledStack as Terraform JSON for hashicorp/kubernetes 2.38.0.

The output is plain data (dicts, lists, strings) in the shape the provider's
schema expects: single blocks as objects, repeated blocks as lists, ports as
strings. Resource names derive from Kubernetes names only, so they survive
any refactor of the Python code that declares them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from constructs_lib.errors import InvalidIntentError
from constructs_lib.model.port import Port
from constructs_lib.spec import CompiledStack, Direction, Peer, PolicySpec, Rule, Selector

PROVIDER_SOURCE = "hashicorp/kubernetes"
PROVIDER_VERSION = "2.38.0"

NAMESPACE = "kubernetes_namespace_v1"
LABELS = "kubernetes_labels"
NETWORK_POLICY = "kubernetes_network_policy_v1"
SERVICE_ACCOUNT = "kubernetes_service_account_v1"
ROLE = "kubernetes_role_v1"
ROLE_BINDING = "kubernetes_role_binding_v1"
PURPOSE_ANNOTATION = "netfence.io/purpose"


@dataclass(frozen=True)
class ProviderConfig:
    """How Terraform reaches the cluster.

    config_path / config_context: a kubeconfig file and context. in_cluster:
    the provider's in-cluster service account (set nothing else). All left
    out: the provider reads KUBE_CONFIG_PATH and friends from the environment.
    """

    config_path: str | None = None
    config_context: str | None = None
    in_cluster: bool = False
    alias: str | None = None

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.alias:
            out["alias"] = self.alias
        if self.config_path:
            out["config_path"] = self.config_path
        if self.config_context:
            out["config_context"] = self.config_context
        return out


def resource_name(namespace: str, suffix: str | None = None) -> str:
    """Terraform name for an object of ``namespace`` (``<ns>`` or ``<ns>_<suffix>``)."""
    base = namespace if suffix is None else f"{namespace}_{suffix}"
    return base if not base[0].isdigit() else f"_{base}"


def render_terraform(
    compiled: CompiledStack,
    *,
    provider: ProviderConfig | None = None,
    overrides: Mapping[tuple[str, str], Sequence[tuple[str, Any]]] | None = None,
    imports: Sequence[tuple[str, str]] = (),
    moves: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """The Terraform JSON fragment: required_providers, provider, resources.

    overrides: ``{(resource type, resource name): [(dotted path, value)]}``,
    applied last, like cdktf's ``add_override``.
    imports: ``(address, id)`` pairs for Terraform ``import`` blocks, so a first
    apply adopts objects that already exist instead of failing.
    moves: ``(old address, new address)`` pairs for ``moved`` blocks.
    """
    resources: dict[str, dict[str, Any]] = {}
    managed = {ns.name for ns in compiled.namespaces if ns.managed}
    for ns in compiled.namespaces:
        if ns.managed:
            resources.setdefault(NAMESPACE, {})[resource_name(ns.name)] = {
                "metadata": {"name": ns.name, "labels": dict(ns.labels)},
            }
        else:
            resources.setdefault(LABELS, {})[resource_name(ns.name)] = {
                "api_version": "v1",
                "kind": "Namespace",
                "metadata": {"name": ns.name},
                "labels": dict(ns.labels),
                "field_manager": "netfence",
            }
    for policy in compiled.policies:
        body = _policy(policy)
        body["depends_on"] = [_owner(policy.namespace, managed)]
        resources.setdefault(NETWORK_POLICY, {})[resource_name(policy.namespace, policy.name)] = (
            body
        )
    for account in compiled.service_accounts:
        resources.setdefault(SERVICE_ACCOUNT, {})[
            resource_name(account.namespace, account.name)
        ] = {
            "metadata": {
                "name": account.name,
                "namespace": account.namespace,
                "labels": dict(account.labels),
            },
            "automount_service_account_token": account.automount_token,
            "depends_on": [_owner(account.namespace, managed)],
        }
    for role in compiled.roles:
        meta = {"name": role.name, "namespace": role.namespace, "labels": dict(role.labels)}
        rname = resource_name(role.namespace, role.name)
        resources.setdefault(ROLE, {})[rname] = {
            "metadata": meta,
            "rule": [
                {
                    "api_groups": list(rule.api_groups),
                    "resources": list(rule.resources),
                    "verbs": list(rule.verbs),
                }
                for rule in role.rules
            ],
            "depends_on": [_owner(role.namespace, managed)],
        }
        subject = f"{SERVICE_ACCOUNT}.{resource_name(role.subject_namespace, role.subject_name)}"
        resources.setdefault(ROLE_BINDING, {})[rname] = {
            "metadata": dict(meta),
            "role_ref": {
                "api_group": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": role.name,
            },
            "subject": [
                {
                    "kind": "ServiceAccount",
                    "name": role.subject_name,
                    "namespace": role.subject_namespace,
                }
            ],
            "depends_on": [f"{ROLE}.{rname}", subject],
        }
    for (rtype, rname), changes in (overrides or {}).items():
        target = resources.get(rtype, {}).get(rname)
        if target is None:
            known = sorted(f"{t}.{n}" for t, group in resources.items() for n in group)
            raise InvalidIntentError(
                f"{rtype}.{rname}",
                "add_override",
                f"no such resource is generated by this stack (generated: {', '.join(known)})",
            )
        for path, value in changes:
            _set_path(target, path, copy.deepcopy(value))
    out: dict[str, Any] = {
        "terraform": {
            "required_providers": {
                "kubernetes": {"source": PROVIDER_SOURCE, "version": PROVIDER_VERSION}
            }
        },
        "resource": resources,
        "output": {
            # For other stacks' remote-state lookups: what this stack manages.
            "netfence_namespaces": {"value": [ns.name for ns in compiled.namespaces]},
            "netfence_policies": {"value": [f"{p.namespace}/{p.name}" for p in compiled.policies]},
        },
    }
    if imports:
        generated = {f"{t}.{n}" for t, group in resources.items() for n in group}
        for address, _ in imports:
            if address not in generated:
                raise InvalidIntentError(
                    address,
                    "imports",
                    "no such resource is generated by this stack; "
                    "re-run `netfence import` against the current synth output",
                )
        out["import"] = [{"to": address, "id": ident} for address, ident in imports]
    if moves:
        out["moved"] = [{"from": old, "to": new} for old, new in sorted(set(moves))]
    if provider is not None:
        out["provider"] = {"kubernetes": [provider.render()]}
    return out


def _owner(namespace: str, managed: set[str]) -> str:
    """The resource a namespaced object waits for: its namespace, or its label patch."""
    return f"{NAMESPACE if namespace in managed else LABELS}.{resource_name(namespace)}"


def _set_path(target: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        nxt = target.get(part)
        if not isinstance(nxt, dict):
            nxt = target[part] = {}
        target = nxt
    target[parts[-1]] = value


def _selector(sel: Selector) -> dict[str, Any]:
    return {"match_labels": dict(sel.match_labels)} if sel.match_labels else {}


def _peer(peer: Peer) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if peer.ip_block is not None:
        block: dict[str, Any] = {"cidr": peer.ip_block.cidr}
        if peer.ip_block.except_:
            block["except"] = list(peer.ip_block.except_)
        out["ip_block"] = block
    if peer.namespace_selector is not None:
        out["namespace_selector"] = _selector(peer.namespace_selector)
    if peer.pod_selector is not None:
        out["pod_selector"] = _selector(peer.pod_selector)
    if not out:
        raise ValueError("refusing to emit an empty peer: it would select every pod")
    return out


def port_value(port: Port) -> str:
    return str(port.number) if port.number is not None else str(port.name)


def _port(port: Port) -> dict[str, Any]:
    out: dict[str, Any] = {"port": port_value(port), "protocol": port.protocol.value}
    if port.end is not None:
        out["end_port"] = port.end
    return out


def _rule(rule: Rule, peers_key: str) -> dict[str, Any]:
    if not rule.peers or not rule.ports:
        raise ValueError("refusing to emit a rule without peers or ports: it would allow all")
    return {peers_key: [_peer(p) for p in rule.peers], "ports": [_port(p) for p in rule.ports]}


def _policy(policy: PolicySpec) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": policy.name,
        "namespace": policy.namespace,
        "labels": dict(policy.labels),
    }
    if policy.purpose:
        metadata["annotations"] = {PURPOSE_ANNOTATION: policy.purpose}
    spec: dict[str, Any] = {
        "pod_selector": _selector(policy.pod_selector),
        "policy_types": [d.value for d in policy.policy_types],
    }
    if policy.ingress:
        spec["ingress"] = [_rule(r, "from") for r in policy.ingress]
    if policy.egress:
        spec["egress"] = [_rule(r, "to") for r in policy.egress]
    assert all(d in (Direction.INGRESS, Direction.EGRESS) for d in policy.policy_types)
    return {"metadata": metadata, "spec": spec}
