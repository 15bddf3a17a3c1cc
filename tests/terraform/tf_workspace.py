"""Helpers for running real Terraform against the test provider.

Terraform installs ``registry.terraform.io/hashicorp/kubernetes`` (2.38.0, or
3.4.0/3.5.0 when a configuration pins them) from a filesystem mirror built in a
temporary directory, through a CLI config file
that only these subprocesses see (the user's ~/.terraformrc is never read or
written). The mirror holds the launcher script alone, so the lock-file hash is
the same on every machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
if str(TESTS) not in sys.path:  # the terraform_provider package, for schema and unit tests
    sys.path.append(str(TESTS))

from terraform_provider.cluster import ENV_VAR, Cluster, namespace_object, seed  # noqa: E402

__all__ = ["Cluster", "TerraformEnv", "Workspace", "for_version", "namespace_object"]

PROVIDER = "registry.terraform.io/hashicorp/kubernetes"
VERSION = "2.38.0"
VERSIONS = ("2.38.0", "3.4.0", "3.5.0")  # each one the test provider stands in for
LAUNCHER = TESTS / "terraform_provider" / "terraform-provider-kubernetes"
PLATFORM = "linux_amd64" if os.uname().machine in ("x86_64", "amd64") else "linux_arm64"
TIMEOUT = 120


def for_version(config: dict[str, Any], version: str) -> dict[str, Any]:
    """``config`` as netfence writes it for provider ``version``.

    Only the pin differs (tests/test_provider_versions.py holds the resources
    equal for every version); the example stacks are synthesized once.
    """
    out: dict[str, Any] = json.loads(json.dumps(config))
    out["terraform"]["required_providers"]["kubernetes"]["version"] = version
    return out


@dataclass
class TerraformEnv:
    """What every terraform subprocess of the session shares."""

    binary: str
    home: Path
    env: dict[str, str]


@dataclass
class Workspace:
    """One Terraform working directory with its own fake cluster file."""

    path: Path
    tf_env: TerraformEnv
    cluster_file: Path | None = None

    def __post_init__(self) -> None:
        if self.cluster_file is None:
            self.cluster_file = self.path.parent / f"{self.path.name}-cluster.json"
            seed(self.cluster_file)

    @property
    def cluster(self) -> Path:
        assert self.cluster_file is not None
        return self.cluster_file

    @property
    def env(self) -> dict[str, str]:
        return self.tf_env.env | {ENV_VAR: str(self.cluster)}

    def write_config(self, config: dict[str, Any], name: str = "cdk.tf.json") -> None:
        (self.path / name).write_text(json.dumps(config, indent=2))
        # keep state in the workspace whatever backend the stack declares
        (self.path / "netfence_override.tf.json").write_text(
            json.dumps({"terraform": {"backend": {"local": {"path": "terraform.tfstate"}}}})
        )

    def tf(self, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self.tf_env.binary, *args, "-no-color"],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        if result.returncode not in ok:
            raise AssertionError(
                f"terraform {' '.join(args)} exited {result.returncode}, wanted {ok}\n"
                f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
            )
        return result

    def init(self) -> None:
        self.tf("init", "-input=false")

    def plan_json(self, *args: str) -> dict[str, Any]:
        self.tf("plan", "-input=false", "-out=plan.bin", *args, ok=(0, 2))
        shown: dict[str, Any] = json.loads(self.tf("show", "-json", "plan.bin").stdout)
        return shown

    def state(self) -> dict[str, Any]:
        shown: dict[str, Any] = json.loads(self.tf("show", "-json").stdout)
        return shown

    def objects(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = json.loads(self.cluster.read_text())["items"]
        return items

    def find(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        for obj in self.objects():
            meta = obj["metadata"]
            if obj["kind"] == kind and meta["name"] == name and meta.get("namespace") == namespace:
                return obj
        return None

    def edit_cluster(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Change the fake cluster the way ``kubectl edit`` would."""
        with Cluster(self.cluster).session() as state:
            change(state)

    def add_objects(self, *objs: dict[str, Any]) -> None:
        store = Cluster(self.cluster)
        with store.session() as state:
            for obj in objs:
                store.create_in(state, json.loads(json.dumps(obj)))
