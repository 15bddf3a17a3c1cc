"""The verifier against the example stacks' golden artifacts (tests/golden/)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from constructs_lib.loaders import load_policies
from constructs_lib.verifier import verify_stack

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
STACKS = sorted(p.name.split(".")[0] for p in GOLDEN.glob("*.cdk.tf.json"))


@pytest.mark.parametrize("stack", STACKS)
def test_terraform_json_and_manifests_hold_the_same_policies(stack: str) -> None:
    def semantics(path: Path) -> list[tuple[object, ...]]:
        return sorted(
            (p.key, p.pod_selector, p.policy_types, p.ingress, p.egress)
            for p in load_policies(path)
        )

    from_terraform = semantics(GOLDEN / f"{stack}.cdk.tf.json")
    assert from_terraform
    assert from_terraform == semantics(GOLDEN / f"{stack}.manifests.yaml")


@pytest.mark.parametrize("stack", STACKS)
def test_example_stack_verifies_exactly(stack: str, tmp_path: Path) -> None:
    target = tmp_path / "cdktf.out" / "stacks" / stack
    target.mkdir(parents=True)
    shutil.copy(GOLDEN / f"{stack}.cdk.tf.json", target / "cdk.tf.json")
    result = verify_stack(tmp_path / "cdktf.out")
    assert [str(f) for f in result.findings] == []
    assert result.stacks[0].flows > 0
