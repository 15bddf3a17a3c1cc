"""Reachability benchmark: `netfence verify`, `netfence reach` and network-config-analyzer.

    python bench/reach_bench.py [--sizes 100,300,1000,10000] [--skip-nca] [--workdir DIR]

For each size it generates one zero-trust topology and writes it three ways:

- ``stack/cdk.tf.json``: a netfence stack artifact in the docs/artifact.md shape
  (namespaces, NetworkPolicies as Terraform JSON, and the intent record under
  ``//.metadata.netfence``), for ``netfence verify``;
- ``policies.yaml`` + ``inventory.yaml``: the same policies as Kubernetes
  manifests and the reach inventory, for ``netfence reach --format json``;
- ``namespaces.yaml`` + ``pods.yaml``: the same cluster as Namespace and Pod
  lists, for network-config-analyzer's connectivity map over ``policies.yaml``;
- ``head/cdk.tf.json``: the stack with every 100th flow removed, for
  ``netfence diff stack head``; ``live.json``: the stack's namespaces and
  policies as a kubectl List, for ``netfence drift --live`` and ``netfence import``.
  ``netfence map`` and ``netfence report`` run on the stack as well.

The topology: 10 workloads per namespace; workload i of namespace k calls
workload i+1 of its own namespace and workload i of namespace k+1 on
8080/TCP, and workload 0 of every namespace also calls an external payments
CIDR on 443/TCP. So each workload has one ingress and one egress policy, and
each namespace has a default deny (both directions) and a DNS allowance to
kube-system/kube-dns, as netfence's compiler writes them.

Each command runs as a child process; wall time is measured around it and peak
memory is the child's ru_maxrss from wait4. The analyzer gets a time limit per
size (10 minutes by default) and is not run on larger sizes once it has hit it.
`reach` prints one entry per ordered pair, so it is skipped above --reach-max
workloads (10,000 workloads would be 10^8 entries, ~10 GB of JSON).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PER_NAMESPACE = 10
APP_PORT = {"port": 8080, "protocol": "TCP", "name": "http"}
DNS_PORTS = [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
DNS_LABELS = {"k8s-app": "kube-dns"}
PAYMENTS = {
    "name": "payments",
    "cidrs": ["203.0.113.0/24"],
    "except": [],
    "ports": [{"port": 443, "protocol": "TCP"}],
    "internet": False,
}
MANAGED_BY = {"app.kubernetes.io/managed-by": "netfence"}
NAME_LABEL = "kubernetes.io/metadata.name"


class NoAliases(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Each object written out in full, as people write them: netfence refuses aliases,
    and the generated policies share their port lists."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


# -- topology -------------------------------------------------------------------


@dataclass
class Topology:
    namespaces: list[str]
    workloads: list[tuple[str, str]]  # (namespace, name)
    flows: list[tuple[tuple[str, str], tuple[str, str] | str]]  # dest: workload or external name
    ips: dict[tuple[str, str], str] = field(default_factory=dict)


def build_topology(size: int) -> Topology:
    count = max(1, -(-size // PER_NAMESPACE))
    namespaces = [f"team-{k:04d}" for k in range(count)]
    workloads = [
        (namespaces[i // PER_NAMESPACE], f"svc-{i % PER_NAMESPACE}") for i in range(size)
    ]
    present = set(workloads)
    flows: list[tuple[tuple[str, str], tuple[str, str] | str]] = []
    for k, ns in enumerate(namespaces):
        for i in range(PER_NAMESPACE):
            source = (ns, f"svc-{i}")
            if source not in present:
                continue
            for target in ((ns, f"svc-{(i + 1) % PER_NAMESPACE}"),
                           (namespaces[(k + 1) % count], f"svc-{i}")):
                if target in present and target != source:
                    flows.append((source, target))
            if i == 0:
                flows.append((source, "payments"))
    ips = {w: f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
           for n, w in enumerate(workloads, start=1)}
    return Topology(namespaces, workloads, sorted(set(flows), key=str), ips)


# -- Kubernetes manifests (camelCase) -------------------------------------------


def _np(name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED_BY)},
        "spec": spec,
    }


def _workload_peer(target: tuple[str, str]) -> dict[str, Any]:
    return {
        "namespaceSelector": {"matchLabels": {NAME_LABEL: target[0]}},
        "podSelector": {"matchLabels": {"app": target[1]}},
    }


def policies(topo: Topology) -> list[dict[str, Any]]:
    app_port = [{"port": APP_PORT["port"], "protocol": "TCP"}]
    out = []
    for ns in topo.namespaces:
        deny = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        out.append(_np("default-deny", ns, deny))
        out.append(_np("allow-dns", ns, {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{
                "to": [{"namespaceSelector": {"matchLabels": {NAME_LABEL: "kube-system"}},
                        "podSelector": {"matchLabels": dict(DNS_LABELS)}}],
                "ports": [dict(p) for p in DNS_PORTS],
            }],
        }))
    callers: dict[tuple[str, str], list[tuple[str, str]]] = {w: [] for w in topo.workloads}
    callees: dict[tuple[str, str], list[tuple[str, str] | str]] = {w: [] for w in topo.workloads}
    for source, target in topo.flows:
        callees[source].append(target)
        if isinstance(target, tuple):
            callers[target].append(source)
    for ns, name in topo.workloads:
        selector = {"matchLabels": {"app": name}}
        ingress = [{"from": [_workload_peer(c)], "ports": app_port} for c in callers[(ns, name)]]
        egress = []
        for target in callees[(ns, name)]:
            if isinstance(target, tuple):
                egress.append({"to": [_workload_peer(target)], "ports": app_port})
            else:
                egress.append({"to": [{"ipBlock": {"cidr": PAYMENTS["cidrs"][0]}}],
                               "ports": [dict(p) for p in PAYMENTS["ports"]]})
        out.append(_np(f"{name}-ingress", ns,
                       {"podSelector": selector, "policyTypes": ["Ingress"], "ingress": ingress}))
        out.append(_np(f"{name}-egress", ns,
                       {"podSelector": selector, "policyTypes": ["Egress"], "egress": egress}))
    return out


def inventory(topo: Topology) -> dict[str, Any]:
    namespaces = {ns: {"labels": {"team": ns, "environment": "bench"}} for ns in topo.namespaces}
    namespaces["kube-system"] = {"labels": {}}
    workloads = [
        {"namespace": ns, "name": name, "labels": {"app": name}, "ip": topo.ips[(ns, name)],
         "ports": [dict(APP_PORT)]}
        for ns, name in topo.workloads
    ]
    workloads.append({"namespace": "kube-system", "name": "coredns", "labels": dict(DNS_LABELS),
                      "ip": "10.255.0.10",
                      "ports": [{"port": 53, "protocol": "UDP", "name": "dns"},
                                {"port": 53, "protocol": "TCP", "name": "dns-tcp"}]})
    external = [{"name": "payments", "ip": "203.0.113.7", "ports": list(PAYMENTS["ports"])}]
    return {"namespaces": namespaces, "workloads": workloads, "external": external}


def nca_inputs(inv: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    ns_items = [{"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": name, "labels": body["labels"]}}
                for name, body in inv["namespaces"].items()]
    pod_items = [
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": w["name"], "namespace": w["namespace"], "labels": w["labels"]},
         "spec": {"containers": [{"name": "main", "image": "app", "ports": [
             {"containerPort": p["port"], "protocol": p["protocol"], "name": p["name"]}
             for p in w["ports"]]}]},
         "status": {"podIP": w["ip"]}}
        for w in inv["workloads"]
    ]
    return ({"apiVersion": "v1", "kind": "NamespaceList", "items": ns_items},
            {"apiVersion": "v1", "kind": "PodList", "items": pod_items})


# -- the netfence stack artifact ------------------------------------------------


def _tf_selector(sel: dict[str, Any]) -> dict[str, Any]:
    return {"match_labels": dict(sel["matchLabels"])} if sel.get("matchLabels") else {}


def _tf_peer(peer: dict[str, Any]) -> dict[str, Any]:
    if "ipBlock" in peer:
        return {"ip_block": {"cidr": peer["ipBlock"]["cidr"]}}
    out = {}
    if "namespaceSelector" in peer:
        out["namespace_selector"] = _tf_selector(peer["namespaceSelector"])
    if "podSelector" in peer:
        out["pod_selector"] = _tf_selector(peer["podSelector"])
    return out


def _tf_rules(rules: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [
        {key: [_tf_peer(p) for p in rule[key]],
         "ports": [{"port": str(p["port"]), "protocol": p["protocol"]} for p in rule["ports"]]}
        for rule in rules
    ]


def _end(end: tuple[str, str] | str) -> dict[str, Any]:
    if isinstance(end, tuple):
        return {"kind": "workload", "namespace": end[0], "name": end[1]}
    return {"kind": "external", "name": end}


def stack_artifact(topo: Topology, manifests: list[dict[str, Any]]) -> dict[str, Any]:
    resources: dict[str, dict[str, Any]] = {"kubernetes_namespace_v1": {},
                                            "kubernetes_network_policy_v1": {}}
    for ns in topo.namespaces:
        resources["kubernetes_namespace_v1"][ns] = {
            "metadata": {"name": ns, "labels": {"team": ns, "environment": "bench"}}}
    for m in manifests:
        meta, spec = m["metadata"], m["spec"]
        body: dict[str, Any] = {"pod_selector": _tf_selector(spec["podSelector"]),
                                "policy_types": list(spec["policyTypes"])}
        for direction, key in (("ingress", "from"), ("egress", "to")):
            if direction in spec:
                body[direction] = _tf_rules(spec[direction], key)
        resources["kubernetes_network_policy_v1"][f"{meta['namespace']}_{meta['name']}"] = {
            "depends_on": [f"kubernetes_namespace_v1.{meta['namespace']}"],
            "metadata": {"name": meta["name"], "namespace": meta["namespace"],
                         "labels": dict(MANAGED_BY)},
            "spec": body,
        }
    flows = [
        {"from": _end(source), "to": _end(target),
         "ports": [dict(APP_PORT)] if isinstance(target, tuple) else list(PAYMENTS["ports"]),
         "cross_environment": False}
        for source, target in topo.flows
    ]
    record = {
        "version": 1,
        "stack": "bench",
        # pods never in the payments range: its ipBlock cannot admit pods (verify's pod-ip)
        "cluster": {"pod_cidrs": ["10.244.0.0/16"], "service_cidrs": ["10.96.0.0/12"]},
        "namespaces": [
            {"name": ns, "environment": "bench", "managed": True, "allow_dns": True,
             "labels": {"environment": "bench", "team": ns},
             "dns": {"namespace": "kube-system", "labels": dict(DNS_LABELS),
                     "ports": [dict(p) for p in DNS_PORTS]}}
            for ns in topo.namespaces
        ],
        "workloads": [{"namespace": ns, "name": name, "labels": {"app": name},
                       "ports": [dict(APP_PORT)]} for ns, name in topo.workloads],
        "external": [dict(PAYMENTS)],
        "flows": sorted(flows, key=lambda f: json.dumps(f, sort_keys=True)),
    }
    return {
        "//": {"metadata": {"backend": "local", "stackName": "bench", "version": "0.21.0",
                            "netfence": record}, "outputs": {}},
        "provider": {"kubernetes": [{}]},
        "resource": resources,
        "terraform": {"required_providers": {
            "kubernetes": {"source": "hashicorp/kubernetes", "version": "2.38.0"}}},
    }


def write_inputs(size: int, folder: Path) -> tuple[int, int]:
    """Write every input for one size; return (policies, reach entries)."""
    topo = build_topology(size)
    manifests = policies(topo)
    inv = inventory(topo)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stack").mkdir(exist_ok=True)
    (folder / "stack" / "cdk.tf.json").write_text(
        json.dumps(stack_artifact(topo, manifests), indent=1, sort_keys=True))
    dumper = NoAliases
    (folder / "policies.yaml").write_text(yaml.dump_all(manifests, Dumper=dumper))
    (folder / "inventory.yaml").write_text(yaml.dump(inv, Dumper=dumper))
    # diff: the same topology with every 100th flow removed (1% of the flows).
    head = Topology(topo.namespaces, topo.workloads,
                    [f for n, f in enumerate(topo.flows) if n % 100 != 99], topo.ips)
    (folder / "head").mkdir(exist_ok=True)
    (folder / "head" / "cdk.tf.json").write_text(
        json.dumps(stack_artifact(head, policies(head)), indent=1, sort_keys=True))
    # drift: the live cluster as `kubectl get networkpolicies,namespaces -A -o json` lists it.
    live_ns = [{"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "labels": {"team": ns, "environment": "bench",
                                                    NAME_LABEL: ns}}}
               for ns in topo.namespaces]
    (folder / "live.json").write_text(json.dumps(
        {"apiVersion": "v1", "kind": "List", "items": live_ns + manifests}))
    namespaces, pods = nca_inputs(inv)
    (folder / "namespaces.yaml").write_text(yaml.dump(namespaces, Dumper=dumper))
    (folder / "pods.yaml").write_text(yaml.dump(pods, Dumper=dumper))
    # One entry per (source, destination, declared port): every other workload and
    # every external endpoint to each workload, and each workload to each external.
    pods, ext = inv["workloads"], inv["external"]
    sources = len(pods) - 1 + len(ext)
    entries = sources * sum(len(w["ports"]) for w in pods)
    entries += len(pods) * sum(len(e["ports"]) for e in ext)
    return len(manifests), entries


# -- measuring ------------------------------------------------------------------


@dataclass
class Run:
    wall: float | None
    rss_mib: float | None
    exit_code: int | None
    note: str = ""
    cpu: float | None = None  # user + system seconds: less sensitive to a shared machine


def measure(argv: Sequence[str], timeout: float, log: Path) -> Run:
    """Run argv as a child; wall time around it, peak RSS from wait4."""
    with log.open("wb") as out:
        start = time.perf_counter()
        pid = os.posix_spawn(argv[0], list(argv), dict(os.environ), file_actions=[
            (os.POSIX_SPAWN_DUP2, out.fileno(), 1), (os.POSIX_SPAWN_DUP2, out.fileno(), 2)],
            setsid=True)
        while True:
            waited, status, usage = os.wait4(pid, os.WNOHANG)
            if waited == pid:
                wall = time.perf_counter() - start
                return Run(wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status),
                           cpu=usage.ru_utime + usage.ru_stime)
            if time.perf_counter() - start > timeout:
                os.killpg(pid, signal.SIGKILL)
                os.wait4(pid, 0)
                return Run(None, None, None, f"timed out after {timeout:.0f} s")
            time.sleep(0.05)


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"reach_bench: `{name}` not found next to {sys.executable} or on PATH")
    return found


def _fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    return (f"{cpu}, {os.cpu_count()} cores, {pages:.0f} GiB RAM, Python "
            f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} at start")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000",
                        help="comma-separated workload counts (default: 100,1000,10000)")
    parser.add_argument("--skip-nca", action="store_true", help="do not run the analyzer")
    parser.add_argument("--nca-timeout", type=float, default=600.0,
                        help="seconds the analyzer gets per size (default: 600)")
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="seconds verify/reach get per size (default: 1800)")
    parser.add_argument("--reach-max", type=int, default=2000,
                        help="largest size `reach --format json` is run on (default: 2000)")
    parser.add_argument("--change-max", type=int, default=10000,
                        help="largest size diff, drift, map, report and import run on "
                        "(default: 10000)")
    default_workdir = Path(tempfile.gettempdir()) / "netfence-reach-bench"
    parser.add_argument("--workdir", type=Path, default=default_workdir,
                        help=f"where inputs and outputs go (default: {default_workdir})")
    parser.add_argument("--generate-only", type=int, metavar="SIZE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate_only is not None:
        print(json.dumps(write_inputs(args.generate_only, args.workdir / str(args.generate_only))))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    netfence = _tool("netfence")
    nca = None if args.skip_nca else _tool("nca")
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    print(f"machine: {machine()}", file=sys.stderr)

    rows = []
    nca_gave_up_at: int | None = None
    for size in sizes:
        folder = args.workdir / str(size)
        print(f"[{size}] generating inputs in {folder}", file=sys.stderr)
        # In a child: a child's peak RSS (ru_maxrss) starts from its parent's at spawn, so
        # this process stays small; generating 100,000 workloads takes gigabytes.
        generated = subprocess.run(
            [sys.executable, __file__, "--generate-only", str(size),
             "--workdir", str(args.workdir)],
            check=True, capture_output=True, text=True,
        )
        n_policies, entries = json.loads(generated.stdout)

        print(f"[{size}] netfence verify", file=sys.stderr)
        verify = measure([netfence, "verify", str(folder / "stack"), "--output",
                          str(folder / "verify.txt")], args.timeout, folder / "verify.log")
        if verify.exit_code not in (0, None):
            verify.note = f"exit {verify.exit_code}: see {folder / 'verify.txt'}"
        rows.append((size, n_policies, "netfence verify", verify))

        if size <= args.change_max:
            stack = str(folder / "stack")
            for command, what, argv in (
                ("netfence diff", "1% of flows removed", ["diff", stack, str(folder / "head")]),
                ("netfence drift", "a List of the same size",
                 ["drift", "--desired", stack, "--live", str(folder / "live.json")]),
                ("netfence map", "mermaid", ["map", stack]),
                ("netfence report", "Markdown", ["report", stack]),
                ("netfence import", "the same List",
                 ["import", "--live", str(folder / "live.json"), "--stack", stack,
                  "--write", str(folder / "imports.json")]),
            ):
                name = command.split()[1]
                print(f"[{size}] {command} ({what})", file=sys.stderr)
                run = measure([netfence, *argv, "--output", str(folder / f"{name}.txt")],
                              args.timeout, folder / f"{name}.log")
                if run.exit_code not in (0, None):
                    run.note = f"exit {run.exit_code}: see {folder / f'{name}.log'}"
                rows.append((size, n_policies, command, run))

        if size <= args.reach_max:
            print(f"[{size}] netfence reach --format json", file=sys.stderr)
            reach = measure([netfence, "reach", "--policies", str(folder / "policies.yaml"),
                             "--inventory", str(folder / "inventory.yaml"), "--format", "json",
                             "--output", str(folder / "reach.json")],
                            args.timeout, folder / "reach.log")
            if reach.exit_code == 0:
                reach.note = f"{entries:,} entries"
            elif reach.exit_code is not None:
                reach.note = f"exit {reach.exit_code}: see {folder / 'reach.log'}"
        else:
            reach = Run(None, None, None, f"not run: {entries:,} entries (--reach-max)")
        rows.append((size, n_policies, "netfence reach --format json", reach))

        if nca is None:
            continue
        if nca_gave_up_at is not None:
            rows.append((size, n_policies, "network-config-analyzer",
                         Run(None, None, None, f"not run: timed out at {nca_gave_up_at:,}")))
            continue
        print(f"[{size}] network-config-analyzer --connectivity", file=sys.stderr)
        analyzer = measure([nca, "--connectivity", str(folder / "policies.yaml"),
                            "--ns_list", str(folder / "namespaces.yaml"),
                            "--pod_list", str(folder / "pods.yaml"),
                            "--output_format", "txt_no_fw_rules",
                            "--file_out", str(folder / "nca.txt")],
                           args.nca_timeout, folder / "nca.log")
        if analyzer.wall is None:
            nca_gave_up_at = size
        if analyzer.wall is not None and reach.wall:
            analyzer.note = f"{analyzer.wall / reach.wall:.0f}x reach's time"
        rows.append((size, n_policies, "network-config-analyzer", analyzer))

    print("| workloads | policies | command | wall (s) | CPU (s) | peak RSS (MiB) | exit | note |")
    print("|---:|---:|---|---:|---:|---:|---:|---|")
    for size, n_policies, command, run in rows:
        code = "—" if run.exit_code is None else str(run.exit_code)
        print(f"| {size:,} | {n_policies:,} | {command} | {_fmt(run.wall, 2)} | "
              f"{_fmt(run.cpu, 2)} | {_fmt(run.rss_mib, 0)} | {code} | {run.note} |")
    print(f"\nMachine: {machine()}. Date: {dt.date.today().isoformat()}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
