"""A web shop declared once and deployed as a staging and a prod stack.

frontend -> api -> db / cache, worker -> db / cache / payments API,
and the ingress controller and Prometheus (run by other teams) reaching in:
the controller pods of the ``ingress-nginx`` namespace, and Prometheus in
whichever namespace of the environment runs it. Those namespaces are not
this stack's: they get no policy from it.
"""

from __future__ import annotations

from constructs_lib import (  # first: it picks the Node.js that jsii will run
    ExternalEndpoint,
    KubernetesCluster,
    Namespaces,
    NetfenceStack,
    Port,
    ZeroTrustNamespace,
)

from constructs import Construct  # isort: skip


class ShopStack(NetfenceStack):
    def __init__(self, scope: Construct, id: str, *, environment: str, payments_cidr: str) -> None:
        super().__init__(scope, id)
        KubernetesCluster(
            self,
            "cluster",
            config_path="~/.kube/config",
            config_context=environment,
            pod_cidrs=["10.244.0.0/16"],
            service_cidrs=["10.96.0.0/12"],
        )

        web = ZeroTrustNamespace(
            self, "web", name="shop-web", environment=environment, labels={"team": "storefront"}
        )
        data = ZeroTrustNamespace(
            self, "data", name="shop-data", environment=environment, labels={"team": "storefront"}
        )

        frontend = web.workload(
            "frontend", labels={"app": "frontend"}, ports=[Port.tcp(8080, name="http")]
        )
        api = web.workload("api", labels={"app": "api"}, ports=[Port.tcp(8443, name="https")])
        worker = web.workload("worker", labels={"app": "worker"})
        db = data.workload("db", labels={"app": "postgres"}, ports=[Port.tcp(5432)])
        cache = data.workload("cache", labels={"app": "redis"}, ports=[Port.tcp(6379)])

        payments = ExternalEndpoint("payments", cidrs=[payments_cidr], ports=[Port.tcp(443)])
        ingress = Namespaces.named("ingress-nginx").pods(
            {"app.kubernetes.io/name": "ingress-nginx"}
        )
        prometheus = Namespaces.all(environment=environment).pods(
            {"app.kubernetes.io/name": "prometheus"}
        )

        # ingress-nginx carries no environment label: one controller serves the cluster.
        frontend.allow_from(ingress, cross_environment=True)
        frontend.allow_to(api)
        api.allow_to(db)
        api.allow_to(cache)
        api.allow_to(payments)
        worker.allow_to(db)
        worker.allow_to(cache)
        worker.allow_to(payments)
        api.allow_from(prometheus, ports=[Port.named("https")])
