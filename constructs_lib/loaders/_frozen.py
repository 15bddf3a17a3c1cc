"""Building frozen dataclass instances in bulk.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``
(its own ``__setattr__`` refuses): a call per field, which is most of building
the tens of thousands of flows and workloads of a large intent record.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def fields_builder(cls: type[T]) -> Callable[..., T]:
    """A function of every field of ``cls`` (positional, in the class's order, none
    left out) that returns the instance ``cls(...)`` returns, its fields stored in
    its ``__dict__`` directly. For classes whose ``__init__`` only stores its fields
    (no ``__post_init__``, no ``InitVar``, no ``init=False`` field).
    """
    assert dataclasses.is_dataclass(cls) and not hasattr(cls, "__post_init__"), cls
    fields = dataclasses.fields(cls)
    assert all(f.init for f in fields), cls
    names = [f.name for f in fields]
    # generated as dataclasses generates __init__: one store per field, no loop
    lines = [f"def build({', '.join(names)}):", "    obj = new(cls)", "    fields = obj.__dict__"]
    lines += [f"    fields[{name!r}] = {name}" for name in names]
    lines.append("    return obj")
    scope: dict[str, Any] = {"new": object.__new__, "cls": cls}
    exec("\n".join(lines), scope)  # the text above: field names only
    build: Callable[..., T] = scope["build"]
    build.__qualname__ = f"fields_builder({cls.__name__})"
    return build
