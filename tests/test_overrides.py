"""add_override: the two artifacts of a stack never disagree.

A Kubernetes field is mapped from the provider's names back to the API's and
applied to the object both emitters are built from; a Terraform setting that
manifests.yaml cannot carry is refused with the reason, unless it leaves the
object alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from constructs_lib import InvalidIntentError, Port, ZeroTrustNamespace
from constructs_lib.loaders import load_policies


def _shop(stack: Any) -> ZeroTrustNamespace:
    shop = ZeroTrustNamespace(stack, "shop", environment="prod")
    api = shop.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080)])
    db = shop.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432)])
    api.allow_to(db)
    return shop


def _synth(tmp_path: Path, edit: Callable[[ZeroTrustNamespace], None]) -> Path:
    from cdktf import App, TerraformStack

    from constructs_lib import synth

    tmp_path.mkdir(parents=True, exist_ok=True)
    app = App(outdir=str(tmp_path / "out"))
    edit(_shop(TerraformStack(app, "prod")))
    synth(app)
    return tmp_path / "out/stacks/prod"


OVERRIDES: list[tuple[str, str, Any]] = [
    ("port", "spec.ingress.0.ports.0.port", "5433"),
    ("end_port", "spec.ingress.0.ports.0.end_port", 5440),
    ("pod_selector_label", "spec.pod_selector.match_labels.tier", "backend"),
    (
        "match_expressions",
        "spec.pod_selector.match_expressions",
        [{"key": "track", "operator": "In", "values": ["stable"]}],
    ),
    (
        "a_whole_peer_list",
        "spec.ingress.0.from",
        [{"namespace_selector": [{"match_labels": {"team": "x"}}], "pod_selector": {}}],
    ),
    ("policy_types", "spec.policy_types", ["Ingress", "Egress"]),
    ("annotation", "metadata.annotations.owner", "payments"),
]


@pytest.mark.parametrize(
    ("path", "value"), [o[1:] for o in OVERRIDES], ids=[o[0] for o in OVERRIDES]
)
def test_an_override_reaches_both_artifacts_alike(tmp_path: Path, path: str, value: Any) -> None:
    plain = load_policies(_synth(tmp_path / "plain", lambda ns: None) / "manifests.yaml")
    stack = _synth(
        tmp_path / "edited", lambda ns: ns.policy("db-ingress").add_override(path, value)
    )
    from_terraform = sorted(load_policies(stack / "cdk.tf.json"), key=lambda p: p.key)
    from_manifests = sorted(load_policies(stack / "manifests.yaml"), key=lambda p: p.key)
    assert from_terraform == from_manifests
    if not path.startswith("metadata"):
        assert from_manifests != sorted(plain, key=lambda p: p.key)  # the override did something


def test_the_overridden_port_is_a_number_in_manifests_and_a_string_in_terraform(
    tmp_path: Path,
) -> None:
    import json

    import yaml

    stack = _synth(
        tmp_path,
        lambda ns: ns.policy("db-ingress").add_override("spec.ingress.0.ports.0.port", "5433"),
    )
    doc = json.loads((stack / "cdk.tf.json").read_text())
    body = doc["resource"]["kubernetes_network_policy_v1"]["shop_db-ingress"]
    assert body["spec"]["ingress"][0]["ports"][0]["port"] == "5433"
    manifests = list(yaml.safe_load_all((stack / "manifests.yaml").read_text()))
    (policy,) = [m for m in manifests if m["metadata"]["name"] == "db-ingress"]
    assert policy["spec"]["ingress"][0]["ports"][0]["port"] == 5433


def test_terraform_only_settings_that_leave_the_object_alone_are_kept(tmp_path: Path) -> None:
    import json

    def edit(ns: ZeroTrustNamespace) -> None:
        ns.namespace_resource.add_override("lifecycle.prevent_destroy", True)
        ns.policy("default-deny").add_override("lifecycle", {"create_before_destroy": True})

    doc = json.loads((_synth(tmp_path, edit) / "cdk.tf.json").read_text())
    assert doc["resource"]["kubernetes_namespace_v1"]["shop"]["lifecycle"] == {
        "prevent_destroy": True
    }
    policies = doc["resource"]["kubernetes_network_policy_v1"]
    assert policies["shop_default-deny"]["lifecycle"] == {"create_before_destroy": True}


REFUSED: list[tuple[str, str, Any, str]] = [
    (
        "provider_alias",
        "provider",
        "kubernetes.other",
        "'provider' cannot be overridden: it would send the resource to another cluster than "
        "the stack's, which manifests.yaml and netfence verify cannot see",
    ),
    (
        "count",
        "count",
        0,
        "'count' cannot be overridden: Terraform would create copies (or none) that "
        "manifests.yaml does not have",
    ),
    (
        "ignore_changes",
        "lifecycle.ignore_changes",
        ["spec"],
        "'lifecycle.ignore_changes' cannot be overridden: Terraform would stop applying "
        "changes that the artifacts show, so the cluster could keep what netfence verify no "
        "longer sees",
    ),
    (
        "lifecycle_block_with_ignore_changes",
        "lifecycle",
        {"ignore_changes": "all"},
        "'lifecycle' = {'ignore_changes': 'all'}: of lifecycle, only create_before_destroy and "
        "prevent_destroy can be overridden (they change how Terraform replaces the object, not "
        "what it applies)",
    ),
    (
        "depends_on",
        "depends_on",
        [],
        "'depends_on' cannot be overridden: netfence writes the resource's dependencies itself",
    ),
    (
        "not_a_field",
        "wait_for_rollout",
        True,
        "'wait_for_rollout' is not a field netfence writes on kubernetes_network_policy_v1 "
        "(fields: metadata, spec; Terraform-only settings: lifecycle.create_before_destroy, "
        "lifecycle.prevent_destroy, timeouts)",
    ),
    (
        "not_json_data",
        "metadata.annotations.team",
        {"payments"},
        "'metadata.annotations.team' = {'payments'} is not JSON data (strings, numbers, "
        "booleans, null, lists and mappings with string keys)",
    ),
    (
        "template",
        "spec.pod_selector.match_labels.app",
        '${lower("DB")}',
        "'spec.pod_selector.match_labels.app' = '${lower(\"DB\")}' is a Terraform template: "
        "Terraform would evaluate it while manifests.yaml keeps the text; write the value "
        "itself",
    ),
]


@pytest.mark.parametrize(
    ("path", "value", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_overrides_the_manifests_cannot_carry_are_refused(
    tmp_path: Path, path: str, value: Any, message: str
) -> None:
    with pytest.raises(InvalidIntentError) as info:
        _synth(tmp_path, lambda ns: ns.policy("db-ingress").add_override(path, value))
    assert str(info.value) == (
        f"kubernetes_network_policy_v1.shop_db-ingress: add_override: {message}"
    )


def test_overrides_of_an_adopted_namespace_are_refused(tmp_path: Path) -> None:
    from cdktf import App, TerraformStack

    app = App(outdir=str(tmp_path / "out"))
    legacy = ZeroTrustNamespace(
        TerraformStack(app, "prod"), "legacy", environment="prod", adopt=True
    )
    with pytest.raises(InvalidIntentError) as info:
        legacy.namespace_resource.add_override("labels.team", "x")
    assert str(info.value) == (
        "kubernetes_labels.legacy: add_override: 'labels.team' cannot be overridden on an "
        "adopted namespace: manifests.yaml does not manage it (it lists its labels in a "
        "comment), so the artifacts would disagree; set labels= on the ZeroTrustNamespace"
    )
    legacy.namespace_resource.add_override("lifecycle.prevent_destroy", True)  # Terraform-only


def test_an_index_past_the_end_of_a_list_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidIntentError) as info:
        _synth(
            tmp_path, lambda ns: ns.policy("db-ingress").add_override("spec.ingress.3.ports", [])
        )
    assert str(info.value) == (
        "kubernetes_network_policy_v1.shop_db-ingress: add_override: spec.ingress.3.ports: "
        "spec.ingress is a list of 1; '3' is not one of its indexes"
    )
