"""Mermaid flowchart of allowed flows, grouped by namespace, for docs and PR comments."""

from __future__ import annotations

from typing import TextIO

from constructs_lib.verifier.netmap import NetworkMap

_LABEL = str.maketrans(
    {"#": "#35;", '"': "#34;", "`": "#96;", "<": "#60;", ">": "#62;", "\n": " ", "\r": " "}
)


def _quote(text: str) -> str:
    """A label safe inside ``["..."]``: Mermaid entity codes for what it (or the
    HTML it renders labels as, or the Markdown fence around it) would read."""
    return text.translate(_LABEL)


def render_mermaid(network: NetworkMap) -> str:
    ids = {name: f"n{i}" for i, name in enumerate(network.nodes)}
    lines = ["flowchart LR"]
    for group, members in network.groups().items():
        lines.append(f'  subgraph g_{ids[members[0]]}["{_quote(group)}"]')
        lines.extend(f'    {ids[m]}["{_quote(m.split("/", 1)[1])}"]' for m in members)
        lines.append("  end")
    for source, destination, conns in network.edges:
        lines.append(f'  {ids[source]} -->|"{_quote(str(conns))}"| {ids[destination]}')
    return "\n".join(lines) + "\n"


def write_map(network: NetworkMap, out: TextIO) -> None:
    out.write(render_mermaid(network))
