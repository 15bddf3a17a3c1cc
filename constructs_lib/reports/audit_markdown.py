"""``netfence report --format md``: the audit as Markdown (GitHub renders the Mermaid map)."""

from __future__ import annotations

from typing import TextIO

from constructs_lib.reports.audit import NOT_RECORDED, Audit
from constructs_lib.reports.markdown import cell, code
from constructs_lib.reports.mermaid import render_mermaid


def write_audit(audit: Audit, out: TextIO) -> None:
    verdict = "every stack allows exactly its declared flows" if audit.ok else "findings below"
    out.write(
        f"# netfence audit: {code(audit.path)}\n\n{len(audit.stacks)} stack(s); {verdict}.\n\n"
    )
    for s in audit.stacks:
        out.write(f"## stack {code(s.stack)}\n\nfrom {code(s.file)}\n\n### Namespaces\n\n")
        out.write(
            "| namespace | environment | managed by the stack | cluster DNS |\n|---|---|---|---|\n"
        )
        for ns in s.namespaces:
            out.write(
                f"| {cell(ns.name)} | {cell(ns.environment)} | "
                f"{'created' if ns.managed else 'adopted (labels only)'} | "
                f"{'allowed' if ns.allow_dns else 'not allowed'} |\n"
            )
        out.write(f"\n### Declared flows ({len(s.flows)})\n\n")
        out.write(
            "| from | to | ports | cross-environment | declared at |\n|---|---|---|---|---|\n"
        )
        for f in s.flows:
            where = code(f.declared_at, table=True) if f.declared_at else cell(NOT_RECORDED)
            out.write(
                f"| {cell(f.source)} | {cell(f.destination)} | {cell(f.ports)} | "
                f"{'yes, declared' if f.cross_environment else 'no'} | {where} |\n"
            )
        out.write(f"\n### Policies ({len(s.policies)})\n\n")
        out.write("| namespace | policy | purpose | Terraform address |\n|---|---|---|---|\n")
        for p in s.policies:
            out.write(
                f"| {cell(p.namespace)} | {cell(p.name)} | {cell(p.purpose)} | "
                f"{code(p.address, table=True)} |\n"
            )
        out.write("\n### netfence verify\n\n")
        for note in s.notes:
            out.write(f"- note: {cell(note)}\n")
        if s.notes:
            out.write("\n")
        if not s.findings:
            out.write("Exact: the policies allow exactly the declared flows.\n\n")
        else:
            out.write("| kind | finding | policies |\n|---|---|---|\n")
            for finding in s.findings:
                out.write(
                    f"| {cell(finding.kind)} | {cell(finding.message)} | "
                    f"{cell('; '.join(finding.policies))} |\n"
                )
            out.write("\n")
        out.write("### netfence lint\n\n")
        if not s.lint:
            out.write("No finding.\n\n")
        else:
            out.write("| rule | severity | policy | finding | fix |\n|---|---|---|---|---|\n")
            for lint in s.lint:
                out.write(
                    f"| {cell(lint.rule.id)} {cell(lint.rule.name)} | {lint.severity.label} | "
                    f"{cell(lint.policy or lint.item or '-')} | {cell(lint.message)} | "
                    f"{cell(lint.fix)} |\n"
                )
            out.write("\n")
        out.write("### Network map\n\n```mermaid\n")
        out.write(render_mermaid(s.network))
        out.write("```\n\n")
