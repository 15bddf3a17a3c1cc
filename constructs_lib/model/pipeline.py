"""Pipelines: stages joined by a data-flow graph, each stage a workload.

A stage's pods are selected by the pipeline and stage labels; its ingress
accepts only its upstream stages, its egress reaches only its downstream
stages and the external endpoints approved for it (plus DNS, from its
namespace). Each stage gets a service account with token automount off; a
deployer stage gets a namespaced Role and RoleBinding in its target
namespace, never a ClusterRole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from constructs_lib.errors import InvalidIntentError
from constructs_lib.model import validation
from constructs_lib.model.port import Port
from constructs_lib.model.topology import ExternalEndpoint, Namespace, Workload

if TYPE_CHECKING:
    from constructs_lib.model.topology import Topology

PIPELINE_LABEL = "netfence.io/pipeline"
STAGE_LABEL = "netfence.io/stage"

# What a deployer may do in its target namespace: manage workloads and their
# configuration, read pods to follow rollouts. No secrets, no RBAC, no
# cluster scope: extend with an override if a pipeline truly needs more.
DEPLOYER_RULES: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (
        ("apps",),
        ("daemonsets", "deployments", "replicasets", "statefulsets"),
        ("create", "delete", "get", "list", "patch", "update", "watch"),
    ),
    (
        ("batch",),
        ("cronjobs", "jobs"),
        ("create", "delete", "get", "list", "patch", "update", "watch"),
    ),
    (
        ("",),
        ("configmaps", "services"),
        ("create", "delete", "get", "list", "patch", "update", "watch"),
    ),
    (("",), ("pods", "pods/log"), ("get", "list", "watch")),
)


@dataclass(frozen=True, eq=False)
class Stage(Workload):
    """One step of a pipeline: a workload with graph operations."""

    pipeline: Pipeline = field(default=None, repr=False)  # type: ignore[assignment]
    stage: str = ""
    service_account: str | None = None
    automount_token: bool = False
    deploys_to: Namespace | None = field(default=None, repr=False)

    def feeds(
        self,
        *downstream: Stage,
        ports: Sequence[Port] | None = None,
        cycle: bool = False,
    ) -> Stage:
        """Let this stage send to each ``downstream`` stage (fan-out when several).

        ports: left out, each downstream stage's declared ports.
        cycle: must be True when the edge closes a cycle; left out, refused.
        Returns the last downstream stage, so ``a.feeds(b).feeds(c)`` chains.
        """
        if not downstream:
            raise InvalidIntentError(
                f"{self.path}.feeds()", "downstream", "name at least one stage"
            )
        for target in downstream:
            self.pipeline.connect(self, target, ports=ports, cycle=cycle)
        return downstream[-1]

    def __rshift__(self, other: Stage) -> Stage:
        """``ingest >> transform >> load``: the same as ``feeds``."""
        return self.feeds(other)

    def reaches(self, *endpoints: ExternalEndpoint, ports: Sequence[Port] | None = None) -> None:
        """Approve egress from this stage to external endpoints (a warehouse, a registry)."""
        for endpoint in endpoints:
            if not isinstance(endpoint, ExternalEndpoint):
                raise InvalidIntentError(
                    f"{self.path}.reaches()",
                    "endpoints",
                    f"{endpoint!r} is not an "
                    "ExternalEndpoint; stages reach other stages with feeds()",
                )
            self.namespace.topology.add_flow(
                self, endpoint, ports=ports, cross_environment=False, path=f"{self.path}.reaches()"
            )

    def describe(self) -> str:
        return f"stage {self.pipeline.name}/{self.stage}"


class Pipeline:
    """The stages of one pipeline and the edges between them."""

    def __init__(self, topology: Topology, path: str, name: str) -> None:
        self.topology = topology
        self.path = path
        self.name = validation.dns_label(path, "name", name)
        if name in topology.pipelines:
            raise InvalidIntentError(
                path,
                "name",
                f"pipeline {name!r} is already declared in this stack at "
                f"{topology.pipelines[name].path}",
            )
        self.stages: dict[str, Stage] = {}
        self.edges: dict[Stage, list[Stage]] = {}
        topology.pipelines[name] = self

    def stage(
        self,
        id: str,
        *,
        namespace: Namespace,
        labels: Mapping[str, str] | None = None,
        ports: Sequence[Port] | None = None,
        service_account: bool = True,
        automount_token: bool = False,
        deploys_to: Namespace | None = None,
        allow_dns: bool = True,
    ) -> Stage:
        """Declare a stage running in ``namespace``.

        labels: more pod labels to select on; left out, the stage is selected
            by ``netfence.io/pipeline`` and ``netfence.io/stage`` alone.
        ports: what the stage listens on; upstream stages reach it there.
        service_account: left out (True), a service account named
            ``<pipeline>-<stage>`` for the stage's pods; False, none.
        automount_token: left out (False), the account's token is not mounted
            into pods; True for stages that call the Kubernetes API.
        deploys_to: a namespace the stage deploys into; it gets a Role there
            to manage workloads (see DEPLOYER_RULES) bound to its account.
        allow_dns: left out (True), the stage's pods may query cluster DNS;
            False leaves them out of the namespace's DNS policy.
        In a namespace whose ``default_deny`` leaves a direction open, the
        stage is isolated there all the same (as by ``isolate("both")``).
        """
        path = f"{self.path}/{id}"
        validation.dns_label(path, "id", id)
        if id in self.stages:
            raise InvalidIntentError(
                path, "id", f"stage {id!r} is already declared in pipeline {self.name!r}"
            )
        if not isinstance(namespace, Namespace):
            raise InvalidIntentError(
                path,
                "namespace",
                f"{namespace!r} is not a namespace of this stack "
                "(pass the ZeroTrustNamespace's model, or the construct itself)",
            )
        if namespace.topology is not self.topology:
            raise InvalidIntentError(
                path,
                "namespace",
                f"namespace {namespace.name!r} {self.topology.foreign(namespace.topology)}",
            )
        validation.boolean(path, "service_account", service_account)
        validation.boolean(path, "automount_token", automount_token)
        if deploys_to is not None:
            if not isinstance(deploys_to, Namespace):
                raise InvalidIntentError(
                    path,
                    "deploys_to",
                    f"{deploys_to!r} is not a namespace of this stack "
                    "(pass the ZeroTrustNamespace's model, or the construct itself)",
                )
            if deploys_to.topology is not self.topology:
                raise InvalidIntentError(
                    path,
                    "deploys_to",
                    f"namespace {deploys_to.name!r} {self.topology.foreign(deploys_to.topology)}; "
                    "a deployer's Role and RoleBinding are written by its own stack, so it can "
                    "only deploy to a namespace of that stack",
                )
        if deploys_to is not None and not service_account:
            raise InvalidIntentError(
                path,
                "deploys_to",
                "a deployer stage needs its service account; leave service_account=True",
            )
        extra = validation.labels(path, "labels", labels, allow_empty=True)
        for key, _ in extra:
            if key in (PIPELINE_LABEL, STAGE_LABEL):
                raise InvalidIntentError(
                    path,
                    "labels",
                    f"label {key!r} is set by the pipeline to select the stage; leave it out",
                )
        selector = {PIPELINE_LABEL: self.name, STAGE_LABEL: id, **dict(extra)}
        name = validation.dns_label(path, "name", f"{self.name}-{id}")
        stage = self.topology.add_workload(
            namespace,
            id,
            labels=selector,
            ports=ports,
            name=name,
            allow_dns=allow_dns,
            make=lambda ns, p, n, lab, prt, **kw: Stage(
                ns,
                p,
                n,
                lab,
                prt,
                self,
                id,
                name if service_account else None,
                automount_token,
                deploys_to,
                **kw,
            ),
        )
        assert isinstance(stage, Stage)
        if namespace.open:  # a stage accepts only upstream and reaches only downstream
            self.topology.isolate(stage, "both", path)
        self.stages[id] = stage
        self.edges[stage] = []
        return stage

    def connect(
        self, source: Stage, target: Stage, *, ports: Sequence[Port] | None, cycle: bool
    ) -> None:
        path = f"{source.path}.feeds()"
        validation.boolean(path, "cycle", cycle)
        for end in (source, target):
            if not isinstance(end, Stage) or end.pipeline is not self:
                what = end.describe() if isinstance(end, Workload) else repr(end)
                raise InvalidIntentError(
                    path,
                    "downstream",
                    f"{what} "
                    f"is not a stage of pipeline {self.name!r} (stages: "
                    f"{', '.join(sorted(self.stages)) or 'none'})",
                )
        loop = self._path(target, source)
        if loop is not None and not cycle:
            names = " -> ".join(s.stage for s in [source, *loop])
            raise InvalidIntentError(
                path,
                "cycle",
                f"{source.stage} -> {target.stage} closes the cycle {names}; "
                "pass cycle=True to declare it",
            )
        # the flow is recorded as declared by feeds(), where the user wrote it
        self.topology.add_flow(source, target, ports=ports, cross_environment=False, path=path)
        self.edges[source].append(target)

    def _path(self, start: Stage, goal: Stage) -> list[Stage] | None:
        """Stages from ``start`` to ``goal`` along existing edges, if any."""
        stack: list[tuple[Stage, list[Stage]]] = [(start, [start])]
        seen: set[int] = set()
        while stack:
            node, trail = stack.pop()
            if node is goal:
                return trail
            if id(node) in seen:
                continue
            seen.add(id(node))
            for nxt in sorted(self.edges[node], key=lambda s: s.stage, reverse=True):
                stack.append((nxt, [*trail, nxt]))
        return None

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        stages = [s for s in self.stages.values() if s.namespace.name == namespace]
        if not stages:
            return {}
        out = {PIPELINE_LABEL: self.name}
        if len(stages) == 1:
            out[STAGE_LABEL] = stages[0].stage
        return out
