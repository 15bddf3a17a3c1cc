"""netfence: zero-trust Kubernetes NetworkPolicies from Python intent.

The construct classes pull in cdktf (a Node.js process behind jsii); they are
loaded on first use so that commands which only read artifacts (``netfence
verify``, ``reach``, ``map``) never pay for it.
"""

from __future__ import annotations

from typing import Any

__all__: list[str] = []


def __getattr__(name: str) -> Any:
    raise AttributeError(f"module 'constructs_lib' has no attribute {name!r}")
