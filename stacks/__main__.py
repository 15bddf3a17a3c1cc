"""Synthesize the example stacks (what `cdktf synth` runs, per cdktf.json)."""

from __future__ import annotations

import sys
from typing import Any

from constructs_lib import NetfenceError, create_app, synth  # first: picks the Node.js jsii runs
from stacks.pipelines import DataPipelineStack, DeliveryStack
from stacks.shop import ShopStack


def build(app: Any) -> Any:
    ShopStack(app, "staging", environment="staging", payments_cidr="198.51.100.0/24")
    ShopStack(app, "prod", environment="prod", payments_cidr="203.0.113.0/24")
    DataPipelineStack(app, "data-pipeline")
    DeliveryStack(app, "delivery")
    return app


def main() -> int:
    try:
        # cdktf or cdktn: NETFENCE_CDK, else the one installed (an app of your
        # own simply writes `from cdktf import App` or `from cdktn import App`)
        summaries = synth(build(create_app()))
    except NetfenceError as exc:  # bad intent, config or output: say what and where
        print(f"netfence: error: {exc}", file=sys.stderr)
        return 2
    for summary in summaries:
        print(summary.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
