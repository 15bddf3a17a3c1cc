"""``netfence drift``: does the cluster run what the stack declares?

Two answers, because each misses what the other sees. Semantic drift is
the connections the live policies allow that the desired ones do not, and
the reverse, over the stack's intent (plus unlisted pods and a pod per
selector the live policies use). Object drift is policies missing live,
extra live in the stack's namespaces, or changed; a changed policy that
allows the same thing is object drift only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from constructs_lib.loaders import find_stacks
from constructs_lib.loaders.network_policy import NetworkPolicy, PolicyRule
from constructs_lib.review.diff import FlowChange, compare, read_stack
from constructs_lib.review.live import LiveState
from constructs_lib.review.world import AFTER, WorldBuilder

OBJECT_KINDS = ("missing", "extra", "changed")


@dataclass(frozen=True)
class ObjectDrift:
    kind: str  # missing | extra | changed
    policy: str  # namespace/name
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.policy}: {self.detail}"


@dataclass(frozen=True)
class StackDrift:
    stack: str
    desired: str
    live: str
    live_only: tuple[FlowChange, ...]  # allowed live, not in the desired policies
    desired_only: tuple[FlowChange, ...]  # desired, but the live policies do not allow it
    objects: tuple[ObjectDrift, ...]

    @property
    def drifted(self) -> bool:
        return bool(self.live_only or self.desired_only or self.objects)


@dataclass(frozen=True)
class Drift:
    stacks: tuple[StackDrift, ...]

    @property
    def drifted(self) -> bool:
        return any(s.drifted for s in self.stacks)


def detect_drift(desired: str | Path, live: LiveState) -> Drift:
    """Drift of every stack under ``desired`` (a stack dir, cdk.tf.json or cdktf.out)."""
    results = []
    for file in find_stacks(desired):
        stack = read_stack(file, need_record=True)
        record, wanted = stack.record, stack.policies
        assert record is not None
        namespaces = {ns.name for ns in record.namespaces}
        ours = [p for p in live.policies if p.namespace in namespaces]
        # Live policies elsewhere are not this stack's to judge; both sides keep them.
        others = [p for p in live.policies if p.namespace not in namespaces]
        builder = WorldBuilder()
        builder.record(record)
        live_labels = live.namespace_labels()
        for name in namespaces:
            if name in live_labels:
                builder.namespace(name, live_labels[name], AFTER)
        builder.selectors(ours)
        opened, closed = compare([*wanted, *others], live.policies, builder.build())
        results.append(
            StackDrift(
                record.stack or file.parent.name,
                str(file),
                live.source,
                tuple(opened),
                tuple(closed),
                tuple(object_drift(wanted, ours)),
            )
        )
    return Drift(tuple(results))


def object_drift(
    desired: Sequence[NetworkPolicy], live: Sequence[NetworkPolicy]
) -> list[ObjectDrift]:
    """Policies missing, extra or changed, comparing normalised specs (order does not count)."""
    want = {p.key: p for p in desired}
    have = {p.key: p for p in live}
    out = []
    for key in sorted(set(want) | set(have)):
        w, h = want.get(key), have.get(key)
        if h is None:
            assert w is not None
            out.append(
                ObjectDrift("missing", key, f"declared by {w.describe()}, not in the cluster")
            )
        elif w is None:
            out.append(
                ObjectDrift("extra", key, f"in the cluster ({h.source}), not declared by the stack")
            )
        else:
            fields = _changed_fields(w, h)
            if fields:
                out.append(
                    ObjectDrift("changed", key, f"{', '.join(fields)} differ from {w.describe()}")
                )
    order = {kind: i for i, kind in enumerate(OBJECT_KINDS)}
    return sorted(out, key=lambda d: (order[d.kind], d.policy))


def _changed_fields(a: NetworkPolicy, b: NetworkPolicy) -> list[str]:
    out = []
    if a.pod_selector != b.pod_selector:
        out.append("podSelector")
    if set(a.policy_types) != set(b.policy_types):
        out.append("policyTypes")
    if _rules(a.ingress) != _rules(b.ingress):
        out.append("ingress")
    if _rules(a.egress) != _rules(b.egress):
        out.append("egress")
    return out


def _rules(rules: Iterable[PolicyRule]) -> list[tuple[list[str], list[str]]]:
    """Rules as order-free data: the API keeps order, but it never changes what is allowed."""
    return sorted(
        (sorted(repr(p) for p in set(r.peers)), sorted(repr(p) for p in set(r.ports)))
        for r in rules
    )
