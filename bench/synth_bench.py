"""Synthesis benchmark: netfence vs the same resources as hand-written L1 constructs.

N namespaces x 5 workloads, each workload accepting 2 flows from its
neighbours. Per namespace: the namespace, default deny, DNS, and one ingress
and one egress policy per workload (13 resources). Each case runs in a fresh
process so wall time includes imports and peak memory is that process's own.

    python bench/synth_bench.py [--sizes 10,100,1000] [--skip-l1]
    python bench/synth_bench.py --pipeline 200
    python bench/synth_bench.py --phases --sizes 1000,10000

Every row also gives the child's CPU time (user + system, from wait4) and
the load average before and after it, since the machine may be shared.
``--phases`` runs netfence alone and says where its wall time goes:
start-up, imports, declaring, compiling, rendering, writing cdk.tf.json and
manifests.yaml, cdktf's own synthesis, and the interpreter's exit.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = 5
PORT = 8080


class _Phases:
    """Wall time per phase of one synthesis, measured inside the child.

    netfence's steps are timed by wrapping the functions the synthesis calls
    (``instrument``), so the run takes its usual path, caches and garbage
    collector settings included; what synth(app) spends outside them is
    cdktf's own synthesis and the publishing of the stack directory.
    """

    SYNTH = "cdktf's own synth, publish"
    STEPS = (
        ("constructs_lib.constructs.namespace", "compile_topology", "compile"),
        ("constructs_lib.constructs.namespace", "render_terraform", "render"),
        ("constructs_lib.constructs.synth", "_merge_into_artifact", "write cdk.tf.json"),
        ("constructs_lib.constructs.synth", "write_manifests", "write manifests.yaml"),
    )

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def mark(self, phase: str) -> None:
        """Charge the time since the last mark to ``phase``."""
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - self._last
        self._last = now

    def instrument(self) -> None:
        for module_name, name, phase in self.STEPS:
            module = importlib.import_module(module_name)
            setattr(module, name, self._timed(phase, getattr(module, name)))

    def _timed(self, phase: str, func: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.mark(self.SYNTH)
            try:
                return func(*args, **kwargs)
            finally:
                self.mark(phase)

        return timed


def _netfence(n: int, outdir: str, phases: _Phases | None = None) -> None:
    import constructs_lib  # noqa: F401, I001  (before cdktf: picks the node jsii runs)
    from cdktf import App, TerraformStack

    from constructs_lib import Port, ZeroTrustNamespace, synth

    if phases is not None:
        phases.instrument()
        phases.mark("imports")
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
    if phases is not None:
        phases.mark("declare")
    synth(app)
    if phases is not None:
        phases.mark(phases.SYNTH)


def _phases_child(n: int, outdir: str) -> None:
    """``_netfence`` with phase marks; prints them and the wall clock at the end as JSON."""
    started = time.time()
    phases = _Phases()
    _netfence(n, outdir, phases)
    print(json.dumps({"started": started, "ended": time.time(), "phases": phases.seconds}))


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


def _load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def _run_child(kind: str, n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as outdir:
        load_before = _load()
        launched = time.time()
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", kind, str(n), outdir],
            cwd=ROOT,
            stdout=subprocess.PIPE if kind == "phases" else None,
        )
        printed = proc.stdout.read() if proc.stdout is not None else b""
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        exited = time.time()
        if status != 0:
            raise SystemExit(f"{kind} N={n} failed with status {status}")
        artifact = Path(outdir) / "stacks" / "bench" / "cdk.tf.json"
        resources = sum(len(v) for v in json.loads(artifact.read_text())["resource"].values())
    out: dict[str, Any] = {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
        "resources": resources,
        "load": f"{load_before} -> {_load()}",
    }
    if printed:
        marks = json.loads(printed.decode().strip().splitlines()[-1])
        out["phases"] = {
            "start-up (interpreter, bench module)": marks["started"] - launched,
            **marks["phases"],
            "interpreter exit": exited - marks["ended"],
        }
    return out


def _phase_table(sizes: list[int]) -> None:
    runs = {n: _run_child("phases", n) for n in sizes}
    print("| phase | " + " | ".join(f"N={n} (s)" for n in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for phase in runs[sizes[0]]["phases"]:
        cells = " | ".join(f"{runs[n]['phases'].get(phase, 0.0):.2f}" for n in sizes)
        print(f"| {phase} | {cells} |")
    for label, key, fmt in (
        ("total wall", "wall", "{:.2f}"),
        ("CPU (user + sys)", "cpu", "{:.2f}"),
        ("peak RSS (MB)", "peak_mb", "{:.0f}"),
        ("load average (1 min) before -> after", "load", "{}"),
    ):
        print(f"| {label} | " + " | ".join(fmt.format(runs[n][key]) for n in sizes) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--skip-l1", action="store_true")
    parser.add_argument(
        "--phases", action="store_true", help="instead: netfence alone, time per phase"
    )
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
        children = {
            "netfence": _netfence,
            "l1": _l1,
            "pipeline": _pipeline,
            "phases": _phases_child,
        }
        children[kind](int(n), outdir)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.phases:
        _phase_table(sizes)
        return
    if args.pipeline:
        p = _run_child("pipeline", args.pipeline)
        print(
            "| pipeline stages | resources | wall (s) | CPU (s) | peak (MB) | load |\n"
            "|---|---|---|---|---|---|\n"
            f"| {args.pipeline} | {p['resources']:.0f} | {p['wall']:.2f} | {p['cpu']:.2f} "
            f"| {p['peak_mb']:.0f} | {p['load']} |"
        )
        return
    print(
        "| N | resources | netfence wall (s) | netfence CPU (s) | netfence peak (MB) | "
        "L1 wall (s) | L1 CPU (s) | L1 peak (MB) | ratio (netfence / L1) | load |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        nf = _run_child("netfence", n)
        row = f"| {n} | {nf['resources']:.0f} | {nf['wall']:.2f} | {nf['cpu']:.2f} | "
        row += f"{nf['peak_mb']:.0f} | "
        if args.skip_l1:
            print(row + f"- | - | - | - | {nf['load']} |", flush=True)
            continue
        l1 = _run_child("l1", n)
        print(
            row + f"{l1['wall']:.2f} | {l1['cpu']:.2f} | {l1['peak_mb']:.0f} | "
            f"{nf['wall'] / l1['wall']:.3f} | {nf['load']}, then {l1['load']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
