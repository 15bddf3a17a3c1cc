"""The checked-in provider schema stays what the installed bindings were generated from."""

from __future__ import annotations

import json
from typing import Any

import pytest
from terraform_provider import derive_schema
from terraform_provider.schema import SCHEMA_FILE


@pytest.fixture(scope="module")
def assembly() -> dict[str, Any]:
    return derive_schema.load_assembly()


@pytest.fixture(scope="module")
def checked_in() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
    return schema


def _walk(block: dict[str, Any], path: str = "") -> dict[str, Any]:
    out = {f"{path}{n}": a for n, a in block["attributes"].items()}
    for name, nested in block["blocks"].items():
        out[f"{path}{name}"] = {k: v for k, v in nested.items() if k != "block"}
        out |= _walk(nested["block"], f"{path}{name}.")
    return out


def test_schema_file_is_what_the_installed_bindings_derive(
    assembly: dict[str, Any], checked_in: dict[str, Any]
) -> None:
    derived = derive_schema.derive(assembly)
    for name in derived["resources"]:
        now = _walk(derived["resources"][name]["block"])
        before = _walk(checked_in["resources"][name]["block"])
        assert sorted(now) == sorted(before), f"{name}: attributes or blocks differ"
        assert now == before, f"{name}: types, optionality or nesting differ"
    assert _walk(derived["provider"]["block"]) == _walk(checked_in["provider"]["block"])
    assert derived == checked_in, "regenerate with python -m terraform_provider.derive_schema"


def test_schema_file_names_the_provider_version_the_bindings_target(
    checked_in: dict[str, Any],
) -> None:
    assert checked_in["provider_version"] == "2.38.0"
    assert checked_in["bindings"].startswith("@cdktf/provider-kubernetes@12.")


def test_every_resource_netfence_emits_is_served(checked_in: dict[str, Any]) -> None:
    assert set(checked_in["resources"]) == {
        "kubernetes_namespace_v1",
        "kubernetes_network_policy_v1",
        "kubernetes_labels",
        "kubernetes_service_account_v1",
        "kubernetes_role_v1",
        "kubernetes_role_binding_v1",
    }
    for part in checked_in["resources"].values():
        assert part["source"], "every part records the provider source it was read from"
        assert part["assembly"], "and the bindings type its names and types came from"


def test_network_policy_shape_matches_the_provider_docs(checked_in: dict[str, Any]) -> None:
    flat = _walk(checked_in["resources"]["kubernetes_network_policy_v1"]["block"])
    assert flat["spec"] == {"nesting": "list", "min_items": 1, "max_items": 1}
    assert flat["spec.pod_selector"] == {"nesting": "list", "min_items": 1, "max_items": 1}
    assert flat["spec.policy_types"]["required"] is True
    assert flat["spec.ingress.ports.port"]["type"] == "string"  # numeric or named
    assert flat["spec.egress.ports.end_port"]["type"] == "number"
    assert flat["spec.ingress.ports.protocol"]["default"] == "TCP"
    assert flat["spec.egress.to.ip_block"]["max_items"] == 1
    assert flat["spec.egress.to.ip_block.except"]["type"] == ["list", "string"]
    assert flat["spec.pod_selector.match_expressions.values"]["type"] == ["set", "string"]
    for computed in ("uid", "resource_version", "generation"):
        assert flat[f"metadata.{computed}"] == {
            "type": "number" if computed == "generation" else "string",
            "computed": True,
        }
    assert flat["metadata.namespace"]["default"] == "default"
    assert flat["id"] == {"type": "string", "optional": True, "computed": True}


def test_derive_reads_names_from_the_registry_anchor() -> None:
    prop = {
        "name": "ipBlock",
        "docs": {
            "remarks": "Docs: {@link https://x/network_policy_v1#ip_block NetworkPolicyV1#ip_block}"
        },
    }
    assert derive_schema.terraform_name(prop) == "ip_block"
    assert derive_schema.terraform_name({"name": "endPort", "docs": {}}) == "end_port"
