"""Loaders: every supported artifact shape, and an exact, located error for bad input."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from constructs_lib.errors import ArtifactError
from constructs_lib.loaders import (
    IPBlock,
    LabelRequirement,
    LabelSelector,
    Peer,
    PolicyPort,
    load_intent,
    load_inventory,
    load_plan,
    load_policies,
)

from .stacks import exact_stack, write_stack

NP = "networking.k8s.io/v1"
API_EGRESS_TF: dict[str, Any] = {
    "metadata": {"name": "api-egress", "namespace": "shop"},
    "spec": {
        "pod_selector": {"match_labels": {"app": "api"}},
        "policy_types": ["Egress"],
        "egress": [
            {
                "to": [
                    {
                        "namespace_selector": {
                            "match_expressions": [
                                {"key": "team", "operator": "In", "values": ["data"]}
                            ]
                        },
                        "pod_selector": {"match_labels": {"app": "db"}},
                    },
                    {"ip_block": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
                ],
                "ports": [
                    {"port": "5432", "protocol": "TCP"},
                    {"port": "8000", "end_port": 8100},
                    {"port": "metrics", "protocol": "UDP"},
                ],
            }
        ],
    },
}


def as_lists(block: Any) -> Any:
    """The plan/state spelling: every nested block wrapped in a list."""
    if isinstance(block, dict):
        return {
            k: (v if k in {"match_labels", "labels"} else as_lists(v)) for k, v in block.items()
        }
    if isinstance(block, list):
        return [as_lists(v) for v in block]
    return block


def wrap(block: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in as_lists(block).items():
        out[key] = [value] if isinstance(value, dict) else value
    for inner in ("pod_selector",):
        spec = out["spec"][0]
        spec[inner] = [spec[inner]]
    for rule in out["spec"][0].get("egress", []):
        for peer in rule["to"]:
            for key in list(peer):
                peer[key] = [peer[key]]
    return out


def check_api_egress(policies: list[Any], address: str) -> None:
    (policy,) = policies
    assert (policy.namespace, policy.name, policy.policy_types) == (
        "shop",
        "api-egress",
        ("Egress",),
    )
    assert policy.pod_selector == LabelSelector(match_labels=(("app", "api"),))
    rule = policy.egress[0]
    assert rule.peers == (
        Peer(
            pod_selector=LabelSelector(match_labels=(("app", "db"),)),
            namespace_selector=LabelSelector(
                match_expressions=(LabelRequirement("team", "In", ("data",)),)
            ),
        ),
        Peer(ip_block=IPBlock("10.0.0.0/8", ("10.1.0.0/16",))),
    )
    assert rule.ports == (
        PolicyPort("TCP", 5432),
        PolicyPort("TCP", 8000, 8100),
        PolicyPort("UDP", "metrics"),
    )
    assert str(policy.source) == address


def write_json(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_synth_json_with_blocks_as_objects(tmp_path: Path) -> None:
    data = {"resource": {"kubernetes_network_policy_v1": {"shop_api-egress": API_EGRESS_TF}}}
    check_api_egress(
        load_policies(write_json(tmp_path, "cdk.tf.json", data)),
        "kubernetes_network_policy_v1.shop_api-egress",
    )


def test_synth_json_with_blocks_as_lists_and_the_legacy_type(tmp_path: Path) -> None:
    data = {"resource": {"kubernetes_network_policy": {"api": wrap(API_EGRESS_TF)}}}
    check_api_egress(
        load_policies(write_json(tmp_path, "main.tf.json", data)), "kubernetes_network_policy.api"
    )


def test_plan_gives_before_and_after_and_load_policies_the_after(tmp_path: Path) -> None:
    after = wrap(API_EGRESS_TF)
    before = copy.deepcopy(after)
    before["spec"][0]["egress"] = []
    plan = {
        "format_version": "1.2",
        "resource_changes": [
            {
                "address": "kubernetes_network_policy_v1.api",
                "mode": "managed",
                "type": "kubernetes_network_policy_v1",
                "change": {"actions": ["update"], "before": before, "after": after},
            },
            {
                "address": "kubernetes_network_policy_v1.gone",
                "mode": "managed",
                "type": "kubernetes_network_policy_v1",
                "change": {"actions": ["delete"], "before": before, "after": None},
            },
            {
                "address": "kubernetes_namespace_v1.shop",
                "mode": "managed",
                "type": "kubernetes_namespace_v1",
                "change": {"before": None, "after": {}},
            },
        ],
    }
    path = write_json(tmp_path, "plan.json", plan)
    changes = load_plan(path)
    assert len(changes.before) == 2
    assert changes.before[0].egress == () and changes.before[0].policy_types == ("Egress",)
    check_api_egress(list(changes.after), "kubernetes_network_policy_v1.api")
    check_api_egress(load_policies(path), "kubernetes_network_policy_v1.api")


def test_state_reads_root_and_child_modules(tmp_path: Path) -> None:
    resource = {
        "address": "module.net.kubernetes_network_policy_v1.api",
        "mode": "managed",
        "type": "kubernetes_network_policy_v1",
        "values": wrap(API_EGRESS_TF),
    }
    state = {
        "format_version": "1.0",
        "values": {"root_module": {"resources": [], "child_modules": [{"resources": [resource]}]}},
    }
    check_api_egress(
        load_policies(write_json(tmp_path, "state.json", state)),
        "module.net.kubernetes_network_policy_v1.api",
    )


def test_raw_tfstate_reads_instances(tmp_path: Path) -> None:
    state = {
        "version": 4,
        "terraform_version": "1.9.0",
        "resources": [
            {
                "mode": "managed",
                "type": "kubernetes_network_policy_v1",
                "name": "api",
                "instances": [{"attributes": wrap(API_EGRESS_TF)}],
            }
        ],
    }
    check_api_egress(
        load_policies(write_json(tmp_path, "terraform.tfstate.json", state)),
        "kubernetes_network_policy_v1.api",
    )


def k8s_policy(name: str = "api-egress") -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "api"}},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchExpressions": [
                                    {"key": "team", "operator": "In", "values": ["data"]}
                                ]
                            },
                            "podSelector": {"matchLabels": {"app": "db"}},
                        },
                        {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
                    ],
                    "ports": [
                        {"port": 5432, "protocol": "TCP"},
                        {"port": 8000, "endPort": 8100},
                        {"port": "metrics", "protocol": "UDP"},
                    ],
                }
            ],
        },
    }


def test_multi_document_yaml_skips_other_kinds(tmp_path: Path) -> None:
    path = tmp_path / "manifests.yaml"
    path.write_text(
        yaml.safe_dump_all(
            [
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
                None,
                k8s_policy(),
            ]
        )
    )
    check_api_egress(load_policies(path), f"{path} (document 2)")


def test_kubectl_list_json(tmp_path: Path) -> None:
    listing = {"apiVersion": "v1", "kind": "List", "items": [k8s_policy()]}
    path = write_json(tmp_path, "live.json", listing)
    check_api_egress(load_policies(path), f"{path} items[0]")


def test_omitted_policy_types_default_like_the_api_server(tmp_path: Path) -> None:
    with_egress = k8s_policy("a")
    del with_egress["spec"]["policyTypes"]
    empty_egress = k8s_policy("b")
    del empty_egress["spec"]["policyTypes"]
    empty_egress["spec"]["egress"] = []
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump_all([with_egress, empty_egress]))
    a, b = load_policies(path)
    assert a.policy_types == ("Ingress", "Egress")
    assert b.policy_types == ("Ingress",)


def test_interpolated_namespace_resolves_from_the_same_file(tmp_path: Path) -> None:
    stack = write_stack(tmp_path, exact_stack())
    policies = load_policies(stack)
    assert {p.namespace for p in policies} == {"shop"}
    assert (
        policies[0].describe()
        == "kubernetes_network_policy_v1.shop_default-deny (shop/default-deny)"
    )


def test_stack_dir_reads_cdk_tf_json_not_the_manifests_beside_it(tmp_path: Path) -> None:
    stack = write_stack(tmp_path, exact_stack())
    (stack / "manifests.yaml").write_text(yaml.safe_dump(k8s_policy("default-deny")))
    assert len(load_policies(tmp_path / "cdktf.out")) == 5


def test_same_policy_twice_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(k8s_policy()))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(k8s_policy()))
    with pytest.raises(ArtifactError) as err:
        load_policies(tmp_path)
    assert str(err.value) == (
        f"{tmp_path / 'b.yaml'}: policy shop/api-egress ({tmp_path / 'b.yaml'} (document 0)) "
        f"is defined twice; first in {tmp_path / 'a.yaml'} ({tmp_path / 'a.yaml'} (document 0))"
    )


def test_inventory_file(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(
        "namespaces:\n  x: {labels: {team: a}}\n  y: {}\n"
        "workloads:\n  - {namespace: x, name: a, labels: {pod: a}, ip: 10.0.0.1,\n"
        "     ports: [{port: 80, protocol: TCP, name: serve-80-tcp}]}\n"
        "  - {namespace: y, name: b}\n"
        "external:\n  - {name: internet, ip: 203.0.113.7, ports: [{port: 443, protocol: TCP}]}\n"
    )
    inventory = load_inventory(path)
    assert [(n.name, dict(n.labels)) for n in inventory.namespaces] == [
        ("x", {"team": "a", "kubernetes.io/metadata.name": "x"}),
        ("y", {"kubernetes.io/metadata.name": "y"}),
    ]
    assert inventory.workloads[0].ip == "10.0.0.1"
    assert inventory.workloads[0].ports[0].name == "serve-80-tcp"
    assert inventory.external[0].cidrs == ("203.0.113.7/32",)


def test_intent_record(tmp_path: Path) -> None:
    stack = write_stack(tmp_path, exact_stack())
    record = load_intent(stack / "cdk.tf.json")
    assert record.stack == "prod"
    assert [str(f.source) for f in record.flows] == [
        "namespaces labelled environment=prod / pods app=prometheus",
        "shop/api",
        "shop/api",
    ]
    assert record.namespaces[0].dns is not None
    assert dict(record.namespaces[0].labels)["kubernetes.io/metadata.name"] == "shop"


SPEC = "resource.kubernetes_network_policy_v1.p.spec"


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ({"policy_types": ["Ingress"]}, f"{SPEC}.pod_selector", "missing required field"),
        (
            {"pod_selector": [], "policy_types": ["Both"]},
            f"{SPEC}.policy_types[0]",
            "unknown policy type 'Both'; expected Ingress or Egress",
        ),
        (
            {"pod_selector": {"match_labels": {"a": 1}}},
            f"{SPEC}.pod_selector.match_labels.a",
            "expected a string, got number",
        ),
        ({"pod_selector": [{}, {}]}, f"{SPEC}.pod_selector", "expected one block, got 2"),
        (
            {"pod_selector": {"match_expressions": [{"key": "a", "operator": "Equals"}]}},
            f"{SPEC}.pod_selector.match_expressions[0].operator",
            "unknown operator 'Equals'; expected In, NotIn, Exists or DoesNotExist",
        ),
        (
            {"pod_selector": {"match_expressions": [{"key": "a", "operator": "In"}]}},
            f"{SPEC}.pod_selector.match_expressions[0].values",
            "operator In needs at least one value",
        ),
        (
            {
                "pod_selector": {
                    "match_expressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]
                }
            },
            f"{SPEC}.pod_selector.match_expressions[0].values",
            "operator Exists takes no values",
        ),
        (
            {"pod_selector": {}, "ingress": [{"from": [{}]}]},
            f"{SPEC}.ingress[0].from[0]",
            "a peer needs pod_selector, namespace_selector or ip_block",
        ),
        (
            {
                "pod_selector": {},
                "ingress": [{"from": [{"ip_block": {"cidr": "10.0.0.0/8"}, "pod_selector": {}}]}],
            },
            f"{SPEC}.ingress[0].from[0]",
            "ip_block cannot be combined with pod_selector or namespace_selector",
        ),
        (
            {"pod_selector": {}, "ingress": [{"from": [{"ip_block": {"cidr": "10.0.0.1/8"}}]}]},
            f"{SPEC}.ingress[0].from[0].ip_block.cidr",
            "invalid CIDR '10.0.0.1/8': 10.0.0.1/8 has host bits set",
        ),
        (
            {
                "pod_selector": {},
                "ingress": [
                    {"from": [{"ip_block": {"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16"]}}]}
                ],
            },
            f"{SPEC}.ingress[0].from[0].ip_block.except[0]",
            "'192.168.0.0/16' is not inside cidr '10.0.0.0/8'",
        ),
        (
            {"pod_selector": {}, "egress": [{"ports": [{"port": "80", "protocol": "ICMP"}]}]},
            f"{SPEC}.egress[0].ports[0].protocol",
            "unknown protocol 'ICMP'; expected TCP, UDP or SCTP",
        ),
        (
            {"pod_selector": {}, "egress": [{"ports": [{"port": "70000"}]}]},
            f"{SPEC}.egress[0].ports[0].port",
            "port 70000 is outside 1-65535",
        ),
        (
            {"pod_selector": {}, "egress": [{"ports": [{"port": "Web_Port"}]}]},
            f"{SPEC}.egress[0].ports[0].port",
            "invalid port name 'Web_Port': at most 15 lowercase letters, digits and single '-', "
            "with at least one letter, not starting or ending with '-'",
        ),
        (
            {"pod_selector": {}, "egress": [{"ports": [{"port": "http", "end_port": 90}]}]},
            f"{SPEC}.egress[0].ports[0].end_port",
            "end_port needs a numeric port, got 'http'",
        ),
        (
            {"pod_selector": {}, "egress": [{"ports": [{"port": "90", "end_port": 80}]}]},
            f"{SPEC}.egress[0].ports[0].end_port",
            "end_port 80 is below port 90",
        ),
        (
            {"pod_selector": {}, "egress": [{"to": [{"podselector": {}}]}]},
            f"{SPEC}.egress[0].to[0].podselector",
            "unknown field; expected one of ip_block, namespace_selector, pod_selector",
        ),
        ({"pod_selector": {}, "egress": "all"}, f"{SPEC}.egress", "expected a list, got string"),
    ],
)
def test_malformed_terraform_policy_names_file_and_field(
    tmp_path: Path, spec: dict[str, Any], field: str, message: str
) -> None:
    data = {
        "resource": {
            "kubernetes_network_policy_v1": {
                "p": {"metadata": {"name": "p", "namespace": "x"}, "spec": spec}
            }
        }
    }
    path = write_json(tmp_path, "cdk.tf.json", data)
    with pytest.raises(ArtifactError) as err:
        load_policies(path)
    assert str(err.value) == f"{path} at {field}: {message}"
    assert (err.value.file, err.value.field, err.value.document) == (str(path), field, None)


def test_unresolvable_interpolation_is_an_error(tmp_path: Path) -> None:
    data = {
        "resource": {
            "kubernetes_network_policy_v1": {
                "p": {
                    "metadata": {"name": "p", "namespace": "${var.namespace}"},
                    "spec": {"pod_selector": {}},
                }
            }
        }
    }
    path = write_json(tmp_path, "cdk.tf.json", data)
    with pytest.raises(ArtifactError) as err:
        load_policies(path)
    assert str(err.value) == (
        f"{path} at resource.kubernetes_network_policy_v1.p.metadata.namespace: "
        "'${var.namespace}' is a Terraform template (${...}), which Terraform evaluates and "
        "netfence cannot verify: write the literal value (or $${ to mean the characters ${)"
    )


@pytest.mark.parametrize(
    ("documents", "where", "message"),
    [
        (
            [{"kind": "NetworkPolicy", "apiVersion": NP, "metadata": {"namespace": "x"}}],
            "(document 0) at metadata.name",
            "missing required field",
        ),
        ([None, ["not", "a", "mapping"]], "(document 1)", "expected a mapping, got list"),
        (
            [{"apiVersion": "v1", "metadata": {"name": "x"}}],
            "(document 0) at kind",
            "missing required field",
        ),
        (
            [
                {
                    "kind": "List",
                    "items": [
                        {
                            "kind": "NetworkPolicy",
                            "apiVersion": NP,
                            "metadata": {"name": "p"},
                            "spec": {"podSelector": {}, "ingress": [{"from": [{}]}]},
                        }
                    ],
                }
            ],
            "(document 0) at items[0].spec.ingress[0].from[0]",
            "a peer needs podSelector, namespaceSelector or ipBlock",
        ),
        (
            [
                {
                    "kind": "NetworkPolicy",
                    "apiVersion": NP,
                    "metadata": {"name": "p"},
                    "spec": {
                        "podSelector": {},
                        "egress": [{"ports": [{"port": "http", "endPort": 90}]}],
                    },
                }
            ],
            "(document 0) at spec.egress[0].ports[0].endPort",
            "endPort needs a numeric port, got 'http'",
        ),
    ],
)
def test_malformed_manifest_names_document_and_field(
    tmp_path: Path, documents: list[Any], where: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump_all(documents))
    with pytest.raises(ArtifactError) as err:
        load_policies(path)
    assert str(err.value) == f"{path} {where}: {message}"


def test_unreadable_and_unparsable_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ArtifactError, match="^" + str(missing) + ": no such file or directory$"):
        load_policies(missing)
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ArtifactError) as err:
        load_policies(broken)
    assert str(err.value).startswith(f"{broken}: not valid JSON: Expecting property name")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "workloads: [{namespace: x, name: a, ip: 10.0.0.300}]",
            "at workloads[0].ip: invalid IP address '10.0.0.300'",
        ),
        (
            "namespaces: {x: {}}\nworkloads: [{namespace: x, name: a}, {namespace: x, name: a}]",
            "at workloads[1]: workload x/a is listed twice (first at workloads[0])",
        ),
        (
            "workloads: [{namespace: x, name: a, ports: [{protocol: TCP}]}]",
            "at workloads[0].ports[0]: a port needs a number (port) or a name",
        ),
        (
            "external: [{name: e, ports: []}]",
            "at external[0]: an external endpoint needs ip, cidr or cidrs",
        ),
        ("pods: []", "at pods: unknown field; expected one of external, namespaces, workloads"),
    ],
)
def test_malformed_inventory(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(text)
    with pytest.raises(ArtifactError) as err:
        load_inventory(path)
    assert str(err.value) == f"{path} {message}"


def test_stack_without_intent_record(tmp_path: Path) -> None:
    data = exact_stack()
    del data["//"]
    stack = write_stack(tmp_path, data)
    with pytest.raises(ArtifactError) as err:
        load_intent(stack / "cdk.tf.json")
    assert str(err.value) == (
        f"{stack / 'cdk.tf.json'} at //.metadata.netfence: no netfence intent record; "
        "synthesize the stack with netfence (see docs/artifact.md)"
    )


def test_intent_flow_to_an_undeclared_workload(tmp_path: Path) -> None:
    data = exact_stack()
    data["//"]["metadata"]["netfence"]["flows"][2]["to"]["name"] = "ghost"
    stack = write_stack(tmp_path, data)
    with pytest.raises(ArtifactError) as err:
        load_intent(stack / "cdk.tf.json")
    assert str(err.value) == (
        f"{stack / 'cdk.tf.json'} at //.metadata.netfence.flows[2].to: "
        "flow end shop/ghost is not a declared workload"
    )


def test_intent_flow_says_where_it_was_declared(tmp_path: Path) -> None:
    data = exact_stack()
    data["//"]["metadata"]["netfence"]["flows"][2]["declared_at"] = "prod/shop/api.allow_to()"
    flows = load_intent(write_stack(tmp_path, data) / "cdk.tf.json").flows
    assert [f.declared_at for f in flows] == [None, None, "prod/shop/api.allow_to()"]
    # where a flow was declared is not part of what it allows
    older = load_intent(write_stack(tmp_path / "older", exact_stack()) / "cdk.tf.json").flows
    assert flows == older


@pytest.mark.parametrize(
    ("flow", "field", "message"),
    [
        ({"declared_at": 7}, "flows[2].declared_at", "expected a string, got number"),
        ({"declared_at": None}, "flows[2].declared_at", "expected a string, got null"),
        (
            {"declared_at": " "},
            "flows[2].declared_at",
            "expected the construct path the flow was declared at, got ' '",
        ),
        (
            {"declared_by": "me"},
            "flows[2].declared_by",
            "unknown field; expected one of cross_environment, declared_at, from, ports, to",
        ),
    ],
)
def test_intent_flow_fields_are_read_strictly(
    tmp_path: Path, flow: dict[str, Any], field: str, message: str
) -> None:
    data = exact_stack()
    data["//"]["metadata"]["netfence"]["flows"][2].update(flow)
    stack = write_stack(tmp_path, data)
    with pytest.raises(ArtifactError) as err:
        load_intent(stack / "cdk.tf.json")
    assert str(err.value) == f"{stack / 'cdk.tf.json'} at //.metadata.netfence.{field}: {message}"


def _put(record: dict[str, Any], where: str, key: str) -> None:
    part: Any = record
    for step in filter(None, where.split(".")):
        part = part[int(step)] if step.isdigit() else part[step]
    part[key] = "x"


@pytest.mark.parametrize(
    ("where", "field", "expected"),
    [
        (
            "",
            "stack_id",
            "cluster, external, flows, namespaces, raw_policies, stack, version, workloads",
        ),
        (
            "namespaces.0",
            "isolation",
            "allow_dns, default_deny, dns, environment, labels, managed, name",
        ),
        ("namespaces.0.dns", "service", "labels, namespace, ports"),
        ("workloads.0", "isolated", "allow_dns, isolate, labels, name, namespace, ports"),
        (
            "external.0",
            "cidr",
            "cidrs, except, include_cluster_ranges, internet, name, ports",
        ),
        ("flows.0.from", "namespaces", "environment, kind, labels, namespace"),
        ("flows.1.to", "cidrs", "kind, name"),
        ("flows.2.to", "labels", "kind, name, namespace"),
    ],
)
def test_every_part_of_the_record_refuses_a_field_it_does_not_have(
    tmp_path: Path, where: str, field: str, expected: str
) -> None:
    """A field netfence does not write may change what the record means to whoever wrote it
    (e.g. an end's labels next to a workload name): refused, never skipped."""
    data = exact_stack()
    _put(data["//"]["metadata"]["netfence"], where, field)
    stack = write_stack(tmp_path, data)
    with pytest.raises(ArtifactError) as err:
        load_intent(stack / "cdk.tf.json")
    path = ".".join(f"[{p}]" if p.isdigit() else p for p in where.split(".") if p)
    path = path.replace(".[", "[")
    at = f"//.metadata.netfence{'.' + path if path else ''}.{field}"
    assert str(err.value) == (
        f"{stack / 'cdk.tf.json'} at {at}: unknown field; expected one of {expected}"
    )


def test_an_unknown_flow_end_kind_lists_the_kinds(tmp_path: Path) -> None:
    data = exact_stack()
    data["//"]["metadata"]["netfence"]["flows"][2]["to"]["kind"] = "pod"
    stack = write_stack(tmp_path, data)
    with pytest.raises(ArtifactError) as err:
        load_intent(stack / "cdk.tf.json")
    assert str(err.value) == (
        f"{stack / 'cdk.tf.json'} at //.metadata.netfence.flows[2].to.kind: unknown kind "
        "'pod'; expected workload, external, selection, namespaces"
    )


def test_comment_key_of_another_shape_is_no_record(tmp_path: Path) -> None:
    data = exact_stack()
    data["//"] = "generated by hand"
    stack = write_stack(tmp_path, data)
    with pytest.raises(ArtifactError) as err:
        load_intent(stack / "cdk.tf.json")
    assert err.value.field == "//.metadata.netfence"


def test_reading_pauses_the_cyclic_collector_and_restores_it(tmp_path: Path) -> None:
    import gc

    from constructs_lib.loaders import collector_paused, load_policies

    good = tmp_path / "ok.yaml"
    good.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: deny, namespace: shop}\nspec: {podSelector: {}}\n"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: 1\na: 2\n")
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested: the outer one restores
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    assert [p.name for p in load_policies(good)] == ["deny"]
    assert gc.isenabled()
    with pytest.raises(ArtifactError):
        load_policies(bad)
    assert gc.isenabled()  # also after a refusal
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # a collector the caller turned off stays off
    finally:
        gc.enable()
