"""Observed flows: one reader per input format, all yielding ``ObservedFlow``.

Formats (docs/learn.md has the full column list):

- ``hubble``: ``hubble observe -o json``, one JSON object per line, either the
  flow itself or wrapped as ``{"flow": {...}}`` (other response kinds such as
  ``node_status`` are skipped, ``lost_events`` are counted);
- ``csv``: a header row, then one connection per row;
- ``jsonl``: one JSON object per line with the CSV's keys (labels as a mapping).

Readers stream: they hold one line at a time. A malformed line stops the read
with ``FlowError`` naming the file, the line number and the field.
"""

from __future__ import annotations

import csv
import ipaddress
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from constructs_lib.errors import ArtifactError, InvalidIntentError
from constructs_lib.model import validation

Labels = tuple[tuple[str, str], ...]

FORMATS = ("hubble", "csv", "jsonl")
PROTOCOLS = ("TCP", "UDP", "SCTP")
# flow.proto Verdict names; which of them count as traffic that flowed.
PASSED = frozenset({"FORWARDED", "AUDIT", "REDIRECTED", "TRACED", "TRANSLATED"})
DENIED = frozenset({"DROPPED", "ERROR"})
VERDICTS = (*sorted(PASSED), *sorted(DENIED), "VERDICT_UNKNOWN")
DIRECTIONS = ("INGRESS", "EGRESS", "TRAFFIC_DIRECTION_UNKNOWN")
# Labels Cilium adds to a pod's identity that are not labels of the pod.
_CILIUM_PREFIXES = ("io.kubernetes.pod.namespace", "io.cilium.k8s.policy.", "io.cilium.")
_NAMESPACE_LABELS = "io.cilium.k8s.namespace.labels."

CSV_COLUMNS = (
    "src_namespace",
    "src_labels",
    "src_ip",
    "dst_namespace",
    "dst_labels",
    "dst_ip",
    "port",
    "protocol",
    "verdict",
)
CSV_REQUIRED = ("src_namespace", "src_labels", "dst_namespace", "dst_labels", "port", "protocol")


class FlowError(ArtifactError):
    """A line of a flow file cannot be read: names the file, line and field."""

    def __init__(self, file: str, line: int, field: str, message: str) -> None:
        self.file = file
        self.document = None
        self.field = field
        self.line = line
        self.detail = message
        where = f"{file} line {line}"
        if field:
            where += f": {field}"
        ValueError.__init__(self, f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class ObservedEndpoint:
    """One end of a flow: a pod (namespace + its labels) or an address outside the cluster.

    ``reserved`` is Cilium's identity for non-pod ends (``world``, ``host``,
    ``kube-apiserver``, ``remote-node``...), empty for pods.
    """

    namespace: str | None
    labels: Labels = ()
    ip: str | None = None
    reserved: str = ""
    namespace_labels: Labels = ()

    @property
    def is_pod(self) -> bool:
        return self.namespace is not None


@dataclass(frozen=True, slots=True)
class ObservedFlow:
    """A normalised observation: ``source`` opened (or answered) a connection to ``destination``.

    ``protocol``/``port`` are None when the flow has no TCP/UDP/SCTP
    destination port (ICMP, ARP...); ``l4`` then says what it was.
    """

    line: int
    source: ObservedEndpoint
    destination: ObservedEndpoint
    protocol: str | None
    port: int | None
    verdict: str = "FORWARDED"
    is_reply: bool = False
    l4: str = ""
    source_pod: str = ""
    destination_pod: str = ""
    destination_names: tuple[str, ...] = ()
    kind: str = "flow"  # "flow", or "lost" for a lost_events record


def read_flows(
    path: str | Path, fmt: str, start: int = 0, end: int | None = None
) -> Iterator[ObservedFlow]:
    """Stream ``path`` in format ``fmt`` (one of FORMATS).

    ``start``/``end`` read only the lines beginning in that byte range (the
    caller aligns them to line starts); line numbers then count from the
    range's first line.
    """
    readers: dict[str, Callable[[str, Iterable[str]], Iterator[ObservedFlow]]] = {
        "hubble": _read_hubble,
        "csv": _read_csv,
        "jsonl": _read_jsonl,
    }
    file = str(path)
    try:
        handle = open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise ArtifactError(file, f"cannot read: {exc.strerror or exc}") from None
    with handle:
        handle.seek(start)
        try:
            yield from readers[fmt](file, _decoded(handle, start, end))
        except UnicodeDecodeError:
            raise ArtifactError(file, "cannot read: not UTF-8 text") from None


def _decoded(handle: IO[bytes], start: int, end: int | None) -> Iterator[str]:
    position = start
    for raw in handle:
        if end is not None and position >= end:
            return
        text = raw.decode("utf-8")
        if position == 0:
            text = text.removeprefix("\ufeff")
        position += len(raw)
        yield text


def guess_format(path: str | Path) -> str:
    """The format by file name: .csv is csv; anything else is read as Hubble JSON lines."""
    return "csv" if str(path).lower().endswith(".csv") else "hubble"


# shared checks ------------------------------------------------------------------------


class _Line:
    """Field checks for one input line; every failure names file, line and field."""

    def __init__(self, file: str, number: int) -> None:
        self.file = file
        self.number = number

    def fail(self, field: str, message: str) -> FlowError:
        return FlowError(self.file, self.number, field, message)

    def string(self, value: Any, field: str, *, optional: bool = True) -> str:
        if value is None and optional:
            return ""
        if not isinstance(value, str):
            raise self.fail(field, f"expected a string, got {_show(value)}")
        return value

    def mapping(self, value: Any, field: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(field, f"expected an object, got {_show(value)}")
        return value

    def port(self, value: Any, field: str) -> int:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
            raise self.fail(field, f"expected a port number 1-65535, got {_show(value)}")
        return value

    def protocol(self, value: Any, field: str) -> str:
        text = self.string(value, field).upper()
        if text not in PROTOCOLS:
            raise self.fail(field, f"unknown protocol {_show(value)} (allowed: TCP, UDP, SCTP)")
        return text

    def verdict(self, value: Any, field: str, default: str) -> str:
        if value is None or value == "":
            return default
        if value not in VERDICTS:
            raise self.fail(
                field, f"unknown verdict {_show(value)} (allowed: {', '.join(VERDICTS)})"
            )
        return str(value)

    def ip(self, value: Any, field: str) -> str:
        text = self.string(value, field)
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            raise self.fail(field, f"{_show(value)} is not an IP address") from None

    def namespace(self, value: Any, field: str) -> str:
        text = self.string(value, field)
        try:
            return validation.dns_label("", field, text)
        except InvalidIntentError:
            raise self.fail(
                field, f"{_show(value)} is not a namespace name (a DNS-1123 label)"
            ) from None

    def labels(self, pairs: list[tuple[str, str]], field: str) -> Labels:
        return _checked_labels(self, tuple(sorted(pairs)), field)


_LABEL_CACHE: dict[Labels, Labels] = {}


def _checked_labels(line: _Line, labels: Labels, field: str) -> Labels:
    """Validate once per distinct label set and share the tuple (memory: one per set)."""
    known = _LABEL_CACHE.get(labels)
    if known is not None:
        return known
    keys = [k for k, _ in labels]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise line.fail(field, f"label {dup!r} is given twice")
    for key, value in labels:
        try:
            validation.label_key("", field, key)
            validation.label_value("", field, key, value)
        except InvalidIntentError as exc:
            raise line.fail(field, str(exc).split(": ", 2)[-1]) from None
    if len(_LABEL_CACHE) < 1_000_000:
        _LABEL_CACHE[labels] = labels
    return labels


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_object(file: str, number: int, text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError as exc:
        if not text.strip():  # a blank line (checked only here: stripping every line costs)
            return None
        raise FlowError(file, number, "", f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        kind = type(value).__name__
        raise FlowError(file, number, "", f"expected a JSON object (one flow per line), got {kind}")
    return value


# hubble -------------------------------------------------------------------------------


def _read_hubble(file: str, handle: Iterable[str]) -> Iterator[ObservedFlow]:
    for number, text in enumerate(handle, start=1):
        obj = _json_object(file, number, text)
        if obj is None:
            continue
        if "flow" in obj:
            flow = obj["flow"]
            if type(flow) is not dict:
                raise _Line(file, number).fail("flow", f"expected an object, got {_show(flow)}")
            yield _hubble_flow(_Line(file, number), flow, "flow.")
        elif "lost_events" in obj:
            yield ObservedFlow(number, _NOWHERE, _NOWHERE, None, None, kind="lost")
        elif any(k in obj for k in ("source", "destination", "verdict", "l4", "IP")):
            yield _hubble_flow(_Line(file, number), obj, "")
        # node_status and other responses carry no flow


_NOWHERE = ObservedEndpoint(None)
_VERDICT_SET = frozenset(VERDICTS)
_DIRECTION_SET = frozenset(DIRECTIONS)
_EMPTY: Mapping[str, Any] = {}

# Hot path: this runs once per line of captures with millions of lines, so
# field paths for messages are formatted only when a check fails.


def _hubble_flow(line: _Line, flow: Mapping[str, Any], at: str) -> ObservedFlow:
    verdict = flow.get("verdict")
    if verdict is None or verdict == "":
        verdict = "VERDICT_UNKNOWN"
    elif type(verdict) is not str or verdict not in _VERDICT_SET:
        line.verdict(verdict, f"{at}verdict", "")  # raises with the allowed values
    direction = flow.get("traffic_direction")
    if direction is not None and (type(direction) is not str or direction not in _DIRECTION_SET):
        raise line.fail(
            f"{at}traffic_direction",
            f"unknown traffic direction {_show(direction)} (allowed: {', '.join(DIRECTIONS)})",
        )
    is_reply = flow.get("is_reply", False)
    if type(is_reply) is not bool:
        raise line.fail(f"{at}is_reply", f"expected true or false, got {_show(is_reply)}")
    ip = flow.get("IP") or _EMPTY
    if type(ip) is not dict and ip is not _EMPTY:
        raise line.fail(f"{at}IP", f"expected an object, got {_show(ip)}")
    source, source_pod = _hubble_endpoint(line, flow, ip, "source", at)
    destination, destination_pod = _hubble_endpoint(line, flow, ip, "destination", at)
    protocol, port, l4 = _hubble_l4(line, flow.get("l4"), f"{at}l4")
    names_raw = flow.get("destination_names") or ()
    if names_raw and (type(names_raw) is not list or not all(type(n) is str for n in names_raw)):
        raise line.fail(
            f"{at}destination_names", f"expected a list of strings, got {_show(names_raw)}"
        )
    return ObservedFlow(
        line.number,
        source,
        destination,
        protocol,
        port,
        verdict,
        is_reply,
        l4,
        source_pod,
        destination_pod,
        tuple(names_raw),
    )


def _hubble_endpoint(
    line: _Line, flow: Mapping[str, Any], ip: Mapping[str, Any], side: str, at: str
) -> tuple[ObservedEndpoint, str]:
    body = flow.get(side) or _EMPTY
    if type(body) is not dict and body is not _EMPTY:
        raise line.fail(f"{at}{side}", f"expected an object, got {_show(body)}")
    namespace = body.get("namespace") or ""
    pod = body.get("pod_name") or ""
    raw = body.get("labels") or ()
    if type(namespace) is not str or type(pod) is not str or (raw and type(raw) is not list):
        _endpoint_types(line, body, f"{at}{side}")
    if namespace:
        try:
            known = _POD_CACHE.get((namespace, tuple(raw)))
        except TypeError:  # a label that is not a string: reported below
            known = None
        if known is not None:
            return known, pod
    return _parse_endpoint(line, namespace, raw, ip, side, at), pod


def _endpoint_types(line: _Line, body: Mapping[str, Any], where: str) -> None:
    line.string(body.get("namespace"), f"{where}.namespace")
    line.string(body.get("pod_name"), f"{where}.pod_name")
    raw = body.get("labels")
    raise line.fail(f"{where}.labels", f"expected a list of strings, got {_show(raw)}")


def _parse_endpoint(
    line: _Line, namespace: str, raw: Any, ip: Mapping[str, Any], side: str, at: str
) -> ObservedEndpoint:
    """First sight of an endpoint: every label checked; pods are cached after."""
    where = f"{at}{side}"
    pod_labels: list[tuple[str, str]] = []
    ns_labels: list[tuple[str, str]] = []
    reserved = ""
    for i, item in enumerate(raw):
        if not isinstance(item, str):
            raise line.fail(f"{where}.labels[{i}]", f"expected a string, got {_show(item)}")
        source, sep, rest = item.partition(":")
        if not sep:
            raise line.fail(
                f"{where}.labels[{i}]",
                f"{item!r} is not a Cilium label 'source:key=value' (e.g. 'k8s:app=api')",
            )
        name, _, value = rest.partition("=")
        if source == "reserved":
            reserved = reserved or name
        elif source == "k8s":
            if name.startswith(_NAMESPACE_LABELS):
                ns_labels.append((name[len(_NAMESPACE_LABELS) :], value))
            elif not name.startswith(_CILIUM_PREFIXES):
                pod_labels.append((name, value))
    if namespace:
        ns = line.namespace(namespace, f"{where}.namespace")
        labels = line.labels(pod_labels, f"{where}.labels")
        ns_checked = line.labels(ns_labels, f"{where}.labels") if ns_labels else ()
        endpoint = ObservedEndpoint(ns, labels, None, "", ns_checked)
        if len(_POD_CACHE) < 1_000_000:
            _POD_CACHE[(namespace, tuple(raw))] = endpoint
        return endpoint
    address = ip.get(side)
    ip_text = line.ip(address, f"{at}IP.{side}") if address not in (None, "") else None
    return ObservedEndpoint(None, (), ip_text, reserved or "world")


# One parse per distinct (namespace, label list): a million flows hold a few
# thousand pods, so this saves the label loop on almost every line.
_POD_CACHE: dict[tuple[str, tuple[Any, ...]], ObservedEndpoint] = {}


def _hubble_l4(line: _Line, l4: Any, where: str) -> tuple[str | None, int | None, str]:
    if not l4:
        return None, None, ""
    if type(l4) is not dict:
        raise line.fail(where, f"expected an object, got {_show(l4)}")
    for protocol in PROTOCOLS:
        body = l4.get(protocol)
        if body is None:
            continue
        if type(body) is not dict:
            raise line.fail(f"{where}.{protocol}", f"expected an object, got {_show(body)}")
        port = body.get("destination_port")
        if port is None or port == 0:
            return None, None, protocol
        if type(port) is not int or not 0 < port < 65536:
            port = line.port(port, f"{where}.{protocol}.destination_port")
        return protocol, port, protocol
    kinds = sorted(l4)
    return None, None, kinds[0] if kinds else ""


# csv and jsonl ------------------------------------------------------------------------


def _plain_endpoint(
    line: _Line, namespace: Any, labels: Labels, ip: Any, side: str
) -> ObservedEndpoint:
    ns = line.string(namespace, f"{side}_namespace")
    address = line.string(ip, f"{side}_ip")
    if ns and address:
        raise line.fail(
            f"{side}_ip",
            f"give {side}_namespace (a pod) or {side}_ip (outside the cluster), not both",
        )
    if ns:
        return ObservedEndpoint(line.namespace(ns, f"{side}_namespace"), labels)
    if labels:
        raise line.fail(f"{side}_labels", f"pod labels need {side}_namespace")
    if not address:
        raise line.fail(
            f"{side}_namespace", f"{side}_namespace (a pod) or {side}_ip (an address) is required"
        )
    return ObservedEndpoint(None, (), line.ip(address, f"{side}_ip"), "world")


def _plain_flow(line: _Line, row: Mapping[str, Any], src: Labels, dst: Labels) -> ObservedFlow:
    return ObservedFlow(
        line.number,
        _plain_endpoint(line, row.get("src_namespace"), src, row.get("src_ip"), "src"),
        _plain_endpoint(line, row.get("dst_namespace"), dst, row.get("dst_ip"), "dst"),
        line.protocol(row.get("protocol"), "protocol"),
        line.port(row.get("port"), "port"),
        line.verdict(row.get("verdict"), "verdict", "FORWARDED"),
    )


def _selector_labels(line: _Line, text: str, field: str) -> Labels:
    """``app=api;tier=web`` (``;`` between pairs: no CSV quoting needed)."""
    pairs = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise line.fail(field, f"{part!r} is not key=value (pairs are separated by ';')")
        pairs.append((key.strip(), value.strip()))
    return line.labels(pairs, field)


def _read_csv(file: str, handle: Iterable[str]) -> Iterator[ObservedFlow]:
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        return
    columns = [c.strip() for c in header]
    unknown = [c for c in columns if c not in CSV_COLUMNS]
    if unknown:
        raise FlowError(
            file,
            1,
            "header",
            f"unknown column {unknown[0]!r} (allowed: {', '.join(CSV_COLUMNS)})",
        )
    missing = [c for c in CSV_REQUIRED if c not in columns]
    if missing:
        raise FlowError(file, 1, "header", f"missing column {missing[0]!r}")
    for cells in reader:
        line = _Line(file, reader.line_num)
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(columns):
            raise line.fail("", f"{len(cells)} cells, but the header has {len(columns)} columns")
        row = {c: v.strip() for c, v in zip(columns, cells, strict=True)}
        src = _selector_labels(line, row["src_labels"], "src_labels")
        dst = _selector_labels(line, row["dst_labels"], "dst_labels")
        yield _plain_flow(line, row, src, dst)


def _read_jsonl(file: str, handle: Iterable[str]) -> Iterator[ObservedFlow]:
    for number, text in enumerate(handle, start=1):
        obj = _json_object(file, number, text)
        if obj is None:
            continue
        line = _Line(file, number)
        unknown = sorted(k for k in obj if k not in CSV_COLUMNS)
        if unknown:
            raise line.fail(unknown[0], f"unknown key (allowed: {', '.join(CSV_COLUMNS)})")
        labels = []
        for side in ("src", "dst"):
            field = f"{side}_labels"
            raw = line.mapping(obj.get(field), field)
            pairs = []
            for key, value in raw.items():
                if not isinstance(value, str):
                    raise line.fail(f"{field}.{key}", f"expected a string, got {_show(value)}")
                pairs.append((key, value))
            labels.append(line.labels(pairs, field))
        yield _plain_flow(line, obj, labels[0], labels[1])
