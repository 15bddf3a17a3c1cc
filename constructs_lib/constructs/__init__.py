"""The cdktf construct layer (the only place, with the cdktf emitter, that imports cdktf)."""

from constructs_lib.constructs.namespace import (
    KubernetesCluster,
    PolicyHandle,
    StackState,
    ZeroTrustNamespace,
    stack_states,
)
from constructs_lib.constructs.synth import SynthSummary, synth

__all__ = [
    "KubernetesCluster",
    "PolicyHandle",
    "StackState",
    "SynthSummary",
    "ZeroTrustNamespace",
    "stack_states",
    "synth",
]
