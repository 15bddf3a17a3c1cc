"""The cdktf emitter: one TerraformElement per stack renders all of netfence's resources.

A provider construct per resource costs several jsii round-trips each
(seconds for thousands of policies). Instead, one element per stack hands
cdktf the whole rendered fragment in a single callback, and the intent
record in another; cdktf merges them into cdk.tf.json like any element's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cdktf import TerraformElement
from constructs import Construct


class NetfenceElement(TerraformElement):
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
