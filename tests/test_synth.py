"""Synthesis through cdktf: golden artifacts, Testing assertions, the escape hatches."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from constructs_lib import (
    ExternalEndpoint,
    InvalidIntentError,
    KubernetesCluster,
    Port,
    ZeroTrustNamespace,
)

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
NP = "kubernetes_network_policy_v1"


def _synth_examples(outdir: Path) -> None:
    from cdk_under_test import App

    from constructs_lib import synth
    from stacks.__main__ import build

    synth(build(App(outdir=str(outdir))))


EXAMPLES = ["staging", "prod", "data-pipeline", "delivery"]


def _cdk_neutral(artifact: str, text: str) -> str:
    """The artifact with the writing CDK's version (``//.metadata.version``) blanked.

    cdktf 0.21 and cdktn 0.24 write the same Terraform JSON but their own
    version there, so the golden files hold for both; the artifact itself
    keeps the real version.
    """
    if artifact != "cdk.tf.json":
        return text
    doc = json.loads(text)
    doc["//"]["metadata"]["version"] = "<cdk version>"
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


@pytest.mark.parametrize("stack", EXAMPLES)
@pytest.mark.parametrize("artifact", ["cdk.tf.json", "manifests.yaml"])
def test_example_stacks_match_golden_files(
    tmp_path: Path, update_golden: bool, stack: str, artifact: str
) -> None:
    _synth_examples(tmp_path)
    produced = (tmp_path / "stacks" / stack / artifact).read_text()
    golden = GOLDEN / f"{stack}.{artifact}"
    if update_golden:
        golden.write_text(produced)
    assert _cdk_neutral(artifact, produced) == _cdk_neutral(artifact, golden.read_text()), (
        f"re-run with --update-golden and review {golden}"
    )


def test_golden_comparison_ignores_only_the_cdk_version(tmp_path: Path) -> None:
    import cdk_under_test

    _synth_examples(tmp_path)
    text = (tmp_path / "stacks" / "prod" / "cdk.tf.json").read_text()
    doc = json.loads(text)
    assert doc["//"]["metadata"]["version"] == cdk_under_test.version()  # the real one
    other = text.replace('"version": "2.38.0"', '"version": "2.37.0"')
    assert _cdk_neutral("cdk.tf.json", other) != _cdk_neutral("cdk.tf.json", text)


def test_synthesis_is_byte_identical_across_runs(tmp_path: Path) -> None:
    _synth_examples(tmp_path / "a")
    _synth_examples(tmp_path / "b")
    for stack in EXAMPLES:
        for artifact in ("cdk.tf.json", "manifests.yaml"):
            a = (tmp_path / "a" / "stacks" / stack / artifact).read_bytes()
            b = (tmp_path / "b" / "stacks" / stack / artifact).read_bytes()
            assert a == b


def _shop(stack: Any) -> None:
    shop = ZeroTrustNamespace(stack, "shop", environment="prod")
    api = shop.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080)])
    db = shop.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432)])
    api.allow_to(db)
    api.allow_to(ExternalEndpoint("payments", cidr="203.0.113.0/24", ports=[Port.tcp(443)]))


def test_cdktf_testing_assertions_see_the_policies(request: pytest.FixtureRequest) -> None:
    from cdk_under_test import App, TerraformStack, Testing

    app = Testing.app()  # synthesizes into a fresh temporary directory of its own
    request.addfinalizer(lambda: shutil.rmtree(app.outdir, ignore_errors=True))
    stack = TerraformStack(app, "t")
    _shop(stack)
    synthesized = Testing.synth(stack)
    assert Testing.to_have_resource_with_properties(
        synthesized, NP, {"metadata": {"name": "db-ingress", "namespace": "shop"}}
    )
    assert Testing.to_have_resource_with_properties(
        synthesized, "kubernetes_namespace_v1", {"metadata": {"name": "shop"}}
    )
    assert not Testing.to_have_resource_with_properties(
        synthesized, NP, {"metadata": {"name": "db-egress"}}
    )
    assert isinstance(app, App)


def test_required_providers_pin_the_kubernetes_provider(synth_stack: Callable[..., Any]) -> None:
    out = synth_stack(_shop)
    assert out["terraform"]["required_providers"]["kubernetes"] == {
        "source": "hashicorp/kubernetes",
        "version": "2.38.0",
    }
    assert "provider" not in out  # configured from the environment unless declared


def test_kubernetes_cluster_configures_the_provider(synth_stack: Callable[..., Any]) -> None:
    def declare(stack: Any) -> None:
        KubernetesCluster(stack, "cluster", config_path="~/.kube/config", config_context="prod")
        _shop(stack)

    out = synth_stack(declare)
    assert out["provider"] == {
        "kubernetes": [{"config_context": "prod", "config_path": "~/.kube/config"}]
    }


def test_in_cluster_provider_has_no_kubeconfig(synth_stack: Callable[..., Any]) -> None:
    def declare(stack: Any) -> None:
        KubernetesCluster(stack, "cluster", in_cluster=True)
        _shop(stack)

    assert synth_stack(declare)["provider"] == {"kubernetes": [{}]}


def test_in_cluster_with_kubeconfig_is_refused() -> None:
    from cdk_under_test import App, TerraformStack

    stack = TerraformStack(App(), "s")
    with pytest.raises(InvalidIntentError) as info:
        KubernetesCluster(stack, "cluster", in_cluster=True, config_path="/x")
    assert str(info.value) == (
        "s/cluster: in_cluster: in_cluster=True uses the pod's service account; leave "
        "config_path and config_context out"
    )


def test_construct_path_names_the_bad_construct() -> None:
    from cdk_under_test import App, TerraformStack

    stack = TerraformStack(App(), "prod")
    shop = ZeroTrustNamespace(stack, "shop", environment="prod")
    with pytest.raises(InvalidIntentError) as info:
        shop.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080), Port.tcp(8080)])
    assert str(info.value) == "prod/shop/api: ports[1]: port 8080/TCP is listed twice"


def test_intent_record_travels_in_the_artifact(synth_stack: Callable[..., Any]) -> None:
    record = synth_stack(_shop)["//"]["metadata"]["netfence"]
    assert record["stack"] == "test"
    assert record["workloads"] == [
        {
            "namespace": "shop",
            "name": "api",
            "labels": {"app": "api"},
            "ports": [{"port": 8080, "protocol": "TCP"}],
        },
        {
            "namespace": "shop",
            "name": "db",
            "labels": {"app": "db"},
            "ports": [{"port": 5432, "protocol": "TCP"}],
        },
    ]
    assert {
        "from": {"kind": "workload", "namespace": "shop", "name": "api"},
        "to": {"kind": "external", "name": "payments"},
        "ports": [{"port": 443, "protocol": "TCP"}],
        "cross_environment": False,
        "declared_at": "test/shop/api.allow_to()",
    } in record["flows"]


def test_policy_override_reaches_the_resource(synth_stack: Callable[..., Any]) -> None:
    def declare(stack: Any) -> None:
        _shop(stack)
        shop = next(c for c in stack.node.children if isinstance(c, ZeroTrustNamespace))
        handle = shop.policy("db-ingress")
        assert handle.address == "kubernetes_network_policy_v1.shop_db-ingress"
        handle.add_override("metadata.annotations.owner", "payments-team")
        shop.namespace_resource.add_override("metadata.annotations.cost-center", "42")

    res = synth_stack(declare)["resource"]
    assert res[NP]["shop_db-ingress"]["metadata"]["annotations"] == {
        "netfence.io/purpose": "connections db accepts",
        "owner": "payments-team",
    }
    assert res["kubernetes_namespace_v1"]["shop"]["metadata"]["annotations"] == {
        "cost-center": "42"
    }


def test_override_of_a_policy_that_is_not_generated_is_refused(
    synth_stack: Callable[..., Any],
) -> None:
    def declare(stack: Any) -> None:
        shop = ZeroTrustNamespace(stack, "shop", environment="prod")
        shop.policy("api-ingress").add_override("metadata.annotations.x", "y")

    with pytest.raises(InvalidIntentError) as info:
        synth_stack(declare)
    assert str(info.value) == (
        "kubernetes_network_policy_v1.shop_api-ingress: add_override: no such resource is "
        "generated by this stack (generated: kubernetes_namespace_v1.shop, "
        "kubernetes_network_policy_v1.shop_allow-dns, "
        "kubernetes_network_policy_v1.shop_default-deny)"
    )


def test_manifests_are_written_beside_the_terraform_json(tmp_path: Path) -> None:
    import yaml

    _synth_examples(tmp_path)
    docs = list(yaml.safe_load_all((tmp_path / "stacks/prod/manifests.yaml").read_text()))
    tf = json.loads((tmp_path / "stacks/prod/cdk.tf.json").read_text())
    policies = {
        (d["metadata"]["namespace"], d["metadata"]["name"])
        for d in docs
        if d["kind"] == "NetworkPolicy"
    }
    tf_policies = {
        (r["metadata"]["namespace"], r["metadata"]["name"]) for r in tf["resource"][NP].values()
    }
    assert policies == tf_policies
    assert {d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"} == {
        "shop-web",
        "shop-data",
    }


@pytest.mark.slow
def test_npx_cli_synth_writes_the_stacks(tmp_path: Path) -> None:
    """``npx cdktf synth`` (``npx cdktn synth`` when the suite runs on cdktn)."""
    import sys

    import cdk_under_test

    from constructs_lib._node import path_for_cli

    cli = cdk_under_test.name()
    if shutil.which("npx") is None or not (ROOT / "node_modules" / ".bin" / cli).exists():
        pytest.skip(f"npx or node_modules/.bin/{cli} missing: run scripts/bootstrap.sh")
    project = tmp_path / "project"  # the app command runs .venv/bin/python: this one
    project.mkdir()
    for name in ("cdktf.json", "package.json"):
        shutil.copy2(ROOT / name, project / name)
    (project / ".venv").symlink_to(Path(sys.prefix))
    for name in ("node_modules", "stacks", "constructs_lib"):
        (project / name).symlink_to(ROOT / name)
    env = dict(os.environ, CHECKPOINT_DISABLE="1", CI="1", NETFENCE_CDK=cli)
    env["PATH"] = path_for_cli(cli, env.get("PATH"))
    result = subprocess.run(
        ["npx", cli, "synth", "--output", str(tmp_path / "out")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for stack in EXAMPLES:
        produced = (tmp_path / "out" / "stacks" / stack / "cdk.tf.json").read_text()
        golden = (GOLDEN / f"{stack}.cdk.tf.json").read_text()
        assert _cdk_neutral("cdk.tf.json", produced) == _cdk_neutral("cdk.tf.json", golden)


def test_merged_artifact_equals_what_cdktf_renders_through_the_element(tmp_path: Path) -> None:
    """The Python merge of netfence's fragment gives what cdktf's own merge gives via jsii."""
    from cdk_under_test import App, TerraformStack

    from constructs_lib import synth
    from stacks.__main__ import build

    app = build(App(outdir=str(tmp_path)))
    synth(app)
    stacks = [c for c in app.node.children if TerraformStack.is_stack(c)]
    assert sorted(s.node.id for s in stacks) == sorted(EXAMPLES)
    for stack in stacks:
        through_jsii = stack.to_terraform()
        written = json.loads((tmp_path / "stacks" / stack.node.id / "cdk.tf.json").read_text())
        assert written == through_jsii
        assert "resource" in written
        assert written["//"]["metadata"]["netfence"]["stack"] == stack.node.id


def test_example_stacks_allow_exactly_their_intent(tmp_path: Path) -> None:
    from constructs_lib.verifier import verify_stack

    _synth_examples(tmp_path)
    result = verify_stack(tmp_path)
    assert sorted(s.stack for s in result.stacks) == sorted(EXAMPLES)
    assert [str(f) for f in result.findings] == []


def test_moved_from_emits_a_moved_block_for_state_adoption(
    synth_stack: Callable[..., Any],
) -> None:
    def declare(stack: Any) -> None:
        _shop(stack)
        shop = next(c for c in stack.node.children if isinstance(c, ZeroTrustNamespace))
        shop.policy("db-ingress").moved_from("kubernetes_network_policy_v1.db_ingress")
        shop.namespace_resource.moved_from("kubernetes_namespace_v1.shop_ns")

    assert synth_stack(declare)["moved"] == [
        {"from": "kubernetes_namespace_v1.shop_ns", "to": "kubernetes_namespace_v1.shop"},
        {
            "from": "kubernetes_network_policy_v1.db_ingress",
            "to": "kubernetes_network_policy_v1.shop_db-ingress",
        },
    ]


def test_moved_from_another_resource_type_is_refused() -> None:
    from cdk_under_test import App, TerraformStack

    shop = ZeroTrustNamespace(TerraformStack(App(), "s"), "shop", environment="prod")
    with pytest.raises(InvalidIntentError) as info:
        shop.policy("api-ingress").moved_from("kubernetes_labels.api")
    assert str(info.value) == (
        "kubernetes_network_policy_v1.shop_api-ingress: moved_from: "
        "'kubernetes_labels.api' is not an address of the form "
        "'kubernetes_network_policy_v1.<name>' or 'kubernetes_network_policy.<name>' "
        "(moved blocks change the type only from the deprecated twin)"
    )


def test_declaring_asks_node_only_to_create_each_construct(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each jsii round trip costs about 0.1 ms: declaring namespaces, workloads,
    flows and overrides must ask the Node process nothing but to create each
    namespace's construct (nothing per workload, flow or resource; the scope's
    path and stack are asked once, a duplicate id only when the create fails)."""
    from cdk_under_test import App, TerraformStack
    from jsii._kernel.providers.process import _NodeProcess

    stack = TerraformStack(App(outdir=str(tmp_path / "out")), "prod")
    ZeroTrustNamespace(stack, "first", environment="prod")
    sent: list[str] = []
    send = _NodeProcess.send

    def counting(self: Any, request: Any, response_type: Any) -> Any:
        sent.append(type(request).__name__)
        return send(self, request, response_type)

    monkeypatch.setattr(_NodeProcess, "send", counting)
    for i in range(4):
        ns = ZeroTrustNamespace(stack, f"team{i}", environment="prod")
        api = ns.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080)])
        web = ns.workload("web", labels={"app": "web"})
        api.allow_from(web)
        ns.policy("api-ingress").add_override("metadata.annotations.owner", "team")
    assert sent == ["CreateRequest"] * 4
    monkeypatch.undo()
    with pytest.raises(InvalidIntentError, match="already has a construct with id 'team0'"):
        ZeroTrustNamespace(stack, "team0", name="other", environment="prod")
