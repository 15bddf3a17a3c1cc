"""Reachability and verification over loaded NetworkPolicies.

``reachability(policies, inventory)`` answers which connections the policies
allow; ``verify_stack(path)`` compares that with a stack's intent record.
The names below load on first use: a command that needs only the engine
(diff, lint) does not import the verification checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs_lib._lazy import lazy_attributes

if TYPE_CHECKING:
    from constructs_lib.verifier.connections import ConnectionSet
    from constructs_lib.verifier.ipset import IPSet
    from constructs_lib.verifier.reach import (
        Connection,
        Reachability,
        UnknownEndpointError,
        reachability,
    )
    from constructs_lib.verifier.verify import (
        Finding,
        StackResult,
        Verification,
        verify_intent,
        verify_stack,
    )

_LAZY = {
    "ConnectionSet": ".connections",
    "IPSet": ".ipset",
    "Connection": ".reach",
    "Reachability": ".reach",
    "UnknownEndpointError": ".reach",
    "reachability": ".reach",
    "Finding": ".verify",
    "StackResult": ".verify",
    "Verification": ".verify",
    "verify_intent": ".verify",
    "verify_stack": ".verify",
}

__all__ = [
    "Connection",
    "ConnectionSet",
    "Finding",
    "IPSet",
    "Reachability",
    "StackResult",
    "UnknownEndpointError",
    "Verification",
    "reachability",
    "verify_intent",
    "verify_stack",
]


__getattr__ = lazy_attributes(__name__, _LAZY)
