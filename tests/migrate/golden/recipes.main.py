"""Stack migrated: network policies migrated into netfence intent.

Migrated by `netfence migrate` from recipes.yaml; see MIGRATION.md for the proof.
"""

from __future__ import annotations

import sys
from pathlib import Path

# constructs_lib first: it picks the Node.js that jsii (under cdktf) runs
from constructs_lib import (
    ExternalEndpoint,
    Namespaces,
    NetfenceError,
    Port,
    ZeroTrustNamespace,
    synth,
)

from cdktf import App, TerraformStack  # isort: skip

HERE = Path(__file__).resolve().parent


def build(app: App) -> TerraformStack:
    stack = TerraformStack(app, "migrated")

    # Namespaces: they exist already, so Terraform adopts them (labels only).
    egress_locked = ZeroTrustNamespace(
        stack,
        "egress-locked",
        environment="default",
        adopt=True,
        default_deny="egress",
        allow_dns=False,
    )
    frontend = ZeroTrustNamespace(
        stack, "frontend", environment="default", adopt=True, default_deny="none", allow_dns=False
    )
    kube_system = ZeroTrustNamespace(
        stack,
        "kube-system",
        environment="default",
        adopt=True,
        default_deny="none",
        allow_dns=False,
    )
    locked = ZeroTrustNamespace(stack, "locked", environment="default", adopt=True, allow_dns=False)
    team_a = ZeroTrustNamespace(
        stack, "team-a", environment="default", adopt=True, default_deny="ingress", allow_dns=False
    )
    team_b = ZeroTrustNamespace(
        stack, "team-b", environment="default", adopt=True, default_deny="none", allow_dns=False
    )

    # Workloads: the pods each selector matches, and the ports they accept.
    egress_locked.workload("reader", labels={"app": "reader"}, ports=[Port.tcp(8000)])
    egress_locked.workload("writer", labels={"app": "writer"}, ports=[Port.tcp(8000)])
    frontend_edge = frontend.workload("edge", labels={"app": "edge"}, ports=[Port.tcp(443)])
    frontend.workload("media", labels={"app": "media"}, ports=[Port.udp(31000), Port.sctp(9000)])
    frontend.workload("open", labels={"app": "open"}, ports=[Port.tcp(9090)])
    frontend.workload(
        "web", labels={"app.kubernetes.io/name": "web"}, ports=[Port.tcp(8080, name="http")]
    )
    kube_system_kube_dns = kube_system.workload(
        "kube-dns", labels={"k8s-app": "kube-dns"}, ports=[Port.udp(53), Port.tcp(53)]
    )
    locked.workload("vault", labels={"app": "vault"}, ports=[Port.tcp(8200)])
    team_a_api = team_a.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080, name="http")])
    team_a_db = team_a.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432)])
    team_b_batch = team_b.workload("batch", labels={"app": "batch"})
    team_b_client = team_b.workload("client", labels={"app": "client"})
    team_b.workload("public", labels={"app": "public"}, ports=[Port.tcp(80)])

    # Isolated on their own, in a direction the namespace leaves open.
    frontend_edge.isolate("ingress")
    team_a_api.isolate("egress")
    team_b_batch.isolate("egress")
    team_b_client.isolate("egress")

    # External endpoints: addresses outside the cluster.
    any_ipv4_except_10_0_0_0_8 = ExternalEndpoint(
        "any-ipv4-except-10-0-0-0-8",
        cidr="0.0.0.0/0",
        except_=["10.0.0.0/8"],
        internet=True,
        include_cluster_ranges=True,
    )
    ip_10_0_0_0_8_except_10_1_0_0_16 = ExternalEndpoint(
        "ip-10-0-0-0-8-except-10-1-0-0-16",
        cidr="10.0.0.0/8",
        except_=["10.1.0.0/16"],
        include_cluster_ranges=True,
    )

    # Flows: who may open connections to whom (egress and ingress).
    frontend_edge.allow_from(any_ipv4_except_10_0_0_0_8)

    team_a_api.allow_from(
        Namespaces.labelled({"team": "frontend"}).all_pods(), cross_environment=True
    )
    team_a_api.allow_to(team_a_db, ports=[Port.all()])

    team_b_client.allow_to(ip_10_0_0_0_8_except_10_1_0_0_16, ports=[Port.tcp(443)])
    team_b_client.allow_to(kube_system_kube_dns)

    # Kept verbatim: what workloads and flows cannot say exactly (see MIGRATION.md).
    egress_locked.raw_policy(
        "allow-dns",
        {
            "egress": [
                {
                    "ports": [{"port": 53, "protocol": "UDP"}],
                    "to": [
                        {
                            "namespaceSelector": {},
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                        },
                    ],
                },
            ],
            "podSelector": {},
            "policyTypes": ["Egress"],
        },
        reason=(
            "the model refuses its flow: egress-locked/[] -> */[k8s-app=kube-dns]: destination: "
            "all namespaces / pods k8s-app=kube-dns selects part of the pods of workload "
            "frontend/edge, which is isolated for ingress while namespace 'frontend' leaves "
            "ingress open: the pods of both would need a policy of their own; declare the flow on"
            " workload frontend/edge itself, or on pods selected by all of its labels"
        ),
    )
    egress_locked.raw_policy(
        "tiers",
        {
            "ingress": [
                {
                    "from": [
                        {
                            "podSelector": {
                                "matchExpressions": [
                                    {"key": "tier", "operator": "NotIn", "values": ["db"]},
                                ],
                            },
                        },
                    ],
                },
            ],
            "podSelector": {
                "matchExpressions": [
                    {"key": "app", "operator": "In", "values": ["reader", "writer"]},
                ],
            },
            "policyTypes": ["Ingress"],
        },
        reason=(
            "its podSelector uses matchExpressions, which a workload or selection cannot declare"
        ),
    )
    frontend.raw_policy(
        "media-rtp",
        {
            "ingress": [
                {
                    "ports": [
                        {"endPort": 32767, "port": 30000, "protocol": "UDP"},
                        {"port": 9000, "protocol": "SCTP"},
                    ],
                },
            ],
            "podSelector": {"matchLabels": {"app": "media"}},
            "policyTypes": ["Ingress"],
        },
        reason=(
            "the flow */[] -> frontend/media would also open the egress of egress-locked/reader "
            "to frontend/media, which the original's egress policies of egress-locked/reader do "
            "not allow (a flow writes its egress half on every isolated source)"
        ),
    )
    frontend.raw_policy(
        "open-ingress",
        {
            "ingress": [{}],
            "podSelector": {"matchLabels": {"app": "open"}},
            "policyTypes": ["Ingress"],
        },
        reason=(
            "the flow */[] -> frontend/open would also open the egress of egress-locked/reader to"
            " frontend/open, which the original's egress policies of egress-locked/reader do not "
            "allow (a flow writes its egress half on every isolated source)"
        ),
    )
    frontend.raw_policy(
        "web-http",
        {
            "ingress": [{"ports": [{"port": "http", "protocol": "TCP"}]}],
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
            "policyTypes": ["Ingress"],
        },
        reason=(
            "the flow */[] -> frontend/web would also open the egress of egress-locked/reader to "
            "frontend/web, which the original's egress policies of egress-locked/reader do not "
            "allow (a flow writes its egress half on every isolated source)"
        ),
    )
    team_a.raw_policy(
        "allow-same-namespace",
        {
            "ingress": [{"from": [{"podSelector": {}}]}],
            "podSelector": {},
            "policyTypes": ["Ingress"],
        },
        reason=(
            "the flow team-a/[] -> team-a/[] would also open the egress of team-a/api to another "
            "pod like team-a/api, which the original's egress policies of team-a/api do not allow"
            " (a flow writes its egress half on every isolated source)"
        ),
    )
    team_a.raw_policy(
        "db-from-team-b-clients",
        {
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "team-b"},
                            },
                            "podSelector": {"matchLabels": {"app": "client"}},
                        },
                    ],
                    "ports": [{"port": 5432, "protocol": "TCP"}],
                },
            ],
            "podSelector": {"matchLabels": {"app": "db"}},
            "policyTypes": ["Ingress"],
        },
        reason=(
            "the flow team-b/client -> team-a/db would also open the egress of team-b/client to "
            "team-a/db, which the original's egress policies of team-b/client do not allow (a "
            "flow writes its egress half on every isolated source)"
        ),
    )
    team_b.raw_policy(
        "public-from-everywhere",
        {
            "ingress": [{"from": [{"namespaceSelector": {}}]}],
            "podSelector": {"matchLabels": {"app": "public"}},
            "policyTypes": ["Ingress"],
        },
        reason=(
            "the flow */[] -> team-b/public would also open the egress of egress-locked/reader to"
            " team-b/public, which the original's egress policies of egress-locked/reader do not "
            "allow (a flow writes its egress half on every isolated source)"
        ),
    )

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
