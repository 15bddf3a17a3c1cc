"""Read artifacts back from disk: NetworkPolicies, inventories and the intent record.

Every format is normalised into :mod:`constructs_lib.loaders.network_policy`;
nothing here imports cdktf, so the read-only commands start fast.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml

from constructs_lib.errors import ArtifactError
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
    "find_stacks",
    "intent_from_artifact",
    "inventory_from_dict",
    "load_intent",
    "load_inventory",
    "load_plan",
    "load_policies",
    "policy_from_manifest",
    "read_json",
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
    import yaml

    try:
        documents = list(yaml.load_all(_read_text(file), Loader=yaml_loader()))
    except yaml.YAMLError as exc:
        raise ArtifactError(str(file), f"not valid YAML: {exc}") from None
    return policies_from_documents(documents, str(file))


def yaml_loader() -> type[yaml.SafeLoader]:
    """libyaml's safe loader when PyYAML was built with it: ~10x faster on big manifests."""
    import yaml

    loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return loader


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


def _read_text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ArtifactError(str(file), f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ArtifactError(str(file), "cannot read: not UTF-8 text") from None


def read_json(file: Path) -> Any:
    try:
        return json.loads(_read_text(file))
    except ValueError as exc:
        raise ArtifactError(str(file), f"not valid JSON: {exc}") from None
