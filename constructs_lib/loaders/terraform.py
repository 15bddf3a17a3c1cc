"""NetworkPolicies from Terraform: synthesized JSON, ``terraform show -json`` plans and state.

The verifier reads what Terraform will act on, so it accepts every form in
which that appears: the cdk.tf.json that cdktf writes, a plan (the ``before``
and ``after`` of each change), state as ``terraform show -json`` prints it,
and a raw ``terraform.tfstate``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from constructs_lib.loaders._spec import (
    API_VERSION,
    KUBERNETES,
    TERRAFORM,
    TERRAFORM_VALUES,
    Reader,
)
from constructs_lib.loaders.network_policy import NetworkPolicy, Source, unique_policies

POLICY_RESOURCE_TYPES: tuple[str, ...] = (
    "kubernetes_network_policy_v1",
    "kubernetes_network_policy",
)
# A NetworkPolicy may also be declared as a raw manifest; its `manifest` is camelCase.
MANIFEST_TYPE = "kubernetes_manifest"
# Terraform meta-arguments and JSON comments a resource body may carry besides its schema.
_META_ARGUMENTS = ("provider", "depends_on", "lifecycle", "provisioner", "connection", "//")
_BODY_FIELDS = frozenset(("metadata", "spec", *_META_ARGUMENTS))
DEFAULT_PROVIDER = "kubernetes"
_REFERENCE = re.compile(
    r"\$\{([A-Za-z_][A-Za-z0-9_-]*)\.([A-Za-z_][A-Za-z0-9_-]*)\.metadata(?:\[0\])?\.name\}"
)


@dataclass(frozen=True)
class PlanPolicies:
    """The network policies of a plan before and after it is applied."""

    before: tuple[NetworkPolicy, ...]
    after: tuple[NetworkPolicy, ...]


def policies_from_synth(data: Mapping[str, Any], file: str) -> list[NetworkPolicy]:
    reader = Reader(file, None, TERRAFORM)
    resources = reader.mapping(data.get("resource", {}), "resource")
    out = []
    for rtype in (*POLICY_RESOURCE_TYPES, MANIFEST_TYPE):
        group = reader.mapping(resources.get(rtype, {}), f"resource.{rtype}")
        for rname, config in group.items():
            path = f"resource.{rtype}.{rname}"
            body = reader.mapping(config, path)
            if "count" in body or "for_each" in body:
                meta_arg = "count" if "count" in body else "for_each"
                reader.fail(
                    f"{path}.{meta_arg}",
                    f"{meta_arg} is not supported: the verifier needs one policy per resource",
                )
            address = f"{rtype}.{rname}"
            if rtype == MANIFEST_TYPE:
                policy = _manifest_policy(reader, body, path, Source(file, address))
                if policy is None:
                    continue
            else:
                reader.known(body, path, _BODY_FIELDS)
                policy = _policy(reader, body, Source(file, address, None, f"{path}."), resources)
            if "provider" in body:
                _check_provider(reader, body, path)
            out.append(policy)
    return unique_policies(out, file)


def _check_provider(reader: Reader, body: Mapping[str, Any], path: str) -> None:
    """A policy sent to another provider configuration lands in a cluster netfence does not see."""
    provider = body.get("provider")
    if provider is None:
        return
    name = reader.string(provider, f"{path}.provider")
    if name != DEFAULT_PROVIDER:
        reader.fail(
            f"{path}.provider",
            f"provider {name!r} is not the stack's provider {DEFAULT_PROVIDER!r}: the policy "
            "would be applied to another cluster than the one the stack's intent describes; "
            "remove the provider override",
        )


def _manifest_policy(
    reader: Reader, body: Mapping[str, Any], path: str, source: Source
) -> NetworkPolicy | None:
    """A ``kubernetes_manifest`` that holds a NetworkPolicy (others are not policies)."""
    where = f"{path}.manifest"
    manifest = reader.mapping(reader.required(body, "manifest", path), where)
    kind = reader.string(reader.required(manifest, "kind", where), f"{where}.kind")
    if kind != "NetworkPolicy":
        return None
    spelling = KUBERNETES.with_templates() if reader.s.templates else KUBERNETES
    inner = Reader(reader.file, reader.document, spelling, reader.cache)
    inner.known(manifest, where, ("apiVersion", "kind", "metadata", "spec"))
    inner.api_version(manifest, f"{where}.", API_VERSION)
    _, _, namespace, name = inner.metadata(manifest.get("metadata"), f"{where}.metadata")
    assert namespace is not None
    source = Source(source.file, source.address, source.document, f"{where}.")
    return inner.policy(manifest.get("spec"), source, namespace, name)


def plan_policies(data: Mapping[str, Any], file: str) -> PlanPolicies:
    reader = Reader(file, None, TERRAFORM_VALUES)
    before: list[NetworkPolicy] = []
    after: list[NetworkPolicy] = []
    changes = reader.items(data.get("resource_changes"), "resource_changes")
    for i, item in enumerate(changes):
        path = f"resource_changes[{i}]"
        change = reader.mapping(item, path)
        if (
            change.get("type") not in (*POLICY_RESOURCE_TYPES, MANIFEST_TYPE)
            or change.get("mode", "managed") != "managed"
        ):
            continue
        address = reader.string(change.get("address"), f"{path}.address")
        body = reader.mapping(change.get("change"), f"{path}.change")
        for side, bucket in (("before", before), ("after", after)):
            values = body.get(side)
            if values is None:
                continue
            where = f"{path}.change.{side}"
            values = reader.mapping(values, where)
            if side == "after":
                _known_after_apply(
                    reader, body.get("after_unknown"), f"{path}.change.after_unknown"
                )
            policy = _resource_policy(reader, change["type"], values, where, Source(file, address))
            if policy is not None:
                bucket.append(policy)
    # After the apply, two resources for one object cannot both exist; before, state may
    # already hold such a pair (the plan is then what resolves it).
    return PlanPolicies(tuple(before), tuple(unique_policies(after, f"{file} (after)")))


def _known_after_apply(reader: Reader, unknown: Any, path: str) -> None:
    """Refuse a policy with any value Terraform only learns when applying: the plan omits
    it from ``after``, and reading the policy without it would be a guess."""
    if not isinstance(unknown, dict):
        return
    # Only what netfence reads: computed metadata (uid, resource_version, ...) is always unknown.
    stack: list[tuple[Any, str]] = [
        (unknown[key], f"{path}.{key}") for key in ("spec", "manifest") if key in unknown
    ]
    metadata = unknown.get("metadata")
    for i, meta in enumerate(metadata if isinstance(metadata, list) else [metadata]):
        if isinstance(meta, dict):
            where = f"{path}.metadata[{i}]" if isinstance(metadata, list) else f"{path}.metadata"
            stack.extend((meta[k], f"{where}.{k}") for k in ("name", "namespace") if k in meta)
        elif meta is True:
            stack.append((True, f"{path}.metadata"))
    while stack:
        value, where = stack.pop()
        if value is True:
            reader.fail(
                where,
                "this value is known only after apply, so the plan cannot say what the policy "
                "will allow: make it a literal (or plan again once what it depends on exists)",
            )
        if isinstance(value, dict):
            stack.extend((v, f"{where}.{k}") for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(value))


def _resource_policy(
    reader: Reader, rtype: str, values: Mapping[str, Any], path: str, source: Source
) -> NetworkPolicy | None:
    if rtype == MANIFEST_TYPE:
        return _manifest_policy(reader, values, path, source)
    return _policy(
        reader, values, Source(source.file, source.address, source.document, f"{path}."), {}
    )


def policies_from_state(data: Mapping[str, Any], file: str) -> list[NetworkPolicy]:
    """``terraform show -json`` state (``values.root_module``) or a raw tfstate (v4)."""
    reader = Reader(file, None, TERRAFORM_VALUES)
    out: list[NetworkPolicy] = []
    if "values" in data:
        values = reader.mapping(data.get("values") or {}, "values")
        root = reader.mapping(values.get("root_module") or {}, "values.root_module")
        for resource, path in _module_resources(reader, root, "values.root_module", 0):
            address = reader.string(resource.get("address"), f"{path}.address")
            attrs = reader.mapping(resource.get("values"), f"{path}.values")
            policy = _resource_policy(
                reader, resource["type"], attrs, f"{path}.values", Source(file, address)
            )
            if policy is not None:
                out.append(policy)
        return unique_policies(out, file)
    for i, item in enumerate(reader.items(data.get("resources"), "resources")):
        path = f"resources[{i}]"
        resource = reader.mapping(item, path)
        if (
            resource.get("type") not in (*POLICY_RESOURCE_TYPES, MANIFEST_TYPE)
            or resource.get("mode") != "managed"
        ):
            continue
        base = f"{resource['type']}.{reader.string(resource.get('name'), f'{path}.name')}"
        if resource.get("module"):
            base = f"{resource['module']}.{base}"
        for j, inst in enumerate(reader.items(resource.get("instances"), f"{path}.instances")):
            where = f"{path}.instances[{j}]"
            instance = reader.mapping(inst, where)
            key = instance.get("index_key")
            address = base if key is None else f"{base}[{key!r}]".replace("'", '"')
            attrs = reader.mapping(instance.get("attributes"), f"{where}.attributes")
            policy = _resource_policy(
                reader, resource["type"], attrs, f"{where}.attributes", Source(file, address)
            )
            if policy is not None:
                out.append(policy)
    return unique_policies(out, file)


def _module_resources(
    reader: Reader, module: Mapping[str, Any], path: str, depth: int
) -> Iterator[tuple[Mapping[str, Any], str]]:
    if depth > _MAX_MODULE_DEPTH:
        reader.fail(path, f"modules nested more than {_MAX_MODULE_DEPTH} deep")
    for i, item in enumerate(reader.items(module.get("resources"), f"{path}.resources")):
        where = f"{path}.resources[{i}]"
        resource = reader.mapping(item, where)
        if (
            resource.get("type") in (*POLICY_RESOURCE_TYPES, MANIFEST_TYPE)
            and resource.get("mode", "managed") == "managed"
        ):
            yield resource, where
    for i, child in enumerate(reader.items(module.get("child_modules"), f"{path}.child_modules")):
        where = f"{path}.child_modules[{i}]"
        yield from _module_resources(reader, reader.mapping(child, where), where, depth + 1)


_MAX_MODULE_DEPTH = 32


def _policy(
    reader: Reader, body: Mapping[str, Any], source: Source, resources: Mapping[str, Any]
) -> NetworkPolicy:
    """The policy of a resource body at ``source.path``."""
    path = source.path
    metadata, meta_path = reader.block(body.get("metadata"), f"{path}metadata")
    if metadata is None:
        reader.fail(f"{path}metadata", "missing required field")
    reader.known(metadata, meta_path, reader.s.fields.metadata)
    where = f"{meta_path}.name"
    name = _name(reader, metadata.get("name"), where, resources, required=True)
    name = reader.name_syntax(name, where)
    where = f"{meta_path}.namespace"
    namespace = _name(reader, metadata.get("namespace"), where, resources, required=False)
    if namespace:
        namespace = reader.name_syntax(namespace, where, label=True)
    return reader.policy(body.get("spec"), source, namespace or "default", name)


def _name(
    reader: Reader, value: Any, path: str, resources: Mapping[str, Any], *, required: bool
) -> str:
    if value is None or value == "":
        if required:
            reader.fail(path, "missing required field")
        return ""
    if isinstance(value, str) and "{" not in value:
        return value  # (what reader.string gives for it)
    if not isinstance(value, str) or not reader.s.templates:
        return reader.string(value, path)
    match = _REFERENCE.fullmatch(value)
    if match is None:
        return reader.string(value, path)
    group = resources.get(match.group(1))
    target = group.get(match.group(2)) if isinstance(group, dict) else None
    if isinstance(target, dict):
        meta, _ = reader.block(target.get("metadata"), path)
        literal = meta.get("name") if meta else None
        if isinstance(literal, str) and "${" not in literal and "%{" not in literal:
            return reader.string(literal, path)
    reader.fail(
        path,
        f"cannot resolve {value!r}: only ${{TYPE.NAME.metadata[0].name}} of a resource "
        "with a literal name in the same file is supported",
    )
