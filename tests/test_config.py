"""netfence.yaml: backends and imports per stack, validated with exact messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from constructs_lib import ArtifactError, NetfenceStack, Port, ZeroTrustNamespace
from constructs_lib.config import load_config


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "netfence.yaml"
    path.write_text(text)
    return path


def _synth(tmp_path: Path, config_text: str, stack: str = "prod") -> dict[str, Any]:
    from cdk_under_test import App, cli_context

    from constructs_lib import synth

    config = load_config(_write(tmp_path, config_text))
    app = App(outdir=str(tmp_path / "out"), context=cli_context())
    st = NetfenceStack(app, stack, config=config)
    shop = ZeroTrustNamespace(st, "shop", environment="prod")
    api = shop.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080)])
    db = shop.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432)])
    api.allow_to(db)
    synth(app)
    result: dict[str, Any] = json.loads(
        (tmp_path / "out/stacks" / stack / "cdk.tf.json").read_text()
    )
    return result


BACKENDS = [
    (
        "local_default",
        "stacks: {}\n",
        {"local": {"path": "../../../terraform.prod.tfstate"}},
    ),
    (
        "s3_with_lockfile",
        "stacks:\n  prod:\n    backend: {type: s3, bucket: acme-tf, key: netfence/prod.tfstate,"
        " region: eu-west-1, use_lockfile: true}\n",
        {
            "s3": {
                "bucket": "acme-tf",
                "key": "netfence/prod.tfstate",
                "region": "eu-west-1",
                "use_lockfile": True,
            }
        },
    ),
    (
        "s3_with_dynamodb_from_defaults",
        "defaults:\n  backend: {type: s3, bucket: b, key: k, region: r, dynamodb_table: locks}\n",
        {"s3": {"bucket": "b", "key": "k", "region": "r", "dynamodb_table": "locks"}},
    ),
    (
        "gcs",
        "stacks:\n  prod:\n    backend: {type: gcs, bucket: acme-tf, prefix: netfence/prod}\n",
        {"gcs": {"bucket": "acme-tf", "prefix": "netfence/prod"}},
    ),
    (
        "azurerm",
        "stacks:\n  prod:\n    backend: {type: azurerm, storage_account_name: acme,"
        " container_name: tfstate, key: prod.tfstate, resource_group_name: rg}\n",
        {
            "azurerm": {
                "storage_account_name": "acme",
                "container_name": "tfstate",
                "key": "prod.tfstate",
                "resource_group_name": "rg",
            }
        },
    ),
    (
        "remote_prefix",
        "stacks:\n  prod:\n    backend: {type: remote, organization: acme,"
        " workspaces: {prefix: netfence-}}\n",
        {"remote": {"organization": "acme", "workspaces": {"prefix": "netfence-"}}},
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [b[1:] for b in BACKENDS], ids=[b[0] for b in BACKENDS]
)
def test_backend_comes_from_netfence_yaml(
    tmp_path: Path, text: str, expected: dict[str, Any]
) -> None:
    assert _synth(tmp_path, text)["terraform"]["backend"] == expected


def test_terraform_cloud_block_with_named_workspace(tmp_path: Path) -> None:
    out = _synth(
        tmp_path,
        "stacks:\n  prod:\n    backend: {type: cloud, organization: acme,"
        " workspaces: {name: netfence-prod, project: platform}}\n",
    )
    assert out["terraform"]["cloud"] == {
        "organization": "acme",
        "workspaces": {"name": "netfence-prod", "project": "platform"},
    }
    assert "backend" not in out["terraform"]


def test_imports_file_becomes_import_blocks(tmp_path: Path) -> None:
    (tmp_path / "imports").mkdir()
    (tmp_path / "imports/prod.json").write_text(
        json.dumps(
            [
                {"to": "kubernetes_network_policy_v1.shop_db-ingress", "id": "shop/db-ingress"},
                {"to": "kubernetes_namespace_v1.shop", "id": "shop"},
            ]
        )
    )
    out = _synth(tmp_path, "stacks:\n  prod:\n    imports: imports/prod.json\n")
    assert out["import"] == [
        {"to": "kubernetes_namespace_v1.shop", "id": "shop"},
        {"to": "kubernetes_network_policy_v1.shop_db-ingress", "id": "shop/db-ingress"},
    ]


def test_outputs_list_what_the_stack_manages(tmp_path: Path) -> None:
    out = _synth(tmp_path, "stacks: {}\n")
    assert out["output"]["netfence_namespaces"] == {"value": ["shop"]}
    assert out["output"]["netfence_policies"]["value"] == [
        "shop/allow-dns",
        "shop/api-egress",
        "shop/db-ingress",
        "shop/default-deny",
    ]


BAD: list[tuple[str, str, str]] = [
    (
        "unknown_backend_type",
        "stacks:\n  prod:\n    backend: {type: consul}\n",
        "at stacks.prod.backend.type: unknown backend type 'consul' (allowed: local, s3, gcs, "
        "azurerm, remote, cloud)",
    ),
    (
        "missing_required_key",
        "stacks:\n  prod:\n    backend: {type: s3, bucket: b, region: r}\n",
        "at stacks.prod.backend.key: required for a s3 backend and missing",
    ),
    (
        "unknown_key",
        "stacks:\n  prod:\n    backend: {type: gcs, bucket: b, region: x}\n",
        "at stacks.prod.backend.region: unknown key 'region' (allowed: bucket, "
        "impersonate_service_account, kms_encryption_key, prefix)",
    ),
    (
        "wrong_type",
        "stacks:\n  prod:\n    backend: {type: s3, bucket: b, key: k, region: r, "
        "use_lockfile: 'yes'}\n",
        "at stacks.prod.backend.use_lockfile: 'yes' is not a bool",
    ),
    (
        "two_locks",
        "stacks:\n  prod:\n    backend: {type: s3, bucket: b, key: k, region: r, "
        "use_lockfile: true, dynamodb_table: t}\n",
        "at stacks.prod.backend.use_lockfile: choose one lock: use_lockfile or dynamodb_table",
    ),
    (
        "cloud_without_workspace",
        "stacks:\n  prod:\n    backend: {type: cloud, organization: acme, workspaces: {}}\n",
        "at stacks.prod.backend.workspaces: needs name or tags (a list), and optionally project",
    ),
    (
        "unknown_top_level_key",
        "stack: {}\n",
        "at stack: unknown key 'stack' (allowed: defaults, stacks, version)",
    ),
    (
        "stack_written_twice",
        "stacks:\n  prod:\n    backend: {type: s3, bucket: b, key: k, region: r}\n"
        "  staging: {}\n  prod:\n    backend: {type: local}\n",
        ": key 'prod' on line 5 appears twice in one mapping (first on line 2); Kubernetes "
        "keeps only one: keep one",
    ),
    (
        "backend_key_written_twice",
        "defaults:\n  backend: {type: s3, bucket: a, bucket: b, key: k, region: r}\n",
        ": key 'bucket' on line 2 appears twice in one mapping (first on line 2); Kubernetes "
        "keeps only one: keep one",
    ),
    (
        "unsupported_version",
        "version: 99\nstacks: {}\n",
        "at version: version 99 is not supported (supported: 1); this netfence reads version 1",
    ),
    (
        "version_a_boolean",
        "version: true\n",
        "at version: version True is not supported (supported: 1); this netfence reads version 1",
    ),
    (
        "stack_name_not_a_string",
        "stacks:\n  1: {}\n",
        "at stacks.1: 1 is not a stack name (the id of a NetfenceStack: letters, digits, '-', "
        "'_' and '.', starting with a letter or digit)",
    ),
    (
        "stack_name_a_path",
        "stacks:\n  ../prod: {}\n",
        "at stacks.../prod: '../prod' is not a stack name (the id of a NetfenceStack: letters, "
        "digits, '-', '_' and '.', starting with a letter or digit)",
    ),
    (
        "imports_a_directory",
        "stacks:\n  prod:\n    imports: .\n",
        "at stacks.prod.imports: '.' is a directory; name the imports file `netfence import` "
        "wrote (e.g. imports/prod.json)",
    ),
    (
        "imports_not_a_string",
        "stacks:\n  prod:\n    imports: [a.json]\n",
        "at stacks.prod.imports: ['a.json'] is not a file name (the imports file `netfence "
        "import` wrote, e.g. imports/prod.json)",
    ),
    (
        "encrypt_a_string",
        "stacks:\n  prod:\n    backend: {type: s3, bucket: b, key: k, region: r, "
        "encrypt: 'false'}\n",
        "at stacks.prod.backend.encrypt: 'false' is not a bool",
    ),
    (
        "missing_imports_file",
        "stacks:\n  prod:\n    imports: nope.json\n",
        ": no such imports file (named by {config} at stacks.prod.imports)",
    ),
]


@pytest.mark.parametrize(("text", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_config_names_the_file_stack_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ArtifactError) as info:
        load_config(path)
    if message.startswith(": no such imports file"):
        expected = str(tmp_path / "nope.json") + message.format(config=path)
    else:
        expected = f"{path}{message}" if message.startswith(":") else f"{path} {message}"
    assert str(info.value) == expected


def test_no_config_file_means_local_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config().for_stack("prod").backend is None


def test_import_of_an_address_the_stack_does_not_generate_is_refused(tmp_path: Path) -> None:
    from constructs_lib import InvalidIntentError

    (tmp_path / "imports.json").write_text(
        json.dumps([{"to": "kubernetes_network_policy_v1.shop_gone-ingress", "id": "shop/gone"}])
    )
    with pytest.raises(InvalidIntentError) as info:
        _synth(tmp_path, "stacks:\n  prod:\n    imports: imports.json\n")
    assert str(info.value) == (
        "kubernetes_network_policy_v1.shop_gone-ingress: imports: no such resource is generated "
        "by this stack; re-run `netfence import` against the current synth output"
    )


def test_main_job_exits_2_with_the_message_on_bad_config(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    _write(tmp_path, "stacks:\n  prod:\n    backend: {type: s3}\n")
    env = dict(os.environ, PYTHONPATH=str(root), CDKTF_OUTDIR=str(tmp_path / "out"))
    result = subprocess.run(
        [sys.executable, "-m", "stacks"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "netfence: error: netfence.yaml at stacks.prod.backend.bucket: required for a s3 "
        "backend and missing"
    )
    assert not list((tmp_path / "out").rglob("cdk.tf.json"))  # nothing half-written


def test_netfence_yaml_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "netfence.yaml"
    path.write_bytes(b"stacks:\n  prod: {}\n# caf\xe9\n")
    with pytest.raises(ArtifactError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: cannot read: not UTF-8 text (byte 24 is 0xe9)"


IMPORTS_BAD: list[tuple[str, Any, str]] = [
    (
        "address_twice",
        [
            {"to": "kubernetes_namespace_v1.shop", "id": "shop"},
            {"to": "kubernetes_network_policy_v1.shop_x", "id": "shop/x"},
            {"to": "kubernetes_namespace_v1.shop", "id": "shop-old"},
        ],
        "at [2].to: address 'kubernetes_namespace_v1.shop' is imported twice ([0] and [2]); "
        "Terraform would refuse the second import block: keep one",
    ),
    (
        "unknown_key",
        [{"to": "kubernetes_namespace_v1.shop", "id": "shop", "provider": "kubernetes.other"}],
        "at [0]: {'to': 'kubernetes_namespace_v1.shop', 'id': 'shop', 'provider': "
        "'kubernetes.other'} is not {'to': ADDRESS, 'id': ID}",
    ),
    (
        "empty_id",
        [{"to": "kubernetes_namespace_v1.shop", "id": ""}],
        "at [0]: {'to': 'kubernetes_namespace_v1.shop', 'id': ''} is not {'to': ADDRESS, 'id': ID}",
    ),
]


@pytest.mark.parametrize(
    ("items", "message"), [b[1:] for b in IMPORTS_BAD], ids=[b[0] for b in IMPORTS_BAD]
)
def test_bad_imports_file_names_the_items(tmp_path: Path, items: Any, message: str) -> None:
    (tmp_path / "imports.json").write_text(json.dumps(items))
    path = _write(tmp_path, "stacks:\n  prod:\n    imports: imports.json\n")
    with pytest.raises(ArtifactError) as info:
        load_config(path)
    assert str(info.value) == f"{tmp_path / 'imports.json'} {message}"


def test_unreadable_imports_file_names_netfence_yaml(tmp_path: Path) -> None:
    (tmp_path / "imports.json").write_bytes(b"[\xff]")
    path = _write(tmp_path, "stacks:\n  prod:\n    imports: imports.json\n")
    with pytest.raises(ArtifactError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{tmp_path / 'imports.json'}: ")
    assert str(info.value).endswith(f" (named by {path} at stacks.prod.imports)")


def _synth_app(tmp_path: Path, config_text: str, stacks: list[str], plain: list[str]) -> None:
    from cdktf import App, TerraformStack

    from constructs_lib import synth

    config = load_config(_write(tmp_path, config_text))
    app = App(outdir=str(tmp_path / "out"))
    for name in stacks:
        ZeroTrustNamespace(NetfenceStack(app, name, config=config), "shop", environment="prod")
    for name in plain:
        ZeroTrustNamespace(TerraformStack(app, name), "shop", environment="prod")
    synth(app)


def test_a_stack_the_app_does_not_define_is_refused_with_a_did_you_mean(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError) as info:
        _synth_app(
            tmp_path,
            "stacks:\n  prdo:\n    backend: {type: gcs, bucket: b}\n",
            ["prod", "staging"],
            [],
        )
    assert str(info.value) == (
        f"{tmp_path / 'netfence.yaml'} at stacks.prdo: stack 'prdo' is not defined by the app "
        "(defined: prod, staging); did you mean 'prod'?"
    )
    assert not list((tmp_path / "out").rglob("cdk.tf.json"))  # refused before any write


def test_settings_for_a_plain_terraform_stack_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError) as info:
        _synth_app(tmp_path, "stacks:\n  legacy: {}\n", ["prod"], ["legacy"])
    assert str(info.value) == (
        f"{tmp_path / 'netfence.yaml'} at stacks.legacy: stack 'legacy' is a TerraformStack, "
        "which does not read netfence.yaml; make it a NetfenceStack"
    )


def test_settings_for_every_defined_stack_synthesize(tmp_path: Path) -> None:
    _synth_app(tmp_path, "stacks:\n  prod: {}\n  staging: {}\n", ["prod", "staging"], [])
    assert (tmp_path / "out/stacks/staging/cdk.tf.json").is_file()
