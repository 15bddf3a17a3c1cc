"""``netfence migrate``: existing NetworkPolicies -> intent code, proven equal on an inventory.

read (loaders: files, or a cluster through review/live.py) -> an ``Intent``
(namespaces adopted, workloads named from labels, deny-all policies as the
namespace's ``default_deny``, every other policy kept through
``ns.raw_policy`` with the reason the model cannot say it exactly) ->
main.py (codegen.py) -> ``python main.py`` in a subprocess -> the proof:
the reach engine on the original policies and on each written artifact
(cdk.tf.json, manifests.yaml) over the inventory, every ordered pair,
compared connection set by connection set (every port of every protocol),
differences listed on declared and probe ports -> MIGRATION.md.

``--zero-trust`` writes default deny both ways in every namespace instead:
the differences it causes are all closings (intended) and are listed; an
opening would be a defect and fails the run.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from constructs_lib.brownfield.intent import (
    Intent,
    NamespaceIntent,
    RawPolicyIntent,
    WorkloadIntent,
    dns_name,
    to_record,
    unique,
)
from constructs_lib.brownfield.learn import SynthesisFailed, synthesize, write_app
from constructs_lib.fsutil import write_atomic
from constructs_lib.loaders.inventory import (
    DeclaredPort,
    External,
    Inventory,
    Namespace,
    Workload,
)
from constructs_lib.loaders.network_policy import (
    EGRESS,
    INGRESS,
    NetworkPolicy,
    PolicyRule,
)
from constructs_lib.model.port import Port, Protocol
from constructs_lib.model.topology import _RESERVED_NAME
from constructs_lib.verifier.connections import ConnectionSet
from constructs_lib.verifier.reach import Reachability

__all__ = ["MigrateResult", "SynthesisFailed", "migrate"]

NAME_LABELS = ("app.kubernetes.io/name", "app")
UNLISTED_NAMESPACE = "netfence-unlisted"
OUTSIDE_IP = "203.0.113.77/32"  # TEST-NET-3: an address no policy of a real cluster names
PROBE_PORTS = (
    DeclaredPort("TCP", 53),
    DeclaredPort("UDP", 53),
    DeclaredPort("TCP", 80),
    DeclaredPort("TCP", 443),
    DeclaredPort("TCP", 8080),
    DeclaredPort("TCP", 65535),
    DeclaredPort("UDP", 65535),
    DeclaredPort("SCTP", 9),
)
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")  # used with fullmatch
_DIRECTIONS = {(INGRESS,): "ingress", (EGRESS,): "egress", (INGRESS, EGRESS): "both"}


@dataclass(frozen=True)
class Difference:
    source: str
    destination: str
    port: int | str
    protocol: str
    original: bool
    migrated: bool
    artifact: str

    @property
    def closes(self) -> bool:
        return self.original and not self.migrated

    def line(self) -> str:
        verb = "closes" if self.closes else "OPENS"
        return (
            f"{self.artifact}: {verb} {self.source} -> {self.destination} "
            f"{self.port}/{self.protocol}"
        )


@dataclass(frozen=True)
class Proof:
    pairs: int
    checks: int
    differences: tuple[Difference, ...]
    zero_trust: bool

    @property
    def unintended(self) -> tuple[Difference, ...]:
        if self.zero_trust:
            return tuple(d for d in self.differences if not d.closes)
        return self.differences

    @property
    def ok(self) -> bool:
        return not self.unintended


@dataclass(frozen=True)
class MigrateResult:
    out: Path
    intent: Intent
    policies: int
    kept_as: dict[str, str]  # original namespace/name -> how it is kept
    proof: Proof
    verify_findings: tuple[str, ...]
    seconds: float


# deriving the intent ---------------------------------------------------------------------


def _deny_all(policy: NetworkPolicy) -> str | None:
    """The directions of a deny-all (every pod, no rules), or None."""
    if not policy.pod_selector.is_empty():
        return None
    if policy.ingress and INGRESS in policy.policy_types:
        return None
    if policy.egress and EGRESS in policy.policy_types:
        return None
    return _DIRECTIONS.get(policy.policy_types)


def _merge_deny(a: str, b: str) -> str:
    dirs = {d for m in (a, b) for d in (("ingress", "egress") if m == "both" else (m,)) if d}
    dirs.discard("none")
    if dirs == {"ingress", "egress"}:
        return "both"
    return next(iter(dirs)) if dirs else "none"


def _reasons(policy: NetworkPolicy) -> str:
    why = []
    sel = policy.pod_selector
    if sel.match_expressions:
        why.append("its podSelector uses matchExpressions, which a workload cannot declare")
    if policy.ingress and INGRESS in policy.policy_types:
        why.append(
            "its ingress rules admit peers without touching their egress; a netfence flow "
            "would also write (and so isolate) the egress side of each peer"
        )
    if policy.egress and EGRESS in policy.policy_types:
        why.append(
            "its egress rules reach peers without touching their ingress; a netfence flow "
            "would also write (and so isolate) the ingress side of each peer"
        )
    if _all_peer_rule(policy.ingress + policy.egress):
        why.append("a rule without from/to or without ports admits every peer or port")
    if not why:
        why.append("it isolates a subset of pods with no rules; kept exactly as written")
    return "; ".join(why)


def _all_peer_rule(rules: Iterable[PolicyRule]) -> bool:
    return any(not r.peers or not r.ports for r in rules)


def _spec_json(policy: NetworkPolicy) -> str:
    """The spec as the emitters write it (policyTypes explicit, as the API server defaults it)."""
    from constructs_lib.emitters.kubernetes import policy_object
    from constructs_lib.model.raw import policy_spec_of

    return json.dumps(policy_object(policy_spec_of(policy, "-"))["spec"], sort_keys=True)


def _port(p: DeclaredPort) -> Port | None:
    if p.any_port or p.port is None:
        return None
    if p.end_port is not None and p.end_port != p.port:
        return Port.range(p.protocol, p.port, p.end_port)
    return Port.of(Protocol(p.protocol), p.port, name=p.name)


def _environment(labels: Mapping[str, str]) -> str:
    return labels.get("environment") or "default"


def derive(
    policies: Sequence[NetworkPolicy],
    inventory: Inventory,
    *,
    stack: str,
    zero_trust: bool,
    source: str,
) -> tuple[Intent, dict[str, str]]:
    """The intent that says ``policies`` exactly (or, zero_trust, default deny both ways)."""
    ns_labels: dict[str, dict[str, str]] = {n.name: dict(n.labels) for n in inventory.namespaces}
    for w in inventory.workloads:
        ns_labels.setdefault(w.namespace, {})
    for p in policies:
        ns_labels.setdefault(p.namespace, {})
    deny: dict[str, str] = {n: "none" for n in ns_labels}
    kept_as: dict[str, str] = {}
    rest: list[NetworkPolicy] = []
    ordered = sorted(policies, key=lambda p: (p.namespace, p.name))
    for p in ordered:
        directions = _deny_all(p)
        if directions is None:
            rest.append(p)
            continue
        deny[p.namespace] = _merge_deny(deny[p.namespace], directions)
    for p in ordered:
        if p not in rest:
            kept_as[p.key] = f"default_deny={deny[p.namespace]!r} of namespace {p.namespace}"
    if zero_trust:
        deny = {n: "both" for n in deny}
    workloads = _workloads(inventory)
    by_selector = {(w.namespace, w.selector): i for i, w in enumerate(workloads)}
    raws: list[RawPolicyIntent] = []
    for p in rest:
        target = _isolation_only(p, deny[p.namespace], by_selector, workloads)
        if target is not None:
            found = workloads[target]
            both = _merge_deny(found.isolate or "none", _DIRECTIONS[p.policy_types])
            workloads[target] = replace(found, isolate=both)
            kept_as[p.key] = f"workload {found.key}: isolate({both!r})"
            continue
        raws.append(RawPolicyIntent(p.namespace, p.name, _spec_json(p), _reasons(p)))
        kept_as[p.key] = "raw_policy"
    generated = {(n, "default-deny") for n, d in deny.items() if d != "none"}
    for wl in workloads:
        if wl.isolate:
            generated.update((wl.namespace, f"{wl.name}-{d}") for d in ("ingress", "egress"))
    renamed = []
    raw_names: dict[str, set[str]] = {}
    for r in raws:
        if not _DNS_LABEL.fullmatch(r.name):  # Kubernetes allows dots and 253 characters here
            new = RawPolicyIntent(r.namespace, dns_name(r.name, "policy"), r.spec, r.reason)
            kept_as[r.key] = f"raw_policy {new.name} (netfence names policies by DNS labels)"
            r = new
        if (r.namespace, r.name) in generated:
            new = RawPolicyIntent(r.namespace, f"{r.name}-original"[:63], r.spec, r.reason)
            kept_as[r.key] = f"raw_policy {new.name} (its name is one netfence generates)"
            r = new
        taken_raw = raw_names.setdefault(
            r.namespace, {n for ns, n in generated if ns == r.namespace}
        )
        if r.name in taken_raw:
            new = RawPolicyIntent(r.namespace, unique(r.name, taken_raw), r.spec, r.reason)
            kept_as[r.key] = f"raw_policy {new.name}"
            r = new
        else:
            taken_raw.add(r.name)
        renamed.append(r)
    namespaces = tuple(
        NamespaceIntent(
            name,
            _environment(labels),
            adopt=True,
            allow_dns=False,
            default_deny=deny[name],
        )
        for name, labels in sorted(ns_labels.items())
    )
    notes = (f"Migrated by `netfence migrate` from {source}; see MIGRATION.md for the proof.",)
    intent = Intent(
        stack,
        namespaces,
        tuple(workloads),
        (),
        (),
        title=f"Stack {stack}: network policies migrated into netfence intent.",
        notes=notes,
        raw_policies=tuple(renamed),
    )
    return intent.sorted(), kept_as


def _isolation_only(
    policy: NetworkPolicy,
    deny: str,
    by_selector: Mapping[tuple[str, tuple[tuple[str, str], ...]], int],
    workloads: Sequence[WorkloadIntent],
) -> int | None:
    """The workload a no-rule policy isolates exactly (``isolate()``), if there is one."""
    if policy.ingress or policy.egress or policy.pod_selector.match_expressions:
        return None
    closed = {"none": set(), "both": {INGRESS, EGRESS}, "ingress": {INGRESS}, "egress": {EGRESS}}
    if set(policy.policy_types) & closed[deny]:
        return None  # isolate() refuses a direction the namespace isolates: kept verbatim
    selector = tuple(sorted(policy.pod_selector.match_labels))
    target = by_selector.get((policy.namespace, selector))
    if target is None:
        return None
    wanted = set(selector)
    for i, other in enumerate(workloads):
        same_namespace = i != target and other.namespace == policy.namespace
        if same_namespace and wanted <= set(other.pod_labels or other.selector):
            return None  # it selects another workload's pods too: isolate() would not say so
    return target


def _workloads(inventory: Inventory) -> list[WorkloadIntent]:
    workloads = []
    taken: dict[str, set[str]] = {}
    seen_selectors: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for w in sorted(inventory.workloads, key=lambda w: (w.namespace, w.name)):
        labels = dict(w.labels)
        key = next((k for k in NAME_LABELS if k in labels), None)
        if key is not None:
            selector: tuple[tuple[str, str], ...] = ((key, labels[key]),)
            name = dns_name(labels[key], dns_name(w.name, "workload"))
        else:
            selector = tuple(sorted(labels.items()))
            name = dns_name(w.name, "workload")
        if not selector:
            continue  # a pod without labels: no workload can select it; the proof still has it
        if (w.namespace, selector) in seen_selectors:
            selector = tuple(sorted(labels.items()))
            if (w.namespace, selector) in seen_selectors:
                continue
        seen_selectors.add((w.namespace, selector))
        if _RESERVED_NAME.fullmatch(name):  # policy names netfence gives selections
            name = f"{name}-app"
        name = unique(name, taken.setdefault(w.namespace, set()))
        ports = tuple(p for p in (_port(d) for d in w.ports) if p is not None)
        workloads.append(
            WorkloadIntent(w.namespace, name, selector, tuple(dict.fromkeys(ports)), w.labels)
        )
    return workloads


# the proof ---------------------------------------------------------------------------------


def proof_inventory(inventory: Inventory, policies: Sequence[NetworkPolicy]) -> Inventory:
    """The inventory plus an unlisted pod per namespace, one of an unlisted namespace, and
    outside addresses (one outside every policy, and one inside/except of each ipBlock)."""
    named: set[tuple[str, str]] = set()
    numbers: set[tuple[str, int]] = set()
    cidrs: set[str] = set()
    for p in policies:
        for rule in p.ingress + p.egress:
            for port in rule.ports:
                if isinstance(port.port, str):
                    named.add((port.protocol, port.port))
                elif port.port is not None:
                    numbers.add((port.protocol, port.port))
                    if port.end_port is not None:
                        numbers.add((port.protocol, port.end_port))
                        if port.end_port < 65535:
                            numbers.add((port.protocol, port.end_port + 1))
                    if port.port > 1:
                        numbers.add((port.protocol, port.port - 1))
            for peer in rule.peers:
                if peer.ip_block is not None:
                    cidrs.add(peer.ip_block.cidr)
                    cidrs.update(peer.ip_block.except_)
    probes = tuple(
        dict.fromkeys((*PROBE_PORTS, *(DeclaredPort(proto, n) for proto, n in sorted(numbers))))
    )

    def ports(own: Sequence[DeclaredPort]) -> tuple[DeclaredPort, ...]:
        return tuple(dict.fromkeys((*own, *probes)))

    namespaces = {n.name: n for n in inventory.namespaces}
    for w in inventory.workloads:
        namespaces.setdefault(w.namespace, Namespace(w.namespace))
    for p in policies:
        namespaces.setdefault(p.namespace, Namespace(p.namespace))
    workloads = [
        Workload(w.namespace, w.name, w.labels, ports(w.ports), w.ip) for w in inventory.workloads
    ]
    for name in sorted(namespaces):
        workloads.append(Workload(name, "<unlisted>", (), ports(()), None))
    namespaces[UNLISTED_NAMESPACE] = Namespace(UNLISTED_NAMESPACE)
    workloads.append(Workload(UNLISTED_NAMESPACE, "<unlisted>", (), ports(()), None))
    externals = [*inventory.external, External("outside", (OUTSIDE_IP,), (), probes)]
    import ipaddress

    for i, cidr in enumerate(sorted(cidrs)):
        net = ipaddress.ip_network(cidr, strict=False)
        address = net.network_address
        externals.append(
            External(f"ipblock-{i}", (f"{address}/{address.max_prefixlen}",), (), probes)
        )
    del named
    return Inventory(tuple(namespaces.values()), tuple(workloads), tuple(externals))


def compare(
    original: Reachability, migrated: Reachability, artifact: str
) -> tuple[int, int, list[Difference]]:
    """Pairs compared, port checks, and the differences on declared + probe ports.

    Pairs are compared by their whole connection sets (every port of every
    protocol, named ports resolved against the destination); only a pair
    whose sets differ is expanded into port verdicts for the report.
    """
    names = original.endpoints
    a_eng, b_eng = original.engine, migrated.engine
    memo: dict[tuple[int, int, int, int], bool] = {}
    pairs = checks = 0
    diffs: list[Difference] = []
    ports_of = {w.key: len(w.ports) for w in original.inventory.workloads}
    ports_of.update({e.key: len(e.ports) for e in original.inventory.external})
    for source in names:
        sa, sb = a_eng.pod_index.get(source), b_eng.pod_index.get(source)
        for destination in names:
            if destination == source:
                continue
            da, db = a_eng.pod_index.get(destination), b_eng.pod_index.get(destination)
            if sa is None and da is None:
                continue
            pairs += 1
            checks += ports_of.get(destination, 0)
            if sa is not None and da is not None and sb is not None and db is not None:
                key = (
                    a_eng.pod_class[sa],
                    a_eng.pod_class[da],
                    b_eng.pod_class[sb],
                    b_eng.pod_class[db],
                )
                same = memo.get(key)
                if same is None:
                    same = memo[key] = _resolved(original, sa, da) == _resolved(migrated, sb, db)
            else:
                same = _conns(original, source, destination) == _conns(
                    migrated, source, destination
                )
            if same:
                continue
            wanted = _checks(original, destination)
            for label, proto in wanted:
                was = original.allowed(source, destination, label, proto)
                now = migrated.allowed(source, destination, label, proto)
                if was != now:
                    diffs.append(Difference(source, destination, label, proto, was, now, artifact))
            if not any(d.source == source and d.destination == destination for d in diffs[-1:]):
                diffs.append(
                    Difference(source, destination, "(other ports)", "*", True, False, artifact)
                    if _conns(migrated, source, destination).issubset(
                        _conns(original, source, destination)
                    )
                    else Difference(
                        source, destination, "(other ports)", "*", False, True, artifact
                    )
                )
    return pairs, checks, diffs


def _resolved(reach: Reachability, s: int, d: int) -> ConnectionSet:
    eng = reach.engine
    conns = eng.between(eng.pod_class[s], eng.pod_class[d])
    if conns.names:
        conns = eng.resolve_for(conns, eng.pod_class[d])
    return conns


def _conns(reach: Reachability, source: str, destination: str) -> ConnectionSet:
    conns = reach.connection_set(source, destination)
    d = reach.engine.pod_index.get(destination)
    if d is not None and conns.names:
        conns = reach.engine.resolve_for(conns, reach.engine.pod_class[d])
    return conns


def _checks(reach: Reachability, endpoint: str) -> list[tuple[int | str, str]]:
    index = reach.engine.pod_index.get(endpoint)
    if index is not None:
        ports: Sequence[DeclaredPort] = reach.engine.pods[index].ports
    else:
        ports = next(e.ports for e in reach.inventory.external if e.key == endpoint)
    return [(p.label, p.protocol) for p in ports if not p.any_port]


def prove(
    policies: Sequence[NetworkPolicy],
    inventory: Inventory,
    stack_dir: Path,
    zero_trust: bool,
    env: Mapping[str, Mapping[str, str]],
) -> tuple[Proof, list[NetworkPolicy]]:
    """Original vs each written artifact; ``env``: the labels netfence patches on namespaces."""
    from constructs_lib.loaders import load_policies, read_json
    from constructs_lib.loaders.terraform import policies_from_synth

    inv = proof_inventory(inventory, policies)
    original = Reachability(policies, inv)
    # after the apply, each adopted namespace also carries netfence's environment label
    patched = Inventory(
        tuple(
            Namespace(n.name, tuple(sorted({**dict(n.labels), **env.get(n.name, {})}.items())))
            for n in inv.namespaces
        ),
        inv.workloads,
        inv.external,
    )
    pairs = checks = 0
    diffs: list[Difference] = []
    tf = stack_dir / "cdk.tf.json"
    manifests = stack_dir / "manifests.yaml"
    written: list[NetworkPolicy] = []
    for file in (tf, manifests):
        loaded = (
            policies_from_synth(read_json(file), str(file)) if file == tf else load_policies(file)
        )
        written = loaded
        p, c, d = compare(original, Reachability(loaded, patched), file.name)
        pairs, checks = p, c
        diffs += d
    return Proof(pairs, checks, tuple(diffs), zero_trust), written


# the command -------------------------------------------------------------------------------


def migrate(
    policies: Sequence[NetworkPolicy],
    inventory: Inventory,
    out: str | Path,
    *,
    stack: str = "migrated",
    zero_trust: bool = False,
    source: str = "",
) -> MigrateResult:
    start = time.monotonic()
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    intent, kept_as = derive(policies, inventory, stack=stack, zero_trust=zero_trust, source=source)
    write_app(intent, directory)
    synthesize(directory)
    stack_dir = directory / "cdktf.out" / "stacks" / stack
    env = {n.name: {"environment": n.environment} for n in intent.namespaces}
    proof, written = prove(policies, inventory, stack_dir, zero_trust, env)
    from constructs_lib.verifier.verify import verify_intent

    findings = tuple(str(f) for f in verify_intent(written, to_record(intent)))
    result = MigrateResult(
        directory,
        intent,
        len(policies),
        kept_as,
        proof,
        findings,
        time.monotonic() - start,
    )
    write_atomic(directory / "MIGRATION.md", render_report(result))
    return result


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;")


def render_report(result: MigrateResult) -> str:
    intent, proof = result.intent, result.proof
    raws = intent.raw_policies
    out = [
        f"# Migration of {result.policies} network policies into stack `{intent.stack}`",
        "",
        "Generated by `netfence migrate`. `python main.py` synthesizes "
        f"`cdktf.out/stacks/{intent.stack}/` (cdk.tf.json and manifests.yaml).",
        "",
        "## Result",
        "",
        "- mode: "
        + (
            "--zero-trust (default deny both ways everywhere)"
            if proof.zero_trust
            else "exact (connectivity preserved)"
        ),
        f"- namespaces: {len(intent.namespaces)} (all adopted: Terraform only patches labels)",
        f"- workloads: {len(intent.workloads)}",
        f"- policies kept verbatim (raw_policy): {len(raws)}",
        f"- ordered pairs compared: {proof.pairs} per artifact (cdk.tf.json and manifests.yaml)",
        f"- port checks (declared and probe ports): {proof.checks} per artifact",
        f"- differences: {len(proof.differences)}"
        + (
            f" ({len(proof.differences) - len(proof.unintended)} intended closings)"
            if proof.zero_trust
            else ""
        ),
        f"- unintended differences: {len(proof.unintended)}",
        "- verify on the written artifact: "
        + (f"{len(result.verify_findings)} findings" if result.verify_findings else "no findings"),
        "",
        "Verdict: "
        + (
            "**the migrated stack allows exactly what the original policies allow**"
            if not proof.differences
            else "**only intended closings (--zero-trust)**"
            if proof.ok
            else "**UNINTENDED DIFFERENCES: do not apply**"
        ),
        "",
        "The proof places every inventory pod, an unlisted pod (no labels) in every namespace, "
        "a pod of an unlisted namespace, an outside IP and one address of each ipBlock, and "
        "compares the allowed connections of every ordered pair on every port of every "
        "protocol; differences are listed on the declared and probe ports.",
        "",
    ]
    if proof.differences:
        out += ["## Differences", "", "| artifact | change | from | to | port |"]
        out.append("|---|---|---|---|---|")
        for d in proof.differences:
            change = "closes" if d.closes else "OPENS"
            out.append(
                f"| {d.artifact} | {change} | {_md(d.source)} | {_md(d.destination)} | "
                f"{_md(str(d.port))}/{d.protocol} |"
            )
        out.append("")
    if result.verify_findings:
        out += ["## verify findings", ""]
        out += [f"- {_md(f)}" for f in result.verify_findings]
        out.append("")
    out += ["## Where each original policy went", "", "| policy | kept as |", "|---|---|"]
    for key in sorted(result.kept_as):
        out.append(f"| {_md(key)} | {_md(result.kept_as[key])} |")
    out.append("")
    if raws:
        out += [
            "## Policies kept verbatim (escape hatch)",
            "",
            "Each is declared in main.py with `ns.raw_policy(name, spec, reason=...)`: "
            "emitted as written into both artifacts and recorded as declared intent, "
            "so `netfence verify` checks it is unchanged and does not flag what it allows.",
            "",
        ]
        for r in raws:
            out.append(f"- `{r.key}`: {_md(r.reason)}")
        out.append("")
    out += [
        "## Cutover",
        "",
        "See docs/migrate.md: apply this stack next to the original policies (the union "
        "allows exactly what the originals allow), `netfence verify`, then delete the "
        "originals that `netfence import` lists as unmanaged.",
        "",
        f"Time: {result.seconds:.1f} s including synthesis and the proof.",
        "",
    ]
    return "\n".join(out)
