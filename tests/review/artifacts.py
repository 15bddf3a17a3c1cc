"""Two-stack variants written the way tests/test_roundtrip.py writes artifacts (no cdktf).

``base`` is a small shop; each variant changes one thing, so every diff,
drift and import test compares artifacts that differ only by the change
under test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from constructs_lib import ExternalEndpoint, Port
from constructs_lib.compiler import compile_topology
from constructs_lib.emitters import render_terraform
from constructs_lib.model import Topology

PAYMENTS = ExternalEndpoint("payments", cidr="203.0.113.0/24", ports=[Port.tcp(443)])
WEB = ExternalEndpoint("web", cidr="0.0.0.0/0", internet=True, ports=[Port.tcp(443)])
POLICIES = "kubernetes_network_policy_v1"


def shop(variant: str = "base") -> Topology:
    """prod namespace shop (api -> db, api -> payments), staging namespace ops (probe)."""
    topo = Topology("shop")
    shop_ns = topo.add_namespace("shop/shop", name="shop", environment="prod")
    ops = topo.add_namespace("shop/ops", name="ops", environment="staging")
    api = shop_ns.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080)])
    db = shop_ns.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432)])
    probe = ops.workload("probe", labels={"app": "probe"}, ports=[Port.tcp(9000)])
    if variant != "closed":
        topo.add_flow(api, db, ports=None, cross_environment=False, path="shop/api->db")
    topo.add_flow(api, PAYMENTS, ports=None, cross_environment=False, path="shop/api->payments")
    if variant == "cross":
        topo.add_flow(probe, api, ports=None, cross_environment=True, path="shop/probe->api")
    if variant == "internet":
        topo.add_flow(api, WEB, ports=None, cross_environment=False, path="shop/api->web")
    if variant == "new-namespace":
        batch = topo.add_namespace("shop/batch", name="batch", environment="prod")
        job = batch.workload("job", labels={"app": "job"})
        topo.add_flow(job, db, ports=None, cross_environment=False, path="shop/job->db")
    if variant == "wider-db":
        topo.add_flow(
            api, db, ports=[Port.tcp(5433)], cross_environment=False, path="shop/api->db2"
        )
    return topo


def artifact(topo: Topology) -> dict[str, Any]:
    compiled = compile_topology(topo)
    doc = render_terraform(compiled)
    doc["//"] = {"metadata": {"netfence": compiled.record}}
    return doc


def write(doc: dict[str, Any], out: Path, stack: str = "shop") -> Path:
    """Write ``doc`` as ``out/stacks/<stack>/cdk.tf.json``; returns the stack dir."""
    path = out / "stacks" / stack / "cdk.tf.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1))
    return path.parent


def variant(
    out: Path, name: str, *, shape: str = "", edit: Callable[[dict[str, Any]], None] | None = None
) -> Path:
    """The ``shape`` (default: ``name``) variant of the shop, edited, in ``out/<name>``."""
    doc = artifact(shop(shape or name))
    if edit is not None:
        edit(doc)
    return write(doc, out / name)


def to_kubernetes(body: dict[str, Any]) -> dict[str, Any]:
    """A Terraform network policy body as the API server returns it (camelCase, int ports)."""

    def camel(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(p.capitalize() for p in rest)

    def convert(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {camel(k): convert(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v, key) for v in value]
        if key == "port" and isinstance(value, str) and value.isdigit():
            return int(value)
        return value

    meta = body["metadata"]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "labels": dict(meta.get("labels", {})),
            "uid": "0e6f9a7c-0000-4000-8000-000000000000",
            "resourceVersion": "42",
            "generation": 1,
        },
        "spec": convert(body["spec"]),
    }


def live_list(doc: dict[str, Any], *, extra: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """``kubectl get networkpolicies -A -o json`` of a cluster where ``doc`` was applied."""
    items = [to_kubernetes(body) for _, body in sorted(doc["resource"][POLICIES].items())]
    return {
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"resourceVersion": ""},
        "items": [*items, *extra],
    }


def _plan_block(value: Any, key: str = "") -> Any:
    """Terraform's JSON rendering of a resource: every nested block a list, unset ones empty."""
    blocks = {
        "metadata",
        "spec",
        "pod_selector",
        "namespace_selector",
        "ip_block",
        "ingress",
        "egress",
        "from",
        "to",
        "ports",
        "match_expressions",
    }
    if isinstance(value, dict):
        out = {k: _plan_block(v, k) for k, v in value.items()}
        if key in ("pod_selector", "namespace_selector"):
            out.setdefault("match_expressions", [])
            out.setdefault("match_labels", {})
        if key == "ports":
            out.setdefault("end_port", 0)
        if key in ("from", "to"):
            for name in ("ip_block", "namespace_selector", "pod_selector"):
                out.setdefault(name, [])
        return [out] if key in blocks else out
    if isinstance(value, list):
        return [item for v in value for item in _plan_block(v, key)] if key in blocks else value
    return value


def plan_values(body: dict[str, Any]) -> dict[str, Any]:
    """A network policy's ``before``/``after`` as ``terraform show -json`` prints it."""
    meta = dict(body["metadata"])
    meta.setdefault("annotations", {})
    meta.update(generate_name="", generation=1, resource_version="7", uid="u-1")
    return {
        "id": f"{meta['namespace']}/{meta['name']}",
        "metadata": _plan_block(meta, "metadata"),
        "spec": _plan_block(body["spec"], "spec"),
        "timeouts": None,
    }


def plan(base: dict[str, Any], head: dict[str, Any]) -> dict[str, Any]:
    """A ``terraform show -json`` plan that turns ``base`` into ``head`` (policies, namespaces)."""
    changes = []
    for rtype in ("kubernetes_namespace_v1", POLICIES):
        old = base["resource"].get(rtype, {})
        new = head["resource"].get(rtype, {})
        for name in sorted(set(old) | set(new)):
            before = old.get(name)
            after = new.get(name)
            if rtype == POLICIES:
                values = [plan_values(v) if v else None for v in (before, after)]
            else:
                values = [
                    {"id": v["metadata"]["name"], "metadata": [dict(v["metadata"])]} if v else None
                    for v in (before, after)
                ]
            actions = (
                ["create"]
                if before is None
                else ["delete"]
                if after is None
                else ["no-op"]
                if values[0] == values[1]
                else ["update"]
            )
            changes.append(
                {
                    "address": f"{rtype}.{name}",
                    "mode": "managed",
                    "type": rtype,
                    "name": name,
                    "provider_name": "registry.terraform.io/hashicorp/kubernetes",
                    "change": {"actions": actions, "before": values[0], "after": values[1]},
                }
            )
    return {"format_version": "1.2", "terraform_version": "1.9.8", "resource_changes": changes}
