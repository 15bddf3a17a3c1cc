"""``netfence lint``: read policies the way every command does, run the checks, add lines.

Reading goes through the loaders, so lint accepts exactly the files verify
and reach accept, and refuses the rest with the same exit-2 message. The
one difference: values the API server would refuse but that have an obvious
reading (host bits in a CIDR, an except outside its cidr, a bad endPort) are
reported as error findings instead of stopping the read, so one run shows
every problem of a repository.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from constructs_lib.lint.checks import (
    POLICY_CHECKS,
    SET_CHECKS,
    Subject,
    check_against_inventory,
)
from constructs_lib.lint.finding import Finding, Severity
from constructs_lib.lint.locate import first_items, join_path, locate_all, split_path
from constructs_lib.loaders import load_file, load_inventory, policy_files
from constructs_lib.loaders._spec import (
    EXCEPT_OUTSIDE_CIDR,
    INVALID_END_PORT,
    NON_CANONICAL_CIDR,
    Doubt,
    collecting_doubts,
)

_INVENTORY = "<inventory>"


@dataclass(frozen=True)
class LintResult:
    findings: tuple[Finding, ...]
    files: tuple[str, ...]
    policies: int
    inventory: str | None = None

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def fails(self, threshold: Severity) -> bool:
        return any(f.severity >= threshold for f in self.findings)


def lint_paths(paths: Iterable[str | Path], inventory: str | Path | None = None) -> LintResult:
    files = policy_files(paths)
    subjects: list[Subject] = []
    with collecting_doubts() as doubts:
        for file in files:
            subjects.extend(Subject(p) for p in load_file(file))
    inv = load_inventory(inventory) if inventory is not None else None
    findings = list(_doubt_findings(doubts, subjects))
    for subject in subjects:
        for check in POLICY_CHECKS:
            findings.extend(check(subject))
    for set_check in SET_CHECKS:
        findings.extend(set_check(subjects, inv))
    if inv is not None:
        findings.extend(check_against_inventory(subjects, inv))
    located = _locate(findings, subjects, None if inventory is None else str(inventory))
    return LintResult(
        findings=tuple(sorted(located, key=Finding.sort_key)),
        files=tuple(str(f) for f in files),
        policies=len(subjects),
        inventory=None if inventory is None else str(inventory),
    )


def _doubt_findings(doubts: list[Doubt], subjects: list[Subject]) -> Iterable[Finding]:
    by_document: dict[tuple[str, int | None], list[Subject]] = {}
    for s in subjects:
        by_document.setdefault((s.policy.source.file, s.policy.source.document), []).append(s)
    for doubt in doubts:
        owner = next(
            (
                s
                for s in by_document.get((doubt.file, doubt.document), ())
                if doubt.path.startswith(s.policy.source.path)
            ),
            None,
        )
        if owner is None:
            continue  # e.g. the `before` side of a plan, which lint does not judge
        message, fix = _doubt_text(doubt)
        yield owner.finding(doubt.kind, doubt.path, message, fix)


def _doubt_text(doubt: Doubt) -> tuple[str, str]:
    if doubt.kind == NON_CANONICAL_CIDR:
        import ipaddress

        canonical = str(ipaddress.ip_network(doubt.value, strict=False))
        return (
            f"{doubt.value} has host bits set; network plugins read it differently (as "
            f"{canonical}, as one address, or not at all) and netfence refuses it",
            f"write {canonical}",
        )
    if doubt.kind == EXCEPT_OUTSIDE_CIDR:
        return (
            f"except {doubt.value} is not inside the ipBlock's cidr; the API server refuses "
            "the policy",
            "move the range into the ipBlock it belongs to, or delete it",
        )
    assert doubt.kind == INVALID_END_PORT
    return (
        f"{doubt.message}; the API server refuses the policy",
        "give a numeric port no greater than endPort, or drop endPort",
    )


def _locate(
    findings: list[Finding], subjects: list[Subject], inventory: str | None
) -> list[Finding]:
    prefixes = {
        (s.policy.source.file, s.policy.source.document, s.item): s.policy.source.path
        for s in subjects
    }
    by_file: dict[str, list[Finding]] = {}
    for f in findings:
        file = inventory if f.file == _INVENTORY and inventory is not None else f.file
        by_file.setdefault(file, []).append(f)
    out = []
    for file, group in by_file.items():
        if file == inventory:
            out.extend(_locate_inventory(group, file))
            continue
        answers = locate_all(file, ((f.document, f.path) for f in group))
        for f in group:
            line, concrete, _ = answers[(f.document, f.path)]
            prefix = prefixes.get((f.file, f.document, f.item), "")
            path = split_path(concrete)[len(split_path(prefix)) :]
            out.append(replace(f, line=line, path=join_path(path)))
    return out


def _locate_inventory(findings: list[Finding], inventory: str) -> list[Finding]:
    """Namespace findings point at the namespace's entry, else at its first workload."""
    answers = locate_all(inventory, ((None, f.path) for f in findings))
    missing = [f for f in findings if not answers[(None, f.path)][2]]
    if missing:
        # Namespaces given as a list, or only named by their workloads.
        listed = first_items(inventory, "namespaces", "name")
        first = first_items(inventory, "workloads", "namespace")
        fallback = {
            f.path: f"namespaces[{listed[f.namespace]}]"
            if f.namespace in listed
            else f"workloads[{first[f.namespace]}]"
            for f in missing
            if f.namespace in listed or f.namespace in first
        }
        found = locate_all(inventory, ((None, p) for p in fallback.values()))
        for path, workload in fallback.items():
            answers[(None, path)] = found[(None, workload)]
    out = []
    for f in findings:
        line, path, ok = answers[(None, f.path)]
        out.append(replace(f, file=inventory, line=line if ok else None, path=path))
    return out
