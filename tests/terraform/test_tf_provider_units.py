"""The test provider's own pieces: cty msgpack, the handshake line, plan rules, objects."""

from __future__ import annotations

import base64
from pathlib import Path

import msgpack
import pytest
from terraform_provider import cty, objects, plugin, schema
from terraform_provider.cluster import ApiError, Cluster, seed

OBJ = ["object", {"name": "string", "port": "number", "on": "bool", "tags": ["set", "string"]}]


def test_unknown_is_extension_zero_and_round_trips() -> None:
    packed = cty.pack({"name": cty.UNKNOWN, "port": 8080, "on": None, "tags": []}, OBJ)
    assert b"\xd4\x00\x00" in packed
    assert cty.unpack(packed, OBJ) == {"name": cty.UNKNOWN, "port": 8080, "on": None, "tags": []}


def test_refined_unknown_from_newer_terraform_reads_as_unknown() -> None:
    raw = msgpack.packb({"name": msgpack.ExtType(12, b"\x81\x01\xc3")})
    assert cty.unpack(raw, OBJ)["name"] is cty.UNKNOWN


def test_objects_carry_every_attribute_even_when_absent() -> None:
    raw = msgpack.packb({"name": "x"})
    assert cty.unpack(raw, OBJ) == {"name": "x", "port": None, "on": None, "tags": None}
    assert msgpack.unpackb(cty.pack({"name": "x"}, OBJ)) == {
        "name": "x",
        "port": None,
        "on": None,
        "tags": None,
    }


def test_numbers_come_back_as_int_when_whole() -> None:
    assert cty.conform(8080.0, "number") == 8080
    assert cty.conform("12345678901234567890", "number") == 12345678901234567890
    with pytest.raises(TypeError):
        cty.conform(True, "number")


@pytest.mark.parametrize("length", [30, 31, 32])
def test_handshake_certificate_is_base64_without_padding(length: int) -> None:
    der = bytes(range(length))
    line = plugin.handshake_line(1234, der)
    assert line.startswith("1|6|tcp|127.0.0.1:1234|grpc|")
    cert = line.rsplit("|", 1)[1]
    assert "=" not in cert
    assert base64.b64decode(cert + "=" * (-len(cert) % 4)) == der


def test_self_signed_certificate_is_p256_for_localhost() -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

    _, _, der = plugin.self_signed()
    cert = x509.load_der_x509_certificate(der)
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert key.curve.name == "secp256r1"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]


def _policy_schema() -> schema.ResourceSchema:
    return schema.load()[1]["kubernetes_network_policy_v1"]


def _policy(**spec: object) -> dict[str, object]:
    rs = _policy_schema()
    value = {
        "metadata": [{"name": "api", "namespace": "shop", "labels": {"a": "b"}}],
        "spec": [{"pod_selector": [{}], "policy_types": ["Ingress"]} | spec],
    }
    return schema.normalize(rs.block, value)


def test_plan_on_create_fills_defaults_and_leaves_computed_unknown() -> None:
    rs = _policy_schema()
    config = _policy(ingress=[{"ports": [{"port": "8080"}]}])
    planned = schema.plan(rs.block, config, config, None)
    meta = planned["metadata"][0]
    assert meta["uid"] is cty.UNKNOWN and meta["resource_version"] is cty.UNKNOWN
    assert planned["id"] is cty.UNKNOWN
    assert planned["spec"][0]["ingress"][0]["ports"][0]["protocol"] == "TCP"
    assert planned["spec"][0]["ingress"][0]["ports"][0]["end_port"] is None


def test_plan_keeps_the_prior_spelling_of_an_empty_map() -> None:
    rs = _policy_schema()
    prior = _policy()
    prior["spec"][0]["pod_selector"][0]["match_labels"] = None
    config = _policy()
    config["spec"][0]["pod_selector"][0]["match_labels"] = {}
    planned = schema.plan(rs.block, config, config, prior)
    assert planned["spec"][0]["pod_selector"][0]["match_labels"] is None
    assert schema.same(rs.block, planned, prior) is False  # unknown computed metadata
    assert not schema.replace_paths(rs.block, planned, prior)


def test_renaming_a_policy_forces_replacement() -> None:
    rs = _policy_schema()
    prior, config = _policy(), _policy()
    config["metadata"][0]["name"] = "api-v2"
    assert schema.replace_paths(rs.block, config, prior) == [("metadata", 0, "name")]


def test_policy_types_item_limit_is_checked_like_the_sdk() -> None:
    rs = _policy_schema()
    problems = schema.validate(rs.block, _policy(policy_types=[]))
    assert problems == ["spec.0.policy_types: attribute supports 1 item minimum"]


def test_object_round_trip_keeps_named_and_numeric_ports_and_empty_selectors() -> None:
    rs = _policy_schema()
    state = _policy(
        ingress=[
            {
                "from": [
                    {"namespace_selector": [{}], "pod_selector": [{"match_labels": {"x": "y"}}]}
                ],
                "ports": [{"port": "8080", "end_port": 8090, "protocol": "TCP"}, {"port": "http"}],
            }
        ]
    )
    obj = objects.to_object(rs, state)
    rule = obj["spec"]["ingress"][0]
    assert rule["from"][0]["namespaceSelector"] == {}  # empty = every namespace, kept
    assert rule["ports"][0] == {"port": 8080, "endPort": 8090, "protocol": "TCP"}
    assert rule["ports"][1] == {"port": "http"}
    back = objects.from_object(rs, obj | {"metadata": obj["metadata"] | {"uid": "u"}}, state)
    assert back["spec"][0]["ingress"][0]["ports"][1]["port"] == "http"
    assert back["spec"][0]["ingress"][0]["from"][0]["ip_block"] == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"policy_types": ["Ingres"]}, 'spec.policyTypes: Unsupported value: "Ingres"'),
        ({"ingress": [{"ports": [{"port": "70000"}]}]}, "ports[0].port: Invalid value: 70000"),
        (
            {
                "egress": [
                    {"to": [{"ip_block": [{"cidr": "10.0.0.0/8", "except": ["11.0.0.0/16"]}]}]}
                ]
            },
            'except: Invalid value: "11.0.0.0/16"',
        ),
        (
            {"ingress": [{"ports": [{"port": "http", "end_port": 90}]}]},
            "endPort: may not be specified when port is non-numeric",
        ),
    ],
)
def test_api_server_rules_refuse_bad_policies(change: dict[str, object], message: str) -> None:
    with pytest.raises(ApiError, match=message.replace("[", r"\[").replace("]", r"\]")):
        objects.to_object(_policy_schema(), _policy(**change))


def test_cluster_refuses_duplicates_and_missing_namespaces(tmp_path: Path) -> None:
    path = tmp_path / "cluster.json"
    seed(path)
    store = Cluster(path)
    policy = {"kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": "shop"}}
    with store.session() as state, pytest.raises(ApiError, match='namespaces "shop" not found'):
        store.create_in(state, dict(policy))
    policy["metadata"]["namespace"] = "default"
    with store.session() as state:
        created = store.create_in(state, {**policy, "metadata": dict(policy["metadata"])})
    assert created["metadata"]["generation"] == 1 and created["metadata"]["uid"]
    with store.session() as state, pytest.raises(ApiError, match='"p" already exists'):
        store.create_in(state, {**policy, "metadata": dict(policy["metadata"])})
