"""Synthesize an app and write the Kubernetes manifests beside each stack's JSON."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cdktf import App

from constructs_lib.constructs.namespace import stack_states
from constructs_lib.emitters.manifests import render_manifests
from constructs_lib.fsutil import write_atomic

MANIFESTS = "manifests.yaml"


@dataclass(frozen=True)
class SynthSummary:
    stack: str
    directory: Path
    namespaces: int
    policies: int
    flows: int

    def line(self) -> str:
        return (
            f"{self.stack}: {self.namespaces} namespaces, {self.policies} policies, "
            f"{self.flows} flows -> {self.directory}"
        )


def synth(app: App) -> list[SynthSummary]:
    """``app.synth()``, then ``manifests.yaml`` per netfence stack; returns a summary."""
    states = stack_states(app)
    for _, state in states:
        state.render()  # raises on a bad override before anything is written
    app.synth()
    out = []
    for stack_name, state in states:
        directory = Path(app.outdir) / "stacks" / stack_name
        compiled = state.compiled()
        write_atomic(directory / MANIFESTS, render_manifests(compiled))
        out.append(
            SynthSummary(
                stack_name,
                directory,
                len(compiled.namespaces),
                len(compiled.policies),
                len(state.topology.flows),
            )
        )
    return out
