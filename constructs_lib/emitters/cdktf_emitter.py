"""The cdktf/cdktn emitter: one TerraformElement per stack renders all of netfence's resources.

A provider construct per resource costs several jsii round-trips each
(seconds for thousands of policies). Instead, one element per stack hands
the CDK the whole rendered fragment in a single callback, and the intent
record in another; the CDK merges them into cdk.tf.json like any element's.
The element class derives from the TerraformElement of the stack's own CDK
(cdktf or cdktn, see ``constructs_lib.constructs.cdk``).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from constructs import Construct

_CLASSES: dict[str, type] = {}


def element_class(cdk: ModuleType) -> type:
    """``NetfenceElement`` for ``cdk`` (the cdktf or cdktn module), made once."""
    made = _CLASSES.get(cdk.__name__)
    if made is not None:
        return made

    class NetfenceElement(cdk.TerraformElement):  # type: ignore[name-defined,misc]
        def __init__(
            self,
            scope: Construct,
            id: str,
            render: Callable[[], dict[str, Any]],
            metadata: Callable[[], dict[str, Any]],
        ) -> None:
            super().__init__(scope, id)
            self._render = render
            self._metadata = metadata

        def to_terraform(self) -> Any:
            return self._render()

        def to_metadata(self) -> Any:
            return self._metadata()

    _CLASSES[cdk.__name__] = NetfenceElement
    return NetfenceElement
