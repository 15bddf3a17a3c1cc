"""The flow readers: one normalised record per observation, bad lines named exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from constructs_lib.brownfield.flows import (
    FlowError,
    ObservedEndpoint,
    ObservedFlow,
    guess_format,
    read_flows,
)

DATA = Path(__file__).parent / "data"
CSV_HEADER = "src_namespace,src_labels,dst_namespace,dst_labels,dst_ip,port,protocol\n"


def _read(tmp_path: Path, fmt: str, text: str) -> list[ObservedFlow]:
    file = tmp_path / f"flows.{fmt}"
    file.write_text(text, encoding="utf-8")
    return list(read_flows(file, fmt))


def _error(tmp_path: Path, fmt: str, text: str) -> str:
    with pytest.raises(FlowError) as info:
        _read(tmp_path, fmt, text)
    return str(info.value).replace(str(tmp_path / f"flows.{fmt}"), "FILE")


def test_hubble_reads_wrapped_and_bare_flows_alike(tmp_path: Path) -> None:
    body = (
        '"verdict":"FORWARDED","traffic_direction":"EGRESS","is_reply":false,'
        '"IP":{"source":"10.0.1.10","destination":"10.0.1.20"},'
        '"l4":{"TCP":{"source_port":40001,"destination_port":8080}},'
        '"source":{"namespace":"shop","pod_name":"frontend-1","labels":['
        '"k8s:app.kubernetes.io/name=frontend","k8s:io.kubernetes.pod.namespace=shop",'
        '"k8s:io.cilium.k8s.policy.serviceaccount=frontend",'
        '"k8s:io.cilium.k8s.namespace.labels.environment=prod"]},'
        '"destination":{"namespace":"shop","pod_name":"api-1","labels":["k8s:app=api"]}'
    )
    wrapped, bare = _read(tmp_path, "hubble", f'{{"flow":{{{body}}}}}\n\n{{{body}}}\n')
    assert wrapped.line == 1 and bare.line == 3
    assert (
        wrapped.source
        == bare.source
        == ObservedEndpoint(
            "shop", (("app.kubernetes.io/name", "frontend"),), None, "", (("environment", "prod"),)
        )
    )
    assert wrapped.destination == ObservedEndpoint("shop", (("app", "api"),))
    assert (wrapped.protocol, wrapped.port, wrapped.verdict) == ("TCP", 8080, "FORWARDED")
    assert (wrapped.source_pod, wrapped.destination_pod) == ("frontend-1", "api-1")


def test_hubble_outside_ends_keep_their_ip_and_reserved_identity(tmp_path: Path) -> None:
    (flow,) = _read(
        tmp_path,
        "hubble",
        '{"flow":{"verdict":"FORWARDED","IP":{"source":"10.0.0.1","destination":"203.0.113.7"},'
        '"l4":{"UDP":{"destination_port":123}},"source":{"labels":["reserved:host"]},'
        '"destination":{"labels":["reserved:world"]},"destination_names":["ntp.example"]}}\n',
    )
    assert flow.source == ObservedEndpoint(None, (), "10.0.0.1", "host")
    assert flow.destination == ObservedEndpoint(None, (), "203.0.113.7", "world")
    assert (flow.protocol, flow.port, flow.destination_names) == ("UDP", 123, ("ntp.example",))


def test_hubble_icmp_has_no_port_and_says_what_it_was(tmp_path: Path) -> None:
    (flow,) = _read(tmp_path, "hubble", '{"flow":{"verdict":"FORWARDED","l4":{"ICMPv4":{}}}}\n')
    assert (flow.protocol, flow.port, flow.l4) == (None, None, "ICMPv4")


def test_hubble_skips_node_status_and_marks_lost_events(tmp_path: Path) -> None:
    flows = _read(
        tmp_path,
        "hubble",
        '{"node_status":{"state_change":"NODE_CONNECTED"}}\n'
        '{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":3}}\n',
    )
    assert [f.kind for f in flows] == ["lost"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "FILE line 1: not valid JSON: Expecting value: line 1 column 1 (char 0)"),
        ("[1, 2]", "FILE line 1: expected a JSON object (one flow per line), got list"),
        ('{"flow": 3}', "FILE line 1: flow: expected an object, got 3"),
        (
            '{"flow": {"verdict": "MAYBE"}}',
            "FILE line 1: flow.verdict: unknown verdict 'MAYBE' (allowed: AUDIT, FORWARDED, "
            "REDIRECTED, TRACED, TRANSLATED, DROPPED, ERROR, VERDICT_UNKNOWN)",
        ),
        (
            '{"flow": {"traffic_direction": "SIDEWAYS"}}',
            "FILE line 1: flow.traffic_direction: unknown traffic direction 'SIDEWAYS' "
            "(allowed: INGRESS, EGRESS, TRAFFIC_DIRECTION_UNKNOWN)",
        ),
        (
            '{"flow": {"l4": {"TCP": {"destination_port": "http"}}}}',
            "FILE line 1: flow.l4.TCP.destination_port: expected a port number 1-65535, got 'http'",
        ),
        (
            '{"flow": {"l4": {"SCTP": {"destination_port": 70000}}}}',
            "FILE line 1: flow.l4.SCTP.destination_port: expected a port number 1-65535, got 70000",
        ),
        (
            '{"flow": {"source": {"namespace": "shop", "labels": "k8s:app=a"}}}',
            "FILE line 1: flow.source.labels: expected a list of strings, got 'k8s:app=a'",
        ),
        (
            '{"flow": {"source": {"namespace": "shop", "labels": ["app=a"]}}}',
            "FILE line 1: flow.source.labels[0]: 'app=a' is not a Cilium label "
            "'source:key=value' (e.g. 'k8s:app=api')",
        ),
        (
            '{"flow": {"destination": {"namespace": "shop", "labels": [7]}}}',
            "FILE line 1: flow.destination.labels[0]: expected a string, got 7",
        ),
        (
            '{"flow": {"source": {"namespace": "shop", "labels": ["k8s:app=a b"]}}}',
            "FILE line 1: flow.source.labels: label 'app' has an invalid value 'a b' (at most "
            "63 characters: letters, digits, '-', '_' and '.', starting and ending with a "
            "letter or digit)",
        ),
        (
            '{"flow": {"source": {"namespace": "shop", "labels": '
            '["k8s:io.cilium.k8s.namespace.labels.environment=pr od"]}}}',
            "FILE line 1: flow.source.labels: label 'environment' has an invalid value 'pr od' "
            "(at most 63 characters: letters, digits, '-', '_' and '.', starting and ending "
            "with a letter or digit)",
        ),
        (
            '{"flow": {"source": {"namespace": "Shop"}}}',
            "FILE line 1: flow.source.namespace: 'Shop' is not a namespace name (a DNS-1123 label)",
        ),
        (
            '{"flow": {"destination": {"labels": ["reserved:world"]}, '
            '"IP": {"destination": "300.1.1.1"}}}',
            "FILE line 1: flow.IP.destination: '300.1.1.1' is not an IP address",
        ),
        (
            '{"flow": {"is_reply": "yes"}}',
            "FILE line 1: flow.is_reply: expected true or false, got 'yes'",
        ),
        (
            '{"flow": {"destination_names": "a.example"}}',
            "FILE line 1: flow.destination_names: expected a list of strings, got 'a.example'",
        ),
    ],
)
def test_hubble_refuses_a_bad_line_naming_line_and_field(
    tmp_path: Path, line: str, message: str
) -> None:
    assert _error(tmp_path, "hubble", line + "\n") == message


def test_hubble_names_the_line_number_of_the_bad_line(tmp_path: Path) -> None:
    good = '{"flow":{"verdict":"FORWARDED"}}\n'
    assert _error(tmp_path, "hubble", good * 3 + "{oops\n").startswith("FILE line 4: not valid")


def test_csv_reads_pods_addresses_and_optional_verdict(tmp_path: Path) -> None:
    flows = _read(
        tmp_path,
        "csv",
        "src_namespace,src_labels,src_ip,dst_namespace,dst_labels,dst_ip,port,protocol,verdict\n"
        "shop,app=api;tier=web,,data,app=db,,5432,tcp,\n"
        ",,198.51.100.20,shop,app=api,,8443,TCP,DROPPED\n",
    )
    assert flows[0].source == ObservedEndpoint("shop", (("app", "api"), ("tier", "web")))
    assert flows[0].destination == ObservedEndpoint("data", (("app", "db"),))
    assert (flows[0].protocol, flows[0].port, flows[0].verdict) == ("TCP", 5432, "FORWARDED")
    assert flows[1].source == ObservedEndpoint(None, (), "198.51.100.20", "world")
    assert (flows[1].line, flows[1].verdict) == (3, "DROPPED")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "src_namespace,src_labels,dst_namespace,dst_labels,port,protocl\n",
            "FILE line 1: header: unknown column 'protocl' (allowed: src_namespace, src_labels, "
            "src_ip, dst_namespace, dst_labels, dst_ip, port, protocol, verdict)",
        ),
        (
            "src_namespace,src_labels,dst_namespace,dst_labels,port\n",
            "FILE line 1: header: missing column 'protocol'",
        ),
        (
            CSV_HEADER + "shop,app=a,,,10.0.0.1,443,ICMP\n",
            "FILE line 2: protocol: unknown protocol 'ICMP' (allowed: TCP, UDP, SCTP)",
        ),
        (
            CSV_HEADER + "shop,app,,,10.0.0.1,443,TCP\n",
            "FILE line 2: src_labels: 'app' is not key=value (pairs are separated by ';')",
        ),
        (
            CSV_HEADER + "shop,app=a;app=b,,,10.0.0.1,443,TCP\n",
            "FILE line 2: src_labels: label 'app' is given twice",
        ),
        (
            CSV_HEADER + "shop,app=a,,,,443,TCP\n",
            "FILE line 2: dst_namespace: dst_namespace (a pod) or dst_ip (an address) is required",
        ),
        (
            CSV_HEADER + "shop,app=a,data,app=b,10.0.0.1,443,TCP\n",
            "FILE line 2: dst_ip: give dst_namespace (a pod) or dst_ip (outside the cluster), "
            "not both",
        ),
        (
            CSV_HEADER + ",app=a,data,app=b,,443,TCP\n",
            "FILE line 2: src_labels: pod labels need src_namespace",
        ),
        (
            CSV_HEADER + "shop,app=a,data,app=b,,0,TCP\n",
            "FILE line 2: port: expected a port number 1-65535, got 0",
        ),
        (
            CSV_HEADER + "shop,app=a,data,app=b,,https,TCP\n",
            "FILE line 2: port: expected a port number 1-65535, got 'https'",
        ),
        (
            CSV_HEADER + "\nshop,app=a,data\n",
            "FILE line 3: 3 cells, but the header has 7 columns",
        ),
        (
            CSV_HEADER + "shop,app=a,,,10.0.0.300,443,TCP\n",
            "FILE line 2: dst_ip: '10.0.0.300' is not an IP address",
        ),
    ],
)
def test_csv_refuses_a_bad_row_naming_line_and_column(
    tmp_path: Path, text: str, message: str
) -> None:
    assert _error(tmp_path, "csv", text) == message


def test_jsonl_reads_the_csv_columns_with_labels_as_a_mapping(tmp_path: Path) -> None:
    (flow,) = _read(
        tmp_path,
        "jsonl",
        '{"src_namespace":"shop","src_labels":{"app":"api"},"dst_ip":"203.0.113.7",'
        '"port":443,"protocol":"TCP"}\n',
    )
    assert flow.source == ObservedEndpoint("shop", (("app", "api"),))
    assert flow.destination == ObservedEndpoint(None, (), "203.0.113.7", "world")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '{"src_namespace": "shop", "src_labels": {"app": 1}}',
            "FILE line 1: src_labels.app: expected a string, got 1",
        ),
        (
            '{"src_namespace": "shop", "source": 1}',
            "FILE line 1: source: unknown key (allowed: src_namespace, src_labels, src_ip, "
            "dst_namespace, dst_labels, dst_ip, port, protocol, verdict)",
        ),
        (
            '{"src_namespace": "shop", "src_labels": ["app=a"]}',
            'FILE line 1: src_labels: expected an object, got ["app=a"]',
        ),
        (
            '{"src_namespace": "shop", "dst_ip": "203.0.113.7", "port": 443, "protocol": 6}',
            "FILE line 1: protocol: expected a string, got 6",
        ),
    ],
)
def test_jsonl_refuses_a_bad_line_naming_line_and_key(
    tmp_path: Path, line: str, message: str
) -> None:
    assert _error(tmp_path, "jsonl", line + "\n") == message


def test_the_format_defaults_by_file_name() -> None:
    assert guess_format("flows.CSV") == "csv"
    assert guess_format("hubble.json") == "hubble"


def test_the_shop_data_reads_in_all_formats() -> None:
    hubble = list(read_flows(DATA / "shop.hubble.jsonl", "hubble"))
    rows = list(read_flows(DATA / "shop.csv", "csv"))
    assert len(hubble) == 21 and len(rows) == 11
