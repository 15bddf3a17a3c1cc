"""network-config-analyzer 2.1.0 as a reachability oracle.

The analyzer (`nca`) prints a connectivity map; in its ``txt_no_fw_rules``
format each line is ``SOURCE => DESTINATION : CONNECTIONS`` where an endpoint
is ``ns/pod[Pod]`` or an IP range, and CONNECTIONS is ``All connections``,
``All but {...}`` or a comma-joined list of cubes
``{protocols:TCP, UDP,dst_ports:80,8000-9000}``. A pair it does not print has
no connection. This module writes the inputs, runs every case in ONE analyzer
invocation (a scheme file with one network config and one query per case),
and turns the lines back into per-pair predicates.

Departures of nca 2.1.0 from Kubernetes (settled in DESIGN.md) are handled in
`to_nca_policy` (inputs it refuses or misreads are given in their
Kubernetes-equivalent form) and by the generator in test_differential.py
(inputs on which it computes something else are not generated).
"""

from __future__ import annotations

import copy
import ipaddress
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Predicate = Callable[[str, int], bool]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# A pod prints as ns/name (with --output_endpoints pods) or ns/name[Pod].
_POD = re.compile(r"^(?P<ns>[^/\[\]]+)/(?P<name>[^/\[\]]+)(\[Pod\])?$")
_LINE = re.compile(r"^(?P<src>\S+) => (?P<dst>\S+) : (?P<conn>.+)$")


def to_nca_policy(manifest: dict[str, Any]) -> dict[str, Any]:
    """The Kubernetes-equivalent form of ``manifest`` that nca 2.1.0 accepts.

    - explicit policyTypes: rules of a direction not listed are dropped (the
      API server accepts them and they have no effect; nca refuses them), and
      the list is written Ingress-first (nca refuses [Egress, Ingress]);
    - no policyTypes and ``egress: []``: the empty list is dropped, because
      Kubernetes defaults Egress only for a non-empty egress list and nca would
      read the empty one as egress isolation.
    """
    out = copy.deepcopy(manifest)
    spec = out["spec"]
    types = spec.get("policyTypes")
    if types:
        spec["policyTypes"] = [t for t in ("Ingress", "Egress") if t in types]
        for direction, key in (("Ingress", "ingress"), ("Egress", "egress")):
            if direction not in types:
                spec.pop(key, None)
    elif spec.get("egress") == []:
        del spec["egress"]
    return out


def namespace_list(inventory: dict[str, Any]) -> dict[str, Any]:
    items = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": dict(ns.get("labels") or {})},
        }
        for name, ns in inventory["namespaces"].items()
    ]
    return {"apiVersion": "v1", "kind": "NamespaceList", "items": items}


def pod_list(inventory: dict[str, Any]) -> dict[str, Any]:
    items = []
    for w in inventory["workloads"]:
        container_ports = [
            {"containerPort": p["port"], "protocol": p.get("protocol", "TCP"), "name": p["name"]}
            for p in w["ports"]
        ]
        items.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": w["name"],
                    "namespace": w["namespace"],
                    "labels": dict(w["labels"]),
                },
                "spec": {
                    "containers": [{"name": "main", "image": "app", "ports": container_ports}]
                },
                "status": {"podIP": w["ip"]},
            }
        )
    return {"apiVersion": "v1", "kind": "PodList", "items": items}


@dataclass
class NcaCase:
    name: str
    policies: list[dict[str, Any]]
    inventory: dict[str, Any]
    # False only for the cases that show a departure on purpose.
    normalise: bool = True


def run_nca(cases: list[NcaCase], workdir: Path, timeout: float = 300) -> dict[str, str]:
    """Run nca once over every case; return each case's txt_no_fw_rules output."""
    configs = []
    queries = []
    for case in cases:
        folder = workdir / case.name
        folder.mkdir(parents=True)
        (folder / "ns.yaml").write_text(yaml.safe_dump(namespace_list(case.inventory)))
        (folder / "pods.yaml").write_text(yaml.safe_dump(pod_list(case.inventory)))
        (folder / "policies.yaml").write_text(
            yaml.safe_dump_all([to_nca_policy(p) if case.normalise else p for p in case.policies])
        )
        configs.append(
            {
                "name": case.name,
                "namespaceList": str(folder / "ns.yaml"),
                "podList": str(folder / "pods.yaml"),
                "networkPolicyList": [str(folder / "policies.yaml")],
                # nca exits non-zero per config it finds an error in; say none is expected.
                "expectedError": 0,
            }
        )
        queries.append(
            {
                "name": f"map-{case.name}",
                "connectivityMap": [case.name],
                "outputConfiguration": {
                    "outputFormat": "txt_no_fw_rules",
                    "outputEndpoints": "pods",
                    "outputPath": str(folder / "map.txt"),
                },
            }
        )
    scheme = workdir / "scheme.yaml"
    scheme.write_text(yaml.safe_dump({"networkConfigList": configs, "queries": queries}))
    proc = subprocess.run(
        [sys.executable, "-m", "nca", "--scheme", str(scheme)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    outputs = {}
    for case in cases:
        path = workdir / case.name / "map.txt"
        if not path.exists():
            raise RuntimeError(
                f"nca wrote no map for {case.name} (exit {proc.returncode}):\n"
                f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
            )
        outputs[case.name] = path.read_text()
    return outputs


# -- reading the map back -------------------------------------------------------


def _split_cubes(text: str) -> list[str]:
    text = text.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise ValueError(f"unexpected connection text {text!r}")
    return [c.strip("{}") for c in text[1:-1].split("},{")]


def _cube_predicate(cube: str) -> Predicate:
    fields: dict[str, list[str]] = {}
    current = None
    for token in cube.split(","):
        token = token.strip()
        if ":" in token:
            current, _, token = token.partition(":")
            fields[current] = []
        if current is None:
            raise ValueError(f"cube without a key: {cube!r}")
        fields[current].append(token.strip())
    unknown = set(fields) - {"protocols", "dst_ports"}
    if unknown:
        raise ValueError(f"cube with dimensions this oracle does not read: {cube!r}")

    protocols: Callable[[str], bool] = lambda _p: True  # noqa: E731
    if "protocols" in fields:
        names = fields["protocols"]
        negate = names[0].startswith("all but ")
        if negate:
            names = [names[0].removeprefix("all but "), *names[1:]]
        chosen = frozenset(n.strip() for n in names)
        if "*" in chosen:
            pass
        elif negate:
            protocols = lambda p: p not in chosen  # noqa: E731
        else:
            protocols = lambda p: p in chosen  # noqa: E731

    ranges: list[tuple[int, int]] | None = None
    if "dst_ports" in fields:
        ranges = []
        for item in fields["dst_ports"]:
            low, _, high = item.partition("-")
            ranges.append((int(low), int(high or low)))

    def predicate(protocol: str, port: int) -> bool:
        if not protocols(protocol):
            return False
        return ranges is None or any(lo <= port <= hi for lo, hi in ranges)

    return predicate


def parse_connections(text: str) -> Predicate:
    """A predicate (protocol, port) -> allowed for one line's connection text."""
    text = text.strip()
    if text == "All connections":
        return lambda _p, _n: True
    if text == "No connections":
        return lambda _p, _n: False
    if text.startswith("All but "):
        inner = parse_connections(text.removeprefix("All but "))
        return lambda p, n: not inner(p, n)
    cubes = [_cube_predicate(c) for c in _split_cubes(text)]
    return lambda p, n: any(c(p, n) for c in cubes)


def _ip_ranges(text: str) -> list[tuple[IPAddress, IPAddress]]:
    out = []
    for part in text.split(","):
        if "-" in part:
            low, high = part.split("-")
            out.append((ipaddress.ip_address(low), ipaddress.ip_address(high)))
        else:
            net = ipaddress.ip_network(part, strict=False)
            out.append((net[0], net[-1]))
    return out


@dataclass
class NcaMap:
    """Verdicts read from one case's map; endpoints use netfence's names."""

    lines: list[tuple[str, str, Predicate]]
    externals: dict[str, IPAddress]

    @classmethod
    def parse(cls, text: str, inventory: dict[str, Any]) -> NcaMap:
        externals = {
            f"external/{e['name']}": ipaddress.ip_address(e["ip"]) for e in inventory["external"]
        }
        lines = []
        for raw in text.splitlines():
            match = _LINE.match(raw.strip())
            if match is None:
                continue
            lines.append((match["src"], match["dst"], parse_connections(match["conn"])))
        return cls(lines, externals)

    def _matches(self, printed: str, endpoint: str) -> bool:
        pod = _POD.match(printed)
        if pod is not None:
            return f"{pod['ns']}/{pod['name']}" == endpoint
        address = self.externals.get(endpoint)
        if address is None:
            return False
        return any(
            low.version == address.version and low <= address <= high
            for low, high in _ip_ranges(printed)
        )

    def allowed(self, source: str, destination: str, port: int, protocol: str) -> bool:
        return any(
            predicate(protocol, port)
            for src, dst, predicate in self.lines
            if self._matches(src, source) and self._matches(dst, destination)
        )
