"""The construct layer says what is wrong in netfence's terms: never a jsii
RuntimeError with a JavaScript stack, never a typeguard TypeError."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from constructs_lib import (
    InvalidIntentError,
    KubernetesCluster,
    NetfenceStack,
    Pipeline,
    ZeroTrustNamespace,
    preview_namespace,
)
from constructs_lib.config import ProjectConfig


def _app(tmp_path: Path) -> Any:
    from cdktf import App

    return App(outdir=str(tmp_path / "out"))


def _stack(tmp_path: Path) -> Any:
    from cdktf import TerraformStack

    stack = TerraformStack(_app(tmp_path), "prod")
    ZeroTrustNamespace(stack, "shop", environment="prod")
    return stack


CASES: list[tuple[str, Callable[[Path], object], str]] = [
    (
        "duplicate_construct_id",
        lambda tmp: ZeroTrustNamespace(_stack(tmp), "shop", name="shop2", environment="prod"),
        "prod/shop: id: prod already has a construct with id 'shop' (ZeroTrustNamespace); ids "
        "must be unique within their scope",
    ),
    (
        "scope_none",
        lambda tmp: ZeroTrustNamespace(None, "shop", environment="prod"),  # type: ignore[arg-type]
        "ZeroTrustNamespace('shop'): scope: None is not a construct; pass the stack (or a "
        "construct inside it) as the first argument",
    ),
    (
        "scope_a_string",
        lambda tmp: Pipeline("prod", "etl"),  # type: ignore[arg-type]
        "Pipeline('etl'): scope: 'prod' is not a construct; pass the stack (or a construct "
        "inside it) as the first argument",
    ),
    (
        "scope_the_app",
        lambda tmp: ZeroTrustNamespace(_app(tmp), "shop", environment="prod"),
        "shop: scope: the app is neither a stack nor inside one; declare ZeroTrustNamespace in "
        "a NetfenceStack (or a TerraformStack), not on the app",
    ),
    (
        "id_not_a_string",
        lambda tmp: KubernetesCluster(_stack(tmp), 7),  # type: ignore[arg-type]
        "KubernetesCluster in prod: id: 7 is not a construct id (a non-empty string)",
    ),
    (
        "id_empty",
        lambda tmp: ZeroTrustNamespace(_stack(tmp), "", name="web", environment="prod"),
        "ZeroTrustNamespace in prod: id: '' is not a construct id (a non-empty string)",
    ),
    (
        "duplicate_stack_id",
        lambda tmp: [
            NetfenceStack(app := _app(tmp), "prod", config=ProjectConfig(None)),
            NetfenceStack(app, "prod", config=ProjectConfig(None)),
        ],
        "prod: id: the app already has a construct with id 'prod' (NetfenceStack); ids must be "
        "unique within their scope",
    ),
    (
        "stack_id_dot_dot",
        lambda tmp: NetfenceStack(_app(tmp), "..", config=ProjectConfig(None)),
        "..: id: '..' is not a safe stack name: synth writes the stack to "
        "cdktf.out/stacks/<name>/, so the name must be one directory name (letters, digits, "
        "'-', '_' and '.', starting with a letter or digit)",
    ),
    (
        "plain_terraform_stack_id_hidden",
        lambda tmp: ZeroTrustNamespace(
            __import__("cdktf").TerraformStack(_app(tmp), ".git"), "shop", environment="prod"
        ),
        ".git: id: '.git' is not a safe stack name: synth writes the stack to "
        "cdktf.out/stacks/<name>/, so the name must be one directory name (letters, digits, "
        "'-', '_' and '.', starting with a letter or digit)",
    ),
    (
        "stack_config_not_a_project_config",
        lambda tmp: NetfenceStack(_app(tmp), "prod", config="netfence.yaml"),  # type: ignore[arg-type]
        "prod: config: 'netfence.yaml' is not a ProjectConfig (use load_config(path))",
    ),
    (
        "in_cluster_a_string",
        lambda tmp: KubernetesCluster(_stack(tmp), "k8s", in_cluster="yes"),  # type: ignore[arg-type]
        "prod/k8s: in_cluster: 'yes' is not True or False; write in_cluster=True or "
        "in_cluster=False",
    ),
    (
        "adopt_a_string",
        lambda tmp: ZeroTrustNamespace(_stack(tmp), "web", environment="prod", adopt="no"),  # type: ignore[arg-type]
        "prod/web: adopt: 'no' is not True or False; write adopt=True or adopt=False",
    ),
    (
        "preview_template_not_callable",
        lambda tmp: preview_namespace(_stack(tmp), "pr", template=None, branch="1"),  # type: ignore[arg-type]
        "prod/pr: template: None is not a function taking the ZeroTrustNamespace",
    ),
    (
        "preview_labels_not_a_mapping",
        lambda tmp: preview_namespace(
            _stack(tmp), "pr", template=lambda ns: None, branch="1", labels=["team"]
        ),  # type: ignore[arg-type]
        "prod/pr: labels: ['team'] is not a mapping of label keys to values",
    ),
    (
        "preview_branch_not_a_string",
        lambda tmp: preview_namespace(_stack(tmp), "pr", template=lambda ns: None, branch=42),  # type: ignore[arg-type]
        "prod/pr: branch: 42 is not a branch or PR name (a non-empty string)",
    ),
]


@pytest.mark.parametrize(("make", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_construct_errors_are_netfence_errors(
    tmp_path: Path, make: Callable[[Path], object], message: str
) -> None:
    with pytest.raises(InvalidIntentError) as info:
        make(tmp_path)
    assert str(info.value) == message


def test_preview_name_from_the_environment_with_a_trailing_newline_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETFENCE_PREVIEW", "42\n")
    with pytest.raises(InvalidIntentError) as info:
        preview_namespace(_stack(tmp_path), "preview", template=lambda ns: None)
    assert str(info.value) == (
        "prod/preview: environment variable NETFENCE_PREVIEW: '42\\n' makes the namespace name "
        "'pr-42\\n', which is not a DNS-1123 label (lowercase letters, digits and '-', at most 63 "
        "characters)"
    )


@pytest.mark.parametrize(
    ("valid", "use"),
    [
        ("default-deny", lambda ns, v: ns.policy(v)),
        ("kubernetes_namespace_v1.old", lambda ns, v: ns.namespace_resource.moved_from(v)),
        ("metadata.annotations.team", lambda ns, v: ns.policy("default-deny").add_override(v, "x")),
    ],
    ids=["policy_name", "moved_from_address", "override_path"],
)
def test_a_trailing_newline_is_refused_in_construct_strings(
    tmp_path: Path, valid: str, use: Callable[[Any, str], object]
) -> None:
    shop = next(c for c in _stack(tmp_path).node.children if isinstance(c, ZeroTrustNamespace))
    use(shop, valid)
    with pytest.raises(InvalidIntentError) as info:
        use(shop, valid + "\n")
    assert repr(valid + "\n") in str(info.value)
