"""``netfence report --format html``: one self-contained page, the map as inline SVG.

No script, no stylesheet or font from anywhere else: the file opens offline
and prints. Every name is HTML-escaped. The map lays namespaces out as
columns, each endpoint as a box, each allowed connection as an arrow
labelled with its ports.
"""

from __future__ import annotations

from html import escape
from typing import TextIO

from constructs_lib.reports.audit import NOT_RECORDED, Audit, StackAudit
from constructs_lib.verifier.netmap import NetworkMap

COLUMN, BOX_W, BOX_H, ROW, TOP, LEFT = 320, 250, 34, 64, 64, 30

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 78em; color: #1b1f24; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .5em 0 1.2em; }
th, td { border: 1px solid #d0d7de; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } code { font-size: .92em; }
.ok { color: #1a7f37; font-weight: 600; } .bad { color: #cf222e; font-weight: 600; }
svg.netfence-map { border: 1px solid #d0d7de; background: #fff; max-width: 100%; height: auto; }
svg text { font: 12px system-ui, sans-serif; }
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def render_svg(network: NetworkMap, title: str) -> str:
    groups = list(network.groups().items())
    where: dict[str, tuple[int, int]] = {}
    rows = max((len(m) for _, m in groups), default=0)
    parts = []
    for gi, (group, members) in enumerate(groups):
        x = LEFT + gi * COLUMN
        height = len(members) * ROW + 20
        parts.append(
            f'<g class="namespace"><rect x="{x - 15}" y="{TOP - 40}" width="{BOX_W + 30}" '
            f'height="{height + 30}" rx="8" fill="#f6f8fa" stroke="#8c959f"/>'
            f'<text x="{x}" y="{TOP - 18}" font-weight="bold">{_e(group)}</text></g>'
        )
        for ni, member in enumerate(members):
            y = TOP + ni * ROW
            where[member] = (x, y)
            parts.append(
                f'<g class="endpoint"><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" '
                f'rx="5" fill="#ddf4ff" stroke="#0969da"/>'
                f'<text x="{x + 10}" y="{y + 22}">{_e(member.split("/", 1)[1])}</text></g>'
            )
    below = TOP + rows * ROW
    swings = 0
    for source, destination, conns in network.edges:
        (sx, sy), (dx, dy) = where[source], where[destination]
        y1, y2 = sy + BOX_H // 2, dy + BOX_H // 2
        if sx == dx:  # same column: loop out to the right
            x1 = x2 = sx + BOX_W
            bend = 60 + abs(y2 - y1) // 4
            path = f"M{x1},{y1} C{x1 + bend},{y1} {x2 + bend},{y2} {x2 + 6},{y2}"
            lx, ly = x1 + bend - 10, (y1 + y2) // 2
        elif abs(dx - sx) > COLUMN:  # past other columns: swing below their boxes
            x1, x2 = sx + BOX_W // 2, dx + BOX_W // 2
            y1, y2 = sy + BOX_H, dy + BOX_H + 6
            low = below + 30 + 16 * swings
            swings += 1
            path = f"M{x1},{y1} C{x1},{low} {x2},{low} {x2},{y2}"
            lx, ly = (x1 + x2) // 2, low - 18
        else:
            forward = dx > sx
            x1 = sx + BOX_W if forward else sx
            x2 = dx - 6 if forward else dx + BOX_W + 6
            mid = (x1 + x2) // 2
            path = f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}"
            lx, ly = mid, (y1 + y2) // 2 - 4
        parts.append(
            f'<g class="flow"><path d="{path}" fill="none" stroke="#57606a" stroke-width="1.4" '
            f'marker-end="url(#arrow)"/><text x="{lx}" y="{ly}" text-anchor="middle" '
            f'fill="#0a3069" paint-order="stroke" stroke="#fff" stroke-width="4">'
            f"{_e(conns)}</text></g>"
        )
    width = LEFT + max(len(groups), 1) * COLUMN + 40
    height = TOP + rows * ROW + 60 + 16 * swings
    return (
        f'<svg class="netfence-map" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_e(title)}"><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" '
        'refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker></defs>' + "".join(parts) + "</svg>"
    )


def _table(headers: list[str], rows: list[list[str]], name: str) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{name}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _stack(s: StackAudit) -> str:
    verdict = (
        '<span class="ok">exact</span>'
        if not s.findings
        else f'<span class="bad">{len(s.findings)} finding(s)</span>'
    )
    notes = "".join(f"<li>note: {_e(n)}</li>" for n in s.notes)
    findings = (f'<ul class="notes">{notes}</ul>' if notes else "") + (
        "<p>The policies allow exactly the declared flows.</p>"
        if not s.findings
        else _table(
            ["kind", "finding", "policies"],
            [[_e(f.kind), _e(f.message), _e("; ".join(f.policies))] for f in s.findings],
            "findings",
        )
    )
    return (
        f'<section class="stack" id="stack-{_e(s.stack)}"><h2>stack <code>{_e(s.stack)}</code>: '
        f"{verdict}</h2><p>from <code>{_e(s.file)}</code></p>"
        "<h3>Network map</h3>"
        + render_svg(s.network, f"allowed connections of stack {s.stack}")
        + "<h3>Namespaces</h3>"
        + _table(
            ["namespace", "environment", "managed by the stack", "cluster DNS"],
            [
                [
                    _e(n.name),
                    _e(n.environment),
                    "created" if n.managed else "adopted (labels only)",
                    "allowed" if n.allow_dns else "not allowed",
                ]
                for n in s.namespaces
            ],
            "namespaces",
        )
        + f"<h3>Declared flows ({len(s.flows)})</h3>"
        + _table(
            ["from", "to", "ports", "cross-environment", "declared at"],
            [
                [
                    _e(f.source),
                    _e(f.destination),
                    _e(f.ports),
                    "yes, declared" if f.cross_environment else "no",
                    f"<code>{_e(f.declared_at)}</code>" if f.declared_at else _e(NOT_RECORDED),
                ]
                for f in s.flows
            ],
            "flows",
        )
        + f"<h3>Policies ({len(s.policies)})</h3>"
        + _table(
            ["namespace", "policy", "purpose", "Terraform address"],
            [
                [_e(p.namespace), _e(p.name), _e(p.purpose), f"<code>{_e(p.address)}</code>"]
                for p in s.policies
            ],
            "policies",
        )
        + "<h3>netfence verify</h3>"
        + findings
        + "<h3>netfence lint</h3>"
        + (
            "<p>No finding.</p>"
            if not s.lint
            else _table(
                ["rule", "severity", "policy", "finding", "fix"],
                [
                    [
                        _e(f"{f.rule.id} {f.rule.name}"),
                        _e(f.severity.label),
                        _e(f.policy or f.item or "-"),
                        _e(f.message),
                        _e(f.fix),
                    ]
                    for f in s.lint
                ],
                "lint",
            )
        )
        + "</section>"
    )


def write_audit(audit: Audit, out: TextIO) -> None:
    title = f"netfence audit: {audit.path}"
    out.write(
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1><p>{len(audit.stacks)} stack(s); "
        + (
            '<span class="ok">every stack allows exactly its declared flows</span>'
            if audit.ok
            else '<span class="bad">findings below</span>'
        )
        + ".</p>"
        + "".join(_stack(s) for s in audit.stacks)
        + "</body></html>\n"
    )
