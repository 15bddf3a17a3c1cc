"""Synthesis benchmark: netfence vs the same resources as hand-written L1 constructs.

N namespaces x 5 workloads, each workload accepting 2 flows from its
neighbours. Per namespace: the namespace, default deny, DNS, and one ingress
and one egress policy per workload (13 resources). Each case runs in a fresh
process so wall time includes imports and peak memory is that process's own.

    python bench/synth_bench.py [--sizes 10,100,1000] [--skip-l1]
    python bench/synth_bench.py --pipeline 200
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = 5
PORT = 8080


def _netfence(n: int, outdir: str) -> None:
    import constructs_lib  # noqa: F401, I001  (before cdktf: picks the node jsii runs)
    from cdktf import App, TerraformStack

    from constructs_lib import Port, ZeroTrustNamespace, synth

    app = App(outdir=outdir)
    stack = TerraformStack(app, "bench")
    for i in range(n):
        ns = ZeroTrustNamespace(stack, f"ns{i}", environment="prod")
        wls = [
            ns.workload(f"w{j}", labels={"app": f"w{j}"}, ports=[Port.tcp(PORT)])
            for j in range(WORKLOADS)
        ]
        for j, wl in enumerate(wls):
            wl.allow_from(wls[(j + 1) % WORKLOADS])
            wl.allow_from(wls[(j + 2) % WORKLOADS])
    synth(app)


def _pipeline(n: int, outdir: str) -> None:
    """n stages over n/10 namespaces: a chain, plus a fan-out every 10th stage."""
    import constructs_lib  # noqa: F401, I001  (before cdktf)
    from cdktf import App, TerraformStack

    from constructs_lib import ExternalEndpoint, Pipeline, Port, ZeroTrustNamespace, synth

    app = App(outdir=outdir)
    stack = TerraformStack(app, "bench")
    namespaces = [
        ZeroTrustNamespace(stack, f"p{i}", environment="prod") for i in range(max(1, n // 10))
    ]
    pipe = Pipeline(stack, "big")
    sink = ExternalEndpoint("warehouse", cidr="198.51.100.0/24", ports=[Port.tcp(5439)])
    stages = [
        pipe.stage(f"s{i}", namespace=namespaces[i % len(namespaces)], ports=[Port.tcp(8080)])
        for i in range(n)
    ]
    for i in range(n - 1):
        stages[i].feeds(stages[i + 1])
        if i % 10 == 0 and i + 5 < n:
            stages[i].feeds(stages[i + 5])
    stages[-1].reaches(sink)
    synth(app)


def _l1(n: int, outdir: str) -> None:
    import constructs_lib  # noqa: F401, I001  (before cdktf)
    from cdktf import App, TerraformStack
    from cdktf_cdktf_provider_kubernetes import namespace_v1 as nsmod
    from cdktf_cdktf_provider_kubernetes import network_policy_v1 as np
    from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider

    app = App(outdir=outdir)
    stack = TerraformStack(app, "bench")
    KubernetesProvider(stack, "kubernetes")

    def selector(labels: dict[str, str] | None) -> np.NetworkPolicyV1SpecPodSelector:
        return np.NetworkPolicyV1SpecPodSelector(match_labels=labels)

    def meta(name: str, namespace: str) -> np.NetworkPolicyV1Metadata:
        return np.NetworkPolicyV1Metadata(name=name, namespace=namespace)

    for i in range(n):
        name = f"ns{i}"
        nsmod.NamespaceV1(
            stack,
            name,
            metadata=nsmod.NamespaceV1Metadata(name=name, labels={"environment": "prod"}),
        )
        np.NetworkPolicyV1(
            stack,
            f"{name}_default-deny",
            metadata=meta("default-deny", name),
            spec=np.NetworkPolicyV1Spec(
                pod_selector=selector(None), policy_types=["Ingress", "Egress"]
            ),
        )
        np.NetworkPolicyV1(
            stack,
            f"{name}_allow-dns",
            metadata=meta("allow-dns", name),
            spec=np.NetworkPolicyV1Spec(
                pod_selector=selector(None),
                policy_types=["Egress"],
                egress=[
                    np.NetworkPolicyV1SpecEgress(
                        to=[
                            np.NetworkPolicyV1SpecEgressTo(
                                namespace_selector=np.NetworkPolicyV1SpecEgressToNamespaceSelector(
                                    match_labels={"kubernetes.io/metadata.name": "kube-system"}
                                ),
                                pod_selector=np.NetworkPolicyV1SpecEgressToPodSelector(
                                    match_labels={"k8s-app": "kube-dns"}
                                ),
                            )
                        ],
                        ports=[
                            np.NetworkPolicyV1SpecEgressPorts(port="53", protocol="UDP"),
                            np.NetworkPolicyV1SpecEgressPorts(port="53", protocol="TCP"),
                        ],
                    )
                ],
            ),
        )
        for j in range(WORKLOADS):
            sources = [(j + 1) % WORKLOADS, (j + 2) % WORKLOADS]
            targets = [(j - 1) % WORKLOADS, (j - 2) % WORKLOADS]
            np.NetworkPolicyV1(
                stack,
                f"{name}_w{j}-ingress",
                metadata=meta(f"w{j}-ingress", name),
                spec=np.NetworkPolicyV1Spec(
                    pod_selector=selector({"app": f"w{j}"}),
                    policy_types=["Ingress"],
                    ingress=[
                        np.NetworkPolicyV1SpecIngress(
                            from_=[
                                np.NetworkPolicyV1SpecIngressFrom(
                                    pod_selector=np.NetworkPolicyV1SpecIngressFromPodSelector(
                                        match_labels={"app": f"w{s}"}
                                    )
                                )
                            ],
                            ports=[
                                np.NetworkPolicyV1SpecIngressPorts(port=str(PORT), protocol="TCP")
                            ],
                        )
                        for s in sources
                    ],
                ),
            )
            np.NetworkPolicyV1(
                stack,
                f"{name}_w{j}-egress",
                metadata=meta(f"w{j}-egress", name),
                spec=np.NetworkPolicyV1Spec(
                    pod_selector=selector({"app": f"w{j}"}),
                    policy_types=["Egress"],
                    egress=[
                        np.NetworkPolicyV1SpecEgress(
                            to=[
                                np.NetworkPolicyV1SpecEgressTo(
                                    pod_selector=np.NetworkPolicyV1SpecEgressToPodSelector(
                                        match_labels={"app": f"w{t}"}
                                    )
                                )
                            ],
                            ports=[
                                np.NetworkPolicyV1SpecEgressPorts(port=str(PORT), protocol="TCP")
                            ],
                        )
                        for t in targets
                    ],
                ),
            )
    app.synth()


def _run_child(kind: str, n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as outdir:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", kind, str(n), outdir], cwd=ROOT
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if status != 0:
            raise SystemExit(f"{kind} N={n} failed with status {status}")
        artifact = Path(outdir) / "stacks" / "bench" / "cdk.tf.json"
        resources = sum(len(v) for v in json.loads(artifact.read_text())["resource"].values())
    return {"wall": wall, "peak_mb": usage.ru_maxrss / 1024, "resources": resources}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--skip-l1", action="store_true")
    parser.add_argument(
        "--pipeline",
        type=int,
        metavar="STAGES",
        help="instead: synthesize one pipeline of STAGES stages",
    )
    parser.add_argument("--child", nargs=3, metavar=("KIND", "N", "OUTDIR"))
    args = parser.parse_args()
    if args.child:
        kind, n, outdir = args.child
        {"netfence": _netfence, "l1": _l1, "pipeline": _pipeline}[kind](int(n), outdir)
        return
    if args.pipeline:
        p = _run_child("pipeline", args.pipeline)
        print(
            f"| pipeline stages | resources | wall (s) | peak (MB) |\n|---|---|---|---|\n"
            f"| {args.pipeline} | {p['resources']:.0f} | {p['wall']:.2f} | {p['peak_mb']:.0f} |"
        )
        return
    print(
        "| N | resources | netfence wall (s) | netfence peak (MB) | "
        "L1 wall (s) | L1 peak (MB) | ratio (netfence / L1) |"
    )
    print("|---|---|---|---|---|---|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        nf = _run_child("netfence", n)
        if args.skip_l1:
            print(
                f"| {n} | {nf['resources']:.0f} | {nf['wall']:.2f} | {nf['peak_mb']:.0f} "
                "| - | - | - |",
                flush=True,
            )
            continue
        l1 = _run_child("l1", n)
        print(
            f"| {n} | {nf['resources']:.0f} | {nf['wall']:.2f} | {nf['peak_mb']:.0f} | "
            f"{l1['wall']:.2f} | {l1['peak_mb']:.0f} | {nf['wall'] / l1['wall']:.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
