"""The netfence boundary of the construct tree: (scope, id) checked before jsii sees them.

constructs and cdktf report a duplicate id or a missing stack as a jsii
RuntimeError carrying a JavaScript stack, and a wrong argument type as a
typeguard TypeError; netfence says the same in its own terms instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from constructs import Construct

from constructs_lib.constructs.cdk import cdk_of
from constructs_lib.errors import InvalidIntentError
from constructs_lib.syntax import is_path_segment


def check_scope(kind: str, scope: object, id: object, *, stack: bool = False) -> str:
    """Refuse a bad ``(scope, id)`` for a ``kind`` construct; return its path.

    stack: the construct is a stack (its scope is the app, its id names the
    artifact directory) rather than something declared inside a stack.
    """
    if not isinstance(scope, Construct):
        where = "the app" if stack else "the stack (or a construct inside it)"
        raise InvalidIntentError(
            f"{kind}({id!r})",
            "scope",
            f"{scope!r} is not a construct; pass {where} as the first argument",
        )
    parent = scope.node.path
    if not isinstance(id, str) or not id:
        raise InvalidIntentError(
            f"{kind} in {parent or 'the app'}",
            "id",
            f"{id!r} is not a construct id (a non-empty string)",
        )
    path = f"{parent}/{id}" if parent else id
    existing = scope.node.try_find_child(id)
    if existing is not None:
        raise InvalidIntentError(
            path,
            "id",
            f"{parent or 'the app'} already has a construct with id {id!r} "
            f"({type(existing).__name__}); ids must be unique within their scope",
        )
    if stack:
        stack_name(id)
    elif not any(cdk_of(scope).TerraformStack.is_stack(s) for s in scope.node.scopes):
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
def jsii_errors(path: str) -> Iterator[None]:
    """Whatever else constructs refuses, without the JavaScript stack."""
    try:
        yield
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidIntentError(path, "scope", first.removeprefix("Error: ")) from None
