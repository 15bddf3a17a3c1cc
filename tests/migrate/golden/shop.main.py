"""Stack migrated: network policies migrated into netfence intent.

Migrated by `netfence migrate` from shop.yaml; see MIGRATION.md for the proof.
"""

from __future__ import annotations

import sys
from pathlib import Path

# constructs_lib first: it picks the Node.js that jsii (under cdktf) runs
from constructs_lib import NetfenceError, Port, ZeroTrustNamespace, synth

from cdktf import App, TerraformStack  # isort: skip

HERE = Path(__file__).resolve().parent


def build(app: App) -> TerraformStack:
    stack = TerraformStack(app, "migrated")

    # Namespaces: they exist already, so Terraform adopts them (labels only).
    ingress_nginx = ZeroTrustNamespace(
        stack,
        "ingress-nginx",
        environment="default",
        adopt=True,
        default_deny="none",
        allow_dns=False,
    )
    kube_system = ZeroTrustNamespace(
        stack,
        "kube-system",
        environment="default",
        adopt=True,
        default_deny="none",
        allow_dns=False,
    )
    shop = ZeroTrustNamespace(
        stack, "shop", environment="prod", adopt=True, default_deny="ingress", allow_dns=False
    )

    # Workloads: the pods each selector matches, and the ports they accept.
    ingress_nginx_ingress_nginx = ingress_nginx.workload(
        "ingress-nginx", labels={"app.kubernetes.io/name": "ingress-nginx"}, ports=[Port.tcp(443)]
    )
    kube_system.workload(
        "kube-dns",
        labels={"k8s-app": "kube-dns"},
        ports=[Port.udp(53, name="dns"), Port.tcp(53, name="dns-tcp")],
    )
    shop_cart = shop.workload(
        "cart", labels={"app.kubernetes.io/name": "cart"}, ports=[Port.tcp(7070, name="grpc")]
    )
    shop_catalog = shop.workload(
        "catalog", labels={"app": "catalog"}, ports=[Port.tcp(3550, name="grpc")]
    )
    shop_checkout = shop.workload(
        "checkout", labels={"app": "checkout"}, ports=[Port.tcp(5050, name="grpc")]
    )
    shop_email = shop.workload(
        "email", labels={"app": "email"}, ports=[Port.tcp(8080, name="http")]
    )
    shop_loadgen = shop.workload("loadgen", labels={"app": "loadgen"})
    shop_payment = shop.workload(
        "payment", labels={"app": "payment"}, ports=[Port.tcp(50051, name="grpc")]
    )
    shop_redis = shop.workload(
        "redis", labels={"app.kubernetes.io/name": "redis"}, ports=[Port.tcp(6379, name="redis")]
    )
    shop_shipping = shop.workload(
        "shipping", labels={"app": "shipping"}, ports=[Port.tcp(50051, name="grpc")]
    )
    shop_web = shop.workload(
        "web", labels={"app.kubernetes.io/name": "web"}, ports=[Port.tcp(8080, name="http")]
    )

    # Flows: who may open connections to whom (egress and ingress).
    ingress_nginx_ingress_nginx.allow_to(shop_web, cross_environment=True)

    shop_cart.allow_to(shop_redis)

    shop_checkout.allow_to(shop_cart)
    shop_checkout.allow_to(shop_catalog)
    shop_checkout.allow_to(shop_email, ports=[Port.named("http")])
    shop_checkout.allow_to(shop_payment)
    shop_checkout.allow_to(shop_shipping)

    shop_loadgen.allow_to(shop_web)

    shop_web.allow_to(shop_cart)
    shop_web.allow_to(shop_catalog)
    shop_web.allow_to(shop_checkout)
    shop_web.allow_to(shop_shipping)

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
