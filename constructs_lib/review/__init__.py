"""Review and adoption: connectivity diffs for PRs, drift against a cluster, imports.

Every answer here is semantic: two sets of NetworkPolicies are compared by
the reachability they give over one shared set of pods (the *world*), never
by comparing their JSON text.
"""

from constructs_lib.review.adopt import ImportResult, plan_imports
from constructs_lib.review.diff import Diff, FlowChange, Risk, diff_artifacts, diff_plan
from constructs_lib.review.drift import Drift, detect_drift
from constructs_lib.review.live import LiveState, load_live, read_cluster

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
