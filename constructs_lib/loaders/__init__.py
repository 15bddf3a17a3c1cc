"""Read artifacts back from disk: NetworkPolicies, inventories and the intent record.

Every format is normalised into :mod:`constructs_lib.loaders.network_policy`;
nothing here imports cdktf, so the read-only commands start fast.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from constructs_lib.errors import ArtifactError
from constructs_lib.loaders._read import (
    collector_paused,
    is_yaml,
    parse_json,
    parse_yaml_documents,
    read_json,
    read_text,
    read_yaml,
    read_yaml_documents,
    yaml_loader,
)
from constructs_lib.loaders.intent import IntentRecord, intent_from_artifact, load_intent
from constructs_lib.loaders.inventory import (
    DeclaredPort,
    External,
    Inventory,
    Namespace,
    Workload,
    inventory_from_dict,
    load_inventory,
)
from constructs_lib.loaders.manifests import policies_from_documents, policy_from_manifest
from constructs_lib.loaders.network_policy import (
    IPBlock,
    LabelRequirement,
    LabelSelector,
    NetworkPolicy,
    Peer,
    PolicyPort,
    PolicyRule,
    Source,
)
from constructs_lib.loaders.terraform import (
    PlanPolicies,
    plan_policies,
    policies_from_state,
    policies_from_synth,
)

__all__ = [
    "DeclaredPort",
    "External",
    "IPBlock",
    "IntentRecord",
    "Inventory",
    "LabelRequirement",
    "LabelSelector",
    "Namespace",
    "NetworkPolicy",
    "Peer",
    "PlanPolicies",
    "PolicyPort",
    "PolicyRule",
    "Source",
    "Workload",
    "collector_paused",
    "find_stacks",
    "intent_from_artifact",
    "inventory_from_dict",
    "is_yaml",
    "load_intent",
    "load_inventory",
    "load_plan",
    "load_policies",
    "parse_json",
    "parse_yaml_documents",
    "policy_from_manifest",
    "read_json",
    "read_synth",
    "read_text",
    "read_yaml",
    "read_yaml_documents",
    "yaml_loader",
]

SYNTH_FILE = "cdk.tf.json"
_SUFFIXES = (".json", ".yaml", ".yml")


def find_stacks(path: str | Path) -> list[Path]:
    """The cdk.tf.json files a path names: the file, a stack dir, or cdktf.out (all stacks)."""
    p = Path(path)
    if p.is_file():
        return [p]
    if (p / SYNTH_FILE).is_file():
        return [p / SYNTH_FILE]
    if p.is_dir():
        stacks = sorted((p / "stacks").glob(f"*/{SYNTH_FILE}"))
        if stacks:
            return stacks
        raise ArtifactError(str(p), f"no {SYNTH_FILE} here, nor in stacks/*/ below it")
    raise ArtifactError(str(p), "no such file or directory")


_KIND_TEXT = {
    "plan": "a Terraform plan (`terraform show -json`); `netfence diff --plan` reads plans",
    "state": "Terraform state; netfence reach and map read state",
    "manifest": "Kubernetes objects; netfence reach and map read manifests",
}


def read_synth(file: str | Path) -> dict[str, Any]:
    """A synthesized cdk.tf.json, or a refusal saying what was given instead.

    verify, diff, import and drift compare with the intent record that only
    synthesis writes, so any other input kind is bad input here, never an
    empty stack.
    """
    expected = (
        "expected a synthesized stack: cdk.tf.json as `cdktf synth` writes it to "
        "cdktf.out/stacks/<stack>/ (give the file, its stack dir, or cdktf.out)"
    )
    if is_yaml(file):
        raise ArtifactError(str(file), f"{expected}; this is a YAML file")
    data = parse_json(read_text(file), str(file), expected=f"{expected}; this is")
    kind = _json_kind(data)
    if kind != "synth":
        if isinstance(data, dict) and isinstance(data.get("kind"), str):
            got = f"a Kubernetes {data['kind']} ({_KIND_TEXT['manifest']})"
        elif isinstance(data, dict):
            got = _KIND_TEXT.get(kind, "a JSON object of no kind netfence knows")
        else:
            got = f"a JSON {type(data).__name__.replace('dict', 'object')}"
        raise ArtifactError(str(file), f"{expected}; this is {got}")
    assert isinstance(data, dict)
    return data


def load_policies(paths: str | Path | Iterable[str | Path]) -> list[NetworkPolicy]:
    """NetworkPolicies from files and directories of any supported kind.

    A stack dir or cdktf.out contributes its cdk.tf.json files only (its
    manifests.yaml holds the same policies again); any other directory
    contributes every .json/.yaml/.yml file below it. A plan contributes the
    policies as they will be after it is applied. The same namespace/name
    twice is an error: Kubernetes would keep only one of them.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    out: list[NetworkPolicy] = []
    seen: dict[str, NetworkPolicy] = {}
    for path in paths:
        for file in _files(Path(path)):
            for policy in _load_file(file):
                first = seen.get(policy.key)
                if first is not None:
                    raise ArtifactError(
                        str(file),
                        f"policy {policy.key} ({policy.source}) is defined twice; "
                        f"first in {first.source.file} ({first.source})",
                    )
                seen[policy.key] = policy
                out.append(policy)
    return out


def policy_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files ``load_policies`` reads for these paths, in the order it reads them."""
    return [file for path in paths for file in _files(Path(path))]


def load_file(file: Path) -> list[NetworkPolicy]:
    """One file's policies, without the check across files (lint reports duplicates)."""
    return _load_file(file)


def load_plan(path: str | Path) -> PlanPolicies:
    data = read_json(Path(path))
    if not isinstance(data, dict) or "resource_changes" not in data:
        raise ArtifactError(str(path), "not a plan: expected `terraform show -json` of a plan file")
    return plan_policies(data, str(path))


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ArtifactError(str(path), "no such file or directory")
    if (path / SYNTH_FILE).is_file() or (path / "stacks").is_dir():
        return find_stacks(path)
    files = sorted(
        f
        for f in path.rglob("*")
        if f.is_file()
        and f.suffix in _SUFFIXES
        and not any(part.startswith(".") for part in f.relative_to(path).parts)
    )
    if not files:
        raise ArtifactError(str(path), "no .json, .yaml or .yml files here")
    return files


def _load_file(file: Path) -> list[NetworkPolicy]:
    with collector_paused():
        return _read_policies(file)


def _read_policies(file: Path) -> list[NetworkPolicy]:
    if file.suffix == ".json":
        data = read_json(file)
        kind = _json_kind(data)
        if kind == "synth":
            return policies_from_synth(data, str(file))
        if kind == "plan":
            return list(plan_policies(data, str(file)).after)
        if kind == "state":
            return policies_from_state(data, str(file))
        return policies_from_documents([data], str(file))
    return policies_from_documents(read_yaml_documents(file), str(file))


def _json_kind(data: Any) -> str:
    if isinstance(data, dict):
        if "resource_changes" in data or "planned_values" in data:
            return "plan"
        if "format_version" in data and "values" in data:
            return "state"
        if "terraform_version" in data and "resources" in data:
            return "state"
        if "kind" not in data and any(
            k in data for k in ("resource", "//", "terraform", "provider")
        ):
            return "synth"
    return "manifest"
