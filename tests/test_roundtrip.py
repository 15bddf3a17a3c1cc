"""The promise end to end: random intent -> artifact on disk -> verifier finds exactly it."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_lib import ExternalEndpoint, LabelExpression, Namespaces, Port, WorkloadSelection
from constructs_lib.compiler import compile_topology
from constructs_lib.emitters import render_terraform
from constructs_lib.model import Topology
from constructs_lib.verifier import verify_stack

PORTS = [
    Port.tcp(80, name="http"),
    Port.tcp(5432),
    Port.udp(514),
    Port.tcp_range(9000, 9010),
    Port.sctp(3868),
]
EXTERNALS = [
    ExternalEndpoint("bank", cidr="203.0.113.0/24", ports=[Port.tcp(443)]),
    ExternalEndpoint(
        "mirror",
        cidrs=["198.51.100.0/24", "2001:db8::/48"],
        except_=["198.51.100.128/25"],
        ports=[Port.tcp(80)],
    ),
    ExternalEndpoint("web", cidr="0.0.0.0/0", internet=True, ports=[Port.tcp(443)]),
]

FLOW_PORTS = [*PORTS[1:], Port.all_tcp(), Port.all_udp(), Port.all()]
# Flow ends outside the stack: by name, by label (one NotIn also matching the stack's
# own namespaces, which carry no team label), all namespaces (also matching w0).
FOREIGN = [
    Namespaces.named("ingress-nginx").pods({"app": "ctl"}),
    Namespaces.named("mon", "logs").all_pods(),
    Namespaces.labelled({"team": "ops"}).pods({"app": "prom"}),
    Namespaces.labelled(expressions=[LabelExpression.not_in("team", ["dev"])]).pods(
        {"tier": "front"}
    ),
    Namespaces.all(environment="prod").all_pods(),
    Namespaces.all().pods({"app": "w0"}),
    Namespaces.all().all_pods(),
    Namespaces.named("ingress-nginx", environment="prod").pods({"app": "ctl"}),
]


@st.composite
def topologies(draw: st.DrawFn) -> Topology:
    topo = Topology("rt")
    # Pods get IPs from these ranges; the internet endpoint gets them as excepts.
    topo.set_cluster_ranges(
        "rt/cluster",
        pod_cidrs=draw(st.sampled_from([["10.244.0.0/16"], ["10.244.0.0/16", "fd00:10::/56"]])),
        service_cidrs=draw(st.sampled_from([[], ["10.96.0.0/12"]])),
    )
    n_ns = draw(st.integers(1, 3))
    namespaces = [
        topo.add_namespace(
            f"rt/ns{i}",
            name=f"ns{i}",
            environment=draw(st.sampled_from(["prod", "staging"])),
            allow_dns=draw(st.booleans()),
            adopt=draw(st.booleans()),
            # mostly the default; a rollout step leaves a direction open (or both)
            default_deny=draw(st.sampled_from(["both", "both", "ingress", "egress", "none"])),
        )
        for i in range(n_ns)
    ]
    workloads = []
    for i in range(draw(st.integers(1, 5))):
        ns = draw(st.sampled_from(namespaces))
        labels = {"app": f"w{i}"}
        if draw(st.booleans()):
            labels["tier"] = draw(st.sampled_from(["front", "back"]))
        ports = draw(st.lists(st.sampled_from(PORTS), unique=True, max_size=3))
        allow_dns = draw(st.booleans()) if i % 2 else True
        workloads.append(ns.workload(f"w{i}", labels=labels, ports=ports, allow_dns=allow_dns))
        if ns.open and draw(st.booleans()):  # isolate just this workload in an open direction
            choices = ["both", *(d.value.lower() for d in ns.open)]
            workloads[-1].isolate(draw(st.sampled_from(choices)))

    def env_of(end: Any) -> str | None:
        return end.environment()

    for _ in range(draw(st.integers(0, 8))):
        src = draw(st.sampled_from(workloads))
        kind = draw(
            st.sampled_from(["workload", "external", "from-external", "selection", "namespaces"])
        )
        if kind == "workload" and len(workloads) > 1:
            dst = draw(st.sampled_from([w for w in workloads if w is not src]))
            pair = (src, dst)
        elif kind == "external":
            pair = (src, draw(st.sampled_from(EXTERNALS)))
        elif kind == "from-external":
            pair = (draw(st.sampled_from(EXTERNALS)), src)
        elif kind == "namespaces":
            foreign = draw(st.sampled_from(FOREIGN))
            pair = (foreign, src) if draw(st.booleans()) else (src, foreign)
        else:
            ns = draw(st.sampled_from(namespaces))
            selection = draw(
                st.sampled_from(
                    [
                        ns.all_workloads(),
                        ns.select({"tier": "front"}),
                        WorkloadSelection.in_environment("prod", labels={"team": "ops"}),
                    ]
                )
            )
            pair = (selection, src) if draw(st.booleans()) else (src, selection)
        a, b = pair
        explicit = draw(st.lists(st.sampled_from(FLOW_PORTS), unique=True, min_size=1, max_size=2))
        ports = None if b.default_ports() and draw(st.booleans()) else explicit
        # True where a flow cannot cross is accepted: set it for every foreign selection
        cross = kind == "namespaces" or bool(env_of(a) and env_of(b) and env_of(a) != env_of(b))
        # a duplicate flow is refused: the generator asked for the same pair twice
        with contextlib.suppress(ValueError):
            topo.add_flow(a, b, ports=ports, cross_environment=cross, path="rt/flow")
        late = draw(st.sampled_from(workloads))
        if late.namespace.open and draw(st.integers(0, 3)) == 0:
            # isolate() after flows: refused when a declared end covers part of the workload
            with contextlib.suppress(ValueError):
                late.isolate(draw(st.sampled_from(["both", "ingress", "egress"])))
    return topo


def _write_artifact(topo: Topology, directory: Path) -> Path:
    compiled = compile_topology(topo)
    doc = render_terraform(compiled)
    doc["//"] = {"metadata": {"netfence": compiled.record}}
    path = directory / "stacks" / "rt" / "cdk.tf.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(topologies())
def test_verifier_finds_exactly_the_declared_flows(tmp_path: Path, topo: Topology) -> None:
    path = _write_artifact(topo, tmp_path)
    result = verify_stack(path)
    assert [str(f) for f in result.findings] == []


def test_the_property_can_fail_when_a_policy_is_widened(tmp_path: Path) -> None:
    topo = Topology("rt")
    ns = topo.add_namespace("rt/ns", name="ns", environment="prod")
    api = ns.workload("api", labels={"app": "api"}, ports=[Port.tcp(80)])
    db = ns.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432)])
    api.allow_to(db)
    path = _write_artifact(topo, tmp_path)
    doc = json.loads(path.read_text())
    rule = doc["resource"]["kubernetes_network_policy_v1"]["ns_db-ingress"]["spec"]["ingress"][0]
    del rule["from"]  # the classic mistake: a rule without peers admits every pod
    path.write_text(json.dumps(doc))
    findings = verify_stack(path).findings
    assert findings and all("ns_db-ingress" in " ".join(f.policies) for f in findings)
    kinds = {f.kind for f in findings}
    assert "unlisted-pod" in kinds
