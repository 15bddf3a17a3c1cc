"""Inventory: the namespaces, workloads and external endpoints reachability is about.

Policies say nothing about which pods exist; the inventory supplies them (a
file for ``netfence reach``, or the intent record for ``netfence verify``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from constructs_lib.loaders._spec import KUBERNETES, PROTOCOLS, Reader, content_key
from constructs_lib.loaders.network_policy import Labels

NAME_LABEL = "kubernetes.io/metadata.name"
ANY_PROTOCOL = "any"


@dataclass(frozen=True)
class DeclaredPort:
    """A port a workload or external endpoint declares; ``port`` None means named-only."""

    protocol: str = "TCP"  # ANY_PROTOCOL with any_port: Port.all()
    port: int | None = None
    name: str | None = None
    end_port: int | None = None
    any_port: bool = False  # Port.all_tcp() and friends: every port of the protocol

    @property
    def label(self) -> int | str:
        """The port as ``reach`` reports it: the number, or the name when there is none."""
        if self.port is not None:
            return self.port
        if self.any_port:
            return "any port"
        assert self.name is not None
        return self.name


@dataclass(frozen=True)
class Namespace:
    name: str
    labels: Labels = ()


@dataclass(frozen=True)
class Workload:
    namespace: str
    name: str
    labels: Labels = ()
    ports: tuple[DeclaredPort, ...] = ()
    ip: str | None = None
    allow_dns: bool = True  # intent records only: False = left out of the namespace's DNS
    isolate: tuple[str, ...] = ()  # intent records only: directions of workload.isolate()

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class External:
    """An endpoint outside the cluster, reached by IP (an ipBlock peer)."""

    name: str
    cidrs: tuple[str, ...]
    except_: tuple[str, ...] = ()
    ports: tuple[DeclaredPort, ...] = ()
    internet: bool = False
    include_cluster_ranges: bool = False  # intent records: its ipBlocks may match pods on purpose

    @property
    def key(self) -> str:
        return f"external/{self.name}"


@dataclass(frozen=True)
class Inventory:
    namespaces: tuple[Namespace, ...] = ()
    workloads: tuple[Workload, ...] = ()
    external: tuple[External, ...] = ()


def with_name_label(name: str, labels: Labels) -> Labels:
    """Kubernetes sets kubernetes.io/metadata.name on every namespace; so do we."""
    return tuple(sorted({**dict(labels), NAME_LABEL: name}.items()))


def load_inventory(path: str | Path, *, namespaces_elsewhere: bool = False) -> Inventory:
    """An inventory file (``netfence reach``, ``map --inventory``): a workload's namespace
    must be declared in it unless ``namespaces_elsewhere`` (a plan declares them)."""
    from constructs_lib.loaders._read import read_yaml

    return inventory_from_dict(
        read_yaml(path), str(path), namespaces_elsewhere=namespaces_elsewhere
    )


def inventory_from_dict(
    data: Any, file: str = "<memory>", *, namespaces_elsewhere: bool = True
) -> Inventory:
    """``namespaces_elsewhere``: a workload's namespace need not be declared here (it then
    has only its name label: the library API's convenience, and a plan's namespaces come
    from its namespace resources); files read for the CLI pass False, because a namespace's
    labels decide which namespaceSelectors match its pods and guessing none hides flows."""
    r = Reader(file, None, KUBERNETES)
    top = r.mapping(data if data is not None else {}, "")
    r.known(top, "", ("namespaces", "workloads", "external"))
    namespaces: dict[str, Namespace] = {}
    raw_ns = top.get("namespaces") or {}
    entries: list[tuple[str, Any, str]]
    if isinstance(raw_ns, list):
        entries = []
        for item, where in r.blocks(raw_ns, "namespaces"):
            entries.append((r.name(item.get("name"), f"{where}.name", label=True), item, where))
    else:
        entries = [
            (r.name(k, f"namespaces.{k}", label=True), v, f"namespaces.{k}")
            for k, v in r.mapping(raw_ns, "namespaces").items()
        ]
    for name, body, where in entries:
        body = r.mapping(body or {}, where)
        r.known(body, where, ("name", "labels"))
        if name in namespaces:
            r.fail(where, f"namespace {name} is listed twice")
        namespaces[name] = Namespace(
            name, with_name_label(name, r.labels(body.get("labels"), f"{where}.labels"))
        )
    workloads: list[Workload] = []
    seen: dict[str, str] = {}
    for item, where in r.blocks(top.get("workloads"), "workloads"):
        r.known(item, where, ("namespace", "name", "labels", "ip", "ports"))
        workload = Workload(
            namespace=r.name(item.get("namespace"), f"{where}.namespace", label=True),
            name=_workload_name(r, item.get("name"), f"{where}.name"),
            labels=r.labels(item.get("labels"), f"{where}.labels"),
            ports=read_ports(r, item, where),
            ip=_address(r, item.get("ip"), f"{where}.ip"),
        )
        if workload.key in seen:
            r.fail(
                where, f"workload {workload.key} is listed twice (first at {seen[workload.key]})"
            )
        seen[workload.key] = where
        workloads.append(workload)
        if workload.namespace in namespaces:
            continue
        if namespaces_elsewhere:
            namespaces[workload.namespace] = Namespace(
                workload.namespace, with_name_label(workload.namespace, ())
            )
        else:
            r.fail(
                f"{where}.namespace",
                f"namespace {workload.namespace!r} is not declared under namespaces "
                f"(declared: {', '.join(sorted(namespaces)) or 'none'}); add it with its labels",
            )
    externals: list[External] = []
    for item, where in r.blocks(top.get("external"), "external"):
        r.known(item, where, ("name", "ip", "cidr", "cidrs", "except", "ports", "internet"))
        externals.append(read_external(r, item, where))
        refuse_shared_key(r, externals[-1], where, seen)
    return Inventory(
        tuple(sorted(namespaces.values(), key=lambda n: n.name)),
        tuple(sorted(workloads, key=lambda w: (w.namespace, w.name))),
        tuple(sorted(externals, key=lambda e: e.name)),
    )


def _workload_name(r: Reader, value: Any, where: str) -> str:
    """A workload's name: any text but '/', which would make ``namespace/name`` ambiguous."""
    name = r.string(value, where)
    if "/" in name:
        r.fail(
            where,
            f"{name!r} has a '/': workloads are named namespace/name, so a name cannot "
            "hold one (Kubernetes object names cannot either)",
        )
    return name


def refuse_shared_key(
    r: Reader, external: External, where: str, workloads: Mapping[str, str]
) -> None:
    """External endpoint X is ``external/X`` wherever netfence names it, so a workload X
    of a namespace ``external`` (``workloads``: key -> where it is listed) cannot be told
    from it."""
    if external.key in workloads:
        r.fail(
            f"{where}.name",
            f"external endpoint {external.name!r} and workload {external.key} (at "
            f"{workloads[external.key]}) would both be {external.key}; rename one of them",
        )


def read_external(
    r: Reader, item: Mapping[str, Any], where: str, *, include_cluster_ranges: bool = False
) -> External:
    """An external endpoint, from an inventory or the intent record."""
    cidrs = read_cidrs(r, item, where)
    excepts = []
    for i, v in enumerate(r.items(item.get("except"), f"{where}.except")):
        at = f"{where}.except[{i}]"
        text = _cidr(r, v, at)
        inside = [c for c in cidrs if _strictly_inside(text, c)]
        if not inside:
            r.fail(at, f"{text!r} is not a part of any of its cidrs ({', '.join(cidrs)})")
        excepts.append(text)
    return External(
        name=r.string(r.required(item, "name", where), f"{where}.name"),
        cidrs=cidrs,
        except_=tuple(excepts),
        ports=read_ports(r, item, where),
        internet=r.boolean(item.get("internet"), f"{where}.internet", False),
        include_cluster_ranges=include_cluster_ranges,
    )


def _strictly_inside(inner: str, outer: str) -> bool:
    from constructs_lib.verifier.ipset import parse_cidr

    a, b = parse_cidr(inner), parse_cidr(outer)
    return a.version == b.version and a.subnet_of(b) and a.prefixlen > b.prefixlen  # type: ignore[arg-type]


def read_cidrs(r: Reader, item: Mapping[str, Any], where: str) -> tuple[str, ...]:
    """An external endpoint's addresses: ``ip``, ``cidr`` or ``cidrs``."""
    if item.get("ip") is not None:
        address = _address(r, item["ip"], f"{where}.ip")
        assert address is not None
        return (address + ("/32" if ":" not in address else "/128"),)
    if item.get("cidr") is not None:
        return (_cidr(r, item["cidr"], f"{where}.cidr"),)
    values = r.items(item.get("cidrs"), f"{where}.cidrs")
    if not values:
        r.fail(where, "an external endpoint needs ip, cidr or cidrs")
    return tuple(_cidr(r, v, f"{where}.cidrs[{i}]") for i, v in enumerate(values))


def read_ports(r: Reader, data: Mapping[str, Any], where: str) -> tuple[DeclaredPort, ...]:
    """The ``ports`` list of a workload, an external endpoint, a flow or a DNS target.

    Records and inventories repeat a few ports lists thousands of times, so a list
    of the same exact content (:func:`content_key`) as one read before by this
    reader's call is answered from that reading (``Reader.read_new``). A refusal is
    never remembered: a bad list is read for itself, at its own path.
    """
    value = data.get("ports")
    key = content_key(value) if value.__class__ is list else None
    seen = r.table("declared ports")
    found = seen.get(key)
    if found is not None:
        return found  # type: ignore[no-any-return]

    def read(value: Any, path: str) -> tuple[DeclaredPort, ...]:
        return tuple(_port(r, item, at) for item, at in r.blocks(value, path))

    return r.read_new(seen, key, value, f"{where}.ports", read)


_PORT_FIELDS = frozenset(("port", "protocol", "name", "end_port", "any_port", "any_protocol"))


def _port(r: Reader, item: Mapping[str, Any], where: str) -> DeclaredPort:
    r.known(item, where, _PORT_FIELDS)
    if item.get("any_port") is not None or item.get("any_protocol") is not None:
        return _any_port(r, item, where)
    protocol = r.protocol(item.get("protocol"), f"{where}.protocol")
    port = item.get("port")
    if port is not None:
        if isinstance(port, bool) or not isinstance(port, int):
            r.fail(f"{where}.port", f"expected a number, got {port!r}")
        r.port_number(port, f"{where}.port")
    end_port = item.get("end_port")
    if end_port is not None:
        if isinstance(end_port, bool) or not isinstance(end_port, int) or port is None:
            r.fail(f"{where}.end_port", "end_port needs a numeric port and must be a number")
        r.port_number(end_port, f"{where}.end_port")
        if end_port < port:
            r.fail(f"{where}.end_port", f"end_port {end_port} is below port {port}")
    name = item.get("name")
    if name is not None:
        name = r.string(name, f"{where}.name")
    if port is None and name is None:
        r.fail(where, "a port needs a number (port) or a name")
    return DeclaredPort(protocol, port, name, end_port)


def _any_port(r: Reader, item: Mapping[str, Any], where: str) -> DeclaredPort:
    """``{"any_port": true, "protocol": P}`` or ``{"any_port": true, "any_protocol": true}``."""
    if item.get("any_port") is not True:
        r.fail(f"{where}.any_port", f"expected true, got {item.get('any_port')!r}")
    for key in ("port", "name", "end_port"):
        if item.get(key) is not None:
            r.fail(f"{where}.{key}", "a port with any_port has no port, name or end_port")
    if item.get("any_protocol") is not None:
        if item["any_protocol"] is not True:
            r.fail(f"{where}.any_protocol", f"expected true, got {item['any_protocol']!r}")
        if item.get("protocol") is not None:
            r.fail(f"{where}.protocol", "a port with any_protocol names no protocol")
        return DeclaredPort(ANY_PROTOCOL, any_port=True)
    protocol = item.get("protocol")
    if protocol not in PROTOCOLS:
        r.fail(
            f"{where}.protocol",
            f"unknown protocol {protocol!r}; expected TCP, UDP or SCTP "
            "(or any_protocol: true for every protocol)",
        )
    return DeclaredPort(protocol, any_port=True)


def _address(r: Reader, value: Any, path: str) -> str | None:
    import ipaddress

    if value is None:
        return None
    text = r.string(value, path)
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        r.fail(path, f"invalid IP address {text!r}")


def _cidr(r: Reader, value: Any, path: str) -> str:
    from constructs_lib.verifier.ipset import parse_cidr

    return str(parse_cidr(r.cidr(value, path)))
