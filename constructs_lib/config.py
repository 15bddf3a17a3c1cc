"""Per-stack settings from ``netfence.yaml``: the state backend and adoption imports.

Teams keep state where they already keep it; changing it needs no code::

    defaults:
      backend: {type: local}
    stacks:
      prod:
        backend: {type: s3, bucket: acme-tfstate, key: netfence/prod.tfstate,
                  region: eu-west-1, use_lockfile: true}
        imports: imports/prod.json          # written by `netfence import`
      staging:
        backend: {type: cloud, organization: acme, workspaces: {name: netfence-staging}}

Pure Python: the construct layer turns a ``BackendConfig`` into cdktf's backend.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from constructs_lib.errors import ArtifactError
from constructs_lib.loaders import read_json
from constructs_lib.loaders._read import read_yaml
from constructs_lib.syntax import is_path_segment

CONFIG_FILE = "netfence.yaml"
VERSIONS = (1,)  # what ``version:`` may say; left out, the newest

# type -> (required keys, optional keys -> expected python type)
_STR, _BOOL = str, bool
BACKENDS: dict[str, tuple[dict[str, type], dict[str, type]]] = {
    "local": ({}, {"path": _STR, "workspace_dir": _STR}),
    "s3": (
        {"bucket": _STR, "key": _STR, "region": _STR},
        {
            "use_lockfile": _BOOL,
            "dynamodb_table": _STR,
            "encrypt": _BOOL,
            "profile": _STR,
            "role_arn": _STR,
            "kms_key_id": _STR,
            "workspace_key_prefix": _STR,
            "endpoint": _STR,
        },
    ),
    "gcs": (
        {"bucket": _STR},
        {"prefix": _STR, "impersonate_service_account": _STR, "kms_encryption_key": _STR},
    ),
    "azurerm": (
        {"storage_account_name": _STR, "container_name": _STR, "key": _STR},
        {
            "resource_group_name": _STR,
            "subscription_id": _STR,
            "tenant_id": _STR,
            "use_azuread_auth": _BOOL,
            "use_oidc": _BOOL,
        },
    ),
    "remote": ({"organization": _STR, "workspaces": dict}, {"hostname": _STR}),
    "cloud": ({"organization": _STR, "workspaces": dict}, {"hostname": _STR}),
}
_WORKSPACES = {
    "remote": ({"name", "prefix"}, "exactly one of name or prefix"),
    "cloud": ({"name", "tags", "project"}, "name or tags (a list), and optionally project"),
}


@dataclass(frozen=True)
class BackendConfig:
    type: str
    settings: Mapping[str, Any]


@dataclass(frozen=True)
class StackConfig:
    backend: BackendConfig | None = None
    imports: tuple[tuple[str, str], ...] = ()  # (Terraform address, import id)


@dataclass(frozen=True)
class ProjectConfig:
    file: str | None
    defaults: StackConfig = field(default_factory=StackConfig)
    stacks: Mapping[str, StackConfig] = field(default_factory=dict)

    def for_stack(self, name: str) -> StackConfig:
        own = self.stacks.get(name, StackConfig())
        return StackConfig(own.backend or self.defaults.backend, own.imports)

    def check_stacks(self, defined: Iterable[str], others: Iterable[str] = ()) -> None:
        """Refuse settings for a stack the app does not define: a typo (``prdo:``)
        would otherwise leave ``prod`` on the default backend without a word.

        defined: the app's NetfenceStacks (they read this file); others: its
        other stacks, which do not.
        """
        names = sorted(set(defined))
        plain = set(others)
        for stack in sorted(self.stacks):
            if stack in names:
                continue
            if stack in plain:
                message = (
                    f"stack {stack!r} is a TerraformStack, which does not read {CONFIG_FILE}; "
                    "make it a NetfenceStack"
                )
            else:
                close = difflib.get_close_matches(stack, names, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                message = (
                    f"stack {stack!r} is not defined by the app "
                    f"(defined: {', '.join(names) or 'none'}){hint}"
                )
            raise ArtifactError(self.file or CONFIG_FILE, message, field=f"stacks.{stack}")


def load_config(path: str | Path | None = None) -> ProjectConfig:
    """Read netfence.yaml (``path``, else ./netfence.yaml); no file means defaults."""
    file = Path(path) if path is not None else Path(CONFIG_FILE)
    if not file.exists():
        if path is not None:
            raise ArtifactError(str(file), "no such file")
        return ProjectConfig(None)
    name = str(file)
    data = read_yaml(file)  # strict: a key twice, an alias, non-UTF-8 are refused
    if data is None:
        data = {}
    _expect(name, "", data, dict, "a mapping with 'defaults' and 'stacks'")
    _only(name, "", data, {"version", "defaults", "stacks"})
    version = data.get("version", VERSIONS[-1])
    if isinstance(version, bool) or version not in VERSIONS:
        raise ArtifactError(
            name,
            f"version {version!r} is not supported (supported: "
            f"{', '.join(map(str, VERSIONS))}); this netfence reads version {VERSIONS[-1]}",
            field="version",
        )
    defaults = _stack(name, "defaults", data.get("defaults") or {}, file.parent, imports=False)
    stacks_raw = data.get("stacks") or {}
    _expect(name, "stacks", stacks_raw, dict, "a mapping of stack name to settings")
    for stack in stacks_raw:
        if not isinstance(stack, str) or not is_path_segment(stack):
            raise ArtifactError(
                name,
                f"{stack!r} is not a stack name (the id of a NetfenceStack: letters, digits, "
                "'-', '_' and '.', starting with a letter or digit)",
                field=f"stacks.{stack}",
            )
    stacks = {
        stack: _stack(name, f"stacks.{stack}", raw or {}, file.parent, imports=True)
        for stack, raw in stacks_raw.items()
    }
    return ProjectConfig(name, defaults, stacks)


def _expect(file: str, where: str, value: object, kind: type, what: str) -> None:
    if not isinstance(value, kind):
        raise ArtifactError(file, f"{value!r} is not {what}", field=where or None)


def _only(file: str, where: str, data: Mapping[str, Any], allowed: set[str]) -> None:
    for key in data:
        if key not in allowed:
            raise ArtifactError(
                file,
                f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})",
                field=f"{where}.{key}" if where else str(key),
            )


def _stack(file: str, where: str, raw: object, base: Path, *, imports: bool) -> StackConfig:
    _expect(
        file, where, raw, dict, "a mapping with 'backend'" + (" and 'imports'" if imports else "")
    )
    assert isinstance(raw, dict)
    _only(file, where, raw, {"backend", "imports"} if imports else {"backend"})
    backend = _backend(file, f"{where}.backend", raw["backend"]) if "backend" in raw else None
    pairs: tuple[tuple[str, str], ...] = ()
    if "imports" in raw:
        value = raw["imports"]
        at = f"{where}.imports"
        if not isinstance(value, str) or not value:
            raise ArtifactError(
                file,
                f"{value!r} is not a file name (the imports file `netfence import` wrote, "
                "e.g. imports/prod.json)",
                field=at,
            )
        if (base / value).is_dir():
            raise ArtifactError(
                file,
                f"{value!r} is a directory; name the imports file `netfence import` wrote "
                "(e.g. imports/prod.json)",
                field=at,
            )
        pairs = load_imports(base / value, config=f"{file} at {at}")
    return StackConfig(backend, pairs)


def _backend(file: str, where: str, raw: object) -> BackendConfig:
    _expect(file, where, raw, dict, "a mapping with a 'type' and its settings")
    assert isinstance(raw, dict)
    kind = raw.get("type")
    if kind not in BACKENDS:
        raise ArtifactError(
            file,
            f"unknown backend type {kind!r} (allowed: {', '.join(BACKENDS)})",
            field=f"{where}.type",
        )
    required, optional = BACKENDS[kind]
    settings = {k: v for k, v in raw.items() if k != "type"}
    _only(file, where, settings, set(required) | set(optional))
    for key in required:
        if key not in settings:
            raise ArtifactError(
                file, f"required for a {kind} backend and missing", field=f"{where}.{key}"
            )
    for key, value in settings.items():
        expected = {**required, **optional}[key]
        if not isinstance(value, expected) or (expected is str and not value):
            kind_name = "non-empty string" if expected is str else expected.__name__
            raise ArtifactError(
                file,
                f"{value!r} is not a {kind_name}",
                field=f"{where}.{key}",
            )
    if kind in _WORKSPACES:
        allowed, what = _WORKSPACES[kind]
        spaces = settings["workspaces"]
        _only(file, f"{where}.workspaces", spaces, allowed)
        chosen = [k for k in ("name", "prefix", "tags") if k in spaces]
        if len(chosen) != 1:
            raise ArtifactError(file, f"needs {what}", field=f"{where}.workspaces")
        if "tags" in spaces and not (
            isinstance(spaces["tags"], list) and all(isinstance(t, str) for t in spaces["tags"])
        ):
            raise ArtifactError(
                file, "tags must be a list of strings", field=f"{where}.workspaces.tags"
            )
    if kind == "s3" and settings.get("use_lockfile") and "dynamodb_table" in settings:
        raise ArtifactError(
            file, "choose one lock: use_lockfile or dynamodb_table", field=f"{where}.use_lockfile"
        )
    return BackendConfig(kind, settings)


def load_imports(path: Path, *, config: str | None = None) -> tuple[tuple[str, str], ...]:
    """Read an imports file written by ``netfence import``: [{"to": ADDRESS, "id": ID}]."""
    name = str(path)
    named_by = f" (named by {config})" if config else ""
    if not path.exists():
        raise ArtifactError(name, f"no such imports file{named_by}")
    try:
        data = read_json(path)
    except ArtifactError as exc:
        raise ArtifactError(name, f"{str(exc).removeprefix(name + ': ')}{named_by}") from None
    _expect(name, "", data, list, "a list of {to, id} objects")
    out = []
    first: dict[str, int] = {}
    for i, item in enumerate(data):
        if not (
            isinstance(item, dict)
            and set(item) == {"to", "id"}
            and isinstance(item.get("to"), str)
            and isinstance(item.get("id"), str)
            and item["to"]
            and item["id"]
        ):
            raise ArtifactError(
                name, f"{item!r} is not {{'to': ADDRESS, 'id': ID}}", field=f"[{i}]"
            )
        address = item["to"]
        if address in first:
            raise ArtifactError(
                name,
                f"address {address!r} is imported twice ([{first[address]}] and [{i}]); "
                "Terraform would refuse the second import block: keep one",
                field=f"[{i}].to",
            )
        first[address] = i
        out.append((address, item["id"]))
    return tuple(sorted(out))
