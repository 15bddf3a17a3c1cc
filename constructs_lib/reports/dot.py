"""Graphviz DOT of allowed flows, one cluster per namespace."""

from __future__ import annotations

import json
from typing import TextIO

from constructs_lib.verifier.netmap import NetworkMap


def write_map(network: NetworkMap, out: TextIO) -> None:
    q = json.dumps  # DOT accepts C-style double-quoted strings
    out.write("digraph netfence {\n  rankdir=LR;\n  node [shape=box];\n")
    for i, (group, members) in enumerate(network.groups().items()):
        out.write(f"  subgraph cluster_{i} {{\n    label={q(group)};\n")
        for m in members:
            out.write(f"    {q(m)} [label={q(m.split('/', 1)[1])}];\n")
        out.write("  }\n")
    for source, destination, conns in network.edges:
        out.write(f"  {q(source)} -> {q(destination)} [label={q(str(conns))}];\n")
    out.write("}\n")
