"""Synthesize an app and write the Kubernetes manifests beside each stack's JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from constructs_lib.constructs.namespace import stack_states
from constructs_lib.emitters.manifests import render_manifests
from constructs_lib.fsutil import write_atomic

App = Any  # a cdktf or cdktn App (see constructs_lib.constructs.cdk)

MANIFESTS = "manifests.yaml"
ARTIFACT = "cdk.tf.json"


def _deep_merge(target: dict[str, Any], fragment: dict[str, Any]) -> None:
    """cdktf's merge of element fragments: objects recursively, lists appended."""
    for key, value in fragment.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            _deep_merge(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            current.extend(value)
        else:
            target[key] = value


def _merge_into_artifact(path: Path, fragment: dict[str, Any], metadata: dict[str, Any]) -> None:
    """Add netfence's resources to what cdktf wrote, as its own merge would have.

    Handing thousands of resources to cdktf through jsii costs seconds of
    marshalling; merging them here in Python costs a JSON dump. The content
    equals plain ``app.synth()`` (a test holds both paths to that).
    """
    doc = json.loads(path.read_text(encoding="utf-8"))
    _deep_merge(doc, fragment)
    _deep_merge(doc.setdefault("//", {}).setdefault("metadata", {}), metadata)
    write_atomic(path, json.dumps(doc, indent=2, sort_keys=True) + "\n")


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
    """``app.synth()`` plus netfence's resources and ``manifests.yaml`` per stack.

    Plain ``app.synth()`` writes the same cdk.tf.json content (through jsii,
    slower) but no manifests; this is what ``python -m stacks`` calls.
    """
    states = stack_states(app)
    for _, state in states:
        state.render()  # raises on a bad override before anything is written
        state.deferred = True
    try:
        app.synth()
    finally:
        for _, state in states:
            state.deferred = False
    out = []
    for stack_name, state in states:
        directory = Path(app.outdir) / "stacks" / stack_name
        compiled = state.compiled()
        _merge_into_artifact(directory / ARTIFACT, state.render(), state.metadata())
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
