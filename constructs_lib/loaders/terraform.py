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

from constructs_lib.loaders._spec import TERRAFORM, Reader, type_name
from constructs_lib.loaders.network_policy import NetworkPolicy, Source

POLICY_RESOURCE_TYPES: tuple[str, ...] = (
    "kubernetes_network_policy_v1",
    "kubernetes_network_policy",
)
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
    for rtype in POLICY_RESOURCE_TYPES:
        group = reader.mapping(resources.get(rtype, {}), f"resource.{rtype}")
        for rname, config in group.items():
            path = f"resource.{rtype}.{rname}"
            body = reader.mapping(config, path)
            for meta_arg in ("count", "for_each"):
                if meta_arg in body:
                    reader.fail(
                        f"{path}.{meta_arg}",
                        f"{meta_arg} is not supported: the verifier needs one policy per resource",
                    )
            out.append(
                _policy(reader, body, f"{path}.", Source(file, f"{rtype}.{rname}"), resources)
            )
    return out


def plan_policies(data: Mapping[str, Any], file: str) -> PlanPolicies:
    reader = Reader(file, None, TERRAFORM)
    before: list[NetworkPolicy] = []
    after: list[NetworkPolicy] = []
    changes = reader.items(data.get("resource_changes"), "resource_changes")
    for i, item in enumerate(changes):
        path = f"resource_changes[{i}]"
        change = reader.mapping(item, path)
        if (
            change.get("type") not in POLICY_RESOURCE_TYPES
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
            bucket.append(_policy(reader, values, f"{where}.", Source(file, address), {}))
    return PlanPolicies(tuple(before), tuple(after))


def policies_from_state(data: Mapping[str, Any], file: str) -> list[NetworkPolicy]:
    """``terraform show -json`` state (``values.root_module``) or a raw tfstate (v4)."""
    reader = Reader(file, None, TERRAFORM)
    out = []
    if "values" in data:
        values = reader.mapping(data.get("values") or {}, "values")
        root = reader.mapping(values.get("root_module") or {}, "values.root_module")
        for resource, path in _module_resources(reader, root, "values.root_module"):
            address = reader.string(resource.get("address"), f"{path}.address")
            attrs = reader.mapping(resource.get("values"), f"{path}.values")
            out.append(_policy(reader, attrs, f"{path}.values.", Source(file, address), {}))
        return out
    for i, item in enumerate(reader.items(data.get("resources"), "resources")):
        path = f"resources[{i}]"
        resource = reader.mapping(item, path)
        if resource.get("type") not in POLICY_RESOURCE_TYPES or resource.get("mode") != "managed":
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
            out.append(_policy(reader, attrs, f"{where}.attributes.", Source(file, address), {}))
    return out


def _module_resources(
    reader: Reader, module: Mapping[str, Any], path: str
) -> Iterator[tuple[Mapping[str, Any], str]]:
    for i, item in enumerate(reader.items(module.get("resources"), f"{path}.resources")):
        where = f"{path}.resources[{i}]"
        resource = reader.mapping(item, where)
        if (
            resource.get("type") in POLICY_RESOURCE_TYPES
            and resource.get("mode", "managed") == "managed"
        ):
            yield resource, where
    for i, child in enumerate(reader.items(module.get("child_modules"), f"{path}.child_modules")):
        where = f"{path}.child_modules[{i}]"
        yield from _module_resources(reader, reader.mapping(child, where), where)


def _policy(
    reader: Reader,
    body: Mapping[str, Any],
    path: str,
    source: Source,
    resources: Mapping[str, Any],
) -> NetworkPolicy:
    metadata, meta_path = reader.block(body.get("metadata"), f"{path}metadata")
    if metadata is None:
        reader.fail(f"{path}metadata", "missing required field")
    name = _name(reader, metadata.get("name"), f"{meta_path}.name", resources, required=True)
    namespace = _name(
        reader, metadata.get("namespace"), f"{meta_path}.namespace", resources, required=False
    )
    return reader.policy(metadata, body.get("spec"), path, source, namespace or "default", name)


def _name(
    reader: Reader, value: Any, path: str, resources: Mapping[str, Any], *, required: bool
) -> str:
    if value is None or value == "":
        if required:
            reader.fail(path, "missing required field")
        return ""
    if not isinstance(value, str):
        reader.fail(path, f"expected a string, got {type_name(value)}")
    if "${" not in value:
        return value
    match = _REFERENCE.fullmatch(value)
    target = None
    if match:
        group = resources.get(match.group(1))
        target = group.get(match.group(2)) if isinstance(group, dict) else None
    if isinstance(target, dict):
        meta, _ = reader.block(target.get("metadata"), path)
        literal = meta.get("name") if meta else None
        if isinstance(literal, str) and "${" not in literal:
            return literal
    reader.fail(
        path,
        f"cannot resolve {value!r}: only ${{TYPE.NAME.metadata[0].name}} of a resource "
        "with a literal name in the same file is supported",
    )
