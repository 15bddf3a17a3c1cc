"""A file-backed stand-in for the Kubernetes API: one JSON ``List`` of objects.

The file has the shape of ``kubectl get ... -o json`` so tests (and netfence's
loaders) can read or edit it like live cluster output. Every operation takes an
exclusive ``flock`` on a sidecar lock file, because Terraform runs resource
operations concurrently and may run several provider processes.
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ENV_VAR = "NETFENCE_FAKE_CLUSTER"

# kind -> (apiVersion, plural resource name used in API error messages, namespaced)
KINDS: dict[str, tuple[str, str, bool]] = {
    "Namespace": ("v1", "namespaces", False),
    "NetworkPolicy": ("networking.k8s.io/v1", "networkpolicies.networking.k8s.io", True),
    "ServiceAccount": ("v1", "serviceaccounts", True),
    "Role": ("rbac.authorization.k8s.io/v1", "roles.rbac.authorization.k8s.io", True),
    "RoleBinding": (
        "rbac.authorization.k8s.io/v1",
        "rolebindings.rbac.authorization.k8s.io",
        True,
    ),
}
# kinds whose objects carry metadata.generation (they have a spec)
GENERATIONAL = {"NetworkPolicy"}
BUILTIN_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


class ApiError(Exception):
    """An error as the API server words it (``namespaces "x" not found``)."""


def namespace_object(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def seed(path: Path) -> None:
    """Make an empty or missing cluster one with the namespaces every cluster has."""
    store = Cluster(path)
    with store.session() as state:
        if state["items"]:  # someone (another provider process) got here first
            return
        for name in BUILTIN_NAMESPACES:
            store.create_in(state, namespace_object(name))


class Cluster:
    _local = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def session(self) -> Iterator[dict[str, Any]]:
        lock_path = self.path.with_name(self.path.name + ".lock")
        with self._local, open(lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = self._read()
                before = json.dumps(state, sort_keys=True)
                yield state
                if json.dumps(state, sort_keys=True) != before:
                    self._write(state)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {
                "apiVersion": "v1",
                "kind": "List",
                "metadata": {"resourceVersion": "0"},
                "items": [],
            }
        state: dict[str, Any] = json.loads(self.path.read_text())
        state.setdefault("items", [])
        state.setdefault("metadata", {}).setdefault("resourceVersion", "0")
        return state

    def _write(self, state: dict[str, Any]) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, self.path)

    # -- operations on an open session ------------------------------------------

    @staticmethod
    def find(state: dict[str, Any], kind: str, namespace: str | None, name: str) -> Any:
        namespaced = KINDS[kind][2]
        for item in state["items"]:
            meta = item.get("metadata", {})
            if item.get("kind") != kind or meta.get("name") != name:
                continue
            if not namespaced or meta.get("namespace", "default") == namespace:
                return item
        return None

    @staticmethod
    def _bump(state: dict[str, Any]) -> str:
        version = str(int(state["metadata"]["resourceVersion"]) + 1)
        state["metadata"]["resourceVersion"] = version
        return version

    def create_in(self, state: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
        kind = obj["kind"]
        _, plural, namespaced = KINDS[kind]
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        name = meta["name"]
        namespace = meta.get("namespace") if namespaced else None
        if namespaced:
            namespace = meta.setdefault("namespace", "default")
            if self.find(state, "Namespace", None, namespace) is None:
                raise ApiError(f'namespaces "{namespace}" not found')
        if self.find(state, kind, namespace, name) is not None:
            raise ApiError(f'{plural} "{name}" already exists')
        meta["uid"] = str(uuid.uuid4())
        meta["resourceVersion"] = self._bump(state)
        meta["creationTimestamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if kind in GENERATIONAL:
            meta["generation"] = 1
        if kind == "Namespace":  # set by the API server on every namespace
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj.setdefault("status", {"phase": "Active"})
        state["items"].append(obj)
        return copy.deepcopy(obj)

    def replace_in(self, state: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
        kind, meta = obj["kind"], obj["metadata"]
        current = self.find(state, kind, meta.get("namespace"), meta["name"])
        if current is None:
            raise ApiError(f'{KINDS[kind][1]} "{meta["name"]}" not found')
        old_meta = current["metadata"]
        for key in ("uid", "creationTimestamp", "generation", "namespace"):
            if key in old_meta:
                meta[key] = old_meta[key]
        body = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
        old_body = {k: v for k, v in current.items() if k not in ("metadata", "status")}
        if kind in GENERATIONAL and body != old_body:
            meta["generation"] = int(old_meta.get("generation", 1)) + 1
        meta["resourceVersion"] = self._bump(state)
        current.clear()
        current.update(obj)
        return copy.deepcopy(current)

    def delete_in(self, state: dict[str, Any], kind: str, namespace: str | None, name: str) -> bool:
        target = self.find(state, kind, namespace, name)
        if target is None:
            return False
        kept = [i for i in state["items"] if i is not target]
        if kind == "Namespace":  # the namespace controller removes what lived in it
            kept = [i for i in kept if i.get("metadata", {}).get("namespace") != name]
        state["items"] = kept
        self._bump(state)
        return True

    # -- one-shot helpers --------------------------------------------------------

    def get(self, kind: str, namespace: str | None, name: str) -> Any:
        with self.session() as state:
            found = self.find(state, kind, namespace, name)
            return copy.deepcopy(found)
