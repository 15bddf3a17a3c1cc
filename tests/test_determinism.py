"""Synthesis is deterministic and independent of declaration order."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from constructs_lib import ExternalEndpoint, Port
from constructs_lib.compiler import compile_topology
from constructs_lib.emitters import render_manifests, render_terraform
from constructs_lib.model import Topology


@dataclass(frozen=True)
class Plan:
    """A random intent as plain data, so it can be declared in any order."""

    namespaces: list[tuple[str, str]]
    workloads: list[tuple[str, str, int]]
    flows: list[tuple[int, int]]
    externals: list[tuple[int, int]]


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    n_ns = draw(st.integers(1, 3))
    namespaces = [(f"ns{i}", draw(st.sampled_from(["prod", "staging"]))) for i in range(n_ns)]
    n_wl = draw(st.integers(2, 6))
    workloads = [
        (f"ns{draw(st.integers(0, n_ns - 1))}", f"w{i}", draw(st.sampled_from([80, 443, 5432])))
        for i in range(n_wl)
    ]
    pairs = [(a, b) for a in range(n_wl) for b in range(n_wl) if a != b]
    flows = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=8))
    externals = draw(st.lists(st.tuples(st.integers(0, n_wl - 1), st.integers(0, 2)),
                              unique=True, max_size=3))
    return Plan(namespaces, workloads, flows, externals)


EXTERNALS = [
    ExternalEndpoint("bank", cidr="203.0.113.0/24", ports=[Port.tcp(443)]),
    ExternalEndpoint("mirror", cidrs=["198.51.100.0/24", "2001:db8::/48"], ports=[Port.tcp(80)]),
    ExternalEndpoint("syslog", cidr="192.0.2.0/28", ports=[Port.udp(514)]),
]


def _declare(plan: Plan, rng: random.Random | None) -> dict[str, Any]:
    def order(items: list[Any]) -> list[Any]:
        items = list(items)
        if rng is not None:
            rng.shuffle(items)
        return items

    topo = Topology("p")
    for name, env in order(plan.namespaces):
        topo.add_namespace(f"p/{name}", name=name, environment=env)
    wls = {}
    for i, (ns, name, port) in order(list(enumerate(plan.workloads))):
        wls[i] = topo.namespaces[ns].workload(name, labels={"app": name}, ports=[Port.tcp(port)])
    for a, b in order(plan.flows):
        wls[a].allow_to(wls[b], cross_environment=True)
    for w, e in order(plan.externals):
        wls[w].allow_to(EXTERNALS[e])
    compiled = compile_topology(topo)
    return {
        "tf": json.dumps(render_terraform(compiled), sort_keys=False),
        "yaml": render_manifests(compiled),
        "record": json.dumps(compiled.record, sort_keys=False),
    }


@settings(max_examples=60, deadline=None)
@given(plans(), st.integers(0, 2**32 - 1))
def test_output_does_not_depend_on_declaration_order(plan: Plan, seed: int) -> None:
    assert _declare(plan, None) == _declare(plan, random.Random(seed))
