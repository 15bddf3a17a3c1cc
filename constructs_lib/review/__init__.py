"""Review and adoption: connectivity diffs for PRs, drift against a cluster, imports.

Every answer here is semantic: two sets of NetworkPolicies are compared by
the reachability they give over one shared set of pods (the *world*), never
by comparing their JSON text. The names below load on first use, so
``netfence diff`` does not import adoption or drift.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs_lib._lazy import lazy_attributes

if TYPE_CHECKING:
    from constructs_lib.review.adopt import ImportResult, plan_imports
    from constructs_lib.review.diff import Diff, FlowChange, Risk, diff_artifacts, diff_plan
    from constructs_lib.review.drift import Drift, detect_drift
    from constructs_lib.review.live import LiveState, load_live, read_cluster

_LAZY = {
    "ImportResult": ".adopt",
    "plan_imports": ".adopt",
    "Diff": ".diff",
    "FlowChange": ".diff",
    "Risk": ".diff",
    "diff_artifacts": ".diff",
    "diff_plan": ".diff",
    "Drift": ".drift",
    "detect_drift": ".drift",
    "LiveState": ".live",
    "load_live": ".live",
    "read_cluster": ".live",
}

__all__ = [
    "Diff",
    "Drift",
    "FlowChange",
    "ImportResult",
    "LiveState",
    "Risk",
    "detect_drift",
    "diff_artifacts",
    "diff_plan",
    "load_live",
    "plan_imports",
    "read_cluster",
]


__getattr__ = lazy_attributes(__name__, _LAZY)
