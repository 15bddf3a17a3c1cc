"""``netfence learn``: intent code from observed flows, proven on its own artifact.

read (flows.py) -> fold (observe.py) -> main.py (codegen.py) -> ``python main.py``
in a subprocess -> the verifier on the written cdk.tf.json and manifests.yaml
against the learned intent (not against the record the app wrote) -> LEARNED.md.
"""

from __future__ import annotations

import itertools
import multiprocessing
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from constructs_lib.brownfield.codegen import render_app, render_cdktf_json
from constructs_lib.brownfield.flows import FlowError, ObservedFlow, read_flows
from constructs_lib.brownfield.intent import Intent, to_record
from constructs_lib.brownfield.observe import (
    DEFAULT_GROUP_BY,
    SYSTEM_NAMESPACES,
    EndpointMap,
    FlowAggregator,
    Observations,
)
from constructs_lib.errors import ArtifactError, InvalidIntentError
from constructs_lib.fsutil import write_atomic
from constructs_lib.model import validation

PROGRESS_EVERY = 100_000


class SynthesisFailed(RuntimeError):
    """The generated app did not synthesize: a defect of learn, not of the input."""


@dataclass(frozen=True)
class Proof:
    artifacts: tuple[str, ...]
    findings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.findings


@dataclass(frozen=True)
class LearnResult:
    out: Path
    intent: Intent
    seen: Observations
    proof: Proof
    seconds: float


def _progress(
    flows: Iterator[ObservedFlow], stream: TextIO | None, every: int
) -> Iterator[ObservedFlow]:
    start = time.monotonic()
    for n, flow in enumerate(flows, start=1):
        if stream is not None and n % every == 0:
            stream.write(f"netfence learn: {n} lines read ({time.monotonic() - start:.1f} s)\n")
            stream.flush()
        yield flow


def learn(
    flows_file: str | Path,
    out: str | Path,
    *,
    fmt: str,
    group_by: Sequence[str] = DEFAULT_GROUP_BY,
    endpoints: EndpointMap | None = None,
    stack: str = "learned",
    environment: str = "default",
    progress: TextIO | None = None,
    progress_every: int = PROGRESS_EVERY,
    jobs: int = 1,
    pod_cidrs: Sequence[str] = (),
    service_cidrs: Sequence[str] = (),
) -> LearnResult:
    """Learn from ``flows_file`` into ``out``; the result says whether the proof holds."""
    start = time.monotonic()
    validation.dns_label("netfence learn", "--stack", stack)
    validation.label_value("netfence learn", "--environment", "environment", environment)
    if not environment:
        raise InvalidIntentError("netfence learn", "--environment", "'' is not an environment name")
    aggregator = aggregate(
        flows_file,
        fmt,
        (tuple(group_by), endpoints, environment),
        jobs=jobs,
        progress=progress,
        progress_every=progress_every,
    )
    title = f"Intent learned by `netfence learn` from {Path(flows_file).name} ({fmt})."
    notes = (
        "Keep and edit this file: it is the source of these policies from now on.",
        "LEARNED.md beside it says what was observed, grouped, folded and left out.",
    )
    read = time.monotonic()
    ranges = [
        str(validation.cidr("netfence learn", f"--{flag}", c))
        for flag, values in (("pod-cidr", pod_cidrs), ("service-cidr", service_cidrs))
        for c in values
    ]
    intent = aggregator.intent(
        stack,
        title,
        notes,
        pod_cidrs=ranges[: len(pod_cidrs)],
        service_cidrs=ranges[len(pod_cidrs) :],
    )
    if not intent.namespaces:
        raise ArtifactError(str(flows_file), _nothing(aggregator.seen))
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    write_app(intent, directory)
    synthesize(directory)
    synthesized = time.monotonic()
    proof = prove(intent, directory, aggregator.seen.conflicts)
    if progress is not None and aggregator.seen.read >= progress_every:
        progress.write(
            f"netfence learn: read in {read - start:.1f} s, synthesized in "
            f"{synthesized - read:.1f} s, proved in {time.monotonic() - synthesized:.1f} s\n"
        )
    result = LearnResult(directory, intent, aggregator.seen, proof, time.monotonic() - start)
    write_atomic(
        directory / "LEARNED.md",
        render_report(result, str(flows_file), fmt, group_by, endpoints),
    )
    return result


Settings = tuple[tuple[str, ...], EndpointMap | None, str]  # group_by, endpoints, environment
PART_BYTES = 32 * 2**20  # a big capture is read in parts of about this size


def aggregate(
    flows_file: str | Path,
    fmt: str,
    settings: Settings,
    *,
    jobs: int = 1,
    progress: TextIO | None = None,
    progress_every: int = PROGRESS_EVERY,
    part_bytes: int = PART_BYTES,
) -> FlowAggregator:
    """Fold the whole file; a large Hubble or JSONL file is read by ``jobs`` processes.

    Each process folds whole lines of one byte range into its own aggregator;
    they are merged in file order, so the result equals one sequential read,
    and a bad line is reported by its line number in the whole file. CSV is
    read in one pass (a quoted cell may span lines).
    """
    path = Path(flows_file)
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # read_flows reports the file
    if fmt == "csv" or jobs <= 1 or size < 2 * part_bytes:
        aggregator = _new(settings)
        aggregator.add_all(_progress(read_flows(path, fmt), progress, progress_every))
        return aggregator
    bounds = _part_bounds(path, size, part_bytes)
    start = time.monotonic()
    merged = _new(settings)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        parts = [
            pool.submit(_fold_part, str(path), fmt, settings, a, b)
            for a, b in itertools.pairwise(bounds)
        ]
        for index, part in enumerate(parts):
            folded, error = part.result()
            if error is not None:
                for pending in parts:
                    pending.cancel()
                line, field, message = error
                if line == 0:
                    raise ArtifactError(str(path), message)
                offset = _count_lines(path, bounds[index])
                raise FlowError(str(path), offset + line, field, message)
            assert folded is not None
            merged.merge(folded)
            if progress is not None:
                seen = merged.seen
                progress.write(
                    f"netfence learn: {seen.read + seen.lost_events} flows read "
                    f"({time.monotonic() - start:.1f} s)\n"
                )
                progress.flush()
    return merged


def _new(settings: Settings) -> FlowAggregator:
    group_by, endpoints, environment = settings
    return FlowAggregator(group_by=group_by, endpoints=endpoints, environment=environment)


def _part_bounds(path: Path, size: int, part_bytes: int) -> list[int]:
    """Byte offsets of line starts about ``part_bytes`` apart, from 0 to ``size``."""
    bounds = [0]
    with path.open("rb") as handle:
        while bounds[-1] + part_bytes < size:
            handle.seek(bounds[-1] + part_bytes)
            handle.readline()
            here = handle.tell()
            if here >= size:
                break
            bounds.append(here)
    bounds.append(size)
    return bounds


def _fold_part(
    file: str, fmt: str, settings: Settings, start: int, end: int
) -> tuple[FlowAggregator | None, tuple[int, str, str] | None]:
    aggregator = _new(settings)
    try:
        aggregator.add_all(read_flows(file, fmt, start, end))
    except FlowError as exc:
        return None, (exc.line, exc.field or "", exc.detail)
    except ArtifactError as exc:  # e.g. not UTF-8: about the file, not a line
        return None, (0, "", str(exc).removeprefix(f"{file}: "))
    return aggregator, None


def _count_lines(path: Path, end: int) -> int:
    count, done = 0, 0
    with path.open("rb") as handle:
        while done < end:
            block = handle.read(min(2**24, end - done))
            if not block:
                break
            count += block.count(b"\n")
            done += len(block)
    return count


def write_app(intent: Intent, directory: Path) -> None:
    """main.py and cdktf.json: the part ``migrate`` shares."""
    write_atomic(directory / "main.py", render_app(intent))
    write_atomic(directory / "cdktf.json", render_cdktf_json(f"netfence-{intent.stack}"))


def synthesize(directory: Path) -> None:
    """``python main.py`` with this interpreter, as a user would run it."""
    done = subprocess.run(
        [sys.executable, "main.py"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise SynthesisFailed(
            f"the generated {directory / 'main.py'} did not synthesize "
            f"(exit {done.returncode}):\n{tail}"
        )


def prove(intent: Intent, directory: Path, extra: Sequence[str] = ()) -> Proof:
    """The verifier on what ``python main.py`` wrote, against the learned intent itself."""
    from constructs_lib.loaders import load_policies, read_json
    from constructs_lib.loaders.terraform import policies_from_synth
    from constructs_lib.verifier.verify import verify_intent

    stack_dir = directory / "cdktf.out" / "stacks" / intent.stack
    record = to_record(intent)
    findings = [f"selector: {c}" for c in extra]
    artifacts = []
    tf = stack_dir / "cdk.tf.json"
    manifests = stack_dir / "manifests.yaml"
    for file in (tf, manifests):
        artifacts.append(str(file))
        policies = (
            policies_from_synth(read_json(file), str(file)) if file == tf else load_policies(file)
        )
        for finding in verify_intent(policies, record):
            findings.append(f"{file.name}: {finding}")
    return Proof(tuple(artifacts), tuple(findings))


# LEARNED.md -------------------------------------------------------------------------


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;")


def _ports(ports: Sequence[object]) -> str:
    return ", ".join(map(str, ports)) or "-"


def render_report(
    result: LearnResult,
    flows_file: str,
    fmt: str,
    group_by: Sequence[str],
    endpoints: EndpointMap | None,
) -> str:
    intent, seen, proof = result.intent, result.seen, result.proof
    lines = [
        "# Learned intent",
        "",
        f"From `{Path(flows_file).name}` ({fmt}), grouped by "
        f"{' then '.join(f'`{g}`' for g in group_by)}; stack `{intent.stack}`.",
        "`python main.py` synthesizes it into `cdktf.out/stacks/"
        f"{intent.stack}/` (cdk.tf.json and manifests.yaml).",
        "",
        "## Counts",
        "",
        "| what | count |",
        "| --- | ---: |",
        f"| flows read | {seen.read} |",
        f"| flows learned (observations behind the declared flows) | {seen.learned} |",
        f"| distinct flows declared (one line each in main.py) | {len(intent.flows)} |",
        f"| namespaces | {len(intent.namespaces)} |",
        f"| workloads | {len(intent.workloads)} |",
        f"| external endpoints | {len(intent.endpoints)} |",
        f"| replies (allowed with their connection) | {seen.replies} |",
        f"| DNS queries to kube-dns (folded into the DNS allowance) | {seen.dns} |",
        f"| dropped verdicts (reported, not learned) | {sum(seen.dropped.values())} |",
        f"| not learned for other reasons (below) | {_other(seen)} |",
    ]
    if seen.lost_events:
        lines.append(f"| lost-events records (Hubble dropped observations) | {seen.lost_events} |")
    lines += [
        "",
        "## What the code declares",
        "",
        "- Every namespace with a learned workload is a `ZeroTrustNamespace(..., adopt=True)`:",
        "  it exists already, so Terraform patches its labels instead of creating it, and",
        "  everything not learned is denied both ways in it.",
        "- Every namespace keeps the DNS allowance (53/UDP+TCP to kube-dns in kube-system);",
        "  observed DNS queries are folded into it rather than declared as flows.",
        f"- {', '.join(sorted(SYSTEM_NAMESPACES))} are never put under default deny; flows",
        "  to or from their pods other than DNS are listed below, not learned.",
        "- Replies are not flows: NetworkPolicies allow the answers of an allowed connection.",
        "- Pods of one workload talking to each other: `w.allow_to(ns.select(<its selector>))`.",
        (
            f"- The cluster's ranges (KubernetesCluster): pods "
            f"{', '.join(intent.pod_cidrs) or '-'}, services "
            f"{', '.join(intent.service_cidrs) or '-'}."
            if intent.pod_cidrs or intent.service_cidrs
            else "- No cluster ranges given (--pod-cidr, --service-cidr): the verifier must "
            "assume pods may have any IP, so an external endpoint's ipBlock could admit pods."
        ),
        "- Outside addresses are grouped into external endpoints: by "
        + ("the --endpoints map (longest prefix), else " if endpoints else "")
        + "their /24 (IPv4) or /64 (IPv6).",
        "",
        "## Workloads",
        "",
        "| namespace | workload | selector | ports accepted | distinct label sets seen |",
        "| --- | --- | --- | --- | ---: |",
    ]
    for w in intent.workloads:
        selector = ",".join(f"{k}={v}" for k, v in w.selector)
        lines.append(
            f"| {w.namespace} | {w.name} | `{_md(selector)}` | {_ports(w.ports)} | "
            f"{_label_sets(result, w.namespace, w.selector)} |"
        )
    if intent.endpoints:
        lines += [
            "",
            "## External endpoints",
            "",
            "| endpoint | CIDRs | ports | addresses seen | names seen |",
            "| --- | --- | --- | ---: | --- |",
        ]
        for e in intent.endpoints:
            key = _endpoint_key(result, e.name, e.cidrs)
            addresses = len(seen.grouped_addresses.get(key, ()))
            names = ", ".join(sorted(seen.names_seen.get(key, ()))) or "-"
            lines.append(
                f"| {e.name} | {', '.join(e.cidrs)} | {_ports(e.ports)} | {addresses} | "
                f"{_md(names)} |"
            )
    lines += ["", "## Not learned", ""]
    sections = [
        ("Dropped verdicts (the cluster refused them; learn never allows them)", seen.dropped),
        ("Flows with kube-system / system namespace pods (not DNS)", seen.system),
        ("Flows without a TCP/UDP/SCTP port (NetworkPolicy cannot express them)", seen.no_port),
        (
            "Flows to or from addresses inside the cluster's pod/service ranges",
            seen.cluster_addresses,
        ),
    ]
    empty = True
    for heading, counter in sections:
        if not counter:
            continue
        empty = False
        lines += [f"### {heading}", ""]
        for what, count in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:200]:
            lines.append(f"- {_md(what)} ({count}x)")
        if len(counter) > 200:
            lines.append(f"- ... and {len(counter) - 200} more")
        lines.append("")
    if seen.ungrouped:
        empty = False
        lines += [
            f"### Pods without a grouping label ({' or '.join(group_by)})",
            "",
            "Their flows are not learned; label them, or pass --group-by.",
            "",
        ]
        for (namespace, labels), (count, pod) in sorted(seen.ungrouped.items())[:200]:
            shown = ",".join(f"{k}={v}" for k, v in labels) or "no labels"
            example = f", e.g. pod {pod}" if pod else ""
            lines.append(f"- {namespace}: [{_md(shown)}] (flows: {count}{example})")
        lines.append("")
    simple = [
        (
            "node traffic (reserved:host / health; Kubernetes always allows a node its pods)",
            seen.node,
        ),
        ("flows between two outside addresses", seen.outside_only),
        ("flows of a pod to itself (always allowed)", seen.self_flows),
        ("flows with an unknown verdict", seen.unknown_verdict),
    ]
    others = [f"- {what}: {count}" for what, count in simple if count]
    if others:
        empty = False
        lines += ["### Other", "", *others]
    if empty:
        lines.append("Nothing: every flow read was learned or folded.")
    lines += ["", "## Proof", ""]
    if proof.ok:
        lines.append(
            "The synthesized policies allow every learned flow and nothing else between the "
            "observed workloads, unlisted pods, other namespaces and outside addresses "
            "(netfence's verifier on the written artifacts):"
        )
    else:
        lines.append(f"FAILED: {len(proof.findings)} differences on the written artifacts:")
    lines.append("")
    lines += [f"- `{Path(a).relative_to(result.out)}`" for a in proof.artifacts]
    if proof.findings:
        lines.append("")
        lines += [f"- {_md(f)}" for f in proof.findings]
    lines.append("")
    return "\n".join(lines)


def _nothing(seen: Observations) -> str:
    parts = [
        f"{n} {what}"
        for what, n in (
            ("dropped", sum(seen.dropped.values())),
            ("replies", seen.replies),
            ("DNS queries", seen.dns),
            ("with kube-system pods", sum(seen.system.values())),
            ("without a port", sum(seen.no_port.values())),
            (
                "from or to pods without a grouping label",
                sum(e[0] for e in seen.ungrouped.values()),
            ),
            ("node traffic", seen.node),
            ("with an unknown verdict", seen.unknown_verdict),
        )
        if n
    ]
    detail = f" ({', '.join(parts)})" if parts else ""
    return (
        f"nothing to learn: {seen.read} flows read{detail}, none a passed TCP/UDP/SCTP "
        "connection of a grouped pod"
    )


def _other(seen: Observations) -> int:
    total: int = (
        sum(seen.system.values())
        + seen.self_flows
        + sum(seen.no_port.values())
        + sum(entry[0] for entry in seen.ungrouped.values())
        + seen.node
        + seen.outside_only
        + seen.unknown_verdict
        + sum(seen.cluster_addresses.values())
    )
    return total


def _label_sets(result: LearnResult, namespace: str, selector: tuple[tuple[str, str], ...]) -> int:
    ((key, value),) = selector
    return len(result.seen.label_sets.get((namespace, key, value), ()))


def _endpoint_key(result: LearnResult, name: str, cidrs: Sequence[str]) -> str:
    return result.seen.endpoint_keys.get(name, cidrs[0] if cidrs else name)
