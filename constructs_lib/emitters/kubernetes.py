"""The Kubernetes objects a compiled stack consists of, in API (camelCase) form.

Both emitters start here: ``manifests.yaml`` dumps these objects as they
are, and the Terraform renderer renames their fields to the provider's
schema (``terraform_body``). One place decides what an object contains, and
refuses the empty rules and peers that would allow everything, for both.
"""

from __future__ import annotations

from typing import Any

from constructs_lib.model.port import Port
from constructs_lib.spec import (
    CompiledStack,
    NamespaceSpec,
    Peer,
    PolicySpec,
    RoleSpec,
    Rule,
    Selector,
    ServiceAccountSpec,
)

PURPOSE_ANNOTATION = "netfence.io/purpose"
RBAC_API = "rbac.authorization.k8s.io"


def objects(compiled: CompiledStack) -> list[dict[str, Any]]:
    """Managed namespaces, policies, service accounts, then each Role and its binding.

    Both emitters read the same stack in a row: the last result is kept for
    the same CompiledStack. Callers read it and never change it.
    """
    global _last
    if _last is not None and _last[0] is compiled:
        return _last[1]
    out = _build_objects(compiled)
    _last = (compiled, out)
    return out


_last: tuple[CompiledStack, list[dict[str, Any]]] | None = None


def _build_objects(compiled: CompiledStack) -> list[dict[str, Any]]:
    out = [namespace_object(ns) for ns in compiled.namespaces if ns.managed]
    out += [policy_object(p) for p in compiled.policies]
    out += [service_account_object(a) for a in compiled.service_accounts]
    for role in compiled.roles:
        out += role_objects(role)
    return out


def namespace_object(ns: NamespaceSpec) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": ns.name, "labels": dict(ns.labels)},
    }


def policy_object(policy: PolicySpec) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": policy.name,
        "namespace": policy.namespace,
        "labels": dict(policy.labels),
    }
    if policy.purpose:
        metadata["annotations"] = {PURPOSE_ANNOTATION: policy.purpose}
    spec: dict[str, Any] = {
        "podSelector": _selector(policy.pod_selector),
        "policyTypes": [d.value for d in policy.policy_types],
    }
    if policy.ingress:
        spec["ingress"] = [_rule(r, "from") for r in policy.ingress]
    if policy.egress:
        spec["egress"] = [_rule(r, "to") for r in policy.egress]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata,
        "spec": spec,
    }


def service_account_object(account: ServiceAccountSpec) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": account.name,
            "namespace": account.namespace,
            "labels": dict(account.labels),
        },
        "automountServiceAccountToken": account.automount_token,
    }


def role_objects(role: RoleSpec) -> list[dict[str, Any]]:
    """The Role and the RoleBinding that grants it to the stage's service account."""

    def meta() -> dict[str, Any]:  # fresh each time: YAML would alias a shared dict
        return {"name": role.name, "namespace": role.namespace, "labels": dict(role.labels)}

    return [
        {
            "apiVersion": f"{RBAC_API}/v1",
            "kind": "Role",
            "metadata": meta(),
            "rules": [
                {
                    "apiGroups": list(r.api_groups),
                    "resources": list(r.resources),
                    "verbs": list(r.verbs),
                }
                for r in role.rules
            ],
        },
        {
            "apiVersion": f"{RBAC_API}/v1",
            "kind": "RoleBinding",
            "metadata": meta(),
            "roleRef": {"apiGroup": RBAC_API, "kind": "Role", "name": role.name},
            "subjects": [
                {
                    "kind": "ServiceAccount",
                    "name": role.subject_name,
                    "namespace": role.subject_namespace,
                }
            ],
        },
    ]


def _selector(sel: Selector) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if sel.match_labels:
        out["matchLabels"] = dict(sel.match_labels)
    if sel.match_expressions:
        out["matchExpressions"] = [
            {
                "key": e.key,
                "operator": e.operator,
                **({"values": list(e.values)} if e.values else {}),
            }
            for e in sel.match_expressions
        ]
    return out


def _peer(peer: Peer) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if peer.ip_block is not None:
        block: dict[str, Any] = {"cidr": peer.ip_block.cidr}
        if peer.ip_block.except_:
            block["except"] = list(peer.ip_block.except_)
        out["ipBlock"] = block
    if peer.namespace_selector is not None:
        out["namespaceSelector"] = _selector(peer.namespace_selector)
    if peer.pod_selector is not None:
        out["podSelector"] = _selector(peer.pod_selector)
    if not out:
        raise ValueError("refusing to emit an empty peer: it would select every pod")
    return out


def _port(port: Port) -> dict[str, Any]:
    assert port.protocol is not None  # Port.all() is a rule without ports, never an entry
    out: dict[str, Any] = {"protocol": port.protocol.value}
    if not port.is_any:  # Port.all_tcp(): a protocol without a port
        out["port"] = port.number if port.number is not None else port.name
    if port.end is not None:
        out["endPort"] = port.end
    return out


def _rule(rule: Rule, peers_key: str) -> dict[str, Any]:
    if not rule.peers or not rule.ports:
        raise ValueError("refusing to emit a rule without peers or ports: it would allow all")
    out: dict[str, Any] = {peers_key: [_peer(p) for p in rule.peers]}
    if not any(p.protocol is None for p in rule.ports):  # Port.all(): no ports list at all
        out["ports"] = [_port(p) for p in rule.ports]
    return out


# The provider's names for the API fields netfence writes; everything else is
# spelt the same. Label and annotation maps are user data: never renamed.
_TERRAFORM_NAMES = {
    "podSelector": "pod_selector",
    "policyTypes": "policy_types",
    "namespaceSelector": "namespace_selector",
    "matchLabels": "match_labels",
    "matchExpressions": "match_expressions",
    "ipBlock": "ip_block",
    "endPort": "end_port",
    "automountServiceAccountToken": "automount_service_account_token",
    "rules": "rule",
    "apiGroups": "api_groups",
    "roleRef": "role_ref",
    "apiGroup": "api_group",
    "subjects": "subject",
}
_USER_MAPS = {"labels", "annotations", "matchLabels"}


def terraform_body(obj: dict[str, Any]) -> dict[str, Any]:
    """The resource body for hashicorp/kubernetes: fields renamed, ports as strings."""
    return _rename({k: v for k, v in obj.items() if k not in ("apiVersion", "kind")})


def _rename(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if type(value) is dict:
            value = dict(value) if key in _USER_MAPS else _rename(value)
        elif type(value) is list:
            value = [_rename(v) if type(v) is dict else v for v in value]
        elif key == "port":  # the provider takes numeric and named ports as one string
            value = str(value)
        out[_TERRAFORM_NAMES.get(key, key)] = value
    return out
