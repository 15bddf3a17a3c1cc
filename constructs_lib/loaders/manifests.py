"""NetworkPolicies from Kubernetes manifests: YAML or JSON, multi-document, Lists.

Covers what people actually hand over: ``kubectl get networkpolicies -A -o
json`` (a List), GitOps repos with ``---`` separated documents, and the
manifests.yaml that netfence writes beside cdk.tf.json. Objects of other
kinds (Namespaces, Deployments) are skipped; a malformed NetworkPolicy is an
error, never skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from constructs_lib.loaders._spec import KUBERNETES, Reader
from constructs_lib.loaders.network_policy import NetworkPolicy, Source


def policies_from_documents(documents: list[Any], file: str) -> list[NetworkPolicy]:
    out: list[NetworkPolicy] = []
    for index, doc in enumerate(documents):
        if doc is None:
            continue
        reader = Reader(file, index, KUBERNETES)
        data = reader.mapping(doc, "")
        out.extend(_objects(reader, data, "", file, index))
    return out


def policy_from_manifest(
    doc: Mapping[str, Any], file: str = "<memory>", document: int | None = None
) -> NetworkPolicy:
    """One NetworkPolicy manifest dict, as the library API accepts it."""
    reader = Reader(file, document, KUBERNETES)
    data = reader.mapping(doc, "")
    kind = data.get("kind", "NetworkPolicy")
    if kind != "NetworkPolicy":
        reader.fail("kind", f"expected NetworkPolicy, got {kind!r}")
    return _policy(reader, data, "", file, document)


def _objects(
    reader: Reader, data: Mapping[str, Any], path: str, file: str, index: int
) -> list[NetworkPolicy]:
    kind = data.get("kind")
    kind_path = f"{path}kind"
    if kind is None:
        reader.fail(kind_path, "missing required field")
    kind = reader.string(kind, kind_path)
    if kind == "NetworkPolicy":
        return [_policy(reader, data, path, file, index)]
    if kind.endswith("List"):
        out = []
        for item, where in reader.blocks(data.get("items"), f"{path}items"):
            out.extend(_objects(reader, item, f"{where}.", file, index))
        return out
    return []


def _policy(
    reader: Reader, data: Mapping[str, Any], path: str, file: str, index: int | None
) -> NetworkPolicy:
    reader.known(data, path.rstrip("."), ("apiVersion", "kind", "metadata", "spec", "status"))
    metadata, meta_path = reader.block(data.get("metadata"), f"{path}metadata")
    if metadata is None:
        reader.fail(f"{path}metadata", "missing required field")
    if not metadata.get("name"):
        reader.fail(f"{meta_path}.name", "missing required field")
    name = reader.string(metadata["name"], f"{meta_path}.name")
    namespace = reader.string(metadata.get("namespace") or "default", f"{meta_path}.namespace")
    address = None if index is not None or file != "<memory>" else f"{namespace}/{name}"
    source = Source(file, address, index)
    return reader.policy(metadata, data.get("spec"), path, source, namespace, name)
