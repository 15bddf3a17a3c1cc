"""netfence: zero-trust Kubernetes NetworkPolicies from Python intent.

The model classes are plain Python. The construct classes pull in cdktf (a
Node.js process behind jsii). Both load on first use, so commands that only
read artifacts (``netfence verify``, ``lint``, ``diff``) pay for neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs_lib._lazy import lazy_attributes
from constructs_lib._node import ensure_node

ensure_node()

from constructs_lib.errors import ArtifactError, InvalidIntentError, NetfenceError  # noqa: E402

if TYPE_CHECKING:
    from constructs_lib.constructs import (  # type: ignore[no-redef]  # synth: function, not the module
        BuildEnvironment,
        KubernetesCluster,
        NetfenceStack,
        Pipeline,
        ZeroTrustNamespace,
        preview_namespace,
        synth,
    )
    from constructs_lib.model import (
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
    from constructs_lib.model.pipeline import Stage

# The model loads on first use too: commands that only read artifacts need none of it.
_LAZY = {
    "DnsTarget": "constructs_lib.model",
    "ExternalEndpoint": "constructs_lib.model",
    "LabelExpression": "constructs_lib.model",
    "NamespacePods": "constructs_lib.model",
    "Namespaces": "constructs_lib.model",
    "Port": "constructs_lib.model",
    "Protocol": "constructs_lib.model",
    "Workload": "constructs_lib.model",
    "WorkloadSelection": "constructs_lib.model",
    "Stage": "constructs_lib.model.pipeline",
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


__getattr__ = lazy_attributes(__name__, _LAZY)
