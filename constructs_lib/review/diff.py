"""``netfence diff``: which flows a change opens and closes, and which of them are risky.

Both sides are evaluated by the reachability engine over one world (see
world.py), so a reordered rule or a renamed Terraform resource that allows
the same thing shows no change, and a one-character selector edit that lets
every namespace in shows up as the flows it opens.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from constructs_lib.addresses import covers_internet
from constructs_lib.errors import ArtifactError
from constructs_lib.loaders import (
    find_stacks,
    intent_from_artifact,
    load_inventory,
    read_json,
    read_synth,
)
from constructs_lib.loaders._spec import TERRAFORM, Reader
from constructs_lib.loaders.intent import IntentRecord
from constructs_lib.loaders.network_policy import EGRESS, INGRESS, NetworkPolicy
from constructs_lib.loaders.terraform import plan_policies, policies_from_synth
from constructs_lib.review.world import AFTER, BEFORE, World, WorldBuilder
from constructs_lib.verifier.connections import NO_CONNECTIONS, ConnectionSet
from constructs_lib.verifier.engine import Engine, external_set
from constructs_lib.verifier.ipset import ALL_IPS, IPSet, partition
from constructs_lib.verifier.isolation import Isolation, default_deny_directions

RISK_KINDS: tuple[str, ...] = (
    "namespace-destroyed",
    "internet-egress",
    "cross-environment",
    "into-prod",
    "default-deny-lost",
    "isolation-lost",
    "all-namespaces-peer",
)
PROD = "prod"
_OWNED_NAMESPACE_TYPES = ("kubernetes_namespace_v1", "kubernetes_namespace")
_NAMESPACE_TYPES = (*_OWNED_NAMESPACE_TYPES, "kubernetes_labels")


@dataclass(frozen=True)
class FlowChange:
    """Connections from ``source`` to ``destination`` that a change opens or closes."""

    source: str
    destination: str
    conns: ConnectionSet
    group: str  # the namespace the change is listed under

    def __str__(self) -> str:
        return f"{self.source} -> {self.destination}: {self.conns}"


@dataclass(frozen=True)
class Risk:
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass(frozen=True)
class StackDiff:
    """The change to one stack (or to the whole plan)."""

    name: str
    base: str
    head: str
    opened: tuple[FlowChange, ...]
    closed: tuple[FlowChange, ...]
    risks: tuple[Risk, ...]


@dataclass(frozen=True)
class Diff:
    stacks: tuple[StackDiff, ...]

    @property
    def opened(self) -> list[FlowChange]:
        return [f for s in self.stacks for f in s.opened]

    @property
    def closed(self) -> list[FlowChange]:
        return [f for s in self.stacks for f in s.closed]

    @property
    def risks(self) -> list[Risk]:
        return [r for s in self.stacks for r in s.risks]


# comparing two policy sets -----------------------------------------------------


def compare(
    before: Sequence[NetworkPolicy], after: Sequence[NetworkPolicy], world: World
) -> tuple[list[FlowChange], list[FlowChange]]:
    """(opened, closed) between every ordered pair of the world's pods and to/from addresses."""
    pods = world.pods
    eb = Engine(list(before), world.before, pods)
    ea = Engine(list(after), world.after, pods)
    opened: list[FlowChange] = []
    closed: list[FlowChange] = []
    cache: dict[tuple[int, int, int, int], tuple[ConnectionSet, ConnectionSet]] = {}
    members = world.members
    in_before = [world.exists(m.pod.namespace, BEFORE) for m in members]
    in_after = [world.exists(m.pod.namespace, AFTER) for m in members]
    # Only pairs that some side may connect can change: each side's engine
    # names the candidate sources of a destination (all of them when it is
    # not isolated), instead of trying every ordered pair of members.
    of_class: tuple[dict[int, list[int]], dict[int, list[int]]] = ({}, {})
    for i in range(len(members)):
        of_class[0].setdefault(eb.pod_class[i], []).append(i)
        of_class[1].setdefault(ea.pod_class[i], []).append(i)
    for j, dst in enumerate(members):
        candidates: set[int] = set()
        for engine, members_of in ((eb, of_class[0]), (ea, of_class[1])):
            for c in engine.sources_of(engine.pod_class[j]):
                candidates.update(members_of.get(c, ()))
        for i in sorted(candidates):
            src = members[i]
            if i == j:
                continue
            both_before, both_after = in_before[i] and in_before[j], in_after[i] and in_after[j]
            key = (
                eb.pod_class[i] if both_before else -1,
                eb.pod_class[j] if both_before else -1,
                ea.pod_class[i] if both_after else -1,
                ea.pod_class[j] if both_after else -1,
            )
            found = cache.get(key)
            if found is None:
                b = eb.between(key[0], key[1]) if both_before else NO_CONNECTIONS
                a = ea.between(key[2], key[3]) if both_after else NO_CONNECTIONS
                found = cache[key] = (a - b, b - a)
            gained, lost = found
            if not gained.is_empty():
                opened.append(FlowChange(src.display, dst.display, gained, dst.group))
            if not lost.is_empty():
                closed.append(FlowChange(src.display, dst.display, lost, dst.group))
    # Declared endpoints name the ranges they cover; internet-wide ones only as a last resort.
    ext_ips = {
        e.name: external_set(e) for e in sorted(world.externals, key=lambda e: (e.internet, e.name))
    }
    for i, member in enumerate(members):
        for outward in (True, False):
            rb = (eb.egress_rects if outward else eb.ingress_rects)(eb.pod_class[i])
            ra = (ea.egress_rects if outward else ea.ingress_rects)(ea.pod_class[i])
            rb = rb if in_before[i] else []
            ra = ra if in_after[i] else []
            if [r[:2] for r in rb] == [r[:2] for r in ra]:
                continue
            for gained_side, changes in ((True, opened), (False, closed)):
                for label, ips, conns in _address_changes(rb, ra, ext_ips, gained_side):
                    where = label or ips.summary()
                    pair = (member.display, where) if outward else (where, member.display)
                    changes.append(FlowChange(pair[0], pair[1], conns, member.group))
    order = {m.display: n for n, m in enumerate(members)}

    def sort_key(f: FlowChange) -> tuple[str, int, int, str, str]:
        return (
            f.group,
            order.get(f.source, -1),
            order.get(f.destination, -1),
            f.source,
            f.destination,
        )

    return sorted(opened, key=sort_key), sorted(closed, key=sort_key)


def _address_changes(
    before: Sequence[tuple[IPSet, ConnectionSet, int]],
    after: Sequence[tuple[IPSet, ConnectionSet, int]],
    ext_ips: Mapping[str, IPSet],
    gained: bool,
) -> list[tuple[str | None, IPSet, ConnectionSet]]:
    """Address ranges whose allowed connections changed, by external endpoint and connections."""
    pieces = [r[0] for r in before] + [r[0] for r in after] + list(ext_ips.values())
    grouped: dict[tuple[str | None, ConnectionSet], IPSet] = {}
    for segment in partition(pieces, ALL_IPS):
        cb = ConnectionSet.union_all(c for ips, c, _ in before if ips.covers(segment))
        ca = ConnectionSet.union_all(c for ips, c, _ in after if ips.covers(segment))
        delta = ca - cb if gained else cb - ca
        if delta.is_empty():
            continue
        inside = [name for name, ips in ext_ips.items() if ips.covers(segment)]
        label = f"external/{inside[0]}" if inside else None
        key = (label, delta)
        grouped[key] = grouped.get(key, IPSet()) | segment
    return [(label, ips, conns) for (label, conns), ips in grouped.items()]


# risks -------------------------------------------------------------------------


@dataclass(frozen=True)
class Destroyed:
    """A namespace resource the change destroys (deleting every object in it)."""

    address: str
    namespace: str
    replaced: bool = False  # destroyed and created again: its objects are still lost


def assess(
    before: Sequence[NetworkPolicy],
    after: Sequence[NetworkPolicy],
    world: World,
    opened: Iterable[FlowChange],
    destroyed: Iterable[Destroyed] = (),
) -> list[Risk]:
    """The flags a reviewer must see first, from the opened flows and the policies."""
    risks: list[Risk] = [
        Risk(
            "namespace-destroyed",
            f"namespace {d.namespace} is {'replaced' if d.replaced else 'destroyed'}: "
            f"Terraform deletes {d.address} and with it every object in the namespace "
            "(to stop managing it without deleting it: adopt=True, which writes a removed "
            "block with destroy = false)",
        )
        for d in sorted(destroyed, key=lambda d: (d.namespace, d.address))
    ]
    namespace_of = {m.display: m.pod.namespace for m in world.members}
    for flow in opened:
        src_ns = namespace_of.get(flow.source)
        dst_ns = namespace_of.get(flow.destination)
        if src_ns is not None and dst_ns is None and not _declared(flow.destination, world):
            risks.append(
                Risk(
                    "internet-egress",
                    f"{flow.source} may now connect to {flow.destination} on {flow.conns}",
                )
            )
        if src_ns is None or dst_ns is None:
            continue
        src_env, dst_env = world.environment(src_ns), world.environment(dst_ns)
        if src_env is not None and dst_env is not None and src_env != dst_env:
            risks.append(
                Risk(
                    "cross-environment",
                    f"{flow.source} ({src_env}) -> {flow.destination} ({dst_env}) "
                    f"is newly allowed on {flow.conns}",
                )
            )
        if dst_env == PROD and src_env != PROD:
            risks.append(
                Risk(
                    "into-prod",
                    f"{flow.source} ({_env_text(src_env)}) may now reach "
                    f"{flow.destination} in prod on {flow.conns}",
                )
            )
    denied_before = default_deny_directions(before)
    denied_after = default_deny_directions(after)
    lost: set[tuple[str, str]] = set()
    for namespace in sorted(denied_before):
        for direction in (INGRESS, EGRESS):
            if direction in denied_before[namespace] and direction not in denied_after.get(
                namespace, ()
            ):
                lost.add((namespace, direction))
                risks.append(
                    Risk(
                        "default-deny-lost",
                        f"namespace {namespace} no longer isolates every pod for "
                        f"{direction.lower()} (no policy with an empty podSelector "
                        f"and {direction} in policyTypes)",
                    )
                )
    risks += _isolation_lost(before, after, world, lost)
    old = _all_namespace_peers(before)
    for key, text in sorted(_all_namespace_peers(after).items()):
        if key not in old:
            risks.append(Risk("all-namespaces-peer", text))
    order = {kind: i for i, kind in enumerate(RISK_KINDS)}
    return sorted(risks, key=lambda r: order[r.kind])


def _env_text(env: str | None) -> str:
    return env if env is not None else "no environment label"


def _declared(destination: str, world: World) -> bool:
    """True when ``destination`` is a declared external endpoint that is not the internet."""
    if not destination.startswith("external/"):
        return False
    name = destination.split("/", 1)[1]
    return any(
        e.name == name and not e.internet and not covers_internet(e.cidrs, e.except_)
        for e in world.externals
    )


def _isolation_lost(
    before: Sequence[NetworkPolicy],
    after: Sequence[NetworkPolicy],
    world: World,
    lost: set[tuple[str, str]],
) -> list[Risk]:
    """Pods isolated in a direction before and open after, beyond a namespace's lost
    default deny (``lost``, reported once for the namespace): a workload's own
    isolation removed (``isolate()``, or any policy that alone selected it)."""
    risks = []
    changed = {p.namespace for p in (*before, *after)}
    was_isolated, now_isolated = Isolation(before), Isolation(after)
    for member in world.members:
        pod = member.pod
        if pod.namespace not in changed or not (
            world.exists(pod.namespace, BEFORE) and world.exists(pod.namespace, AFTER)
        ):
            continue
        was = was_isolated.directions(pod.namespace, pod.labels)
        now = now_isolated.directions(pod.namespace, pod.labels)
        for direction in (INGRESS, EGRESS):
            if direction in was and direction not in now and (pod.namespace, direction) not in lost:
                d = direction.lower()
                risks.append(
                    Risk(
                        "isolation-lost",
                        f"{member.display} is no longer isolated for {d} (no policy selecting "
                        f"it has {direction} in policyTypes): every {d} connection is now "
                        "allowed on its side",
                    )
                )
    return risks


def _all_namespace_peers(policies: Iterable[NetworkPolicy]) -> dict[tuple[str, ...], str]:
    out: dict[tuple[str, ...], str] = {}
    for p in policies:
        for direction, rules in (("ingress", p.ingress), ("egress", p.egress)):
            if direction.capitalize() not in p.policy_types:
                continue
            for rule in rules:
                for peer in rule.peers:
                    sel = peer.namespace_selector
                    if sel is None or not sel.is_empty():
                        continue
                    pods = str(peer.pod_selector) if peer.pod_selector is not None else "{}"
                    what = "all pods" if pods == "{}" else f"pods {pods}"
                    side = "from" if direction == "ingress" else "to"
                    out[(p.key, direction, pods)] = (
                        f"{p.key} {direction} now allows {side} {what} in every namespace "
                        "(empty namespaceSelector)"
                    )
    return out


def stack_diff(
    name: str,
    base: str,
    head: str,
    before: Sequence[NetworkPolicy],
    after: Sequence[NetworkPolicy],
    world: World,
    destroyed: Iterable[Destroyed] = (),
) -> StackDiff:
    opened, closed = compare(before, after, world)
    return StackDiff(
        name,
        base,
        head,
        tuple(opened),
        tuple(closed),
        tuple(assess(before, after, world, opened, destroyed)),
    )


# synth outputs -------------------------------------------------------------------


@dataclass(frozen=True)
class SynthStack:
    """One synthesized stack as the review commands need it."""

    file: str
    data: Mapping[str, Any]
    policies: tuple[NetworkPolicy, ...]
    record: IntentRecord | None


def read_stack(file: Path, *, need_record: bool) -> SynthStack:
    data = read_synth(file)
    policies = tuple(policies_from_synth(data, str(file)))
    record = intent_from_artifact(data, str(file)) if need_record or "//" in data else None
    return SynthStack(str(file), data, policies, record)


def _stacks(path: str | Path) -> dict[str, SynthStack]:
    out: dict[str, SynthStack] = {}
    for file in find_stacks(path):
        stack = read_stack(file, need_record=False)
        # cdktf.out/stacks/<name>/ names the stack; a loose file falls back to its record.
        name = file.parent.name
        if file.parent.parent.name != "stacks" and stack.record is not None and stack.record.stack:
            name = stack.record.stack
        if name in out:
            raise ArtifactError(
                str(file), f"a second stack named {name!r} (first: {out[name].file})"
            )
        out[name] = stack
    return out


def diff_artifacts(base: str | Path, head: str | Path) -> Diff:
    """Diff two synth outputs (cdktf.out dirs, stack dirs or cdk.tf.json files).

    Stacks pair up by name; when each side holds exactly one stack they pair
    whatever their names. A stack on one side only is compared with no
    policies at all (what the cluster had before it, or has after it goes).
    """
    old, new = _stacks(base), _stacks(head)
    pairs: list[tuple[str, SynthStack | None, SynthStack | None]]
    if len(old) == 1 and len(new) == 1:
        pairs = [(next(iter(new)), next(iter(old.values())), next(iter(new.values())))]
    else:
        pairs = [(n, old.get(n), new.get(n)) for n in sorted(set(old) | set(new))]
    results = []
    for name, b, h in pairs:
        builder = WorldBuilder()
        for stack, side in ((h, AFTER), (b, BEFORE)):
            if stack is not None and stack.record is not None:
                builder.record(stack.record, side)
        created = _owned_namespaces(h) - _owned_namespaces(b)
        deleted = _owned_namespaces(b) - _owned_namespaces(h)
        for namespace in created:
            builder.absent(namespace, BEFORE)
        for namespace in deleted:
            builder.absent(namespace, AFTER)
        before = b.policies if b else ()
        after = h.policies if h else ()
        builder.selectors([*after, *before])
        results.append(
            stack_diff(
                name,
                b.file if b else "(none)",
                h.file if h else "(none)",
                before,
                after,
                builder.build(),
                destroyed_namespaces(b, h),
            )
        )
    return Diff(tuple(results))


def destroyed_namespaces(base: SynthStack | None, head: SynthStack | None) -> list[Destroyed]:
    """Namespace resources of ``base`` that applying ``head`` destroys, read as Terraform
    would: gone from the configuration (or renamed, which replaces it) unless a
    ``moved`` block carries it to an address with the same name, or a ``removed``
    block with destroy = false makes state forget it."""
    old = _namespace_resources(base)
    new = _namespace_resources(head)
    moves, forgotten = _moves_and_forgets(head)
    out = []
    for address, name in sorted(old.items()):
        target = moves.get(address, address)
        if target in new:
            if new[target] != name:
                out.append(Destroyed(address, name, replaced=True))
        elif address not in forgotten:
            out.append(Destroyed(address, name))
    return out


def _namespace_resources(stack: SynthStack | None) -> dict[str, str]:
    """{address: namespace name} of the namespaces a synthesized stack owns."""
    if stack is None:
        return {}
    reader = Reader(stack.file, None, TERRAFORM)
    resources = reader.mapping(stack.data.get("resource", {}), "resource")
    out = {}
    for rtype in _OWNED_NAMESPACE_TYPES:
        group = reader.mapping(resources.get(rtype, {}), f"resource.{rtype}")
        for rname, body in group.items():
            where = f"resource.{rtype}.{rname}"
            meta, meta_path = reader.block(reader.mapping(body, where).get("metadata"), where)
            if meta is None:
                reader.fail(f"{where}.metadata", "missing required field")
            out[f"{rtype}.{rname}"] = reader.string(meta.get("name"), f"{meta_path}.name")
    return out


def _moves_and_forgets(stack: SynthStack | None) -> tuple[dict[str, str], set[str]]:
    """``moved`` (from -> to) and the addresses ``removed`` forgets without destroying."""
    if stack is None:
        return {}, set()
    reader = Reader(stack.file, None, TERRAFORM)
    moves = {}
    for i, item in enumerate(reader.items(stack.data.get("moved"), "moved")):
        block = reader.mapping(item, f"moved[{i}]")
        moves[reader.string(block.get("from"), f"moved[{i}].from")] = reader.string(
            block.get("to"), f"moved[{i}].to"
        )
    forgotten = set()
    for i, item in enumerate(reader.items(stack.data.get("removed"), "removed")):
        where = f"removed[{i}]"
        block = reader.mapping(item, where)
        lifecycle, _ = reader.block(block.get("lifecycle"), f"{where}.lifecycle")
        if lifecycle is not None and lifecycle.get("destroy") is False:
            forgotten.add(reader.string(block.get("from"), f"{where}.from"))
    return moves, forgotten


def _owned_namespaces(stack: SynthStack | None) -> set[str]:
    """Namespaces the stack creates (adopted ones exist with or without it)."""
    if stack is None or stack.record is None:
        return set()
    return {ns.name for ns in stack.record.namespaces if ns.managed}


# plans -----------------------------------------------------------------------------


def diff_plan(
    plan: str | Path,
    inventories: Iterable[str | Path] = (),
    stacks: Iterable[str | Path] = (),
) -> Diff:
    """Diff the before and after of a ``terraform show -json`` plan.

    A plan holds no intent record, so the pods come from the policies'
    selectors, from ``inventories`` and from the intent records of
    ``stacks``; namespace labels come from the plan's namespace resources.
    """
    data = read_json(Path(plan))
    if not isinstance(data, dict) or "resource_changes" not in data:
        raise ArtifactError(
            str(plan),
            "not a plan: expected `terraform show -json` of a plan file",
            field="resource_changes",
        )
    policies = plan_policies(data, str(plan))
    builder = WorldBuilder()
    names: list[str] = []
    for path in stacks:
        for stack_name, stack in _stacks(path).items():
            names.append(stack_name)
            if stack.record is not None:
                builder.record(stack.record)
    for path in inventories:
        builder.inventory(load_inventory(path, namespaces_elsewhere=True))
    for side, name, labels in plan_namespaces(data, str(plan)):
        builder.namespace(name, labels, side)
    for name, present in _created_or_deleted(data, str(plan)).items():
        builder.absent(name, present)
    builder.selectors([*policies.after, *policies.before])
    return Diff(
        (
            stack_diff(
                _plan_name(Path(plan), names),
                f"{plan} (before)",
                f"{plan} (after)",
                policies.before,
                policies.after,
                builder.build(),
                _plan_destroys(data, str(plan)),
            ),
        )
    )


def _plan_destroys(data: Mapping[str, Any], file: str) -> list[Destroyed]:
    """Namespace resources the plan deletes (alone or as part of a replace)."""
    reader = Reader(file, None, TERRAFORM)
    out = []
    for i, item in enumerate(reader.items(data.get("resource_changes"), "resource_changes")):
        path = f"resource_changes[{i}]"
        change = reader.mapping(item, path)
        if change.get("type") not in _OWNED_NAMESPACE_TYPES:
            continue
        body = reader.mapping(change.get("change"), f"{path}.change")
        actions = reader.items(body.get("actions"), f"{path}.change.actions")
        if "delete" not in actions:
            continue
        address = reader.string(change.get("address"), f"{path}.address")
        values = reader.mapping(body.get(BEFORE), f"{path}.change.before")
        meta, meta_path = reader.block(values.get("metadata"), f"{path}.change.before.metadata")
        name = address if meta is None else reader.string(meta.get("name"), f"{meta_path}.name")
        out.append(Destroyed(address, name, replaced="create" in actions))
    return out


def _plan_name(plan: Path, stacks: Sequence[str]) -> str:
    """The stack a plan belongs to: its --stack, its cdktf.out/stacks/<name>/ dir, its file."""
    if stacks:
        return ", ".join(sorted(set(stacks)))
    if plan.parent.parent.name == "stacks":
        return plan.parent.name
    return plan.stem


def _created_or_deleted(data: Mapping[str, Any], file: str) -> dict[str, str]:
    """Namespaces the plan creates (absent before) or deletes (absent after)."""
    reader = Reader(file, None, TERRAFORM)
    out: dict[str, str] = {}
    for i, item in enumerate(reader.items(data.get("resource_changes"), "resource_changes")):
        change = reader.mapping(item, f"resource_changes[{i}]")
        if change.get("type") not in ("kubernetes_namespace_v1", "kubernetes_namespace"):
            continue
        body = reader.mapping(change.get("change"), f"resource_changes[{i}].change")
        before, after = body.get(BEFORE), body.get(AFTER)
        if (before is None) == (after is None):
            continue
        values = reader.mapping(after if before is None else before, f"resource_changes[{i}]")
        meta, _ = reader.block(values.get("metadata"), f"resource_changes[{i}].metadata")
        if meta is not None and isinstance(meta.get("name"), str):
            out[meta["name"]] = BEFORE if before is None else AFTER
    return out


def plan_namespaces(data: Mapping[str, Any], file: str) -> list[tuple[str, str, dict[str, str]]]:
    """(side, namespace, labels) from the plan's namespace and namespace-label resources."""
    reader = Reader(file, None, TERRAFORM)
    out = []
    for i, item in enumerate(reader.items(data.get("resource_changes"), "resource_changes")):
        path = f"resource_changes[{i}]"
        change = reader.mapping(item, path)
        if change.get("type") not in _NAMESPACE_TYPES:
            continue
        body = reader.mapping(change.get("change"), f"{path}.change")
        for side in (BEFORE, AFTER):
            values = body.get(side)
            if values is None:
                continue
            where = f"{path}.change.{side}"
            values = reader.mapping(values, where)
            meta, meta_path = reader.block(values.get("metadata"), f"{where}.metadata")
            if meta is None:
                reader.fail(f"{where}.metadata", "missing required field")
            name = reader.string(meta.get("name"), f"{meta_path}.name")
            raw = (
                values.get("labels")
                if change["type"] == "kubernetes_labels"
                else meta.get("labels")
            )
            where_labels = (
                f"{where}.labels"
                if change["type"] == "kubernetes_labels"
                else (f"{meta_path}.labels")
            )
            out.append((side, name, dict(reader.labels(raw, where_labels))))
    return out
