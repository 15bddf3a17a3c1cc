"""NetworkPolicies from Kubernetes manifests: YAML or JSON, multi-document, Lists.

Covers what people actually hand over: ``kubectl get networkpolicies -A -o
json`` (a List), GitOps repos with ``---`` separated documents, and the
manifests.yaml that netfence writes beside cdk.tf.json. Objects of other
kinds (Namespaces, Deployments) are skipped; a malformed NetworkPolicy is an
error, never skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from constructs_lib.loaders._spec import API_VERSION, KUBERNETES, ReadCache, Reader
from constructs_lib.loaders.network_policy import NetworkPolicy, Source, unique_policies


def policies_from_documents(
    documents: list[Any], file: str, *, located: bool = True
) -> list[NetworkPolicy]:
    """``located=False``: the documents are not the user's (a cluster's answer), so a
    policy's source is ``file`` alone rather than a document and List item nobody can see."""
    out: list[NetworkPolicy] = []
    cache = ReadCache()
    for index, doc in enumerate(documents):
        if doc is None:
            continue
        reader = Reader(file, index, KUBERNETES, cache)
        data = reader.mapping(doc, "")
        out.extend(_objects(reader, data, "", file, index, 0))
    if not located:
        out = [replace(p, source=Source(file)) for p in out]
    return unique_policies(out, file)


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


_MAX_LIST_DEPTH = 8


def _objects(
    reader: Reader, data: Mapping[str, Any], path: str, file: str, index: int, depth: int
) -> list[NetworkPolicy]:
    kind = data.get("kind")
    kind_path = f"{path}kind"
    if kind is None:
        reader.fail(kind_path, "missing required field")
    kind = reader.string(kind, kind_path)
    if kind == "NetworkPolicy":
        return [_policy(reader, data, path, file, index)]
    if kind.endswith("List"):
        if depth >= _MAX_LIST_DEPTH:
            reader.fail(kind_path, f"Lists nested more than {_MAX_LIST_DEPTH} deep")
        out = []
        for item, where in reader.blocks(data.get("items"), f"{path}items"):
            out.extend(_objects(reader, item, f"{where}.", file, index, depth + 1))
        return out
    return []


def _policy(
    reader: Reader, data: Mapping[str, Any], path: str, file: str, index: int | None
) -> NetworkPolicy:
    reader.known(data, path.rstrip("."), ("apiVersion", "kind", "metadata", "spec", "status"))
    reader.api_version(data, path, API_VERSION)
    _, _, namespace, name = reader.metadata(data.get("metadata"), f"{path}metadata")
    assert namespace is not None
    address = None if index is not None or file != "<memory>" else f"{namespace}/{name}"
    return reader.policy(data.get("spec"), Source(file, address, index, path), namespace, name)
