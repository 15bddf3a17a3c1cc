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


class Locator:
    """Lines of one file's documents; built on first use."""

    def __init__(self, file: str) -> None:
        self.file = file
        self._documents: list[Any] | None = None

    def _document(self, document: int | None) -> Any:
        if self._documents is None:
            import yaml

            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            try:
                text = Path(self.file).read_text(encoding="utf-8")
                # The same documents as the loaders' load_all, empty ones included.
                self._documents = list(yaml.compose_all(text, Loader=loader))
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                self._documents = []
        index = document or 0
        return self._documents[index] if index < len(self._documents) else None

    def locate(self, document: int | None, path: str) -> tuple[int | None, str, bool]:
        """(1-based line, path as the file spells it, whether the whole path was found).

        The line is that of the deepest field found; None when the file has no lines.
        """
        import yaml

        segments = split_path(path)
        node = self._document(document)
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

    def index_of(self, path: str, key: str, value: str) -> int | None:
        """The index of the first item of the list at ``path`` whose ``key`` is ``value``."""
        import yaml

        node = self._document(0)
        for seg in split_path(path):
            if not isinstance(node, yaml.MappingNode):
                return None
            node = next((v for k, v in node.value if k.value == seg), None)
        if not isinstance(node, yaml.SequenceNode):
            return None
        for i, item in enumerate(node.value):
            if isinstance(item, yaml.MappingNode) and any(
                k.value == key and getattr(v, "value", None) == value for k, v in item.value
            ):
                return i
        return None
