"""Reachability and verification over loaded NetworkPolicies.

``reachability(policies, inventory)`` answers which connections the policies
allow; ``verify_stack(path)`` compares that with a stack's intent record.
"""

from __future__ import annotations

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
