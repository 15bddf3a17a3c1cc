"""Package attributes that import their module on first use (PEP 562).

A command imports only what it runs: ``netfence verify`` never loads the
construct layer (cdktf), the model, or the review modules.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__``: ``table`` maps each name to the module (absolute, or
    relative to ``package``) that defines it; the value is kept once loaded."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
