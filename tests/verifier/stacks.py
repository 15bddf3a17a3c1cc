"""A hand-written synthesized stack that follows docs/artifact.md exactly.

Tests copy it and break one thing each, so every finding kind has a fixture
whose only difference from a clean stack is the defect under test.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

MANAGED = {"app.kubernetes.io/managed-by": "netfence"}
NS_REF = "${kubernetes_namespace_v1.shop.metadata[0].name}"
TCP = "TCP"


def _meta(name: str) -> dict[str, Any]:
    return {"name": name, "namespace": NS_REF, "labels": dict(MANAGED)}


def _pods(**labels: str) -> dict[str, Any]:
    return {"match_labels": labels}


RECORD: dict[str, Any] = {
    "version": 1,
    "stack": "prod",
    "cluster": {"pod_cidrs": ["10.244.0.0/16"], "service_cidrs": ["10.96.0.0/12"]},
    "namespaces": [
        {
            "name": "shop",
            "environment": "prod",
            "managed": True,
            "allow_dns": True,
            "labels": {"environment": "prod", "team": "shop"},
            "dns": {
                "namespace": "kube-system",
                "labels": {"k8s-app": "kube-dns"},
                "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
            },
        }
    ],
    "workloads": [
        {
            "namespace": "shop",
            "name": "api",
            "labels": {"app": "api"},
            "ports": [{"port": 8080, "protocol": TCP, "name": "http"}],
        },
        {
            "namespace": "shop",
            "name": "db",
            "labels": {"app": "db"},
            "ports": [{"port": 5432, "protocol": TCP}],
        },
    ],
    "external": [
        {
            "name": "payments",
            "cidrs": ["203.0.113.0/24"],
            "except": [],
            "ports": [{"port": 443, "protocol": TCP}],
            "internet": False,
        }
    ],
    "flows": [
        {
            "from": {
                "kind": "selection",
                "namespace": None,
                "environment": "prod",
                "labels": {"app": "prometheus"},
            },
            "to": {"kind": "workload", "namespace": "shop", "name": "api"},
            "ports": [{"port": 8080, "protocol": TCP}],
            "cross_environment": False,
        },
        {
            "from": {"kind": "workload", "namespace": "shop", "name": "api"},
            "to": {"kind": "external", "name": "payments"},
            "ports": [{"port": 443, "protocol": TCP}],
            "cross_environment": False,
        },
        {
            "from": {"kind": "workload", "namespace": "shop", "name": "api"},
            "to": {"kind": "workload", "namespace": "shop", "name": "db"},
            "ports": [{"port": 5432, "protocol": TCP}],
            "cross_environment": False,
        },
    ],
}

POLICIES: dict[str, Any] = {
    "shop_default-deny": {
        "metadata": _meta("default-deny"),
        "spec": {"pod_selector": {}, "policy_types": ["Ingress", "Egress"]},
    },
    "shop_allow-dns": {
        "metadata": _meta("allow-dns"),
        "spec": {
            "pod_selector": {},
            "policy_types": ["Egress"],
            "egress": [
                {
                    "to": [
                        {
                            "namespace_selector": _pods(
                                **{"kubernetes.io/metadata.name": "kube-system"}
                            ),
                            "pod_selector": _pods(**{"k8s-app": "kube-dns"}),
                        }
                    ],
                    "ports": [{"port": "53", "protocol": "UDP"}, {"port": "53", "protocol": "TCP"}],
                }
            ],
        },
    },
    "shop_api-egress": {
        "metadata": _meta("api-egress"),
        "spec": {
            "pod_selector": _pods(app="api"),
            "policy_types": ["Egress"],
            "egress": [
                {
                    "to": [{"pod_selector": _pods(app="db")}],
                    "ports": [{"port": "5432", "protocol": TCP}],
                },
                {
                    "to": [{"ip_block": {"cidr": "203.0.113.0/24"}}],
                    "ports": [{"port": "443", "protocol": TCP}],
                },
            ],
        },
    },
    "shop_api-ingress": {
        "metadata": _meta("api-ingress"),
        "spec": {
            "pod_selector": _pods(app="api"),
            "policy_types": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {
                            "namespace_selector": _pods(environment="prod"),
                            "pod_selector": _pods(app="prometheus"),
                        }
                    ],
                    "ports": [{"port": "8080", "protocol": TCP}],
                }
            ],
        },
    },
    "shop_db-ingress": {
        "metadata": _meta("db-ingress"),
        "spec": {
            "pod_selector": _pods(app="db"),
            "policy_types": ["Ingress"],
            "ingress": [
                {
                    "from": [{"pod_selector": _pods(app="api")}],
                    "ports": [{"port": "5432", "protocol": TCP}],
                }
            ],
        },
    },
}


def exact_stack() -> dict[str, Any]:
    """A fresh deep copy of the clean stack's cdk.tf.json."""
    return copy.deepcopy(
        {
            "//": {"metadata": {"netfence": RECORD}},
            "terraform": {
                "required_providers": {
                    "kubernetes": {"source": "hashicorp/kubernetes", "version": "2.38.0"}
                }
            },
            "resource": {
                "kubernetes_namespace_v1": {
                    "shop": {
                        "metadata": {
                            "name": "shop",
                            "labels": {"environment": "prod", "team": "shop"},
                        }
                    }
                },
                "kubernetes_network_policy_v1": POLICIES,
            },
        }
    )


def write_stack(root: Path, data: dict[str, Any], name: str = "prod") -> Path:
    """Write ``data`` as cdktf.out/stacks/<name>/cdk.tf.json; return the stack dir."""
    stack = root / "cdktf.out" / "stacks" / name
    stack.mkdir(parents=True, exist_ok=True)
    (stack / "cdk.tf.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    return stack


def policies(data: dict[str, Any]) -> dict[str, Any]:
    """The network policy resources of a stack dict, for mutation in tests."""
    result: dict[str, Any] = data["resource"]["kubernetes_network_policy_v1"]
    return result
