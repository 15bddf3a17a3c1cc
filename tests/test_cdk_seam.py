"""netfence follows the App's CDK (cdktf or cdktn), never mixes them, says when it cannot tell."""

from __future__ import annotations

import json
from pathlib import Path

import cdk_under_test
import pytest

from constructs_lib import InvalidIntentError, NetfenceStack, ZeroTrustNamespace, synth
from constructs_lib.constructs import cdk

BOTH = set(cdk.installed()) == {"cdktf", "cdktn"}


def test_stacks_and_elements_come_from_the_apps_cdk(tmp_path: Path) -> None:
    app = cdk_under_test.App(outdir=str(tmp_path))
    stack = NetfenceStack(app, "prod")
    ZeroTrustNamespace(stack, "shop", environment="prod")
    assert isinstance(stack, NetfenceStack)
    assert isinstance(stack, cdk_under_test.TerraformStack)
    assert cdk.library_of(type(stack)) == cdk_under_test.name()
    element = stack.node.find_child("netfence")
    assert cdk.library_of(type(element)) == cdk_under_test.name()
    synth(app)
    doc = json.loads((tmp_path / "stacks/prod/cdk.tf.json").read_text())
    assert doc["//"]["metadata"]["version"] == cdk_under_test.version()
    assert "shop" in doc["resource"]["kubernetes_namespace_v1"]


def test_a_tree_without_an_app_is_refused_with_the_reason() -> None:
    from constructs import RootConstruct

    root = RootConstruct("")
    with pytest.raises(InvalidIntentError) as err:
        NetfenceStack(root, "prod")
    assert str(err.value) == (
        "<root>: scope: cannot tell whether this app runs on cdktf or cdktn: the root of "
        "the construct tree is a constructs.RootConstruct, not an App; create it with "
        "cdktf.App() or cdktn.App()"
    )


@pytest.mark.skipif(not BOTH, reason="needs cdktf and cdktn installed together (.venv-cdktn)")
def test_a_cdktn_stack_in_a_cdktf_app_is_refused() -> None:
    import cdktf
    import cdktn

    stack = cdktn.TerraformStack(cdktf.App(), "prod")
    with pytest.raises(InvalidIntentError) as err:
        ZeroTrustNamespace(stack, "shop", environment="prod")
    assert str(err.value) == (
        "prod: scope: is a cdktn.TerraformStack inside a cdktf App; one app runs on one "
        "CDK: create every App and TerraformStack from cdktf (or all from cdktn)"
    )


@pytest.mark.skipif(not BOTH, reason="needs cdktf and cdktn installed together (.venv-cdktn)")
def test_both_installed_each_app_gets_its_own_cdk(tmp_path: Path) -> None:
    import cdktf
    import cdktn

    for lib in (cdktf, cdktn):
        stack = NetfenceStack(lib.App(outdir=str(tmp_path / lib.__name__)), "prod")
        assert isinstance(stack, lib.TerraformStack)
        assert type(stack).__name__ == "NetfenceStack"


def test_default_cdk_follows_netfence_cdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cdk.ENV_VAR, cdk_under_test.name())
    assert cdk.default_cdk().__name__ == cdk_under_test.name()
    monkeypatch.setenv(cdk.ENV_VAR, "pulumi")
    with pytest.raises(InvalidIntentError) as err:
        cdk.default_cdk()
    assert str(err.value) == "NETFENCE_CDK: value: 'pulumi' is not one of cdktf, cdktn"


def test_default_cdk_refuses_to_guess_between_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cdk.ENV_VAR, raising=False)
    monkeypatch.setattr(cdk, "installed", lambda: ("cdktf", "cdktn"))
    monkeypatch.setattr(cdk.sys, "modules", {"cdktf": object(), "cdktn": object()})
    with pytest.raises(InvalidIntentError) as err:
        cdk.default_cdk()
    assert str(err.value) == (
        "netfence: cdk: both cdktf and cdktn are installed and nothing says which this app "
        "uses; set NETFENCE_CDK=cdktf or NETFENCE_CDK=cdktn, or create the App from the one "
        "you want (netfence follows the App)"
    )


def test_default_cdk_names_the_missing_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cdk, "installed", lambda: ("cdktf",))
    monkeypatch.setenv(cdk.ENV_VAR, "cdktn")
    with pytest.raises(InvalidIntentError) as err:
        cdk.default_cdk()
    assert str(err.value) == (
        "NETFENCE_CDK: value: 'cdktn' is not installed (pip install 'netfence[cdktn]')"
    )
