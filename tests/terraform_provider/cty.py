"""cty values on the wire: msgpack with a type to read them by, and JSON states.

Python shapes: ``None`` is null, ``UNKNOWN`` is an unknown value, objects are
dicts that carry every attribute, lists and sets are lists, maps are dicts,
numbers are int or float. Types are cty's JSON type form (``"string"``,
``["list", "string"]``, ``["object", {...}]``).
"""

from __future__ import annotations

import json
import math
from typing import Any

import msgpack


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()

# cty writes an unknown as extension 0; Terraform >= 1.6 may send a refined
# unknown (extension 12 with the refinements as payload). Both are unknown here.
_UNKNOWN_EXT = (0, 12)


def _ext_hook(code: int, data: bytes) -> Any:
    if code in _UNKNOWN_EXT:
        return UNKNOWN
    raise ValueError(f"unexpected msgpack extension {code}")


def unpack(raw: bytes, ctype: Any) -> Any:
    """Decode a DynamicValue's msgpack bytes as a value of ``ctype``."""
    if not raw:
        return None
    plain = msgpack.unpackb(raw, raw=False, ext_hook=_ext_hook, strict_map_key=False)
    return conform(plain, ctype)


def pack(value: Any, ctype: Any) -> bytes:
    packed: bytes = msgpack.packb(_prepare(value, ctype), use_bin_type=True)
    return packed


def from_json(text: bytes | str, ctype: Any) -> Any:
    """A value from Terraform's JSON state (UpgradeResourceState's raw_state)."""
    return conform(json.loads(text), ctype)


def conform(value: Any, ctype: Any) -> Any:
    """Check ``value`` against ``ctype``; fill absent object attributes with null."""
    if value is None or value is UNKNOWN:
        return value
    if ctype == "dynamic":
        raise TypeError("dynamic values are not used by this provider")
    if ctype == "string":
        if not isinstance(value, str):
            raise TypeError(f"expected string, got {value!r}")
        return value
    if ctype == "bool":
        if not isinstance(value, bool):
            raise TypeError(f"expected bool, got {value!r}")
        return value
    if ctype == "number":
        return _number(value)
    kind, inner = ctype
    if kind in ("list", "set"):
        return [conform(v, inner) for v in value]
    if kind == "map":
        return {k: conform(v, inner) for k, v in value.items()}
    if kind == "object":
        return {k: conform(value.get(k), t) for k, t in inner.items()}
    if kind == "tuple":
        return [conform(v, t) for v, t in zip(value, inner, strict=True)]
    raise TypeError(f"unknown cty type {ctype!r}")


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise TypeError(f"expected number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, str):  # cty's form for numbers beyond float64 precision
        number = float(value)
        return int(value) if number.is_integer() and "." not in value else number
    raise TypeError(f"expected number, got {value!r}")


def _prepare(value: Any, ctype: Any) -> Any:
    if value is None:
        return None
    if value is UNKNOWN:
        return msgpack.ExtType(0, b"\x00")
    if ctype in ("string", "bool"):
        return value
    if ctype == "number":
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"cannot encode {value} as a cty number")
        return int(value) if isinstance(value, float) and value.is_integer() else value
    kind, inner = ctype
    if kind in ("list", "set"):
        return [_prepare(v, inner) for v in value]
    if kind == "map":
        return {k: _prepare(v, inner) for k, v in value.items()}
    if kind == "object":
        return {k: _prepare(value.get(k), t) for k, t in inner.items()}
    if kind == "tuple":
        return [_prepare(v, t) for v, t in zip(value, inner, strict=True)]
    raise TypeError(f"unknown cty type {ctype!r}")


def has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    return False
