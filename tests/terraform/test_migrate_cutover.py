"""Issue 11's migrate cutover on the proving ground (docs/migrate.md, "Cutover").

A fake cluster holds the shop's namespaces and its original policies. The
migrated stack (a default deny and one flow per admitted peer: every shop
policy becomes flows) is applied next to them with the import entries
`netfence import` writes (raw policies would keep their names, so Terraform
would adopt them), the union of original and managed policies allows exactly
what the originals allowed, verify passes, and once the originals `netfence
import` lists as unmanaged are deleted, nothing changes and the plan is empty.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_workflows import netfence
from tf_workspace import Workspace, namespace_object

from constructs_lib.brownfield.migrate import compare, migrate, proof_inventory
from constructs_lib.loaders import load_policies
from constructs_lib.loaders.inventory import load_inventory
from constructs_lib.review.live import load_live
from constructs_lib.verifier.reach import Reachability

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parents[1] / "migrate" / "data"


def _namespace(name: str, labels: dict[str, str]) -> dict[str, Any]:
    obj = namespace_object(name)
    obj["metadata"]["labels"] |= labels
    return obj


def test_cutover_apply_beside_the_originals_verify_then_remove_them(
    workspace: Workspace, tmp_path: Path
) -> None:
    originals = load_policies(DATA / "shop.yaml")
    inventory = load_inventory(DATA / "shop-inventory.yaml")
    workspace.add_objects(
        _namespace("shop", {"team": "shop", "environment": "prod"}),
        _namespace("ingress-nginx", {}),
        *(
            doc | {"apiVersion": "networking.k8s.io/v1"}
            for doc in yaml.safe_load_all((DATA / "shop.yaml").read_text())
        ),
    )
    result = migrate(originals, inventory, tmp_path / "infra")
    assert result.proof.ok and not result.proof.differences
    stack = tmp_path / "infra" / "cdktf.out" / "stacks" / "migrated"

    imports = tmp_path / "imports.json"
    report = netfence(
        "import", "--live", str(workspace.cluster), "--stack", str(stack),
        "--write", str(imports), "--format", "json", ok=(1,),
    )  # fmt: skip
    found = json.loads(report.stdout)
    raw = {r.key for r in result.intent.raw_policies}
    assert raw == set()  # every shop policy became flows
    unmanaged = [u["policy"] for u in found["unmanaged"]]
    assert unmanaged == sorted(p.key for p in originals)
    entries = json.loads(imports.read_text())
    assert [e for e in entries if e["to"].startswith("kubernetes_network_policy_v1.")] == []

    config = json.loads((stack / "cdk.tf.json").read_text())
    workspace.write_config(config | {"import": entries})
    workspace.init()
    plan = workspace.plan_json()
    created = sorted(
        c["address"] for c in plan["resource_changes"] if c["change"]["actions"] == ["create"]
    )
    # the labels netfence patches onto the adopted namespaces, the deny-all's replacement
    # and the policies of the flows, one per workload that accepts connections
    accepting = ["cart", "catalog", "checkout", "email", "payment", "redis", "shipping", "web"]
    assert created == [
        "kubernetes_labels.ingress-nginx",
        "kubernetes_labels.kube-system",
        "kubernetes_labels.shop",
        *sorted(
            [
                "kubernetes_network_policy_v1.shop_default-deny",
                *(f"kubernetes_network_policy_v1.shop_{w}-ingress" for w in accepting),
            ]
        ),
    ], created
    deleted = [c for c in plan["resource_changes"] if "delete" in c["change"]["actions"]]
    assert deleted == []
    workspace.tf("apply", "-input=false", "plan.bin")

    inv = proof_inventory(inventory, originals)
    before = Reachability(originals, inv)
    during = Reachability(load_live(workspace.cluster).policies, inv)
    assert compare(before, during, "cluster")[2] == [], "the union is never wider (or narrower)"
    netfence("verify", str(stack))

    workspace.edit_cluster(
        lambda state: state.update(
            items=[
                o
                for o in state["items"]
                if not (
                    o["kind"] == "NetworkPolicy"
                    and f"{o['metadata']['namespace']}/{o['metadata']['name']}" in unmanaged
                )
            ]
        )
    )
    after = Reachability(load_live(workspace.cluster).policies, inv)
    assert compare(before, after, "cluster")[2] == []
    netfence("import", "--live", str(workspace.cluster), "--stack", str(stack), "--format", "json")
    workspace.tf("plan", "-input=false", "-detailed-exitcode")
