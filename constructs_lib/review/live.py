"""What runs in the cluster: a ``kubectl get -o json`` file, or the cluster itself.

``kubectl get networkpolicies,namespaces -A -o json`` and the proving
ground's fake-cluster file are both a ``List`` of objects, so one reader
serves both; the official ``kubernetes`` client (the ``cluster`` extra) is
imported only when a kubeconfig is given, and its answer is turned into the
same List before it is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from constructs_lib.errors import ArtifactError
from constructs_lib.loaders import read_json, read_yaml_documents
from constructs_lib.loaders._spec import KUBERNETES, Reader
from constructs_lib.loaders.manifests import policies_from_documents
from constructs_lib.loaders.network_policy import Labels, NetworkPolicy, Source

# kind -> namespaced; the kinds a stack creates and `netfence import` can adopt
KINDS: dict[str, bool] = {
    "Namespace": False,
    "NetworkPolicy": True,
    "ServiceAccount": True,
    "Role": True,
    "RoleBinding": True,
}
_API_VERSIONS = {
    "Namespace": "v1",
    "NetworkPolicy": "networking.k8s.io/v1",
    "ServiceAccount": "v1",
    "Role": "rbac.authorization.k8s.io/v1",
    "RoleBinding": "rbac.authorization.k8s.io/v1",
}


@dataclass(frozen=True)
class LiveObject:
    kind: str
    namespace: str | None
    name: str
    labels: Labels = ()

    @property
    def key(self) -> tuple[str, str | None, str]:
        return (self.kind, self.namespace, self.name)


@dataclass(frozen=True)
class LiveState:
    source: str
    objects: tuple[LiveObject, ...]
    policies: tuple[NetworkPolicy, ...]

    def namespace_labels(self) -> dict[str, Labels]:
        return {o.name: o.labels for o in self.objects if o.kind == "Namespace"}


def load_live(path: str | Path) -> LiveState:
    """A live-objects file: JSON (kubectl, fake cluster) or YAML, one or many documents."""
    file = Path(path)
    documents = [read_json(file)] if file.suffix == ".json" else read_yaml_documents(file)
    return live_from_documents(documents, str(file))


def live_from_documents(documents: list[Any], source: str, *, located: bool = True) -> LiveState:
    objects: dict[tuple[str, str | None, str], tuple[LiveObject, str]] = {}
    for index, doc in enumerate(documents):
        if doc is None:
            continue
        reader = Reader(source, index, KUBERNETES)
        _walk(reader, reader.mapping(doc, ""), "", objects)
    policies = policies_from_documents(documents, source, located=located)
    return LiveState(source, tuple(o for o, _ in objects.values()), tuple(policies))


_MAX_LIST_DEPTH = 8
# RBAC object names are path segments (system:controller:x), not DNS subdomains.
_PATH_SEGMENT_KINDS = ("Role", "RoleBinding")


def _walk(
    reader: Reader,
    data: Mapping[str, Any],
    path: str,
    out: dict[tuple[str, str | None, str], tuple[LiveObject, str]],
    depth: int = 0,
) -> None:
    """Objects into ``out`` by key; one object twice is refused, naming both places."""
    if data.get("kind") is None:
        reader.fail(f"{path}kind", "missing required field")
    kind = reader.string(data["kind"], f"{path}kind")
    if kind.endswith("List"):
        if depth >= _MAX_LIST_DEPTH:
            reader.fail(f"{path}kind", f"Lists nested more than {_MAX_LIST_DEPTH} deep")
        for item, where in reader.blocks(data.get("items"), f"{path}items"):
            _walk(reader, item, f"{where}.", out, depth + 1)
        return
    if kind not in KINDS:
        return
    meta, meta_path = reader.block(data.get("metadata"), f"{path}metadata")
    if meta is None:
        reader.fail(f"{path}metadata", "missing required field")
    raw_name = reader.required(meta, "name", meta_path)
    if kind in _PATH_SEGMENT_KINDS:
        name = reader.string(raw_name, f"{meta_path}.name")
        if name in ("", ".", "..") or "/" in name or "%" in name:
            reader.fail(f"{meta_path}.name", f"invalid name {name!r}: a path segment name")
    else:
        name = reader.name(raw_name, f"{meta_path}.name", label=kind == "Namespace")
    namespace = None
    if KINDS[kind]:
        raw_ns = meta.get("namespace")
        namespace = (
            "default"
            if raw_ns is None
            else reader.name(raw_ns, f"{meta_path}.namespace", label=True)
        )
    labels = reader.labels(meta.get("labels"), f"{meta_path}.labels")
    obj = LiveObject(kind, namespace, name, labels)
    here = str(Source(reader.file, None, reader.document, path))
    if obj.key in out:
        what = f"{namespace}/{name}" if namespace else name
        reader.fail(path.rstrip("."), f"{kind} {what} is listed twice (first at {out[obj.key][1]})")
    out[obj.key] = (obj, here)


def read_cluster(kubeconfig: str, context: str | None = None, timeout: float = 10.0) -> LiveState:
    """The objects netfence cares about, listed through the official Kubernetes client.

    ``timeout`` bounds both the connection and each answer: a server that
    accepts the connection and never answers is an error naming it, not a hang.
    """
    source = kubeconfig if context is None else f"{kubeconfig} (context {context})"
    try:
        from kubernetes import client, config
    except ImportError:
        raise ArtifactError(
            source,
            "reading a cluster needs the kubernetes Python client; "
            "install it with: pip install 'netfence[cluster]'",
        ) from None
    try:
        api = config.new_client_from_config(config_file=kubeconfig, context=context)
    except Exception as exc:  # the client raises ConfigException, OSError, YAML errors...
        raise ArtifactError(source, f"cannot load the kubeconfig: {exc}") from None
    core = client.CoreV1Api(api)
    rbac = client.RbacAuthorizationV1Api(api)
    listings = (
        ("NetworkPolicy", client.NetworkingV1Api(api).list_network_policy_for_all_namespaces),
        ("Namespace", core.list_namespace),
        ("ServiceAccount", core.list_service_account_for_all_namespaces),
        ("Role", rbac.list_role_for_all_namespaces),
        ("RoleBinding", rbac.list_role_binding_for_all_namespaces),
    )
    items: list[dict[str, Any]] = []
    for kind, call in listings:
        try:
            answer = api.sanitize_for_serialization(call(_request_timeout=(timeout, timeout)))
        except Exception as exc:  # ApiException, connection errors: all bad input here
            server = getattr(getattr(api, "configuration", None), "host", None) or "the server"
            if "timed out" in str(exc).lower() or "timeout" in type(exc).__name__.lower():
                raise ArtifactError(
                    source,
                    f"cannot list {kind} objects: {server} did not answer within "
                    f"{timeout:g} s (change the wait with --timeout)",
                ) from None
            raise ArtifactError(
                source, f"cannot list {kind} objects from {server}: {exc}"
            ) from None
        for item in (answer or {}).get("items") or []:
            # List items from the API carry no kind; the reader needs one.
            items.append({**item, "kind": kind, "apiVersion": _API_VERSIONS[kind]})
    listing = {"apiVersion": "v1", "kind": "List", "items": items}
    return live_from_documents([listing], source, located=False)
