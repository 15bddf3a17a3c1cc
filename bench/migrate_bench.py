"""Benchmark: `netfence migrate` of N policies over N workloads, proof included.

python bench/migrate_bench.py [--workloads 1000] [--namespaces 50]

Builds a brownfield cluster: N workloads in --namespaces namespaces, each
namespace with a deny-all ingress, every workload with an ingress policy
admitting two other workloads of its namespace on its port (so N policies,
deny-alls included, a few of them with a match expression), and runs
`netfence migrate` as a child process; the time covers everything (reading,
main.py, `python main.py`, the proof on both artifacts, MIGRATION.md).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def build(workloads: int, namespaces: int, directory: Path) -> None:
    per_ns = workloads // namespaces
    inventory: dict[str, object] = {
        "namespaces": {f"ns-{n}": {"labels": {"team": f"t{n % 7}"}} for n in range(namespaces)},
        "workloads": [],
    }
    docs = []
    count = 0
    for n in range(namespaces):
        ns = f"ns-{n}"
        docs.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": "deny-all", "namespace": ns},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
            }
        )
        count += 1
        for w in range(per_ns):
            app = f"svc-{w}"
            ip = f"10.{n // 250}.{n % 250}.{w + 1}"
            port = 8000 + w
            inventory["workloads"].append(  # type: ignore[attr-defined]
                {
                    "namespace": ns,
                    "name": app,
                    "labels": {"app": app},
                    "ports": [{"port": port}],
                    "ip": ip,
                }
            )
            if count >= workloads:
                continue
            sources = [
                {"podSelector": {"matchLabels": {"app": f"svc-{(w + k) % per_ns}"}}} for k in (1, 2)
            ]
            if w % 10 == 0:
                sources.append(
                    {
                        "namespaceSelector": {"matchLabels": {"team": "t1"}},
                        "podSelector": {
                            "matchExpressions": [
                                {"key": "app", "operator": "In", "values": ["svc-0", "svc-1"]}
                            ]
                        },
                    }
                )
            docs.append(
                {
                    "apiVersion": "networking.k8s.io/v1",
                    "kind": "NetworkPolicy",
                    "metadata": {"name": app, "namespace": ns},
                    "spec": {
                        "podSelector": {"matchLabels": {"app": app}},
                        "ingress": [{"from": sources, "ports": [{"port": port}]}],
                    },
                }
            )
            count += 1
    (directory / "policies.json").write_text(json.dumps({"kind": "List", "items": docs}))
    (directory / "inventory.json").write_text(json.dumps(inventory))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workloads", type=int, default=1000)
    parser.add_argument("--namespaces", type=int, default=50)
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        build(args.workloads, args.namespaces, d)
        policies = len(json.loads((d / "policies.json").read_text())["items"])
        load_before = os.getloadavg()[0]
        start = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "constructs_lib.cli",
                "migrate",
                "--policies",
                str(d / "policies.json"),
                "--inventory",
                str(d / "inventory.json"),
                "--out",
                str(d / "out"),
            ],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONPATH": str(root)},
        )
        wall = time.monotonic() - start
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(done.stdout.strip())
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
        print(
            f"policies={policies} workloads={args.workloads} exit={done.returncode} "
            f"wall={wall:.1f}s peak_rss={rss:.0f}MiB load_before={load_before:.2f} "
            f"load_after={os.getloadavg()[0]:.2f}"
        )
        return done.returncode


if __name__ == "__main__":
    sys.exit(main())
