"""The netfence boundary of the construct tree: (scope, id) checked before jsii sees them.

constructs and cdktf report a duplicate id or a missing stack as a jsii
RuntimeError carrying a JavaScript stack, and a wrong argument type as a
typeguard TypeError; netfence says the same in its own terms instead.

Every question to a jsii construct is a round trip to the Node process
(about 0.1 ms). What netfence asks of a scope (its path, the stack it is
in) never changes once the scope exists, so it is asked once per scope and
kept on it: declaring a construct then costs the one round trip that
creates it, however many share the scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from constructs import Construct

from constructs_lib.constructs.cdk import cdk_of, stack_of
from constructs_lib.errors import InvalidIntentError
from constructs_lib.syntax import is_path_segment

_PATH_ATTR = "_netfence_path"
_STACK_ATTR = "_netfence_stack"


def scope_path(scope: Construct) -> str:
    """``scope.node.path``, asked of jsii once per scope."""
    path: str | None = getattr(scope, _PATH_ATTR, None)
    if path is None:
        path = scope.node.path
        setattr(scope, _PATH_ATTR, path)
    return path


def enclosing_stack(scope: Construct) -> Any | None:
    """The stack ``scope`` is or is in (of its App's CDK), None when there is none;
    asked of jsii once per scope."""
    found: tuple[Any | None] | None = getattr(scope, _STACK_ATTR, None)
    if found is None:
        cdk = cdk_of(scope)
        inside = any(cdk.TerraformStack.is_stack(s) for s in scope.node.scopes)
        found = (stack_of(scope) if inside else None,)
        setattr(scope, _STACK_ATTR, found)
    return found[0]


def check_scope(kind: str, scope: object, id: object, *, stack: bool = False) -> str:
    """Refuse a bad ``(scope, id)`` for a ``kind`` construct; return its path.

    stack: the construct is a stack (its scope is the app, its id names the
    artifact directory) rather than something declared inside a stack.
    A duplicate id is refused when the construct is created (``jsii_errors``).
    """
    if not isinstance(scope, Construct):
        where = "the app" if stack else "the stack (or a construct inside it)"
        raise InvalidIntentError(
            f"{kind}({id!r})",
            "scope",
            f"{scope!r} is not a construct; pass {where} as the first argument",
        )
    parent = scope_path(scope)
    if not isinstance(id, str) or not id:
        raise InvalidIntentError(
            f"{kind} in {parent or 'the app'}",
            "id",
            f"{id!r} is not a construct id (a non-empty string)",
        )
    path = f"{parent}/{id}" if parent else id
    if stack:
        stack_name(id)
    elif enclosing_stack(scope) is None:
        raise InvalidIntentError(
            path,
            "scope",
            f"{parent or 'the app'} is neither a stack nor inside one; declare {kind} in a "
            "NetfenceStack (or a TerraformStack), not on the app",
        )
    return path


def stack_name(id: str) -> str:
    """A stack id names its directory cdktf.out/stacks/<id>: one safe path segment."""
    if not is_path_segment(id):
        raise InvalidIntentError(
            id,
            "id",
            f"{id!r} is not a safe stack name: synth writes the stack to "
            "cdktf.out/stacks/<name>/, so the name must be one directory name (letters, "
            "digits, '-', '_' and '.', starting with a letter or digit)",
        )
    return id


@contextmanager
def jsii_errors(path: str, scope: Construct, id: str) -> Iterator[None]:
    """Creating the construct ``id`` in ``scope``: a duplicate id, and whatever else
    constructs refuses, without the JavaScript stack."""
    try:
        yield
    except RuntimeError as exc:
        existing = scope.node.try_find_child(id)
        if existing is not None:
            parent = scope_path(scope)
            raise InvalidIntentError(
                path,
                "id",
                f"{parent or 'the app'} already has a construct with id {id!r} "
                f"({type(existing).__name__}); ids must be unique within their scope",
            ) from None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidIntentError(path, "scope", first.removeprefix("Error: ")) from None
