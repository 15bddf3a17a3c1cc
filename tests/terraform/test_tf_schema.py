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


def _cdktn_assembly() -> dict[str, Any]:
    try:
        return derive_schema.load_assembly(bindings=derive_schema.BINDINGS["3"])
    except FileNotFoundError:
        pytest.skip("cdktn-provider-kubernetes is not installed (the .venv-cdktn run has it)")


def test_the_3x_schema_file_is_what_the_cdktn_bindings_derive() -> None:
    derived = derive_schema.derive(_cdktn_assembly())
    checked_in = json.loads(derive_schema.SCHEMA_FILE_3.read_text())
    assert derived == checked_in, (
        "regenerate with .venv-cdktn/bin/python -m terraform_provider.derive_schema 3"
    )


def test_the_3x_schema_names_its_sources_and_the_versions_it_serves() -> None:
    three = json.loads(derive_schema.SCHEMA_FILE_3.read_text())
    assert three["provider_version"] == "3.4.0"
    assert three["bindings"].startswith("@cdktn/provider-kubernetes@17.")
    assert three["versions"]["serves"] == ["3.4.0", "3.5.0"]
    since = three["versions"]["framework_since"]
    assert {k: v["version"] for k, v in since.items()} == {
        "kubernetes_namespace_v1": "3.3.0",
        "kubernetes_role_v1": "3.4.0",
        "kubernetes_role_binding_v1": "3.5.0",
    }
    assert all(v["source"].startswith("CHANGELOG") for v in since.values())
    for part in three["resources"].values():
        assert part["source"] and part["assembly"]


def test_the_six_resources_keep_one_schema_from_2_38_0_to_3_4_0() -> None:
    two = json.loads(SCHEMA_FILE.read_text())
    three = json.loads(derive_schema.SCHEMA_FILE_3.read_text())
    assert three["resources"] == two["resources"]
    assert three["provider"] == two["provider"]


def test_the_renderer_and_the_test_provider_agree_on_framework_versions() -> None:
    from terraform_provider import schema

    from constructs_lib.emitters.terraform import FRAMEWORK_SINCE, PROVIDER_VERSIONS

    three = json.loads(derive_schema.SCHEMA_FILE_3.read_text())
    since = three["versions"]["framework_since"]
    assert {k: v["version"] for k, v in since.items()} == FRAMEWORK_SINCE
    assert tuple(schema.SCHEMA_FILES) == PROVIDER_VERSIONS
