"""Lint benchmark: `netfence lint` on 22,000 policies in each input kind.

    python bench/lint_bench.py [--workloads 10000] [--workdir DIR]

The policies are reach_bench's zero-trust topology (10 workloads per
namespace, a default deny and a DNS allowance per namespace, one ingress and
one egress policy per workload: 22 policies per 10 workloads), written as

- ``policies.yaml``: multi-document Kubernetes YAML, clean (no findings);
- the same with ``--inventory`` (the checks that need pods run too);
- ``stack/cdk.tf.json``: the netfence stack artifact (Terraform JSON);
- ``list.json``: a ``kubectl get networkpolicies -A -o json`` List;
- ``brownfield.yaml``: the same policies as a hand-written repository might
  have them, every ingress policy with a shadowed copy of its first rule and
  every egress policy without policyTypes, so 20,000 findings need a line,
  written as SARIF.

Each command runs as a child process (wall time around it, peak RSS from
wait4, CPU time user + system from wait4, which a shared machine disturbs
less than wall time). Beside each lint run, a child that only reads the same
files through the loaders shows how much of the time is reading (shared with
verify and reach) rather than linting. The load average is recorded before
each run.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reach_bench import (  # the topology is reach_bench's
    NoAliases,
    build_topology,
    inventory,
    machine,
    measure,
    policies,
    stack_artifact,
)

TARGET_S = 5.0


def brownfield(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = copy.deepcopy(manifests)
    for doc in out:
        spec, name = doc["spec"], doc["metadata"]["name"]
        if name.endswith("-ingress") and spec.get("ingress"):
            spec["ingress"].append(copy.deepcopy(spec["ingress"][0]))
        if name.endswith("-egress"):
            del spec["policyTypes"]
    return out


def write_inputs(workloads: int, folder: Path) -> int:
    topo = build_topology(workloads)
    manifests = policies(topo)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stack").mkdir(exist_ok=True)
    (folder / "stack" / "cdk.tf.json").write_text(
        json.dumps(stack_artifact(topo, manifests), indent=1, sort_keys=True)
    )
    (folder / "policies.yaml").write_text(yaml.dump_all(manifests, Dumper=NoAliases))
    (folder / "inventory.yaml").write_text(yaml.dump(inventory(topo), Dumper=NoAliases))
    (folder / "list.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "List", "items": manifests}, indent=1)
    )
    (folder / "brownfield.yaml").write_text(
        yaml.dump_all(brownfield(manifests), Dumper=NoAliases)
    )
    return len(manifests)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", type=int, default=10000, help="default 10000")
    default_workdir = Path(tempfile.gettempdir()) / "netfence-lint-bench"
    parser.add_argument("--workdir", type=Path, default=default_workdir)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    folder: Path = args.workdir
    if args.generate_only:
        print(write_inputs(args.workloads, folder))
        return 0
    print(f"machine: {machine()}", file=sys.stderr)
    python = sys.executable
    # Generate in a child: a child spawned by a big parent reports the parent's
    # peak RSS (Linux keeps the high-water mark across exec).
    count = int(
        subprocess.run(
            [python, __file__, "--generate-only", "--workloads", str(args.workloads),
             "--workdir", str(folder)],
            check=True, capture_output=True, text=True,
        ).stdout
    )  # fmt: skip
    cases = [
        ("manifests YAML", [str(folder / "policies.yaml")], [], "text"),
        (
            "manifests YAML + inventory",
            [str(folder / "policies.yaml")],
            ["--inventory", str(folder / "inventory.yaml")],
            "text",
        ),
        ("cdk.tf.json", [str(folder / "stack")], [], "text"),
        ("kubectl List JSON", [str(folder / "list.json")], [], "text"),
        ("brownfield YAML, 20,000 findings", [str(folder / "brownfield.yaml")], [], "sarif"),
    ]
    print(
        "| input | policies | findings | lint wall (s) | lint CPU (s) | reading CPU (s) "
        "| peak RSS (MiB) | load average before |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for title, paths, extra, fmt in cases:
        out = folder / f"lint-{len(title)}.{fmt}"
        read_code = (
            "import sys; from constructs_lib.loaders import load_file, policy_files, "
            "load_inventory\n"
            "[load_file(f) for f in policy_files(sys.argv[1:])]\n"
        )
        load_before = os.getloadavg()[0]
        lint = measure(
            [python, "-m", "constructs_lib.cli", "lint", *paths, *extra, "--format", fmt,
             "--fail-on", "error", "-o", str(out)],
            args.timeout,
            folder / "lint.log",
        )  # fmt: skip
        read = measure([python, "-c", read_code, *paths], args.timeout, folder / "read.log")
        findings: int | str = "?"
        if fmt == "sarif" and out.exists():
            findings = len(json.loads(out.read_text())["runs"][0]["results"])
        elif out.exists():
            findings = out.read_text().splitlines()[-1].split(" ", 1)[0]
        verdict = "" if lint.wall is not None and lint.wall < TARGET_S else " (over 5 s)"
        print(
            f"| {title} | {count:,} | {findings} | {lint.wall or 0:.2f}{verdict} | "
            f"{lint.cpu or 0:.2f} | {read.cpu or 0:.2f} | {lint.rss_mib or 0:.0f} "
            f"| {load_before:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
