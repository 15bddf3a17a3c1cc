"""Intent learned by `netfence learn` from shop.hubble.jsonl (hubble).

Keep and edit this file: it is the source of these policies from now on.
LEARNED.md beside it says what was observed, grouped, folded and left out.
"""

from __future__ import annotations

import sys
from pathlib import Path

# constructs_lib first: it picks the Node.js that jsii (under cdktf) runs
from constructs_lib import (
    ExternalEndpoint,
    KubernetesCluster,
    NetfenceError,
    Port,
    ZeroTrustNamespace,
    synth,
)

from cdktf import App, TerraformStack  # isort: skip

HERE = Path(__file__).resolve().parent


def build(app: App) -> TerraformStack:
    stack = TerraformStack(app, "learned")

    # The cluster's address ranges: no external endpoint's ipBlock may admit pods.
    KubernetesCluster(stack, "cluster", pod_cidrs=["10.0.0.0/16"], service_cidrs=["10.96.0.0/12"])

    # Namespaces: they exist already, so Terraform adopts them (labels only).
    data = ZeroTrustNamespace(stack, "data", environment="prod", adopt=True)
    shop = ZeroTrustNamespace(stack, "shop", environment="prod", adopt=True)

    # Workloads: the pods each selector matches, and the ports they accept.
    data_postgres = data.workload("postgres", labels={"app": "postgres"}, ports=[Port.tcp(5432)])
    data_redis = data.workload(
        "redis", labels={"app.kubernetes.io/name": "redis"}, ports=[Port.tcp(6379)]
    )
    shop_api = shop.workload(
        "api", labels={"app.kubernetes.io/name": "api"}, ports=[Port.tcp(8080)]
    )
    shop_frontend = shop.workload(
        "frontend", labels={"app.kubernetes.io/name": "frontend"}, ports=[Port.tcp(8443)]
    )
    shop_worker = shop.workload("worker", labels={"app": "worker"})

    # External endpoints: addresses outside the cluster.
    load_balancers = ExternalEndpoint("load-balancers", cidr="198.51.100.0/24")
    # seen as api.payments.example
    payments = ExternalEndpoint("payments", cidr="203.0.113.0/28", ports=[Port.tcp(443)])

    # Flows: who may open connections to whom (egress and ingress).
    data_postgres.allow_to(data.select({"app": "postgres"}), ports=[Port.tcp(5433)])

    shop_api.allow_to(data_postgres)
    shop_api.allow_to(data_redis)
    shop_api.allow_to(payments)

    shop_frontend.allow_from(load_balancers)
    shop_frontend.allow_to(shop_api)

    shop_worker.allow_to(data_postgres)
    shop_worker.allow_to(data_redis)
    shop_worker.allow_to(payments)

    return stack


def main() -> int:
    app = App(outdir=str(HERE / "cdktf.out"))
    try:
        build(app)
        summaries = synth(app)
    except NetfenceError as exc:  # bad intent: say what and where, no traceback
        print(f"netfence: error: {exc}", file=sys.stderr)
        return 2
    for summary in summaries:
        print(summary.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
