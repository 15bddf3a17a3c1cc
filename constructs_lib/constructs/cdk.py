"""Which CDK the app runs on: cdktf, or CDK Terrain (``cdktn``, the community fork).

The two have the same API under different module names, and both may be
installed at once. netfence never picks one on its own: every construct
follows the App at the root of its construct tree (``cdk_of``), so the
stacks, elements and backends it creates come from the library the user's
App came from, never a mix. Where there is no App to follow (an example app
choosing which ``App`` to create), ``default_cdk`` decides: the environment
variable NETFENCE_CDK, else the only CDK installed, else an error saying how
to choose. This module is the only one that names the two libraries.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from types import ModuleType
from typing import Any

from constructs_lib.errors import InvalidIntentError

CDKS = ("cdktf", "cdktn")
ENV_VAR = "NETFENCE_CDK"


def library_of(cls: type) -> str | None:
    """``cdktf`` or ``cdktn`` when ``cls`` is (or derives from) one of their classes."""
    for klass in cls.__mro__:
        root = klass.__module__.split(".")[0]
        if root in CDKS:
            return root
    return None


def _describe(obj: object) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def cdk_of(scope: Any) -> ModuleType:
    """The CDK module of the App at the root of ``scope``'s construct tree."""
    root = scope.node.root
    name = library_of(type(root))
    if name is None:
        raise InvalidIntentError(
            scope.node.path or "<root>",
            "scope",
            f"cannot tell whether this app runs on cdktf or cdktn: the root of the "
            f"construct tree is a {_describe(root)}, not an App; create it with "
            "cdktf.App() or cdktn.App()",
        )
    return sys.modules[name]


def check_same_cdk(scope: Any, cdk: ModuleType) -> None:
    """Refuse a construct tree that mixes the two CDKs (e.g. a cdktn stack in a cdktf App)."""
    for construct in scope.node.scopes:
        other = library_of(type(construct))
        if other is not None and other != cdk.__name__:
            raise InvalidIntentError(
                construct.node.path or "<root>",
                "scope",
                f"is a {_describe(construct)} inside a {cdk.__name__} App; one app runs "
                f"on one CDK: create every App and TerraformStack from {cdk.__name__} "
                f"(or all from {other})",
            )


def stack_of(scope: Any) -> Any:
    """``TerraformStack.of(scope)`` from the app's own CDK, or a clear refusal.

    Two jsii calls on the common path; the tree is walked for the construct
    that mixes CDKs only when the stack found is not of the app's CDK (each
    CDK's ``TerraformStack.of`` also finds the other's stacks).
    """
    cdk = cdk_of(scope)
    stack = cdk.TerraformStack.of(scope)
    if library_of(type(stack)) != cdk.__name__:
        check_same_cdk(scope, cdk)
    return stack


def installed() -> tuple[str, ...]:
    """The CDKs that are installed (found, not imported)."""
    return tuple(name for name in CDKS if importlib.util.find_spec(name) is not None)


def default_cdk() -> ModuleType:
    """The CDK for an app that has not created its App yet.

    NETFENCE_CDK (``cdktf`` or ``cdktn``) when set; else the only one
    installed; else the only one already imported; else an error naming
    the ways to choose. Never a guess.
    """
    present = installed()
    wanted = os.environ.get(ENV_VAR)
    if wanted:
        if wanted not in CDKS:
            raise InvalidIntentError(
                ENV_VAR, "value", f"{wanted!r} is not one of {', '.join(CDKS)}"
            )
        if wanted not in present:
            raise InvalidIntentError(
                ENV_VAR,
                "value",
                f"{wanted!r} is not installed (pip install 'netfence[{wanted}]')",
            )
        return importlib.import_module(wanted)
    if len(present) == 1:
        return importlib.import_module(present[0])
    if not present:
        raise InvalidIntentError(
            "netfence",
            "cdk",
            "neither cdktf nor cdktn is installed; pip install netfence "
            "(cdktf) or 'netfence[cdktn]'",
        )
    loaded = [name for name in present if name in sys.modules]
    if len(loaded) == 1:
        return sys.modules[loaded[0]]
    raise InvalidIntentError(
        "netfence",
        "cdk",
        "both cdktf and cdktn are installed and nothing says which this app uses; "
        f"set {ENV_VAR}=cdktf or {ENV_VAR}=cdktn, or create the App from the one "
        "you want (netfence follows the App)",
    )


class FollowsApp(type):
    """Metaclass of NetfenceStack: an instance is a TerraformStack of its App's CDK.

    ``ShopStack(app, "prod")`` builds (once per class and CDK) a class
    deriving from ShopStack and the app's ``TerraformStack`` and instantiates
    that, so user code subclasses NetfenceStack without naming a CDK.
    """

    _made: dict[tuple[type, str], type] = {}
    _metas: dict[str, type] = {}

    def __call__(cls, scope: Any, id: str, *args: Any, **kwargs: Any) -> Any:
        if cls.__dict__.get("_netfence_cdk") is not None:  # already bound to a CDK
            return super().__call__(scope, id, *args, **kwargs)
        cdk = cdk_of(scope)
        check_same_cdk(scope, cdk)
        return _bound(cls, cdk)(scope, id, *args, **kwargs)


def _bound(cls: type, cdk: ModuleType) -> type:
    key = (cls, cdk.__name__)
    made = FollowsApp._made.get(key)
    if made is None:
        base = cdk.TerraformStack
        meta = FollowsApp._metas.get(cdk.__name__)
        if meta is None:  # jsii classes have their own metaclass; combine the two
            meta = type(f"FollowsApp_{cdk.__name__}", (FollowsApp, type(base)), {})
            FollowsApp._metas[cdk.__name__] = meta
        namespace = {
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "_netfence_cdk": cdk.__name__,
        }
        made = meta(cls.__name__, (cls, base), namespace)
        FollowsApp._made[key] = made
    return made
