"""Field paths to line numbers, by re-reading a file's node tree.

The loaders keep values, not positions. Lint composes the file again (YAML,
and JSON through the same parser, JSON being YAML's flow style) only when
a finding in it needs a line, and walks the loader's field path through the
nodes. Terraform blocks may be one-element lists or plain objects; the walk
steps through either, and returns the path as the file spells it. A file the
composer cannot read (it already passed the strict loaders) simply has no
lines: findings keep their field paths.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_SEGMENT = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def split_path(path: str) -> list[str | int]:
    """``spec.ingress[0].from`` -> ``["spec", "ingress", 0, "from"]``."""
    return [int(index) if index else key for index, key in _SEGMENT.findall(path)]


def join_path(segments: list[str | int]) -> str:
    out = ""
    for seg in segments:
        if isinstance(seg, int):
            out += f"[{seg}]"
        else:
            out += f".{seg}" if out else seg
    return out


Request = tuple[int | None, str]  # (document, field path)
Answer = tuple[int | None, str, bool]  # (line, path as spelled, whole path found)


def _line_loader() -> type[Any]:
    """The C composer without tag resolution: positions need no types, and it halves the time."""
    import yaml

    base: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class LineLoader(base):  # type: ignore[misc]
        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            return ""

    return LineLoader


def locate_all(file: str, requests: Iterable[Request]) -> dict[Request, Answer]:
    """Answer every request for one file in one streaming pass over its documents.

    Documents are composed one at a time and dropped once their requests are
    answered, so memory stays that of one document. A file the composer cannot
    read answers every request with no line.
    """
    import yaml

    wanted: dict[int, list[Request]] = {}
    for request in requests:
        wanted.setdefault(request[0] or 0, []).append(request)
    answers: dict[Request, Answer] = {}
    try:
        text = Path(file).read_text(encoding="utf-8")
        # The same documents as the loaders' load_all, empty ones included.
        for index, node in enumerate(yaml.compose_all(text, Loader=_line_loader())):
            for request in wanted.pop(index, ()):
                answers[request] = walk(node, request[1])
            if not wanted:
                break
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        pass
    for left in wanted.values():
        answers.update({r: (None, r[1], False) for r in left})
    return answers


def walk(node: Any, path: str) -> Answer:
    """Follow ``path`` from ``node``; the line is that of the deepest field found."""
    import yaml

    segments = split_path(path)
    if node is None:
        return None, path, False
    done: list[str | int] = []
    line = node.start_mark.line + 1
    for i, seg in enumerate(segments):
        if isinstance(seg, str):
            if isinstance(node, yaml.SequenceNode) and len(node.value) == 1:
                node = node.value[0]
                done.append(0)
            child = None
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.value == seg:
                        child = (key, value)
                        break
            if child is None:
                return line, join_path(done + segments[i:]), False
            key_node, node = child
            line = key_node.start_mark.line + 1
        else:
            if isinstance(node, yaml.SequenceNode) and seg < len(node.value):
                node = node.value[seg]
                line = node.start_mark.line + 1
            elif not (isinstance(node, yaml.MappingNode) and seg == 0):
                return line, join_path(done + segments[i:]), False
            else:
                continue  # a lone Terraform block stands for its one-element list
        done.append(seg)
    return line, join_path(done), True


def first_items(file: str, path: str, key: str) -> dict[str, int]:
    """For the list at ``path`` (document 0): each value of ``key`` -> first item holding it."""
    import yaml

    try:
        text = Path(file).read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=_line_loader())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    for seg in split_path(path):
        if not isinstance(node, yaml.MappingNode):
            return {}
        node = next((v for k, v in node.value if k.value == seg), None)
    out: dict[str, int] = {}
    for i, item in enumerate(node.value if isinstance(node, yaml.SequenceNode) else ()):
        if isinstance(item, yaml.MappingNode):
            for k, v in item.value:
                if k.value == key and isinstance(v, yaml.ScalarNode):
                    out.setdefault(v.value, i)
    return out
