"""The intent model: pure Python, validated on arrival, no cdktf."""

from constructs_lib.model.peers import LabelExpression, NamespacePods, Namespaces
from constructs_lib.model.port import Port, Protocol
from constructs_lib.model.topology import (
    ENVIRONMENT_LABEL,
    DnsTarget,
    Endpoint,
    ExternalEndpoint,
    Flow,
    Namespace,
    Topology,
    Workload,
    WorkloadSelection,
)

__all__ = [
    "ENVIRONMENT_LABEL",
    "DnsTarget",
    "Endpoint",
    "ExternalEndpoint",
    "Flow",
    "LabelExpression",
    "Namespace",
    "NamespacePods",
    "Namespaces",
    "Port",
    "Protocol",
    "Topology",
    "Workload",
    "WorkloadSelection",
]
