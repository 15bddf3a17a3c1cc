"""Reading the intent record and inventories' ports: every refusal exact and located.

The readers remember what repeated content read as (ports lists, flow ends); these
tests pin that a remembered value is the one a fresh read gives, and that a refusal
is never remembered: the second of two nearly equal items is read for itself and a
refusal names its own path.
"""

from __future__ import annotations

import copy
import enum
import math
import uuid
from typing import Any

import pytest

from constructs_lib.errors import ArtifactError
from constructs_lib.loaders.intent import (
    FlowEnd,
    intent_from_record,
)
from constructs_lib.loaders.inventory import (
    ANY_PROTOCOL,
    DeclaredPort,
    inventory_from_dict,
)

from .stacks import RECORD

AT = "x.json at //.metadata.netfence"
_UUID = uuid.UUID("12345678-1234-5678-1234-567812345678")

# (a ports list, the field under ports that is refused, the message)
BAD_PORTS: list[tuple[Any, str, str]] = [
    ("80", "", "expected a list, got string"),
    ({"port": 80}, "", "expected a list, got mapping"),
    ([80], "[0]", "expected a mapping, got number"),
    ([None], "[0]", "expected a mapping, got null"),
    (
        [{"port": 80, "number": 80}],
        "[0].number",
        "unknown field; expected one of any_port, any_protocol, end_port, name, port, protocol",
    ),
    (
        [{"port": 80, "protocol": "ICMP"}],
        "[0].protocol",
        "unknown protocol 'ICMP'; expected TCP, UDP or SCTP",
    ),
    ([{"port": 80, "protocol": 6}], "[0].protocol", "expected a string, got number"),
    ([{"port": "80"}], "[0].port", "expected a number, got '80'"),
    ([{"port": True}], "[0].port", "expected a number, got True"),
    ([{"port": 1.0}], "[0].port", "expected a number, got 1.0"),
    ([{"port": 0}], "[0].port", "port 0 is outside 1-65535"),
    ([{"port": 65536}], "[0].port", "port 65536 is outside 1-65535"),
    (
        [{"name": "http", "end_port": 90}],
        "[0].end_port",
        "end_port needs a numeric port and must be a number",
    ),
    (
        [{"port": 80, "end_port": "90"}],
        "[0].end_port",
        "end_port needs a numeric port and must be a number",
    ),
    (
        [{"port": 80, "end_port": True}],
        "[0].end_port",
        "end_port needs a numeric port and must be a number",
    ),
    ([{"port": 80, "end_port": 70000}], "[0].end_port", "port 70000 is outside 1-65535"),
    ([{"port": 80, "end_port": 79}], "[0].end_port", "end_port 79 is below port 80"),
    ([{"port": 80, "name": 80}], "[0].name", "expected a string, got number"),
    ([{"protocol": "TCP"}], "[0]", "a port needs a number (port) or a name"),
    ([{}], "[0]", "a port needs a number (port) or a name"),
    ([{"any_port": 1, "protocol": "TCP"}], "[0].any_port", "expected true, got 1"),
    ([{"any_port": False, "protocol": "TCP"}], "[0].any_port", "expected true, got False"),
    ([{"any_protocol": True}], "[0].any_port", "expected true, got None"),
    (
        [{"any_port": True, "protocol": "TCP", "port": 80}],
        "[0].port",
        "a port with any_port has no port, name or end_port",
    ),
    (
        [{"any_port": True, "protocol": "TCP", "name": "http"}],
        "[0].name",
        "a port with any_port has no port, name or end_port",
    ),
    (
        [{"any_port": True, "any_protocol": 1}],
        "[0].any_protocol",
        "expected true, got 1",
    ),
    (
        [{"any_port": True, "any_protocol": True, "protocol": "TCP"}],
        "[0].protocol",
        "a port with any_protocol names no protocol",
    ),
    (
        [{"any_port": True}],
        "[0].protocol",
        "unknown protocol None; expected TCP, UDP or SCTP "
        "(or any_protocol: true for every protocol)",
    ),
    # the first item reads; the second, nearly equal to it, is refused at its own index
    ([{"port": 1}, {"port": True}], "[1].port", "expected a number, got True"),
]

GOOD_PORTS: list[tuple[Any, tuple[DeclaredPort, ...]]] = [
    (None, ()),
    ([], ()),
    ([{"port": 80}], (DeclaredPort("TCP", 80),)),
    ([{"port": 1}], (DeclaredPort("TCP", 1),)),
    ([{"port": 80, "protocol": None, "name": None}], (DeclaredPort("TCP", 80),)),
    ([{"name": "http", "protocol": "UDP"}], (DeclaredPort("UDP", None, "http"),)),
    ([{"port": 80, "end_port": 80}], (DeclaredPort("TCP", 80, None, 80),)),
    (
        [{"port": 8000, "end_port": 8100, "protocol": "SCTP"}],
        (DeclaredPort("SCTP", 8000, None, 8100),),
    ),
    ([{"any_port": True, "protocol": "UDP"}], (DeclaredPort("UDP", any_port=True),)),
    ([{"any_port": True, "any_protocol": True}], (DeclaredPort(ANY_PROTOCOL, any_port=True),)),
    (
        [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
        (DeclaredPort("UDP", 53), DeclaredPort("TCP", 53)),
    ),
]


def _record() -> dict[str, Any]:
    return copy.deepcopy(RECORD)


def _read(record: dict[str, Any]) -> Any:
    return intent_from_record(record, "x.json")


def _refusal(record: dict[str, Any]) -> str:
    with pytest.raises(ArtifactError) as err:
        _read(record)
    return str(err.value)


# ports: every place of the record that has them, and inventories -------------------

PORT_PLACES = ["flows.2", "workloads.1", "external.0", "namespaces.0.dns"]


def _at(record: dict[str, Any], place: str) -> dict[str, Any]:
    part: Any = record
    for step in place.split("."):
        part = part[int(step)] if step.isdigit() else part[step]
    assert isinstance(part, dict)
    return part


def _path(place: str) -> str:
    return "".join(f"[{s}]" if s.isdigit() else f".{s}" for s in place.split("."))


@pytest.mark.parametrize("place", PORT_PLACES)
@pytest.mark.parametrize(("ports", "field", "message"), BAD_PORTS)
def test_the_record_refuses_bad_ports_where_they_are(
    place: str, ports: Any, field: str, message: str
) -> None:
    record = _record()
    _at(record, place)["ports"] = ports
    assert _refusal(record) == f"{AT}{_path(place)}.ports{field}: {message}"


@pytest.mark.parametrize(("ports", "field", "message"), BAD_PORTS)
def test_a_refusal_after_equal_good_ports_names_its_own_flow(
    ports: Any, field: str, message: str
) -> None:
    """flows[1] and flows[2] had equal ports read well; flows[2]'s are now bad."""
    record = _record()
    record["flows"][1]["ports"] = copy.deepcopy(record["flows"][2]["ports"])
    _read(copy.deepcopy(record))  # read (and remembered) once before, whole
    record["flows"][2]["ports"] = ports
    assert _refusal(record) == f"{AT}.flows[2].ports{field}: {message}"


@pytest.mark.parametrize(("ports", "field", "message"), BAD_PORTS)
def test_an_inventory_refuses_bad_ports(ports: Any, field: str, message: str) -> None:
    data = {
        "namespaces": {"shop": {}},
        "workloads": [{"namespace": "shop", "name": "a", "ports": ports}],
    }
    with pytest.raises(ArtifactError) as err:
        inventory_from_dict(data, "inv.yaml")
    assert str(err.value) == f"inv.yaml at workloads[0].ports{field}: {message}"


@pytest.mark.parametrize(("ports", "expected"), GOOD_PORTS)
def test_ports_read_the_same_each_time_and_everywhere(
    ports: Any, expected: tuple[DeclaredPort, ...]
) -> None:
    record = _record()
    for place in PORT_PLACES:
        _at(record, place)["ports"] = copy.deepcopy(ports)
    for _ in range(2):  # the second read finds them remembered
        intent = _read(copy.deepcopy(record))
        assert intent.flows[2].ports == expected
        assert intent.workloads[1].ports == expected
        assert intent.external[0].ports == expected
        assert intent.namespaces[0].dns is not None
        assert intent.namespaces[0].dns.ports == expected
        inventory = inventory_from_dict(
            {"workloads": [{"namespace": "shop", "name": "a", "ports": copy.deepcopy(ports)}]}
        )
        assert inventory.workloads[0].ports == expected


def test_equal_ports_are_read_once() -> None:
    record = _record()
    record["flows"][1]["ports"] = copy.deepcopy(record["flows"][2]["ports"])
    intent = _read(record)
    assert intent.flows[1].ports == intent.flows[2].ports == (DeclaredPort("TCP", 5432),)
    assert intent.flows[1].ports is intent.flows[2].ports


def test_a_port_number_and_true_are_different_ports() -> None:
    """True == 1 in Python: the remembered reading of port 1 must not answer for true."""
    record = _record()
    record["flows"][1]["ports"] = [{"port": 1}]
    record["flows"][2]["ports"] = [{"any_port": True, "protocol": "TCP"}]
    flows = _read(record).flows
    assert flows[1].ports == (DeclaredPort("TCP", 1),)
    assert flows[2].ports == (DeclaredPort("TCP", any_port=True),)
    record["flows"][2]["ports"] = [{"any_port": 1, "protocol": "TCP"}]
    assert _refusal(record) == f"{AT}.flows[2].ports[0].any_port: expected true, got 1"


# flow ends --------------------------------------------------------------------------


def test_equal_flow_ends_read_alike_and_are_checked_per_record() -> None:
    record = _record()
    flows = _read(record).flows
    assert flows[1].source == flows[2].source == FlowEnd("workload", "api", "shop")
    # the same end in a record that does not declare it: refused there
    other = _record()
    other["workloads"] = other["workloads"][1:]
    assert _refusal(other) == f"{AT}.flows[0].to: flow end shop/api is not a declared workload"


@pytest.mark.parametrize(
    ("end", "field", "message"),
    [
        (
            {"kind": "workload", "namespace": "shop", "name": "api", "labels": {}},
            ".labels",
            "unknown field; expected one of kind, name, namespace",
        ),
        (
            {"kind": "workload", "namespace": "shop", "name": 1},
            ".name",
            "expected a string, got number",
        ),
        ({"kind": "workload", "namespace": "shop"}, ".name", "expected a string, got null"),
        (
            {"kind": "workload", "namespace": "shop", "name": "ap"},
            "",
            "flow end shop/ap is not a declared workload",
        ),
        (
            {"kind": "Workload", "namespace": "shop", "name": "api"},
            ".kind",
            "unknown kind 'Workload'; expected workload, external, selection, namespaces",
        ),
        (
            {"kind": True, "namespace": "shop", "name": "api"},
            ".kind",
            "unknown kind True; expected workload, external, selection, namespaces",
        ),
        ("shop/api", "", "expected a mapping, got string"),
        (
            {"kind": "external", "name": "payment"},
            "",
            "flow end external/payment is not a declared external endpoint",
        ),
        (
            {"kind": "selection", "labels": {"app": "api"}},
            "",
            "a selection needs exactly one of namespace and environment",
        ),
        (
            {
                "kind": "selection",
                "labels": {"app": "api"},
                "namespace": "shop",
                "environment": "prod",
            },
            "",
            "a selection needs exactly one of namespace and environment",
        ),
        (
            {"kind": "namespaces", "labels": {}},
            ".namespaces",
            "missing required field (a namespace selector)",
        ),
    ],
)
def test_a_bad_end_after_an_equal_good_one_names_its_own_flow(
    end: Any, field: str, message: str
) -> None:
    """flows[1].from read well; flows[2].from, read after it, is refused at its own path."""
    record = _record()
    record["flows"][2]["from"] = end
    assert _refusal(record) == f"{AT}.flows[2].from{field}: {message}"


def test_ends_of_every_kind_read_alike_twice() -> None:
    record = _record()
    ends = [
        {"kind": "selection", "labels": {"app": "api"}, "namespace": "shop"},
        {"kind": "selection", "labels": {}, "environment": "prod"},
        {
            "kind": "namespaces",
            "labels": {"app": "x"},
            "namespaces": {"matchLabels": {"team": "a"}},
        },
        {"kind": "external", "name": "payments"},
        {"kind": "workload", "namespace": "shop", "name": "db"},
    ]
    record["flows"] = [
        {"from": copy.deepcopy(e), "to": copy.deepcopy(e), "ports": [{"port": 80}]}
        for e in ends * 2
    ]
    flows = _read(record).flows
    assert [str(f.source) for f in flows[:5]] == [
        "selection(app=api in namespace shop)",
        "namespaces labelled environment=prod / all pods",
        "namespaces labelled team=a / pods app=x",
        "external/payments",
        "shop/db",
    ]
    assert [f.source for f in flows] == [f.destination for f in flows]
    assert flows[:5] == flows[5:]


# the record's lists, and values of other (sub)types -----------------------------------


@pytest.mark.parametrize("part", ["workloads", "flows"])
def test_an_item_that_is_no_mapping_is_refused_before_any_item_is_read(part: str) -> None:
    record = _record()
    record[part][0]["zz"] = 1  # refused too, but read only after every item is a mapping
    record[part].append("api")
    n = len(record[part]) - 1
    assert _refusal(record) == f"{AT}.{part}[{n}]: expected a mapping, got string"


class _Text(str):
    pass


class _Object(dict[str, Any]):
    pass


def _subtyped(value: Any) -> Any:
    """``value`` with every mapping and every string value of a subtype of its type."""
    if isinstance(value, dict):
        return _Object({k: _subtyped(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_subtyped(v) for v in value]
    if isinstance(value, str):
        return _Text(value)
    return value


def test_values_of_subtypes_read_as_their_types() -> None:
    """Values of the exact type are taken as they are; a subtype goes to the Reader."""
    record = _record()
    record["flows"][2]["declared_at"] = "prod/shop/api.allow_to()"
    plain = _read(copy.deepcopy(record))
    subtyped = _read(_subtyped(record))
    assert subtyped == plain
    assert [f.declared_at for f in subtyped.flows] == [f.declared_at for f in plain.flows]
    assert repr(subtyped) == repr(plain)


# values no JSON file holds (the library API takes any Python value) ----------------------


class _Protocol(enum.StrEnum):
    TCP = "TCP"


class _Number(enum.IntEnum):
    HTTP = 80


@pytest.mark.parametrize(
    ("good", "bad", "field", "message"),
    [
        # equal (==) or spelled alike in JSON to a list read before, yet other content
        (
            [{"port": 80, "name": str(_UUID)}],
            [{"port": 80, "name": _UUID}],
            "[0].name",
            "expected a string, got UUID",
        ),
        (
            [{"port": None, "name": "http"}],
            [{"port": math.nan, "name": "http"}],
            "[0].port",
            "expected a number, got nan",
        ),
        (
            [{"port": None, "name": "http"}],
            [{"port": math.inf, "name": "http"}],
            "[0].port",
            "expected a number, got inf",
        ),
        ([{"port": 80}], ({"port": 80},), "", "expected a list, got tuple"),
        ([{"port": 80}], [{"port": 80.0}], "[0].port", "expected a number, got 80.0"),
    ],
)
def test_a_list_spelled_like_one_read_before_is_read_for_itself(
    good: Any, bad: Any, field: str, message: str
) -> None:
    def workloads(ports: Any) -> dict[str, Any]:
        return {"workloads": [{"namespace": "shop", "name": "a", "ports": ports}]}

    inventory_from_dict(workloads(good), "inv.yaml")
    with pytest.raises(ArtifactError) as err:
        inventory_from_dict(workloads(bad), "inv.yaml")
    assert str(err.value) == f"inv.yaml at workloads[0].ports{field}: {message}"


def test_values_python_takes_for_the_same_read_the_same() -> None:
    expected = (DeclaredPort("TCP", 80),)
    for ports in (
        [{"port": 80, "protocol": "TCP"}],
        [{"port": _Number.HTTP, "protocol": _Protocol.TCP}],
    ):
        data = {"workloads": [{"namespace": "shop", "name": "a", "ports": ports}]}
        assert inventory_from_dict(data).workloads[0].ports == expected


def test_a_list_changed_after_it_was_read_is_read_as_it_is_now() -> None:
    ports = [{"port": 1}]
    data = {"workloads": [{"namespace": "shop", "name": "a", "ports": ports}]}
    assert inventory_from_dict(data).workloads[0].ports == (DeclaredPort("TCP", 1),)
    ports[0]["port"] = True
    with pytest.raises(ArtifactError) as err:
        inventory_from_dict(data, "inv.yaml")
    assert str(err.value) == "inv.yaml at workloads[0].ports[0].port: expected a number, got True"


# names: external endpoint X is external/X, so no workload of a namespace 'external' may be X


def test_the_record_refuses_an_external_endpoint_named_like_a_workload() -> None:
    record = _record()
    record["workloads"].append(
        {"namespace": "external", "name": "payments", "labels": {"app": "p"}, "ports": []}
    )
    assert _refusal(record) == (
        f"{AT}.external[0].name: external endpoint 'payments' and workload external/payments "
        "(at //.metadata.netfence.workloads[2]) would both be external/payments; "
        "rename one of them"
    )
    record["workloads"][-1]["name"] = "billing"  # another name: read
    assert [w.key for w in _read(record).workloads][-1] == "external/billing"


def test_an_inventory_refuses_an_external_endpoint_named_like_a_workload() -> None:
    data = {
        "namespaces": {"external": {}},
        "workloads": [{"namespace": "external", "name": "db"}],
        "external": [{"name": "api", "ip": "192.0.2.1"}, {"name": "db", "ip": "192.0.2.2"}],
    }
    with pytest.raises(ArtifactError) as err:
        inventory_from_dict(data, "inv.yaml")
    assert str(err.value) == (
        "inv.yaml at external[1].name: external endpoint 'db' and workload external/db "
        "(at workloads[0]) would both be external/db; rename one of them"
    )


def test_the_record_refuses_a_workload_name_the_sdk_never_writes() -> None:
    record = _record()
    record["workloads"][1]["name"] = "db/primary"
    assert _refusal(record) == (
        f"{AT}.workloads[1].name: invalid name 'db/primary': must be a DNS label (at most 63 "
        "characters: lowercase letters, digits and '-', starting and ending with a letter or "
        "digit)"
    )


def test_an_inventory_refuses_a_workload_name_with_a_slash() -> None:
    data = {"namespaces": {"shop": {}}, "workloads": [{"namespace": "shop", "name": "a/b"}]}
    with pytest.raises(ArtifactError) as err:
        inventory_from_dict(data, "inv.yaml")
    assert str(err.value) == (
        "inv.yaml at workloads[0].name: 'a/b' has a '/': workloads are named namespace/name, "
        "so a name cannot hold one (Kubernetes object names cannot either)"
    )
    data["workloads"][0]["name"] = "Web API"  # any other text is a name
    assert [w.key for w in inventory_from_dict(data, "inv.yaml").workloads] == ["shop/Web API"]
