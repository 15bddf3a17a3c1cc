"""The checked-in provider schema, as cty types, protocol messages and plan rules."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .cty import UNKNOWN

SCHEMA_FILE = Path(__file__).with_name("kubernetes_schema.json")
SCHEMA_FILE_3 = Path(__file__).with_name("kubernetes_schema_3.json")
# The provider versions the test provider can stand in for, and the file each serves.
SCHEMA_FILES = {"2.38.0": SCHEMA_FILE, "3.4.0": SCHEMA_FILE_3, "3.5.0": SCHEMA_FILE_3}
DEFAULT_VERSION = "2.38.0"


@dataclass(frozen=True)
class Attribute:
    type: Any
    required: bool = False
    optional: bool = False
    computed: bool = False
    default: Any = None
    force_new: bool = False
    deprecated: bool = False
    min_items: int = 0
    max_items: int = 0


@dataclass(frozen=True)
class NestedBlock:
    nesting: str  # "list" | "set" | "single"
    min_items: int
    max_items: int
    block: Block


@dataclass(frozen=True)
class Block:
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: dict[str, NestedBlock] = field(default_factory=dict)

    def cty_type(self) -> Any:
        members: dict[str, Any] = {n: a.type for n, a in self.attributes.items()}
        for name, nested in self.blocks.items():
            inner = nested.block.cty_type()
            members[name] = inner if nested.nesting == "single" else [nested.nesting, inner]
        return ["object", members]


@dataclass(frozen=True)
class ResourceSchema:
    name: str
    version: int
    block: Block
    kind: str | None

    @property
    def cty_type(self) -> Any:
        return self.block.cty_type()


def _block(raw: dict[str, Any]) -> Block:
    return Block(
        attributes={n: Attribute(**a) for n, a in raw["attributes"].items()},
        blocks={
            n: NestedBlock(b["nesting"], b["min_items"], b["max_items"], _block(b["block"]))
            for n, b in raw["blocks"].items()
        },
    )


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@cache
def framework_types(version: str = DEFAULT_VERSION) -> frozenset[str]:
    """Resource types ``version`` serves through the Plugin Framework (schema file notes)."""
    raw = json.loads(SCHEMA_FILES[version].read_text())
    since = raw.get("versions", {}).get("framework_since", {})
    return frozenset(
        rtype
        for rtype, fact in since.items()
        if version_key(version) >= version_key(fact["version"])
    )


@cache
def load(version: str = DEFAULT_VERSION) -> tuple[Block, dict[str, ResourceSchema]]:
    if version not in SCHEMA_FILES:
        raise ValueError(f"the test provider does not stand in for {version}")
    raw = json.loads(SCHEMA_FILES[version].read_text())
    provider = _block(raw["provider"]["block"])
    resources = {
        name: ResourceSchema(name, r["schema_version"], _block(r["block"]), r.get("kind"))
        for name, r in raw["resources"].items()
    }
    return provider, resources


# -- protocol ------------------------------------------------------------------------


def to_proto(block: Block, pb: Any) -> Any:
    nesting = {
        "single": pb.Schema.NestedBlock.SINGLE,
        "list": pb.Schema.NestedBlock.LIST,
        "set": pb.Schema.NestedBlock.SET,
    }
    out = pb.Schema.Block(version=0)
    for name, attr in block.attributes.items():
        out.attributes.append(
            pb.Schema.Attribute(
                name=name,
                type=json.dumps(attr.type).encode(),
                required=attr.required,
                optional=attr.optional,
                computed=attr.computed,
                deprecated=attr.deprecated,
            )
        )
    for name, nested in block.blocks.items():
        out.block_types.append(
            pb.Schema.NestedBlock(
                type_name=name,
                block=to_proto(nested.block, pb),
                nesting=nesting[nested.nesting],
                min_items=nested.min_items,
                max_items=nested.max_items,
            )
        )
    return out


# -- values --------------------------------------------------------------------------


def empty(value: Any) -> bool:
    """The legacy SDK's view: null, "", [] and {} all mean 'not set'."""
    return value is None or value == "" or value == [] or value == {}


def plan(block: Block, proposed: Any, config: Any, prior: Any) -> Any:
    """The planned object: Terraform's proposal plus defaults and unknown computeds.

    ``proposed`` already carries the prior state's computed values where the
    configuration is null; ``prior`` is null on create.
    """
    if proposed is None:
        return None
    out = dict(proposed)
    for name, attr in block.attributes.items():
        conf = None if config is None else config.get(name)
        before = None if prior is None else prior.get(name)
        value = out.get(name)
        if conf is None and attr.default is not None:
            value = attr.default
        elif conf is None and attr.computed and value is None:
            value = UNKNOWN
        if prior is not None and not attr.computed and empty(value) and empty(before):
            value = before  # keep the prior representation: no diff for {} vs null
        out[name] = value
    for name, nested in block.blocks.items():
        conf = None if config is None else config.get(name)
        before = None if prior is None else prior.get(name)
        out[name] = _plan_nested(nested, out.get(name), conf, before)
    return out


def _plan_nested(nested: NestedBlock, proposed: Any, config: Any, prior: Any) -> Any:
    if nested.nesting == "single":
        return plan(nested.block, proposed, config, prior)
    if not proposed:
        return [] if nested.nesting == "list" else proposed
    items = []
    for i, item in enumerate(proposed):
        conf = config[i] if config and nested.nesting == "list" and i < len(config) else item
        before = prior[i] if prior and nested.nesting == "list" and i < len(prior) else None
        items.append(plan(nested.block, item, conf, before))
    return items


def merge_known(block: Block, planned: Any, actual: Any) -> Any:
    """What apply returns: every known planned value, the server's value where unknown."""
    if planned is None or planned is UNKNOWN:
        return actual
    out = dict(planned)
    for name in block.attributes:
        if planned.get(name) is UNKNOWN:
            out[name] = None if actual is None else actual.get(name)
    for name, nested in block.blocks.items():
        want, got = planned.get(name), None if actual is None else actual.get(name)
        if nested.nesting == "single":
            out[name] = merge_known(nested.block, want, got)
        elif want:
            got = got or []
            out[name] = [
                merge_known(nested.block, w, got[i] if i < len(got) else None)
                for i, w in enumerate(want)
            ]
    return out


def settle(block: Block, live: Any, prior: Any) -> Any:
    """A freshly read value that keeps the prior state's spelling of 'empty'."""
    if live is None or prior is None:
        return live
    out = dict(live)
    for name in block.attributes:
        now, before = live.get(name), prior.get(name)
        if empty(now) and empty(before):
            out[name] = before
        elif _is_set(block.attributes[name].type) and _same_set(now or [], before or []):
            out[name] = before  # sets come back in any order
    for name, nested in block.blocks.items():
        now, before = live.get(name), prior.get(name)
        if nested.nesting == "single":
            out[name] = settle(nested.block, now, before)
        elif now and before and len(now) == len(before) and nested.nesting == "list":
            out[name] = [settle(nested.block, n, b) for n, b in zip(now, before, strict=True)]
    return out


def _is_set(ctype: Any) -> bool:
    return isinstance(ctype, list) and ctype[0] == "set"


def same(block: Block, a: Any, b: Any) -> bool:
    """Equal as Terraform sees it: sets unordered, and every 'empty' alike."""
    if a is None or b is None:
        return a is None and b is None
    for name, attr in block.attributes.items():
        x, y = a.get(name), b.get(name)
        if empty(x) and empty(y):
            continue
        if _is_set(attr.type) and isinstance(x, list) and isinstance(y, list):
            if not _same_set(x, y):
                return False
        elif x != y:
            return False
    for name, nested in block.blocks.items():
        x, y = a.get(name), b.get(name)
        if nested.nesting == "single":
            if not same(nested.block, x, y):
                return False
        elif nested.nesting == "set":
            if not _same_set(x or [], y or []):
                return False
        elif len(x or []) != len(y or []) or not all(
            same(nested.block, i, j) for i, j in zip(x or [], y or [], strict=True)
        ):
            return False
    return True


def _same_set(a: list[Any], b: list[Any]) -> bool:
    try:
        return len(a) == len(b) and sorted(map(json.dumps, a)) == sorted(map(json.dumps, b))
    except TypeError:
        return False


def normalize(block: Block, value: Any) -> Any:
    """Every attribute present, list/set blocks as lists (never null)."""
    if value is None:
        return None
    out = {name: value.get(name) for name in block.attributes}
    for name, nested in block.blocks.items():
        inner = value.get(name)
        if nested.nesting == "single":
            out[name] = normalize(nested.block, inner)
        else:
            out[name] = [normalize(nested.block, v) for v in inner or []]
    return out


def replace_paths(block: Block, planned: Any, prior: Any, path: tuple[Any, ...] = ()) -> list[Any]:
    """Attribute paths whose change forces a new object (the schema's ForceNew)."""
    out: list[Any] = []
    if planned is None or prior is None:
        return out
    for name, attr in block.attributes.items():
        now, before = planned.get(name), prior.get(name)
        unchanged = now == before or (empty(now) and empty(before))
        settled_later = now is UNKNOWN or (attr.computed and now is None)
        if attr.force_new and not unchanged and not settled_later:
            out.append((*path, name))
    for name, nested in block.blocks.items():
        now, before = planned.get(name), prior.get(name)
        if nested.nesting == "list" and now and before:
            for i, (n, b) in enumerate(zip(now, before, strict=False)):
                out += replace_paths(nested.block, n, b, (*path, name, i))
        elif nested.nesting == "single":
            out += replace_paths(nested.block, now, before, (*path, name))
    return out


def validate(block: Block, value: Any, path: str = "") -> list[str]:
    """Item limits of list attributes, which the SDK checks and Terraform does not."""
    problems: list[str] = []
    if value is None or value is UNKNOWN:
        return problems
    for name, attr in block.attributes.items():
        got = value.get(name)
        if isinstance(got, list) and (attr.min_items or attr.max_items):
            if attr.min_items and len(got) < attr.min_items:
                problems.append(f"{path}{name}: attribute supports {attr.min_items} item minimum")
            if attr.max_items and len(got) > attr.max_items:
                problems.append(f"{path}{name}: attribute supports {attr.max_items} item maximum")
    for name, nested in block.blocks.items():
        got = value.get(name)
        items = [got] if nested.nesting == "single" else got or []
        if isinstance(items, list):
            for i, item in enumerate(items):
                problems += validate(nested.block, item, f"{path}{name}.{i}.")
    return problems
