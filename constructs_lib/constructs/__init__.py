"""The construct layer, on cdktf or cdktn (only ``cdk.py`` names either; see there)."""

from constructs_lib.constructs.namespace import (
    KubernetesCluster,
    PolicyHandle,
    StackState,
    ZeroTrustNamespace,
    stack_states,
)
from constructs_lib.constructs.pipeline import BuildEnvironment, Pipeline, preview_namespace
from constructs_lib.constructs.stack import NetfenceStack, apply_backend
from constructs_lib.constructs.synth import SynthSummary, create_app, synth

__all__ = [
    "BuildEnvironment",
    "KubernetesCluster",
    "NetfenceStack",
    "Pipeline",
    "PolicyHandle",
    "StackState",
    "SynthSummary",
    "ZeroTrustNamespace",
    "apply_backend",
    "create_app",
    "preview_namespace",
    "stack_states",
    "synth",
]
