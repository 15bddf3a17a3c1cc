"""Everything is in pyproject.toml except one build step it cannot say.

The wheel carries ``netfence-jsii-node.pth`` at the top of site-packages, so
the interpreter imports ``_netfence_jsii_node`` at start and ``import cdktf``
before ``import constructs_lib`` still runs a supported Node (see that module).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PTH = "netfence-jsii-node.pth"


class BuildWithStartupHook(build_py):  # type: ignore[misc]
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / PTH
        target.write_text("import _netfence_jsii_node\n", encoding="utf-8")

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), str(Path(self.build_lib) / PTH)]


setup(cmdclass={"build_py": BuildWithStartupHook})
