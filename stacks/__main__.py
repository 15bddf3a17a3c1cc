"""Synthesize the example stacks (what `cdktf synth` runs, per cdktf.json)."""

from __future__ import annotations

from constructs_lib import synth  # first: it picks the Node.js that jsii will run
from stacks.pipelines import DataPipelineStack, DeliveryStack
from stacks.shop import ShopStack

from cdktf import App  # isort: skip


def build(app: App) -> App:
    ShopStack(app, "staging", environment="staging", payments_cidr="198.51.100.0/24")
    ShopStack(app, "prod", environment="prod", payments_cidr="203.0.113.0/24")
    DataPipelineStack(app, "data-pipeline")
    DeliveryStack(app, "delivery")
    return app


def main() -> None:
    summaries = synth(build(App()))
    for summary in summaries:
        print(summary.line())


if __name__ == "__main__":
    main()
