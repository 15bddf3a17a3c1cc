"""The one safe way netfence reads a file: bounded, decoded, parsed strictly.

Every input (artifacts, plans, manifests, live objects, inventories,
netfence.yaml, imports files) comes through here, so each of these holds for
all of them at once, as an ``ArtifactError`` naming the file:

- only regular files are read (a FIFO would block, ``/dev/zero`` never ends),
  and at most ``MAX_BYTES`` of them;
- text is UTF-8, as kubectl and Terraform require;
- a key given twice in one JSON object or YAML mapping is refused (Terraform
  says "Too many spec blocks", the API server keeps one silently);
- YAML aliases are refused (an alias bomb expands exponentially) and nesting
  is bounded, so reading takes time linear in the size of the input and never
  overflows a stack.
"""

from __future__ import annotations

import gc
import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from constructs_lib.errors import ArtifactError

if TYPE_CHECKING:
    import yaml

MAX_BYTES = 1024 * 1024 * 1024
MAX_DEPTH = 100


def read_text(file: str | os.PathLike[str]) -> str:
    """The UTF-8 text of a regular file of at most MAX_BYTES."""
    name = str(file)
    try:
        info = os.stat(file)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise ArtifactError(name, f"cannot read: {kind}; give a file")
        # O_NONBLOCK: a FIFO swapped in after the check must not block the open.
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ArtifactError(name, "cannot read: not a regular file; give a file")
            with os.fdopen(fd, "rb", closefd=False) as handle:
                raw = handle.read(MAX_BYTES + 1)
        finally:
            os.close(fd)
    except OSError as exc:
        raise ArtifactError(name, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise ArtifactError(
            name,
            f"cannot read: larger than {MAX_BYTES // (1024 * 1024)} MiB, the most netfence reads",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArtifactError(
            name, f"cannot read: not UTF-8 text (byte {exc.start} is {raw[exc.start]:#04x})"
        ) from None


@contextmanager
def collector_paused() -> Iterator[None]:
    """Reading builds millions of dicts, lists and frozen dataclasses and no reference
    cycles, yet the cyclic collector would rescan every live one again as they pile up
    (a tenth of reading a large file): it waits until the file is read."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)  # in C; only a shorter dict means a key was given twice
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)  # the first key seen a second time
            seen.add(key)
    return out


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _YamlDuplicate(Exception):
    def __init__(self, key: str, first: int, line: int) -> None:
        super().__init__(key)
        self.key, self.first, self.line = key, first, line


def parse_json(text: str, file: str, expected: str | None = None) -> Any:
    """The tree ``json.loads`` reads, with a key given twice in one object refused.

    orjson reads it, two to three times as fast, where that is provably the same
    tree; anywhere else json reads the text again and decides, so each refusal
    and its message is json's (not JSON, nested too deeply, the first key
    given twice), and so is each value orjson reads otherwise (NaN, 1e400,
    lone surrogates, integers beyond 64 bits, which it reads as floats).

    orjson keeps the last of a repeated key silently; counting colons finds
    it. In valid JSON each key/value pair has one ':' and every other ':' is
    inside a string, which orjson writes back with its colons as they were.
    So ``text`` has as many colons as orjson's output, unless a pair was
    dropped, or a string spells a colon as an escape (``\\u003a``, left to
    json). orjson writes each float of magnitude 1e16 or more with ``e+``
    (``1e+16``), and an integer beyond 64 bits is one: an output without an
    'e+' holds no integer it read as a float (a string with 'e+' in it goes to
    json too, which is only slower).

    ``expected`` says what the command wanted, for a file that is not JSON at all.
    """
    tree = _orjson_tree(text)
    if tree is not _UNPROVEN:
        return tree
    invalid = f"{expected} not valid JSON" if expected else "not valid JSON"
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise ArtifactError(
            file,
            f"key {exc.key!r} appears twice in one object; Terraform and Kubernetes "
            "refuse or drop one of them: keep one",
        ) from None
    except RecursionError:
        raise ArtifactError(file, f"{invalid}: nested too deeply") from None
    except ValueError as exc:
        raise ArtifactError(file, f"{invalid}: {exc}") from None


_UNPROVEN: Any = object()


def _orjson_tree(text: str) -> Any:
    """orjson's tree of ``text`` where it is json's, else _UNPROVEN (see parse_json)."""
    if "\\" in text and ("\\u003a" in text or "\\u003A" in text):
        return _UNPROVEN
    try:
        tree = orjson.loads(text)
        written = orjson.dumps(tree)  # refuses nesting deeper than 254: json reads it
    except (ValueError, TypeError):  # orjson's refusals (JSONDecodeError, JSONEncodeError)
        return _UNPROVEN
    if b"e+" in written or written.count(b":") != text.count(":"):
        return _UNPROVEN
    return tree


def read_json(file: str | os.PathLike[str]) -> Any:
    return parse_json(read_text(file), str(file))


def yaml_loader() -> type[yaml.SafeLoader]:
    """The strict safe loader (libyaml's parser when PyYAML was built with it: ~10x faster)."""
    return _strict_loader()


_LOADER: list[type[Any]] = []


def _strict_loader() -> type[Any]:
    if _LOADER:
        return _LOADER[0]
    import yaml

    base: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class StrictLoader(base):  # type: ignore[misc]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, yaml.MappingNode):
                seen: dict[Any, Any] = {}
                for key_node, _ in node.value:
                    if isinstance(key_node, yaml.ScalarNode):
                        key = (key_node.tag, key_node.value)
                        if key in seen:
                            raise _YamlDuplicate(
                                key_node.value, seen[key].line + 1, key_node.start_mark.line + 1
                            )
                        seen[key] = key_node.start_mark
            return super().construct_mapping(node, deep=deep)

    _LOADER.append(StrictLoader)
    return StrictLoader


_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_VALUE_TAG = "tag:yaml.org,2002:value"
_SEQ, _KEY, _VALUE = 0, 1, 2  # what the open collection waits for
_NONE: Any = object()


def _build_documents(text: str, file: str) -> tuple[list[Any] | None, ArtifactError | None]:
    """The documents, built from libyaml's events in one pass (None: PyYAML builds them).

    Values are PyYAML's: tags resolve with its resolver (YAML 1.1: yes/no/on/off,
    017, 0x1f, 1_000, 1:30, .inf, timestamps...) and every scalar that is not a
    string is constructed by its SafeConstructor, so the documents equal
    ``yaml.load_all(text, Loader=yaml_loader())``. What only PyYAML's composer
    and constructor build (a merge key ``<<``, a collection as a key, an explicit
    tag on a collection such as ``!!set``), and every input it refuses (a key
    given twice, a value its constructors refuse), is left to PyYAML: it then
    reads the whole text as before, so its values, refusals and their order are
    the same. With the documents None goes the refusal of a value PyYAML's
    constructors raise without a location (``!!int x``), located, if there is one.

    Either way this pass refuses aliases and nesting deeper than MAX_DEPTH
    first, over the whole text: libyaml's composer recurses in C without a
    limit, and a deep enough input would crash the interpreter.
    """
    import yaml

    loader = _strict_loader()(text)
    get, resolve, construct = loader.get_event, loader.resolve, loader.construct_object
    scalar_event, scalar_node, alias = yaml.ScalarEvent, yaml.ScalarNode, yaml.AliasEvent
    map_start, seq_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    plain_tags: dict[str, str] = {}  # plain scalar text -> its resolved tag
    values: dict[tuple[str, str], Any] = {}  # (tag, text) -> its scalar (all immutable)
    documents: list[Any] = []
    # The open collection: a list (SEQ), or a dict waiting for a KEY or for the VALUE of
    # `key`, with the keys it has seen ((tag, text), or the text of a string).
    # Enclosing ones wait on the stack.
    container: Any = documents
    mode, key = _SEQ, None
    seen: set[Any] = set()
    stack: list[tuple[Any, int, Any, Any]] = []
    problem: ArtifactError | None = None  # what PyYAML refuses without saying where
    needs_pyyaml = False
    building = True
    depth = 0
    try:
        while (event := get()) is not None:
            kind = event.__class__
            if kind is scalar_event:
                if not building:
                    continue
                raw, tag = event.value, event.tag
                if tag is None or tag == "!":
                    if event.implicit[0]:  # plain: resolved by its text (the resolver's rule)
                        tag = plain_tags.get(raw)
                        if tag is None:
                            tag = plain_tags[raw] = resolve(scalar_node, raw, event.implicit)
                    else:  # quoted or tagged "!": the resolver's default (it has no path rules)
                        tag = _STR_TAG
                if tag == _STR_TAG or (tag == _VALUE_TAG and mode == _KEY):
                    value = raw  # PyYAML reads a key "=" as the string
                elif tag == _MERGE_TAG and mode == _KEY:
                    needs_pyyaml, building = True, False
                    continue
                else:
                    value = values.get((tag, raw), _NONE)
                    if value is _NONE:
                        try:
                            node = scalar_node(tag, raw, event.start_mark, event.end_mark)
                            value = values[(tag, raw)] = construct(node)
                        except yaml.YAMLError:
                            needs_pyyaml, building = True, False  # PyYAML words it
                            continue
                        except Exception:  # PyYAML's constructors leak ValueError, KeyError...
                            short = tag.replace("tag:yaml.org,2002:", "!!")
                            problem = ArtifactError(
                                file,
                                f"not valid YAML: {raw!r} on line {event.start_mark.line + 1} "
                                f"cannot be read as {short}: write a valid value or drop the tag",
                            )
                            needs_pyyaml, building = True, False
                            continue
                        finally:
                            loader.constructed_objects.clear()
                if mode == _SEQ:
                    container.append(value)
                elif mode == _KEY:
                    seen_as = raw if tag == _STR_TAG else (tag, raw)
                    if seen_as in seen:  # PyYAML's strict loader refuses it in its order
                        needs_pyyaml, building = True, False
                        continue
                    seen.add(seen_as)
                    key, mode = value, _VALUE
                else:
                    container[key] = value
                    mode = _KEY
            elif kind is map_start or kind is seq_start:
                depth += 1
                if depth > MAX_DEPTH:
                    line = event.start_mark.line + 1 if event.start_mark else 0
                    raise ArtifactError(
                        file, f"not valid YAML: nested more than {MAX_DEPTH} deep (line {line})"
                    )
                if not building:
                    continue
                default = _MAP_TAG if kind is map_start else _SEQ_TAG
                if mode == _KEY or event.tag not in (None, "!", default):
                    needs_pyyaml, building = True, False
                    continue
                stack.append((container, mode, key, seen))
                if kind is map_start:
                    container, mode, seen = {}, _KEY, set()
                else:
                    container, mode = [], _SEQ
            elif kind in ends:
                depth -= 1
                if not building:
                    continue
                value = container
                container, mode, key, seen = stack.pop()
                if mode == _SEQ:
                    container.append(value)
                else:
                    container[key] = value
                    mode = _KEY
            elif kind is alias:
                line = event.start_mark.line + 1 if event.start_mark else 0
                raise ArtifactError(
                    file,
                    f"YAML alias *{event.anchor} on line {line} is not supported "
                    "(aliases can expand without bound): write the value out",
                )
    finally:
        loader.dispose()
    return (None, problem) if needs_pyyaml else (documents, None)


def parse_yaml_documents(text: str, file: str) -> list[Any]:
    import yaml

    try:
        documents, unlocated = _build_documents(text, file)
        if documents is None:
            try:
                documents = list(yaml.load_all(text, Loader=_strict_loader()))
            except (ValueError, LookupError, AttributeError, TypeError):
                if unlocated is None:
                    raise
                raise unlocated from None
        return documents
    except _YamlDuplicate as dup:
        raise ArtifactError(
            file,
            f"key {dup.key!r} on line {dup.line} appears twice in one mapping (first on line "
            f"{dup.first}); readers keep only one of them, so write it once",
        ) from None
    except yaml.YAMLError as exc:
        raise ArtifactError(file, f"not valid YAML: {exc}") from None


def read_yaml_documents(file: str | os.PathLike[str]) -> list[Any]:
    return parse_yaml_documents(read_text(file), str(file))


def read_yaml(file: str | os.PathLike[str]) -> Any:
    """A single-document YAML file (an empty file is None)."""
    documents = read_yaml_documents(file)
    if len(documents) > 1:
        raise ArtifactError(
            str(file), f"expected one YAML document, got {len(documents)} (separated by ---)"
        )
    return documents[0] if documents else None


def is_yaml(file: str | os.PathLike[str]) -> bool:
    return Path(file).suffix in (".yaml", ".yml")
