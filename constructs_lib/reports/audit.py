"""The audit of a synthesized app (``netfence report``), read from the artifact alone.

Per stack: its namespaces and environments, every declared flow with its
ports and where it was declared (its construct path), every policy with the
purpose netfence annotated it with, verify's and lint's findings, and the
network map. The formatters (audit_markdown, audit_html) only lay this out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from constructs_lib.lint import Finding as LintFinding
from constructs_lib.lint import lint_paths
from constructs_lib.loaders import find_stacks, intent_from_artifact, read_json
from constructs_lib.loaders.inventory import DeclaredPort
from constructs_lib.loaders.terraform import policies_from_synth
from constructs_lib.verifier.netmap import NetworkMap, stack_network
from constructs_lib.verifier.verify import Finding, intent_notes, verify_intent

PURPOSE = "netfence.io/purpose"
# a flow from a record written before flows carried ``declared_at``
NOT_RECORDED = "not recorded (artifact older than declared_at)"


@dataclass(frozen=True)
class AuditNamespace:
    name: str
    environment: str
    managed: bool
    allow_dns: bool


@dataclass(frozen=True)
class AuditFlow:
    source: str
    destination: str
    ports: str
    cross_environment: bool
    declared_at: str | None = None  # construct path; None: the record predates the field


@dataclass(frozen=True)
class AuditPolicy:
    namespace: str
    name: str
    address: str
    purpose: str


@dataclass(frozen=True)
class StackAudit:
    stack: str
    file: str
    namespaces: tuple[AuditNamespace, ...]
    flows: tuple[AuditFlow, ...]
    policies: tuple[AuditPolicy, ...]
    findings: tuple[Finding, ...]
    lint: tuple[LintFinding, ...]
    network: NetworkMap
    notes: tuple[str, ...] = ()  # verify's notes: directions the intent leaves open


@dataclass(frozen=True)
class Audit:
    path: str
    stacks: tuple[StackAudit, ...]

    @property
    def ok(self) -> bool:
        return not any(s.findings for s in self.stacks)


def port_text(port: DeclaredPort) -> str:
    if port.port is None:
        return f"{port.protocol} {port.name}"
    number = f"{port.port}-{port.end_port}" if port.end_port else str(port.port)
    return f"{port.protocol} {number}" + (f" ({port.name})" if port.name else "")


def _purpose(resources: Mapping[str, Any], address: str) -> str:
    rtype, _, rname = address.partition(".")
    body: Any = resources.get(rtype, {}).get(rname, {})
    meta: Any = body.get("metadata", {}) if isinstance(body, dict) else {}
    if isinstance(meta, list):
        meta = meta[0] if meta else {}
    annotations: Any = meta.get("annotations", {}) if isinstance(meta, dict) else {}
    found = annotations.get(PURPOSE) if isinstance(annotations, dict) else None
    return str(found) if found is not None else "(no netfence.io/purpose annotation)"


def audit_app(path: str | Path) -> Audit:
    """Audit every stack under ``path`` (cdktf.out, a stack dir, or a cdk.tf.json)."""
    stacks = []
    for file in find_stacks(path):
        data = read_json(file)
        record = intent_from_artifact(data, str(file))
        policies = policies_from_synth(data, str(file))
        resources = data.get("resource", {}) if isinstance(data.get("resource"), dict) else {}
        stacks.append(
            StackAudit(
                stack=record.stack or file.parent.name,
                file=str(file),
                namespaces=tuple(
                    AuditNamespace(ns.name, ns.environment or "-", ns.managed, ns.allow_dns)
                    for ns in record.namespaces
                ),
                flows=tuple(
                    AuditFlow(
                        str(f.source),
                        str(f.destination),
                        ", ".join(port_text(p) for p in f.ports) or "the destination's ports",
                        f.cross_environment,
                        f.declared_at,
                    )
                    for f in record.flows
                ),
                policies=tuple(
                    sorted(
                        (
                            AuditPolicy(
                                p.namespace,
                                p.name,
                                p.source.address or "",
                                _purpose(resources, p.source.address or ""),
                            )
                            for p in policies
                        ),
                        key=lambda p: (p.namespace, p.name),
                    )
                ),
                findings=tuple(verify_intent(policies, record)),
                lint=lint_paths([file]).findings,
                network=stack_network(policies, record),
                notes=tuple(intent_notes(record)),
            )
        )
    return Audit(str(path), tuple(stacks))
