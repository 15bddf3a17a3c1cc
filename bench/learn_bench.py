"""`netfence learn` benchmark: a million Hubble flows into intent code, with the proof.

    python bench/learn_bench.py [--flows 1000000] [--namespaces 20] [--workdir DIR]

Generates ``hubble observe -o json`` lines (``{"flow": {...}}``, full Cilium
label lists, IPs, ports, verdicts) for a cluster of ``--namespaces``
namespaces with 10 workloads each (3 pods per workload): workload i calls
workload i+1 of its namespace and workload i of the next namespace on
8080/TCP (each call followed by its reply), every pod asks kube-dns,
workload 0 of each namespace calls a payments API outside the cluster, and
one pod per workload is dropped on 22/TCP. The lines cycle through that set, so the file holds a
million observations of a few thousand distinct flows, as a long capture
does.

`netfence learn` runs as a child process (generation, synthesis of the
generated app in its own subprocess, the proof and LEARNED.md included);
wall time is measured around it and peak memory is the larger of the
children's ru_maxrss (learn itself, and `python main.py` under it). The
target: < 60 s and < 1 GB for 1,000,000 flows.
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

PER_NAMESPACE = 10
PODS = 3


def _pod(ns: int, wl: int, replica: int) -> tuple[dict[str, object], str]:
    namespace = f"team-{ns:03d}"
    app = f"svc-{wl:02d}"
    labels = [
        f"k8s:app.kubernetes.io/name={app}",
        "k8s:app.kubernetes.io/part-of=bench",
        "k8s:io.cilium.k8s.namespace.labels.environment=prod",
        f"k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name={namespace}",
        "k8s:io.cilium.k8s.policy.cluster=default",
        f"k8s:io.cilium.k8s.policy.serviceaccount={app}",
        f"k8s:io.kubernetes.pod.namespace={namespace}",
        "k8s:pod-template-hash=5d8f7c9b6",
    ]
    ip = f"10.{ns // 250}.{ns % 250}.{wl * PODS + replica + 1}"
    body = {
        "ID": 1000 + ns * 100 + wl,
        "identity": 20000 + ns * 100 + wl,
        "namespace": namespace,
        "labels": labels,
        "pod_name": f"{app}-5d8f7c9b6-{replica:05d}",
        "workloads": [{"name": app, "kind": "Deployment"}],
    }
    return body, ip


DNS = (
    {
        "ID": 7,
        "identity": 102,
        "namespace": "kube-system",
        "labels": [
            "k8s:io.cilium.k8s.policy.cluster=default",
            "k8s:io.kubernetes.pod.namespace=kube-system",
            "k8s:k8s-app=kube-dns",
        ],
        "pod_name": "coredns-6f6b679f8f-q8v2z",
    },
    "10.96.0.10",
)
WORLD = ({"identity": 2, "labels": ["reserved:world"]}, "203.0.113.7")


def _line(n: int, src: tuple, dst: tuple, proto: str, port: int, **extra: object) -> str:
    flow: dict[str, object] = {
        "time": f"2026-11-30T10:{(n // 60) % 60:02d}:{n % 60:02d}.123456789Z",
        "uuid": f"0b7e5c2a-{n:04x}-4c1e-9d2f-6a1b2c3d4e5f",
        "verdict": extra.pop("verdict", "FORWARDED"),
        "IP": {"source": src[1], "destination": dst[1], "ipVersion": "IPv4"},
        "l4": {proto: {"source_port": 30000 + n % 30000, "destination_port": port}},
        "source": src[0],
        "destination": dst[0],
        "Type": "L3_L4",
        "node_name": "bench-worker",
        "event_type": {"type": 4},
        "traffic_direction": "EGRESS",
        "trace_observation_point": "TO_STACK",
        "is_reply": extra.pop("is_reply", False),
        "Summary": f"{proto} Flags: SYN",
        **extra,
    }
    return json.dumps({"flow": flow, "node_name": "bench-worker"}, separators=(",", ":"))


def distinct_lines(namespaces: int) -> list[str]:
    out: list[str] = []
    n = 0
    for ns in range(namespaces):
        for wl in range(PER_NAMESPACE):
            for r in range(PODS):
                me = _pod(ns, wl, r)
                targets = [_pod(ns, (wl + 1) % PER_NAMESPACE, (r + 1) % PODS)]
                targets.append(_pod((ns + 1) % namespaces, wl, r))
                for dst in targets:
                    out.append(_line(n := n + 1, me, dst, "TCP", 8080))
                    out.append(_line(n := n + 1, dst, me, "TCP", 40000 + r, is_reply=True))
                out.append(_line(n := n + 1, me, DNS, "UDP", 53))
                if wl == 0:
                    out.append(
                        _line(
                            n := n + 1,
                            me,
                            WORLD,
                            "TCP",
                            443,
                            destination_names=["api.payments.example"],
                        )
                    )
                if r == 0:
                    out.append(
                        _line(
                            n := n + 1,
                            me,
                            _pod(ns, (wl + 5) % 10, 0),
                            "TCP",
                            22,
                            verdict="DROPPED",
                            drop_reason_desc="POLICY_DENIED",
                        )
                    )
    return out


def write_flows(path: Path, total: int, namespaces: int) -> int:
    lines = distinct_lines(namespaces)
    with path.open("w", encoding="utf-8") as out:
        for i in range(total):
            out.write(lines[i % len(lines)])
            out.write("\n")
    return len(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=1_000_000)
    parser.add_argument("--namespaces", type=int, default=20)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="learn-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    flows = work / "flows.json"
    start = time.monotonic()
    distinct = write_flows(flows, args.flows, args.namespaces)
    generated = time.monotonic() - start
    size = flows.stat().st_size
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    start = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "constructs_lib.cli",
            "learn",
            "--flows",
            str(flows),
            "--out",
            str(work / "out"),
            "--pod-cidr",
            "10.0.0.0/14",
            "--service-cidr",
            "10.96.0.0/12",
        ],
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )
    wall = time.monotonic() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    report = {
        "flows": args.flows,
        "distinct_lines": distinct,
        "file_MiB": round(size / 2**20, 1),
        "generate_s": round(generated, 1),
        "learn_wall_s": round(wall, 2),
        "peak_rss_MiB": round(peak),
        "exit": done.returncode,
        "load_before": load,
        "stdout": done.stdout.strip(),
        "stderr_tail": done.stderr.strip().splitlines()[-3:],
    }
    print(json.dumps(report, indent=2))
    return 0 if done.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
