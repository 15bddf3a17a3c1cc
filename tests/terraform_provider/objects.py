"""Terraform values <-> Kubernetes objects, the way the SDKv2 provider maps them.

Nested blocks of at most one item become objects, other blocks arrays;
snake_case names become camelCase unless ``RENAMES`` says otherwise; empty
values are left out of the object as the API's ``omitempty`` would, but an
empty block stays an empty object (``pod_selector {}`` selects every pod).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from .cluster import KINDS, ApiError
from .cty import UNKNOWN
from .schema import Block, ResourceSchema, empty

# Terraform name -> Kubernetes field, where it is not plain camelCase.
RENAMES = {
    "rule": "rules",
    "subject": "subjects",
    "image_pull_secret": "imagePullSecrets",
    "secret": "secrets",
}
# Terraform-only state: never sent to the API, carried over from the prior state.
LOCAL = {"id", "timeouts", "wait_for_default_service_account", "default_secret_name"}
METADATA_COMPUTED = {"generation", "resource_version", "uid"}

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _camel(name: str) -> str:
    if name in RENAMES:
        return RENAMES[name]
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


def _to_api(name: str, value: Any) -> Any:
    if name == "port" and isinstance(value, str) and value.isdigit():
        return int(value)  # IntOrString: "8080" is the number 8080
    return value


def _from_api(name: str, value: Any, ctype: Any) -> Any:
    if ctype == "string" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if name == "port" and isinstance(value, int):
        return str(value)
    return value


def expand(block: Block, value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in block.attributes:
        got = value.get(name)
        if name in LOCAL or empty(got):
            continue
        out[_camel(name)] = _to_api(name, got)
    for name, nested in block.blocks.items():
        if name in LOCAL:
            continue
        items = value.get(name) or []
        if not items:
            continue
        if nested.max_items == 1:
            out[_camel(name)] = expand(nested.block, items[0])
        else:
            out[_camel(name)] = [expand(nested.block, item) for item in items]
    return out


def flatten(block: Block, obj: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, attr in block.attributes.items():
        got = obj.get(_camel(name))
        out[name] = None if got in (None, [], {}) else _from_api(name, got, attr.type)
    for name, nested in block.blocks.items():
        got = obj.get(_camel(name))
        if nested.nesting == "single":
            out[name] = None
        elif got is None:
            out[name] = []
        elif isinstance(got, dict):
            out[name] = [flatten(nested.block, got)]
        else:
            out[name] = [flatten(nested.block, item) for item in got]
    return out


def is_internal_key(key: str) -> bool:
    """Labels and annotations the cluster owns; hidden unless configured."""
    host = key.split("/", 1)[0] if "/" in key else ""
    if host in ("app.kubernetes.io", "service.beta.kubernetes.io"):
        return False
    return host.endswith("kubernetes.io")


def _visible(live: dict[str, str] | None, prior: dict[str, str] | None) -> dict[str, str] | None:
    if not live:
        return None
    kept = {k: v for k, v in live.items() if not is_internal_key(k) or k in (prior or {})}
    return kept or None


# -- per resource ---------------------------------------------------------------------


def _namespaced(rs: ResourceSchema) -> bool:
    return rs.kind is not None and KINDS[rs.kind][2]


def identity(rs: ResourceSchema, state: dict[str, Any]) -> tuple[str | None, str]:
    meta = state["metadata"][0]
    namespace = (meta.get("namespace") or "default") if _namespaced(rs) else None
    return namespace, meta.get("name") or ""


def state_id(rs: ResourceSchema, obj: dict[str, Any]) -> str:
    meta = obj["metadata"]
    return f"{meta['namespace']}/{meta['name']}" if _namespaced(rs) else meta["name"]


def parse_import_id(rs: ResourceSchema, import_id: str) -> tuple[str | None, str]:
    if not _namespaced(rs):
        return None, import_id
    parts = import_id.split("/")
    if len(parts) != 2:
        raise ApiError(f'Unexpected ID format ("{import_id}"), expected "namespace/name".')
    return parts[0], parts[1]


def to_object(rs: ResourceSchema, state: dict[str, Any]) -> dict[str, Any]:
    assert rs.kind is not None
    api_version, _, namespaced = KINDS[rs.kind]
    body = expand(rs.block, {k: v for k, v in state.items() if k != "metadata"})
    meta_state = state["metadata"][0]
    meta = {
        k: v
        for k, v in expand(rs.block.blocks["metadata"].block, meta_state).items()
        if k not in ("generation", "resourceVersion", "uid")
    }
    if namespaced:
        meta.setdefault("namespace", "default")
    else:
        meta.pop("namespace", None)
    obj = {"apiVersion": api_version, "kind": rs.kind, "metadata": meta}
    if rs.kind == "ServiceAccount":
        # automount is a pointer in the API: false is sent, not omitted
        body["automountServiceAccountToken"] = bool(state.get("automount_service_account_token"))
    obj |= body
    check_object(obj)
    return obj


def from_object(
    rs: ResourceSchema, obj: dict[str, Any], prior: dict[str, Any] | None
) -> dict[str, Any]:
    state = flatten(rs.block, {k: v for k, v in obj.items() if k != "metadata"})
    meta_block = rs.block.blocks["metadata"].block
    live_meta = obj.get("metadata", {})
    prior_meta = (prior or {}).get("metadata") or [{}]
    prior_meta = prior_meta[0] or {}
    meta = flatten(meta_block, live_meta)
    meta["labels"] = _visible(live_meta.get("labels"), prior_meta.get("labels"))
    meta["annotations"] = _visible(live_meta.get("annotations"), prior_meta.get("annotations"))
    meta["generation"] = int(live_meta.get("generation", 0))
    meta["resource_version"] = str(live_meta.get("resourceVersion", ""))
    meta["uid"] = str(live_meta.get("uid", ""))
    if "generate_name" in meta:
        meta["generate_name"] = live_meta.get("generateName") or prior_meta.get("generate_name")
    state["metadata"] = [meta]
    for name in LOCAL & set(rs.block.attributes):
        carried = (prior or {}).get(name)
        state[name] = None if carried is UNKNOWN else carried
    if "timeouts" in rs.block.blocks:
        state["timeouts"] = (prior or {}).get("timeouts")
    if rs.kind == "ServiceAccount":
        state["automount_service_account_token"] = bool(
            obj.get("automountServiceAccountToken", False)
        )
        state["default_secret_name"] = state["default_secret_name"] or ""  # none since 1.24
    state["id"] = state_id(rs, obj)
    return state


def fill_server_defaults(rs: ResourceSchema, planned_obj: dict[str, Any]) -> None:
    """What the API server fills in that the provider then reads back."""
    if rs.kind == "RoleBinding":
        for subject in planned_obj.get("subjects", []):
            if "apiGroup" not in subject:
                kind = subject.get("kind")
                subject["apiGroup"] = (
                    "" if kind == "ServiceAccount" else "rbac.authorization.k8s.io"
                )


# -- what the API server would refuse ----------------------------------------------------


def check_object(obj: dict[str, Any]) -> None:
    kind, meta = obj["kind"], obj["metadata"]
    name = meta.get("name") or ""
    _check_name(kind, name or meta.get("generateName", "").rstrip("-"))
    for field_name in ("labels", "annotations"):
        for key, value in (meta.get(field_name) or {}).items():
            _check_key(kind, name, f"metadata.{field_name}", key)
            if field_name == "labels" and (len(value) > 63 or not _LABEL_VALUE.match(value)):
                raise ApiError(
                    f'{kind} "{name}" is invalid: metadata.labels: Invalid value: "{value}"'
                )
    if kind == "NetworkPolicy":
        _check_network_policy(name, obj.get("spec", {}))


def _check_name(kind: str, name: str) -> None:
    if kind in ("Role", "RoleBinding"):  # RBAC names are path segments
        ok = bool(name) and "/" not in name and "%" not in name and name not in (".", "..")
        what = "path segment name"
    elif kind == "Namespace":
        ok, what = bool(_DNS_LABEL.match(name)) and len(name) <= 63, "RFC 1123 label"
    else:
        ok, what = bool(_DNS_SUBDOMAIN.match(name)) and len(name) <= 253, "RFC 1123 subdomain"
    if not ok:
        raise ApiError(
            f'{kind} "{name}" is invalid: metadata.name: Invalid value: must be a {what}'
        )


def _check_key(kind: str, name: str, where: str, key: str) -> None:
    prefix, _, local = key.rpartition("/")
    if (
        (prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)))
        or len(local) > 63
        or not _LABEL_NAME.match(local)
    ):
        raise ApiError(f'{kind} "{name}" is invalid: {where}: Invalid value: "{key}"')


def _check_network_policy(name: str, spec: dict[str, Any]) -> None:
    bad = f'NetworkPolicy.networking.k8s.io "{name}" is invalid'
    for ptype in spec.get("policyTypes", []):
        if ptype not in ("Ingress", "Egress"):
            raise ApiError(f'{bad}: spec.policyTypes: Unsupported value: "{ptype}"')
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(spec.get(direction, [])):
            for j, port in enumerate(rule.get("ports", [])):
                where = f"spec.{direction}[{i}].ports[{j}]"
                if port.get("protocol", "TCP") not in ("TCP", "UDP", "SCTP"):
                    raise ApiError(
                        f'{bad}: {where}.protocol: Unsupported value: "{port["protocol"]}"'
                    )
                number = port.get("port")
                if isinstance(number, int) and not 1 <= number <= 65535:
                    raise ApiError(f"{bad}: {where}.port: Invalid value: {number}")
                if isinstance(number, str) and not re.match(
                    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", number
                ):
                    raise ApiError(f'{bad}: {where}.port: Invalid value: "{number}"')
                if "endPort" in port:
                    if not isinstance(number, int):
                        raise ApiError(
                            f"{bad}: {where}.endPort: may not be specified when port is non-numeric"
                        )
                    if port["endPort"] < number:
                        raise ApiError(
                            f"{bad}: {where}.endPort: must be greater than or equal to port"
                        )
            for j, peer in enumerate(rule.get(peers_key, [])):
                where = f"spec.{direction}[{i}].{peers_key}[{j}]"
                if not peer:
                    raise ApiError(f"{bad}: {where}: Required value: must specify a peer")
                block = peer.get("ipBlock")
                if block is None:
                    continue
                if len(peer) > 1:
                    raise ApiError(
                        f"{bad}: {where}: Forbidden: may not specify more than 1 peer type"
                    )
                try:
                    net = ipaddress.ip_network(block.get("cidr", ""), strict=False)
                    for ex in block.get("except", []):
                        inner = ipaddress.ip_network(ex, strict=False)
                        if inner.version != net.version or not inner.subnet_of(net):  # type: ignore[arg-type]
                            raise ApiError(
                                f'{bad}: {where}.ipBlock.except: Invalid value: "{ex}": '
                                "must be a strict subset of `cidr`"
                            )
                except ValueError as err:
                    raise ApiError(f"{bad}: {where}.ipBlock.cidr: Invalid value: {err}") from None
