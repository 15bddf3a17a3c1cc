"""Mermaid flowchart of allowed flows, grouped by namespace, for docs and PR comments."""

from __future__ import annotations

from typing import TextIO

from constructs_lib.verifier.netmap import NetworkMap


def _quote(text: str) -> str:
    return text.replace('"', "#quot;")


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
