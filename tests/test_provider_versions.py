"""hashicorp/kubernetes 2.38.0 or 3.x: the pin, the Framework pitfalls, moves across types."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from constructs_lib import InvalidIntentError, KubernetesCluster, Port, ZeroTrustNamespace
from constructs_lib.emitters import PROVIDER_VERSIONS

Synth = Callable[..., dict[str, Any]]


def _shop(version: str | None) -> Callable[[Any], ZeroTrustNamespace]:
    def declare(stack: Any) -> ZeroTrustNamespace:
        if version is not None:
            KubernetesCluster(stack, "cluster", provider_version=version)
        shop = ZeroTrustNamespace(stack, "shop", environment="prod")
        api = shop.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080)])
        db = shop.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432)])
        api.allow_to(db)
        return shop

    return declare


@pytest.mark.parametrize("version", PROVIDER_VERSIONS)
def test_the_provider_is_pinned_to_the_declared_version(synth_stack: Synth, version: str) -> None:
    out = synth_stack(_shop(version))
    assert out["terraform"]["required_providers"]["kubernetes"] == {
        "source": "hashicorp/kubernetes",
        "version": version,
    }
    assert out["provider"] == {"kubernetes": [{}]}  # nothing else declared: the environment


def test_without_a_cluster_the_default_is_2_38_0(synth_stack: Synth) -> None:
    out = synth_stack(_shop(None))
    assert out["terraform"]["required_providers"]["kubernetes"]["version"] == "2.38.0"


def test_resources_are_the_same_for_every_version(synth_stack: Synth) -> None:
    bodies = {
        v: synth_stack(_shop(v), name=f"s{v.replace('.', '')}")["resource"]
        for v in PROVIDER_VERSIONS
    }
    assert bodies["3.4.0"] == bodies["2.38.0"] == bodies["3.5.0"]
    text = json.dumps(bodies["3.5.0"])
    assert "null" not in text and '"labels": {}' not in text and '"annotations": {}' not in text


def test_an_unsupported_provider_version_is_refused() -> None:
    from cdk_under_test import App, TerraformStack

    with pytest.raises(InvalidIntentError) as err:
        KubernetesCluster(TerraformStack(App(), "s"), "cluster", provider_version="3.6.0")
    assert str(err.value) == (
        "s/cluster: provider_version: '3.6.0' is not a hashicorp/kubernetes version netfence "
        "writes for; supported: 2.38.0, 3.4.0, 3.5.0 (docs/cdk.md)"
    )


@pytest.mark.parametrize(
    ("version", "allowed"),
    [("2.38.0", set()), ("3.4.0", {"namespace", "role"}), ("3.5.0", {"namespace", "role", "rb"})],
)
def test_moved_from_the_deprecated_twin_works_where_the_provider_moves_state(
    synth_stack: Synth, version: str, allowed: set[str]
) -> None:
    from constructs_lib.constructs import PolicyHandle, StackState

    moves = {
        "namespace": ("kubernetes_namespace.shop", lambda s, z: z.namespace_resource),
        "role": (
            "kubernetes_role.deployer",
            lambda s, z: PolicyHandle(
                StackState.of(s),
                "kubernetes_role_v1",
                "shop_deployer",
                ("Role", "shop", "deployer"),
            ),
        ),
        "rb": (
            "kubernetes_role_binding.deployer",
            lambda s, z: PolicyHandle(
                StackState.of(s),
                "kubernetes_role_binding_v1",
                "shop_deployer",
                ("RoleBinding", "shop", "deployer"),
            ),
        ),
    }
    for kind, (old, handle) in moves.items():

        def declare(stack: Any, old: str = old, handle: Any = handle) -> None:
            zone = _shop(version)(stack)
            handle(stack, zone).moved_from(old)

        if kind in allowed:
            out = synth_stack(declare, name=f"ok-{kind}")
            assert out["moved"][0]["from"] == old
        else:
            with pytest.raises(InvalidIntentError, match=r"cannot move state|no supported"):
                synth_stack(declare, name=f"no-{kind}")


def test_moved_from_a_deprecated_namespace_on_2_38_0_names_the_fix(synth_stack: Synth) -> None:
    def declare(stack: Any) -> None:
        _shop("2.38.0")(stack).namespace_resource.moved_from("kubernetes_namespace.shop")

    with pytest.raises(InvalidIntentError) as err:
        synth_stack(declare)
    assert str(err.value) == (
        "kubernetes_namespace_v1.shop: moved_from: kubernetes_namespace.shop: "
        "hashicorp/kubernetes 2.38.0 cannot move state from kubernetes_namespace to "
        "kubernetes_namespace_v1; 3.3.0 and later can (with Terraform >= 1.8): declare "
        "KubernetesCluster(..., provider_version='3.5.0'), or move it yourself: "
        "terraform state mv 'kubernetes_namespace.shop' 'kubernetes_namespace_v1.shop'"
    )


def test_moved_from_a_deprecated_network_policy_is_refused_on_every_version(
    synth_stack: Synth,
) -> None:
    def declare(stack: Any) -> None:
        _shop("3.5.0")(stack).policy("db-ingress").moved_from("kubernetes_network_policy.db")

    with pytest.raises(InvalidIntentError) as err:
        synth_stack(declare)
    assert str(err.value) == (
        "kubernetes_network_policy_v1.shop_db-ingress: moved_from: kubernetes_network_policy.db: "
        "no supported hashicorp/kubernetes version (2.38.0, 3.4.0, 3.5.0) can move state "
        "from kubernetes_network_policy to kubernetes_network_policy_v1, or move it yourself: "
        "terraform state mv 'kubernetes_network_policy.db' "
        "'kubernetes_network_policy_v1.shop_db-ingress'"
    )


def test_a_null_label_is_refused_where_the_framework_serves_the_type(synth_stack: Synth) -> None:
    def declare(version: str) -> Callable[[Any], None]:
        def run(stack: Any) -> None:
            _shop(version)(stack).namespace_resource.add_override("metadata.labels.team", None)

        return run

    with pytest.raises(InvalidIntentError) as err:
        synth_stack(declare("3.4.0"))
    assert str(err.value) == (
        "kubernetes_namespace_v1.shop: add_override: metadata.labels['team'] is null; "
        "hashicorp/kubernetes 3.4.0 serves kubernetes_namespace_v1 through the Plugin "
        "Framework, which rejects null label and annotation values at plan: give a string "
        "or leave the entry out"
    )
    out = synth_stack(declare("2.38.0"), name="old")  # SDKv2 drops the entry, as before
    assert out["resource"]["kubernetes_namespace_v1"]["shop"]["metadata"]["labels"]["team"] is None


def test_an_empty_annotation_map_is_left_out_on_framework_types(synth_stack: Synth) -> None:
    def declare(version: str) -> Callable[[Any], None]:
        def run(stack: Any) -> None:
            _shop(version)(stack).namespace_resource.add_override("metadata.annotations", {})

        return run

    new = synth_stack(declare("3.5.0"))["resource"]["kubernetes_namespace_v1"]["shop"]
    assert "annotations" not in new["metadata"]
    old = synth_stack(declare("2.38.0"), name="old")["resource"]["kubernetes_namespace_v1"]
    assert old["shop"]["metadata"]["annotations"] == {}


def test_generate_name_beside_name_is_refused(synth_stack: Synth) -> None:
    def declare(stack: Any) -> None:
        _shop("3.5.0")(stack).policy("db-ingress").add_override("metadata.generate_name", "x-")

    with pytest.raises(InvalidIntentError) as err:
        synth_stack(declare)
    assert str(err.value) == (
        "kubernetes_network_policy_v1.shop_db-ingress: add_override: metadata.generate_name "
        "beside metadata.name: netfence names every object; the API ignores generate_name "
        "when name is set and hashicorp/kubernetes >= 3.4.0 rejects the pair for "
        "kubernetes_role_v1"
    )
