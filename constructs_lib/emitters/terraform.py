"""Render a CompiledStack as Terraform JSON for hashicorp/kubernetes 2.38.0 or 3.x.

The output is plain data (dicts, lists, strings) in the shape the provider's
schema expects: single blocks as objects, repeated blocks as lists, ports as
strings. Resource names derive from Kubernetes names only, so they survive
any refactor of the Python code that declares them.

The six resource types keep one configuration syntax from 2.38.0 to 3.5.0;
what differs by version (``PROVIDER_VERSIONS``) is which resources the
Plugin Framework serves (``FRAMEWORK_SINCE``): those reject null label and
annotation values, may plan a one-time update for an explicitly empty map,
reject a Role with both ``name`` and ``generate_name``, and move state from
their deprecated twin (``moved`` across types, Terraform >= 1.8).
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import orjson

from constructs_lib.emitters.kubernetes import (
    api_path,
    api_value,
    base_objects,
    set_path,
    terraform_body,
)
from constructs_lib.emitters.kubernetes import (
    objects as kubernetes_objects,
)
from constructs_lib.errors import InvalidIntentError
from constructs_lib.spec import CompiledStack, Override

_quote = json.encoder.encode_basestring_ascii  # json's own (C) string quoting

PROVIDER_SOURCE = "hashicorp/kubernetes"
# The default: what the cdktf bindings (cdktf-cdktf-provider-kubernetes 12.x)
# target, so existing stacks plan no change; 3.x is a deliberate upgrade
# (docs/cdk.md: what changes in a plan).
PROVIDER_VERSION = "2.38.0"
# Versions whose behaviour for the six resources is established (provider
# source and changelog; the cdktn bindings 17.1.0 target 3.4.0). 3.6.0 is
# not among them: its release notes could not be read here.
PROVIDER_VERSIONS = ("2.38.0", "3.4.0", "3.5.0")

NAMESPACE = "kubernetes_namespace_v1"
LABELS = "kubernetes_labels"
NETWORK_POLICY = "kubernetes_network_policy_v1"
SERVICE_ACCOUNT = "kubernetes_service_account_v1"
ROLE = "kubernetes_role_v1"
ROLE_BINDING = "kubernetes_role_binding_v1"
# First provider version serving the type through the Plugin Framework
# (CHANGELOG 3.3.0 GH-2979, 3.4.0 GH-2964, 3.5.0 GH-2978). Not listed: still SDKv2.
FRAMEWORK_SINCE = {NAMESPACE: "3.3.0", ROLE: "3.4.0", ROLE_BINDING: "3.5.0"}
# The deprecated (3.0.0) type each netfence type replaces; same schema.
DEPRECATED_TWINS = {
    NAMESPACE: "kubernetes_namespace",
    NETWORK_POLICY: "kubernetes_network_policy",
    SERVICE_ACCOUNT: "kubernetes_service_account",
    ROLE: "kubernetes_role",
    ROLE_BINDING: "kubernetes_role_binding",
}
_RESOURCE_TYPES = {
    "NetworkPolicy": NETWORK_POLICY,
    "ServiceAccount": SERVICE_ACCOUNT,
    "Role": ROLE,
    "RoleBinding": ROLE_BINDING,
}


@dataclass(frozen=True)
class ProviderConfig:
    """How Terraform reaches the cluster.

    config_path / config_context: a kubeconfig file and context. in_cluster:
    the provider's in-cluster service account (set nothing else). All left
    out: the provider reads KUBE_CONFIG_PATH and friends from the environment.
    version: the hashicorp/kubernetes version the JSON is written for and
    pinned to (one of ``PROVIDER_VERSIONS``).
    """

    config_path: str | None = None
    config_context: str | None = None
    in_cluster: bool = False
    version: str = PROVIDER_VERSION

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.config_path:
            out["config_path"] = self.config_path
        if self.config_context:
            out["config_context"] = self.config_context
        return out


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def framework_serves(rtype: str, version: str) -> bool:
    """True when provider ``version`` serves ``rtype`` through the Plugin Framework."""
    since = FRAMEWORK_SINCE.get(rtype)
    return since is not None and version_key(version) >= version_key(since)


def resource_name(namespace: str, suffix: str | None = None) -> str:
    """Terraform name for an object of ``namespace`` (``<ns>`` or ``<ns>_<suffix>``)."""
    base = namespace if suffix is None else f"{namespace}_{suffix}"
    return base if not base[0].isdigit() else f"_{base}"


def render_terraform(
    compiled: CompiledStack,
    *,
    provider: ProviderConfig | None = None,
    imports: Sequence[tuple[str, str]] = (),
    moves: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """The Terraform JSON fragment: required_providers, provider, resources.

    ``compiled.overrides`` (see ``override``) are applied last: Kubernetes
    fields to the object both artifacts are built from, Terraform-only
    settings to the resource.
    imports: ``(address, id)`` pairs for Terraform ``import`` blocks, so a first
    apply adopts objects that already exist instead of failing.
    moves: ``(old address, new address)`` pairs for ``moved`` blocks.
    Adopted namespaces get a ``removed`` block (destroy = false): state forgets
    a namespace the stack used to create instead of deleting it.
    """
    resources: dict[str, dict[str, Any]] = {}
    managed = {ns.name for ns in compiled.namespaces if ns.managed}
    for ns in compiled.namespaces:
        if not ns.managed:  # adopted: patch labels, never own the namespace
            resources.setdefault(LABELS, {})[resource_name(ns.name)] = {
                "api_version": "v1",
                "kind": "Namespace",
                "metadata": {"name": ns.name},
                "labels": dict(ns.labels),
                "field_manager": "netfence",
            }
    # addresses come from the object as netfence built it: an override of
    # metadata.name must not move the resource to another address
    addresses = [_address(obj, managed) for obj in base_objects(compiled)]
    if compiled.overrides:
        generated = {f"{t}.{n}" for t, group in resources.items() for n in group}
        generated |= {f"{rtype}.{rname}" for rtype, rname, _ in addresses}
        for change in compiled.overrides:
            if change.address not in generated:
                raise InvalidIntentError(
                    change.address,
                    "add_override",
                    "no such resource is generated by this stack "
                    f"(generated: {', '.join(sorted(generated))})",
                )
    objs = kubernetes_objects(compiled)  # the overrides applied to a copy
    for obj, (rtype, rname, depends) in zip(objs, addresses, strict=True):
        body = terraform_body(obj)
        if depends:
            body["depends_on"] = depends
        resources.setdefault(rtype, {})[rname] = body
    for change in compiled.overrides:
        if change.terraform_only:
            rtype, rname = change.address.split(".", 1)
            set_path(
                change.address, resources[rtype][rname], change.path, copy.deepcopy(change.value)
            )
    version = provider.version if provider is not None else PROVIDER_VERSION
    _fit_provider(resources, version)
    out: dict[str, Any] = {
        "terraform": {
            "required_providers": {"kubernetes": {"source": PROVIDER_SOURCE, "version": version}}
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
        for old, new in moves:
            _check_move(old, new, version)
        out["moved"] = [{"from": old, "to": new} for old, new in sorted(set(moves))]
    forgotten = [
        {"from": f"{NAMESPACE}.{resource_name(ns.name)}", "lifecycle": {"destroy": False}}
        for ns in compiled.namespaces
        if not ns.managed
    ]
    if forgotten:
        # An adopted namespace may have been created by this stack before: without
        # this, switching to adopt=True plans its destroy (and everything in it).
        # Terraform (>= 1.7) accepts a removed block for an address not in state,
        # so the rule needs no knowledge of prior state: always, for every adopted one.
        out["removed"] = forgotten
    if provider is not None:
        out["provider"] = {"kubernetes": [provider.render()]}
    return out


def _fit_provider(resources: dict[str, dict[str, Any]], version: str) -> None:
    """Keep the bodies valid for ``version`` (after overrides, which may add to them).

    Everywhere: no ``generate_name`` beside ``name`` (the API ignores it; 3.4.0's
    kubernetes_role_v1 rejects the pair). On Framework-served types: no null
    label or annotation value (rejected at plan), and no explicitly empty
    label or annotation map (a needless one-time update; absent means the same).
    """
    for rtype, group in resources.items():
        framework = framework_serves(rtype, version)
        for rname, body in group.items():
            meta = body.get("metadata")
            if not isinstance(meta, dict):
                continue
            where = f"{rtype}.{rname}"
            if "generate_name" in meta and "name" in meta:
                raise InvalidIntentError(
                    where,
                    "add_override",
                    "metadata.generate_name beside metadata.name: netfence names every "
                    "object; the API ignores generate_name when name is set and "
                    "hashicorp/kubernetes >= 3.4.0 rejects the pair for kubernetes_role_v1",
                )
            if not framework:
                continue
            for field in ("labels", "annotations"):
                values = meta.get(field)
                if values == {}:
                    del meta[field]
                    continue
                for key, value in (values or {}).items():
                    if value is None:
                        raise InvalidIntentError(
                            where,
                            "add_override",
                            f"metadata.{field}[{key!r}] is null; hashicorp/kubernetes "
                            f"{version} serves {rtype} through the Plugin Framework, which "
                            "rejects null label and annotation values at plan: give a "
                            "string or leave the entry out",
                        )


def _check_move(old: str, new: str, version: str) -> None:
    """A ``moved`` block across types is valid only where the provider moves the state."""
    old_type, new_type = old.split(".")[0], new.split(".")[0]
    if old_type == new_type or framework_serves(new_type, version):
        return
    since = FRAMEWORK_SINCE.get(new_type)
    if since is None:
        reason = (
            f"no supported hashicorp/kubernetes version ({', '.join(PROVIDER_VERSIONS)}) "
            f"can move state from {old_type} to {new_type}"
        )
    else:
        reason = (
            f"hashicorp/kubernetes {version} cannot move state from {old_type} to "
            f"{new_type}; {since} and later can (with Terraform >= 1.8): declare "
            f"KubernetesCluster(..., provider_version={PROVIDER_VERSIONS[-1]!r})"
        )
    raise InvalidIntentError(
        new,
        "moved_from",
        f"{old}: {reason}, or move it yourself: terraform state mv '{old}' '{new}'",
    )


def _address(obj: Mapping[str, Any], managed: set[str]) -> tuple[str, str, list[str]]:
    """(resource type, resource name, depends_on) of one Kubernetes object."""
    meta = obj["metadata"]
    namespace = meta.get("namespace")
    if namespace is None:
        return NAMESPACE, resource_name(meta["name"]), []
    depends = [_owner(namespace, managed)]
    if obj["kind"] == "RoleBinding":  # the Role and the account it grants it to
        subject = obj["subjects"][0]
        depends = [
            f"{ROLE}.{resource_name(namespace, obj['roleRef']['name'])}",
            f"{SERVICE_ACCOUNT}.{resource_name(subject['namespace'], subject['name'])}",
        ]
    return _RESOURCE_TYPES[obj["kind"]], resource_name(namespace, meta["name"]), depends


def _owner(namespace: str, managed: set[str]) -> str:
    """The resource a namespaced object waits for: its namespace, or its label patch."""
    return f"{NAMESPACE if namespace in managed else LABELS}.{resource_name(namespace)}"


# Terraform settings an override may change that leave the Kubernetes object as
# manifests.yaml has it (how Terraform replaces or waits, not what it applies).
TERRAFORM_ONLY = ("lifecycle.create_before_destroy", "lifecycle.prevent_destroy", "timeouts")
_REFUSED = {
    "provider": "it would send the resource to another cluster than the stack's, which "
    "manifests.yaml and netfence verify cannot see",
    "count": "Terraform would create copies (or none) that manifests.yaml does not have",
    "for_each": "Terraform would create copies that manifests.yaml does not have",
    "depends_on": "netfence writes the resource's dependencies itself",
    "provisioner": "Kubernetes objects take no provisioners",
    "connection": "Kubernetes objects take no provisioners",
    "lifecycle.ignore_changes": "Terraform would stop applying changes that the artifacts "
    "show, so the cluster could keep what netfence verify no longer sees",
    "lifecycle.replace_triggered_by": "netfence decides when a policy is replaced",
}
# What netfence writes for each resource a PolicyHandle can name: type -> (kind, fields).
_OBJECT_FIELDS = {
    NETWORK_POLICY: ("NetworkPolicy", ("metadata", "spec")),
    NAMESPACE: ("Namespace", ("metadata",)),
}


def override(
    resource_type: str, name: str, target: tuple[str, str | None, str], path: str, value: Any
) -> Override:
    """An ``add_override`` that both artifacts of the stack apply alike, or refused.

    ``target`` is the object (kind, namespace, name) of the resource; ``path``
    the dotted Terraform path. Kubernetes fields are mapped to the API's names
    (``pod_selector`` -> ``podSelector``) and applied to the object both
    emitters dump; Terraform-only settings reach cdk.tf.json alone, and only
    those that do not change what is applied (``TERRAFORM_ONLY``).
    """
    address = f"{resource_type}.{name}"
    parts = path.split(".")
    _no_template(address, path, value)
    for refused, reason in _REFUSED.items():
        if path == refused or path.startswith(refused + "."):
            raise InvalidIntentError(
                address, "add_override", f"{path!r} cannot be overridden: {reason}"
            )
    kind, namespace, obj_name = target
    settings = [p for p in TERRAFORM_ONLY if path == p or path.startswith(p + ".")]
    if parts[0] == "lifecycle" and not settings:
        keys = set(value) if len(parts) == 1 and isinstance(value, dict) else {None}
        if not keys <= {"create_before_destroy", "prevent_destroy"}:
            raise InvalidIntentError(
                address,
                "add_override",
                f"{path!r} = {value!r}: of lifecycle, only create_before_destroy and "
                "prevent_destroy can be overridden (they change how Terraform replaces the "
                "object, not what it applies)",
            )
        settings = ["lifecycle"]
    if settings:
        return Override(address, kind, namespace, obj_name, tuple(parts), value, True)
    if resource_type == LABELS:
        raise InvalidIntentError(
            address,
            "add_override",
            f"{path!r} cannot be overridden on an adopted namespace: manifests.yaml does not "
            "manage it (it lists its labels in a comment), so the artifacts would disagree; "
            "set labels= on the ZeroTrustNamespace",
        )
    fields = _OBJECT_FIELDS[resource_type][1]
    if parts[0] not in fields:
        raise InvalidIntentError(
            address,
            "add_override",
            f"{parts[0]!r} is not a field netfence writes on {resource_type} (fields: "
            f"{', '.join(fields)}; Terraform-only settings: {', '.join(TERRAFORM_ONLY)})",
        )
    api = api_path(parts)
    return Override(address, kind, namespace, obj_name, api, api_value(value, api[-1]))


def _no_template(address: str, path: str, value: Any) -> None:
    """JSON data only; and no templates: Terraform evaluates ${...} and %{...},
    manifests.yaml would keep the text."""
    if not isinstance(value, str | int | float | dict | list | tuple) and value is not None:
        raise InvalidIntentError(
            address,
            "add_override",
            f"{path!r} = {value!r} is not JSON data (strings, numbers, booleans, null, lists "
            "and mappings with string keys)",
        )
    if isinstance(value, dict) and not all(isinstance(k, str) for k in value):
        raise InvalidIntentError(
            address, "add_override", f"{path!r} = {value!r}: mapping keys must be strings"
        )
    if isinstance(value, str) and ("${" in value or "%{" in value):
        raise InvalidIntentError(
            address,
            "add_override",
            f"{path!r} = {value!r} is a Terraform template: Terraform would evaluate it while "
            "manifests.yaml keeps the text; write the value itself",
        )
    if isinstance(value, dict):
        for k, v in value.items():
            _no_template(address, path, k)
            _no_template(address, f"{path}.{k}", v)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _no_template(address, f"{path}.{i}", v)


def dump_json(doc: Any, *, floats: bool = True) -> str:
    """``json.dumps(doc, indent=2, sort_keys=True) + "\n"``, byte for byte, several times faster.

    ``floats=False`` promises that ``doc`` holds no float (see ``write_json``).
    """
    buffer = io.StringIO()
    write_json(doc, buffer, floats=floats)
    return buffer.getvalue()


def write_json(doc: Any, handle: TextIO, *, floats: bool = True) -> None:
    """Write ``dump_json(doc)`` to ``handle`` in pieces of about a megabyte.

    json's C encoder does not indent, and its Python encoder spends most of
    a large synthesis in generator frames. The top levels of the document
    are written here; below them (one resource, the intent record), when
    ``floats`` is False, orjson writes each value (indented and sorted, in C),
    which spells strings, integers, booleans, null, lists and mappings as
    json.dumps does except that it keeps non-ASCII text and DEL unescaped and
    refuses integers beyond 64 bits: such a value is written by the Python
    path instead. Floats differ (orjson writes ``1e16`` where json writes
    ``1e+16``), hence the promise. Chunks are handed to ``handle`` whenever
    they grow long (a whole 130,000-resource artifact as one string would
    take gigabytes).
    """
    out: list[str] = []

    def flush() -> None:
        handle.write("".join(out))
        out.clear()

    _dump_value(doc, "\n", out, flush, 0 if floats else _ORJSON_DEPTH)
    out.append("\n")
    flush()


_FLUSH_AT = 1 << 16  # chunks
# orjson writes from the fourth level down: document -> "resource" -> type -> one resource
_ORJSON_DEPTH = 4
_ORJSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


def holds_float(value: Any) -> bool:
    """Whether JSON data ``value`` holds a float anywhere (``write_json``'s promise)."""
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(holds_float(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(holds_float(v) for v in value)
    return False


def _small(value: dict[str, Any] | list[Any] | tuple[Any, ...]) -> bool:
    """Whether orjson writes ``value`` in one piece: not where a part of it is a long list
    or mapping (the intent record's flows), which would be held in memory three times
    over (orjson's bytes, their text, the text indented)."""
    parts = value.values() if isinstance(value, dict) else value
    return len(value) <= _ONE_PIECE and not any(
        isinstance(p, dict | list | tuple) and len(p) > _ONE_PIECE for p in parts
    )


_ONE_PIECE = 256


def _orjson(value: Any, newline: str) -> str | None:
    """``value`` as json.dumps(indent=2, sort_keys=True) spells it at ``newline``'s indent,
    or None where orjson would spell it otherwise."""
    try:
        text = orjson.dumps(value, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits
        return None
    if not text.isascii() or b"\x7f" in text:
        return None  # json escapes these (\u00e9, \u007f); orjson keeps them as they are
    return text.decode("ascii").replace("\n", newline)


def _dump_value(
    value: Any, newline: str, out: list[str], flush: Callable[[], None], fast_in: int
) -> None:
    """``fast_in``: the levels below which orjson writes (0: never)."""
    if fast_in == 1 and isinstance(value, dict | list | tuple) and _small(value):
        text = _orjson(value, newline)
        if text is not None:
            out.append(text)
            flush()  # a chunk of its own: the buffer stays small
            return
    below = fast_in - 1 if fast_in > 1 else fast_in
    if isinstance(value, str):
        out.append(_quote(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        sep = "{" + inner
        for key in sorted(value):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {key!r}")
            out.append(sep)
            out.append(_quote(key))
            out.append(": ")
            _dump_value(value[key], inner, out, flush, below)
            sep = "," + inner
            if len(out) > _FLUSH_AT:
                flush()
        out.append(newline + "}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        sep = "[" + inner
        for item in value:
            out.append(sep)
            _dump_value(item, inner, out, flush, below)
            sep = "," + inner
        out.append(newline + "]")
    else:
        out.append(json.dumps(value))  # numbers, booleans, null: exactly as json spells them
