"""Derive the provider schema files from the installed bindings plus provider-source facts.

Two bindings, one per provider line (``BINDINGS``): the cdktf bindings
(``cdktf-cdktf-provider-kubernetes`` 12.x) are generated from the schema that
hashicorp/kubernetes 2.38.0 publishes -> ``kubernetes_schema.json``; the CDK
Terrain bindings (``cdktn-provider-kubernetes`` 17.1) from 3.4.0's ->
``kubernetes_schema_3.json``, which the test provider also serves as 3.5.0
(same configuration syntax; see ``VERSION_NOTES``). Each jsii assembly
carries every configurable name, its type and whether it is required, and
the getters without an input twin are the computed-only attributes. What the
assembly cannot say (list or set, max items, optional+computed, defaults,
ForceNew) is written down in ``SOURCE_FACTS`` below, each with the provider
file it was read from (the same files from 2.38.0 to 3.2.1, the newest
source read here). Regenerate with::

    PYTHONPATH=tests .venv/bin/python -m terraform_provider.derive_schema        # 2.38.0
    PYTHONPATH=tests .venv-cdktn/bin/python -m terraform_provider.derive_schema 3  # 3.x

and review the diff; ``tests/terraform/test_tf_schema.py`` fails when a
checked-in file and the installed bindings disagree.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import tarfile
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("kubernetes_schema.json")
SCHEMA_FILE_3 = Path(__file__).with_name("kubernetes_schema_3.json")


class Bindings:
    """One generated bindings package: where its assembly is and how it names things."""

    def __init__(self, module: str, package: str, cdk: str, file: Path) -> None:
        self.module = module
        self.prefix = f"{package}."
        self.cdk = cdk
        self.file = file


BINDINGS = {
    "2": Bindings(
        "cdktf_cdktf_provider_kubernetes", "@cdktf/provider-kubernetes", "cdktf", SCHEMA_FILE
    ),
    "3": Bindings(
        "cdktn_provider_kubernetes", "@cdktn/provider-kubernetes", "cdktn", SCHEMA_FILE_3
    ),
}
PREFIX = BINDINGS["2"].prefix

# What the 3.x file adds: the versions it is served as, and per resource the
# first version whose Plugin Framework port serves it (from the CHANGELOG).
VERSION_NOTES: dict[str, Any] = {
    "serves": ["3.4.0", "3.5.0"],
    "source": (
        "3.4.0: cdktn-provider-kubernetes 17.1.0 bindings; 3.5.0: CHANGELOG 3.5.0 (GH-2978) "
        "moves kubernetes_role_binding_v1 to the Plugin Framework 'preserving configuration "
        "syntax', no schema change for the other five"
    ),
    "framework_since": {
        "kubernetes_namespace_v1": {
            "version": "3.3.0",
            "source": "CHANGELOG 3.3.0 GH-2979: null label/annotation values rejected at "
            "plan; moved from kubernetes_namespace supported",
            "moved_from": "kubernetes_namespace",
        },
        "kubernetes_role_v1": {
            "version": "3.4.0",
            "source": "CHANGELOG 3.4.0 GH-2964: name with generate_name rejected; null "
            "label/annotation values rejected; import id needs namespace and name; moved "
            "from kubernetes_role supported (Terraform >= 1.8)",
            "moved_from": "kubernetes_role",
        },
        "kubernetes_role_binding_v1": {
            "version": "3.5.0",
            "source": "CHANGELOG 3.5.0 GH-2978: null label/annotation values rejected; "
            "moved from kubernetes_role_binding supported (Terraform >= 1.8)",
            "moved_from": "kubernetes_role_binding",
        },
    },
}

# Every path below is relative to the resource's top-level block, dotted.
SOURCE_FACTS: dict[str, dict[str, Any]] = {
    "provider": {
        "assembly": "provider.KubernetesProviderConfig",
        "source": ["kubernetes/provider.go (Provider().Schema)"],
        "skip": ["alias"],  # a Terraform meta-argument, not part of the provider schema
        "blocks": {"exec": ("list", 0, 1), "experiments": ("list", 0, 1)},
        "attributes": {"experiments.manifest_resource": {"deprecated": True}},
    },
    "kubernetes_namespace_v1": {
        "assembly": "namespaceV1.NamespaceV1Config",
        "source": [
            "kubernetes/resource_kubernetes_namespace_v1.go",
            "kubernetes/schema_metadata.go (metadataSchema, generatable name)",
        ],
        "kind": "Namespace",
        "blocks": {"metadata": ("list", 1, 1), "timeouts": ("single", 0, 0)},
        "attributes": {
            "metadata.name": {"computed": True, "force_new": True},
            "metadata.generate_name": {"force_new": True},
            "wait_for_default_service_account": {"default": False},
        },
    },
    "kubernetes_network_policy_v1": {
        "assembly": "networkPolicyV1.NetworkPolicyV1Config",
        "source": [
            "kubernetes/resource_kubernetes_network_policy_v1.go",
            "kubernetes/schema_metadata.go (namespacedMetadataSchema)",
            "kubernetes/schema_label_selector.go (labelSelectorFields)",
        ],
        "kind": "NetworkPolicy",
        "blocks": {"metadata": ("list", 1, 1), "spec": ("list", 1, 1)}
        | {
            f"spec.{d}.{peer}.{sel}": ("list", 0, 1)
            for d, peer in (("ingress", "from"), ("egress", "to"))
            for sel in ("ip_block", "namespace_selector", "pod_selector")
        }
        | {"spec.pod_selector": ("list", 1, 1)},
        "attributes": {
            "metadata.name": {"computed": True, "force_new": True},
            "metadata.generate_name": {"force_new": True},
            "metadata.namespace": {"default": "default", "force_new": True},
            "spec.policy_types": {"min_items": 1, "max_items": 2},
            "spec.ingress.ports.protocol": {"default": "TCP"},
            "spec.egress.ports.protocol": {"default": "TCP"},
        }
        | {
            f"{sel}.match_expressions.values": {"set": True}
            for sel in (
                "spec.pod_selector",
                "spec.ingress.from.namespace_selector",
                "spec.ingress.from.pod_selector",
                "spec.egress.to.namespace_selector",
                "spec.egress.to.pod_selector",
            )
        },
    },
    "kubernetes_labels": {
        "assembly": "labels.LabelsConfig",
        "source": ["kubernetes/resource_kubernetes_labels.go"],
        "blocks": {"metadata": ("list", 1, 1)},
        "attributes": {
            "api_version": {"force_new": True},
            "kind": {"force_new": True},
            "metadata.name": {"force_new": True},
            "metadata.namespace": {"force_new": True},
            "field_manager": {"default": "Terraform"},
        },
    },
    "kubernetes_service_account_v1": {
        "assembly": "serviceAccountV1.ServiceAccountV1Config",
        "source": [
            "kubernetes/resource_kubernetes_service_account_v1.go",
            "kubernetes/schema_metadata.go (namespacedMetadataSchema)",
        ],
        "kind": "ServiceAccount",
        "blocks": {
            "metadata": ("list", 1, 1),
            "image_pull_secret": ("set", 0, 0),
            "secret": ("set", 0, 0),
            "timeouts": ("single", 0, 0),
        },
        "attributes": {
            "metadata.name": {"computed": True, "force_new": True},
            "metadata.generate_name": {"force_new": True},
            "metadata.namespace": {"default": "default", "force_new": True},
            "automount_service_account_token": {"default": True},
            "default_secret_name": {"deprecated": True},
        },
    },
    "kubernetes_role_v1": {
        "assembly": "roleV1.RoleV1Config",
        "source": [
            "kubernetes/resource_kubernetes_role_v1.go",
            "kubernetes/schema_rbac.go (metadataSchemaRBAC)",
        ],
        "kind": "Role",
        "blocks": {"metadata": ("list", 1, 1), "rule": ("list", 1, 0)},
        "attributes": {
            "metadata.name": {"computed": True, "force_new": True},
            "metadata.generate_name": {"force_new": True},
            "metadata.namespace": {"default": "default", "force_new": True},
            "rule.api_groups": {"set": True},
            "rule.resources": {"set": True},
            "rule.resource_names": {"set": True},
            "rule.verbs": {"set": True},
        },
    },
    "kubernetes_role_binding_v1": {
        "assembly": "roleBindingV1.RoleBindingV1Config",
        "source": [
            "kubernetes/resource_kubernetes_role_binding_v1.go",
            "kubernetes/schema_rbac.go (rbacRoleRefSchema, rbacSubjectSchema)",
        ],
        "kind": "RoleBinding",
        "blocks": {
            "metadata": ("list", 1, 1),
            "role_ref": ("list", 1, 1),
            "subject": ("list", 1, 0),
        },
        "attributes": {
            "metadata.name": {"computed": True, "force_new": True},
            "metadata.generate_name": {"force_new": True},
            "metadata.namespace": {"default": "default", "force_new": True},
            "role_ref.api_group": {"force_new": True},
            "role_ref.kind": {"force_new": True},
            "role_ref.name": {"force_new": True},
            "subject.api_group": {"computed": True},
            "subject.namespace": {"default": "default"},
        },
    },
}

# terraform-plugin-sdk/v2 adds these to every resource schema it serves.
SDK_ID = {"type": "string", "optional": True, "computed": True}


def assembly_path(bindings: Bindings = BINDINGS["2"]) -> Path:
    spec = importlib.util.find_spec(bindings.module)  # finds, does not import
    if spec is None or spec.origin is None:
        raise FileNotFoundError(f"{bindings.module.replace('_', '-')} is not installed")
    found = sorted((Path(spec.origin).parent / "_jsii").glob("*.jsii.tgz"))
    if len(found) != 1:
        raise FileNotFoundError(f"expected one jsii tarball, found {found}")
    return found[0]


def load_assembly(path: Path | None = None, bindings: Bindings = BINDINGS["2"]) -> dict[str, Any]:
    with tarfile.open(path or assembly_path(bindings)) as tar:
        member = tar.extractfile("package/.jsii")
        if member is None:
            raise FileNotFoundError("package/.jsii missing from the bindings tarball")
        assembly: dict[str, Any] = json.load(member)
    return assembly


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower()


def terraform_name(prop: dict[str, Any]) -> str:
    """The schema name: the registry anchor in the docs, else the camel name snaked."""
    docs = prop.get("docs", {})
    text = f"{docs.get('summary', '')} {docs.get('remarks', '')}"
    anchor = re.search(r"#(\w+) \w+#\1\}", text)
    return anchor.group(1) if anchor else _snake(prop["name"])


def _cty(jtype: dict[str, Any]) -> Any:
    if "primitive" in jtype:
        return {"string": "string", "number": "number", "boolean": "bool"}[jtype["primitive"]]
    if "union" in jtype:  # boolean | IResolvable and friends
        plain = [
            t
            for t in jtype["union"]["types"]
            if t.get("fqn") not in ("cdktf.IResolvable", "cdktn.IResolvable")
        ]
        if len(plain) != 1:
            raise ValueError(f"cannot reduce union {jtype}")
        return _cty(plain[0])
    coll = jtype["collection"]
    kind = {"array": "list", "map": "map"}[coll["kind"]]
    return [kind, _cty(coll["elementtype"])]


def _struct_of(jtype: dict[str, Any]) -> tuple[str, bool] | None:
    """(fqn, repeated) when the property is a nested block, else None."""
    prefixes = tuple(b.prefix for b in BINDINGS.values())
    if "fqn" in jtype and jtype["fqn"].startswith(prefixes):
        return jtype["fqn"], False
    for t in jtype.get("union", {}).get("types", []):
        elem = t.get("collection", {}).get("elementtype", {})
        if elem.get("fqn", "").startswith(prefixes):
            return elem["fqn"], True
    return None


# Getters that are no schema attribute: cdktn's provider class adds ``functions``
# (the provider-defined functions, a Terraform 1.8 feature).
_NOT_SCHEMA = ("tfResourceType", "internalValue", "functions")


def _computed_only(types: dict[str, Any], struct_fqn: str, owner_fqn: str) -> dict[str, str]:
    """Getters on the resource / output-reference class that have no input twin."""
    owner = types.get(owner_fqn)
    if owner is None:
        return {}
    config = {p["name"] for p in types[struct_fqn].get("properties", [])}
    out = {}
    for prop in owner.get("properties", []):
        name = prop["name"]
        if name in config or name.endswith("Input") or name in _NOT_SCHEMA:
            continue
        if "primitive" not in prop["type"]:
            raise ValueError(f"unexpected computed-only {owner_fqn}.{name}: {prop['type']}")
        out[_snake(name)] = _cty(prop["type"])
    return out


def _block(
    types: dict[str, Any], fqn: str, owner: str, facts: dict[str, Any], path: str
) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    blocks: dict[str, Any] = {}
    for prop in types[fqn].get("properties", []):
        if fqn.endswith("Config") and prop.get("abstract") and prop["name"] in _META_ARGS:
            continue
        name = terraform_name(prop)
        if name in facts.get("skip", []):
            continue
        dotted = f"{path}{name}"
        nested = _struct_of(prop["type"])
        required = not prop.get("optional", False)
        if nested is not None:
            nested_fqn, repeated = nested
            default_nesting = ("list", 0, 0) if repeated else ("list", 0, 1)
            nesting, min_items, max_items = facts["blocks"].get(dotted, default_nesting)
            if required and nesting != "single":
                min_items = max(min_items, 1)
            inner_owner = nested_fqn + "OutputReference"
            blocks[name] = {
                "nesting": nesting,
                "min_items": min_items,
                "max_items": max_items,
                "block": _block(types, nested_fqn, inner_owner, facts, dotted + "."),
            }
            continue
        attr: dict[str, Any] = {"type": _cty(prop["type"])}
        attr["required" if required else "optional"] = True
        extra = dict(facts["attributes"].get(dotted, {}))
        if extra.pop("set", False):
            attr["type"] = ["set", attr["type"][1]]
        attr.update(extra)
        attributes[name] = attr
    for name, ctype in _computed_only(types, fqn, owner).items():
        attr = {"type": ctype, "computed": True}
        attr.update(facts["attributes"].get(f"{path}{name}", {}))
        attributes[name] = attr
    return {"attributes": dict(sorted(attributes.items())), "blocks": dict(sorted(blocks.items()))}


# cdktf.TerraformMetaArguments (cdktn's is the same), inherited by every *Config struct.
_META_ARGS = {
    "connection",
    "count",
    "dependsOn",
    "forEach",
    "lifecycle",
    "provider",
    "provisioners",
}


def bindings_of(assembly: dict[str, Any]) -> Bindings:
    for bindings in BINDINGS.values():
        if bindings.prefix == f"{assembly['name']}.":
            return bindings
    raise ValueError(f"unknown bindings {assembly['name']}")


def derive(assembly: dict[str, Any]) -> dict[str, Any]:
    types = assembly["types"]
    bindings = bindings_of(assembly)
    version = _provider_version(assembly)
    out: dict[str, Any] = {
        "//": (
            f"The hashicorp/kubernetes {version} schema for the resources netfence emits, as the "
            "test provider serves it. Names, types and required-ness come from the jsii "
            "assembly of the bindings named in 'bindings'; nesting mode, item limits, "
            "computed, defaults and force_new from the provider source files listed per "
            "part ('source'); 'sdk' lists what terraform-plugin-sdk/v2 adds on its own. "
            "Generated by derive_schema.py; do not edit by hand."
        ),
        "provider_source": "registry.terraform.io/hashicorp/kubernetes",
        "provider_version": version,
        "bindings": f"{assembly['name']}@{assembly['version']} (package/.jsii)",
        "provider": {},
        "resources": {},
    }
    if bindings is BINDINGS["3"]:
        out["versions"] = VERSION_NOTES
    for key, facts in SOURCE_FACTS.items():
        fqn = bindings.prefix + facts["assembly"]
        owner = fqn.removesuffix("Config")
        block = _block(types, fqn, owner, facts, "")
        part: dict[str, Any] = {"assembly": facts["assembly"], "source": facts["source"]}
        if key == "provider":
            part["block"] = block
            out["provider"] = part
            continue
        sdk = ["id (optional+computed string on every resource)"]
        block["attributes"]["id"] = dict(SDK_ID)  # the bindings list it as optional
        if "timeouts" in block["blocks"]:
            sdk.append("timeouts (single block from the resource's Timeouts)")
        part |= {"sdk": sdk, "schema_version": 0, "block": block}
        if "kind" in facts:
            part["kind"] = facts["kind"]
        out["resources"][key] = part
    return out


def _provider_version(assembly: dict[str, Any]) -> str:
    prefix = bindings_of(assembly).prefix
    text = json.dumps(assembly["types"][prefix + "provider.KubernetesProvider"]["docs"])
    found = re.search(r"hashicorp/kubernetes/(\d+\.\d+\.\d+)/docs", text)
    if not found:
        raise ValueError("provider version not found in the bindings' docs links")
    return found.group(1)


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=1, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    line = (argv if argv is not None else sys.argv[1:] or ["2"])[0]
    bindings = BINDINGS[line]
    bindings.file.write_text(render(derive(load_assembly(bindings=bindings))))
    print(f"wrote {bindings.file}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
