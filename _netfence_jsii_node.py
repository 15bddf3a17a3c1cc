"""Give jsii a supported Node.js whatever the app imports first.

Installed beside netfence with ``netfence-jsii-node.pth``, which imports this
module when the interpreter starts. It costs one entry in ``sys.meta_path``
that answers nothing: on the first ``import jsii`` (which ``import cdktf`` or
``import cdktn`` does before jsii starts Node), it lets netfence choose the
Node jsii will run (``constructs_lib._node.ensure_node``: an explicit
JSII_NODE wins, else the bundled Node >= 22), so ``import cdktf`` before
``import constructs_lib`` neither runs an old system Node nor prints its
end-of-life banner. Interpreters that never import jsii load nothing more.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType


class ChooseNodeBeforeJsii:
    done = False

    @classmethod
    def find_spec(
        cls, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name != "jsii" or cls.done:
            return None
        cls.done = True
        try:
            from constructs_lib._node import ensure_node
        except ImportError:  # netfence was uninstalled and left this hook behind
            return None
        ensure_node()
        return None  # the ordinary finders import jsii itself

    @classmethod
    def invalidate_caches(cls) -> None:
        pass


if ChooseNodeBeforeJsii not in sys.meta_path:
    sys.meta_path.insert(0, ChooseNodeBeforeJsii)
