"""Intent -> provider-neutral PolicySpec objects."""

from constructs_lib.compiler.compile import compile_topology

__all__ = ["compile_topology"]
