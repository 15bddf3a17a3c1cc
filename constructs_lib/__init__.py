"""netfence: zero-trust Kubernetes NetworkPolicies from Python intent.

The model classes are plain Python. The construct classes pull in cdktf (a
Node.js process behind jsii); they load on first use, so commands that only
read artifacts (``netfence verify``, ``reach``, ``map``) never pay for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from constructs_lib._node import ensure_node

ensure_node()

from constructs_lib.errors import ArtifactError, InvalidIntentError, NetfenceError  # noqa: E402
from constructs_lib.model import (  # noqa: E402
    DnsTarget,
    ExternalEndpoint,
    LabelExpression,
    NamespacePods,
    Namespaces,
    Port,
    Protocol,
    Workload,
    WorkloadSelection,
)
from constructs_lib.model.pipeline import Stage  # noqa: E402

if TYPE_CHECKING:
    from constructs_lib.constructs import (
        BuildEnvironment,
        KubernetesCluster,
        NetfenceStack,
        Pipeline,
        ZeroTrustNamespace,
        preview_namespace,
        synth,
    )

_LAZY = {
    "BuildEnvironment": "constructs_lib.constructs",
    "Pipeline": "constructs_lib.constructs",
    "preview_namespace": "constructs_lib.constructs",
    "KubernetesCluster": "constructs_lib.constructs",
    "NetfenceStack": "constructs_lib.constructs",
    "ZeroTrustNamespace": "constructs_lib.constructs",
    "synth": "constructs_lib.constructs",
    "create_app": "constructs_lib.constructs",
}

__all__ = [
    "ArtifactError",
    "BuildEnvironment",
    "DnsTarget",
    "ExternalEndpoint",
    "InvalidIntentError",
    "KubernetesCluster",
    "LabelExpression",
    "NamespacePods",
    "Namespaces",
    "NetfenceError",
    "NetfenceStack",
    "Pipeline",
    "Port",
    "Protocol",
    "Stage",
    "Workload",
    "WorkloadSelection",
    "ZeroTrustNamespace",
    "create_app",
    "preview_namespace",
    "synth",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'constructs_lib' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
