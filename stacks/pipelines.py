"""Pipeline examples: a data pipeline and a CI/CD pipeline with a build environment."""

from __future__ import annotations

from constructs_lib import (  # first: it picks the Node.js that jsii will run
    BuildEnvironment,
    ExternalEndpoint,
    KubernetesCluster,
    NetfenceStack,
    Pipeline,
    Port,
    ZeroTrustNamespace,
)

from constructs import Construct  # isort: skip


class DataPipelineStack(NetfenceStack):
    """ingest -> transform -> load -> an external warehouse, one namespace per stage."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        KubernetesCluster(
            self,
            "cluster",
            config_path="~/.kube/config",
            config_context="prod",
            pod_cidrs=["10.244.0.0/16"],
            service_cidrs=["10.96.0.0/12"],
        )

        feed = ExternalEndpoint("vendor-feed", cidr="192.0.2.0/28", ports=[Port.tcp(22)])
        warehouse = ExternalEndpoint("warehouse", cidr="198.51.100.64/26", ports=[Port.tcp(5439)])
        etl = Pipeline(self, "etl")
        ingest = etl.stage(
            "ingest", namespace=ZeroTrustNamespace(self, "etl-ingest", environment="prod")
        )
        transform = etl.stage(
            "transform",
            namespace=ZeroTrustNamespace(self, "etl-transform", environment="prod"),
            ports=[Port.tcp(8080)],
        )
        load = etl.stage(
            "load",
            namespace=ZeroTrustNamespace(self, "etl-load", environment="prod"),
            ports=[Port.tcp(8080)],
        )
        ingest.reaches(feed)
        ingest >> transform >> load
        load.reaches(warehouse)


class DeliveryStack(NetfenceStack):
    """CI jobs reach only approved endpoints; the deployer manages staging only."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        KubernetesCluster(
            self,
            "cluster",
            config_path="~/.kube/config",
            config_context="ci",
            pod_cidrs=["10.244.0.0/16"],
            service_cidrs=["10.96.0.0/12"],
        )

        registry = ExternalEndpoint("registry", cidr="10.20.0.0/24", ports=[Port.tcp(443)])
        git = ExternalEndpoint("git", cidr="10.20.1.0/28", ports=[Port.tcp(443), Port.tcp(22)])
        mirror = ExternalEndpoint("pypi-mirror", cidr="10.20.2.0/28", ports=[Port.tcp(443)])
        # The API server's service IP lies inside service_cidrs, on purpose.
        kube_api = ExternalEndpoint(
            "kube-api", cidr="10.96.0.1/32", ports=[Port.tcp(443)], include_cluster_ranges=True
        )

        ci = BuildEnvironment(self, "ci-builds")
        ci.allow_endpoint(git, mirror)
        delivery = ZeroTrustNamespace(self, "delivery", environment="ci")
        staging = ZeroTrustNamespace(self, "apps-staging", environment="staging")

        cd = Pipeline(self, "cd")
        runner = cd.stage("runner", namespace=ci, ports=[Port.tcp(9000)])
        deployer = cd.stage(
            "deployer",
            namespace=delivery,
            ports=[Port.tcp(8080)],
            automount_token=True,
            deploys_to=staging,
        )
        runner.reaches(registry)
        runner >> deployer
        deployer.reaches(registry, kube_api)
