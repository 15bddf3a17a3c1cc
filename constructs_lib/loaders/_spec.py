"""Shared parsing of a NetworkPolicy ``metadata``/``spec`` in either spelling.

Terraform writes snake_case blocks that may be objects or one-element lists;
Kubernetes writes camelCase objects. One reader parameterised by the spelling
keeps the semantics (and the error messages) identical for both, and every
error names the file, the document and the field path as the user wrote it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any, NoReturn

from constructs_lib.errors import ArtifactError
from constructs_lib.loaders.network_policy import (
    EGRESS,
    INGRESS,
    OPERATORS,
    IPBlock,
    LabelRequirement,
    Labels,
    LabelSelector,
    NetworkPolicy,
    Peer,
    PolicyPort,
    PolicyRule,
    Source,
    default_policy_types,
)

PROTOCOLS = ("TCP", "UDP", "SCTP")
_PORT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")

# Values the API server refuses (or network plugins read in different ways)
# that still have one obvious reading. Every reader refuses them; lint, inside
# ``collecting_doubts()``, reads on and reports each one as a finding.
NON_CANONICAL_CIDR = "non-canonical-cidr"
EXCEPT_OUTSIDE_CIDR = "except-outside-cidr"
INVALID_END_PORT = "invalid-end-port"


@dataclass(frozen=True)
class Doubt:
    """A refusal that lint turned into a finding: where, which kind, the value."""

    file: str
    document: int | None
    path: str
    kind: str
    value: str
    message: str


_DOUBTS: ContextVar[list[Doubt] | None] = ContextVar("netfence_doubts", default=None)


@contextmanager
def collecting_doubts() -> Iterator[list[Doubt]]:
    """Read on past the refusals above, collecting them (for lint only)."""
    doubts: list[Doubt] = []
    token = _DOUBTS.set(doubts)
    try:
        yield doubts
    finally:
        _DOUBTS.reset(token)


@dataclass(frozen=True)
class Spelling:
    """Field names of one input format, and whether blocks may be lists."""

    pod_selector: str
    namespace_selector: str
    ip_block: str
    match_labels: str
    match_expressions: str
    policy_types: str
    end_port: str
    blocks_as_lists: bool


TERRAFORM = Spelling(
    "pod_selector",
    "namespace_selector",
    "ip_block",
    "match_labels",
    "match_expressions",
    "policy_types",
    "end_port",
    True,
)
KUBERNETES = Spelling(
    "podSelector",
    "namespaceSelector",
    "ipBlock",
    "matchLabels",
    "matchExpressions",
    "policyTypes",
    "endPort",
    False,
)


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        dict: "mapping",
        list: "list",
        str: "string",
        bool: "boolean",
        int: "number",
        float: "number",
    }.get(type(value), type(value).__name__)


class Reader:
    """Typed access to loaded JSON/YAML that fails with a located ArtifactError."""

    def __init__(self, file: str, document: int | None, spelling: Spelling) -> None:
        self.file = file
        self.document = document
        self.s = spelling

    def fail(self, path: str, message: str) -> NoReturn:
        raise ArtifactError(self.file, message, document=self.document, field=path or None)

    def doubt(self, path: str, kind: str, value: str, message: str) -> None:
        """Refuse, unless lint is collecting doubts (then record and read on)."""
        doubts = _DOUBTS.get()
        if doubts is None:
            self.fail(path, message)
        doubts.append(Doubt(self.file, self.document, path, kind, value, message))

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {type_name(value)}")
        return value

    def items(self, value: Any, path: str) -> list[Any]:
        """A list field; null and a missing field are the empty list."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(path, f"expected a list, got {type_name(value)}")
        return value

    def string(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            self.fail(path, f"expected a string, got {type_name(value)}")
        return value

    def block(self, value: Any, path: str) -> tuple[Mapping[str, Any] | None, str]:
        """A nested block: an object, or in Terraform also a list of at most one."""
        if value is None:
            return None, path
        if self.s.blocks_as_lists and isinstance(value, list):
            if not value:
                return None, path
            if len(value) > 1:
                self.fail(path, f"expected one block, got {len(value)}")
            return self.mapping(value[0], f"{path}[0]"), f"{path}[0]"
        return self.mapping(value, path), path

    def blocks(self, value: Any, path: str) -> list[tuple[Mapping[str, Any], str]]:
        """A repeated block: a list of objects (Terraform may give a lone object)."""
        if value is None:
            return []
        if isinstance(value, list):
            out: list[tuple[Mapping[str, Any], str]] = []
            for i, item in enumerate(value):
                where = f"{path}[{i}]"
                if not isinstance(item, dict):
                    self.fail(where, f"expected a mapping, got {type_name(item)}")
                out.append((item, where))
            return out
        if self.s.blocks_as_lists and isinstance(value, dict):
            return [(value, path)]
        self.fail(path, f"expected a list, got {type_name(value)}")

    def known(self, data: Mapping[str, Any], path: str, allowed: tuple[str, ...]) -> None:
        for key in data:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                self.fail(where, f"unknown field; expected one of {', '.join(sorted(allowed))}")

    # selectors --------------------------------------------------------------

    def labels(self, value: Any, path: str) -> Labels:
        if value is None:
            return ()
        data = self.mapping(value, path)
        out = []
        for key, val in data.items():
            if not isinstance(val, str):
                self.fail(f"{path}.{key}", f"expected a string, got {type_name(val)}")
            out.append((str(key), val))
        return tuple(sorted(out))

    def selector(self, value: Any, path: str) -> LabelSelector | None:
        data, path = self.block(value, path)
        if data is None:
            return None
        s = self.s
        self.known(data, path, (s.match_labels, s.match_expressions))
        match_labels = self.labels(data.get(s.match_labels), f"{path}.{s.match_labels}")
        exprs = []
        for item, where in self.blocks(
            data.get(s.match_expressions), f"{path}.{s.match_expressions}"
        ):
            exprs.append(self.requirement(item, where))
        return LabelSelector(match_labels, tuple(sorted(exprs, key=repr)))

    def requirement(self, data: Mapping[str, Any], path: str) -> LabelRequirement:
        self.known(data, path, ("key", "operator", "values"))
        if "key" not in data:
            self.fail(f"{path}.key", "missing required field")
        key = self.string(data["key"], f"{path}.key")
        operator = self.string(data.get("operator"), f"{path}.operator")
        if operator not in OPERATORS:
            self.fail(
                f"{path}.operator",
                f"unknown operator {operator!r}; expected In, NotIn, Exists or DoesNotExist",
            )
        values = tuple(
            self.string(v, f"{path}.values[{i}]")
            for i, v in enumerate(self.items(data.get("values"), f"{path}.values"))
        )
        if operator in ("In", "NotIn") and not values:
            self.fail(f"{path}.values", f"operator {operator} needs at least one value")
        if operator in ("Exists", "DoesNotExist") and values:
            self.fail(f"{path}.values", f"operator {operator} takes no values")
        return LabelRequirement(key, operator, tuple(sorted(set(values))))

    # rules ------------------------------------------------------------------

    def cidr(
        self, text: str, path: str
    ) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]:
        """The network and the text to keep (canonical when host bits were doubted)."""
        from constructs_lib.verifier.ipset import parse_cidr

        try:
            return parse_cidr(text), text
        except ValueError as exc:
            try:
                net = ipaddress.ip_network(text, strict=False)
            except ValueError:
                self.fail(path, f"invalid CIDR {text!r}: {exc}")
            self.doubt(path, NON_CANONICAL_CIDR, text, f"invalid CIDR {text!r}: {exc}")
            return net, str(net)

    def ip_block(self, value: Any, path: str) -> IPBlock | None:
        data, path = self.block(value, path)
        if data is None:
            return None
        self.known(data, path, ("cidr", "except"))
        cidr = self.string(data.get("cidr"), f"{path}.cidr")
        net, cidr_text = self.cidr(cidr, f"{path}.cidr")
        excepts = []
        for i, item in enumerate(self.items(data.get("except"), f"{path}.except")):
            where = f"{path}.except[{i}]"
            text = self.string(item, where)
            inner, inner_text = self.cidr(text, where)
            if inner.version != net.version or not inner.subnet_of(net):  # type: ignore[arg-type]
                self.doubt(
                    where, EXCEPT_OUTSIDE_CIDR, text, f"{text!r} is not inside cidr {cidr!r}"
                )
                continue
            excepts.append(inner_text)
        return IPBlock(cidr_text, tuple(excepts))

    def peer(self, data: Mapping[str, Any], path: str) -> Peer:
        s = self.s
        self.known(data, path, (s.pod_selector, s.namespace_selector, s.ip_block))
        pods = self.selector(data.get(s.pod_selector), f"{path}.{s.pod_selector}")
        namespaces = self.selector(data.get(s.namespace_selector), f"{path}.{s.namespace_selector}")
        block = self.ip_block(data.get(s.ip_block), f"{path}.{s.ip_block}")
        if block is not None and (pods is not None or namespaces is not None):
            self.fail(
                path,
                f"{s.ip_block} cannot be combined with {s.pod_selector} or {s.namespace_selector}",
            )
        if block is None and pods is None and namespaces is None:
            self.fail(
                path, f"a peer needs {s.pod_selector}, {s.namespace_selector} or {s.ip_block}"
            )
        return Peer(pods, namespaces, block)

    def port(self, data: Mapping[str, Any], path: str) -> PolicyPort:
        s = self.s
        self.known(data, path, ("port", "protocol", s.end_port))
        protocol = data.get("protocol") or "TCP"
        if protocol not in PROTOCOLS:
            self.fail(
                f"{path}.protocol", f"unknown protocol {protocol!r}; expected TCP, UDP or SCTP"
            )
        raw = data.get("port")
        port: int | str | None
        if raw is None or raw == "":
            port = None
        elif isinstance(raw, bool) or not isinstance(raw, int | str):
            self.fail(f"{path}.port", f"expected a number or a port name, got {type_name(raw)}")
        elif isinstance(raw, int) or raw.isdigit():
            port = self.port_number(int(raw), f"{path}.port")
        else:
            if len(raw) > 15 or not _PORT_NAME.match(raw) or not re.search("[a-z]", raw):
                self.fail(f"{path}.port", f"invalid port name {raw!r}")
            port = raw
        end_raw = data.get(s.end_port)
        end_port: int | None = None
        if end_raw not in (None, 0, ""):
            where = f"{path}.{s.end_port}"
            if isinstance(end_raw, str) and end_raw.isdigit():
                end_raw = int(end_raw)
            if isinstance(end_raw, bool) or not isinstance(end_raw, int):
                self.fail(where, f"expected a number, got {type_name(end_raw)}")
            end_port = self.port_number(end_raw, where)
            if not isinstance(port, int):
                self.doubt(
                    where,
                    INVALID_END_PORT,
                    str(end_port),
                    f"{s.end_port} needs a numeric port, got {port!r}",
                )
                end_port = None
            elif end_port < port:
                self.doubt(
                    where,
                    INVALID_END_PORT,
                    str(end_port),
                    f"{s.end_port} {end_port} is below port {port}",
                )
                end_port = None
        return PolicyPort(protocol, port, end_port)

    def port_number(self, value: int, path: str) -> int:
        if not 1 <= value <= 65535:
            self.fail(path, f"port {value} is outside 1-65535")
        return value

    def rules(self, value: Any, path: str, peers_key: str) -> tuple[PolicyRule, ...]:
        out = []
        for data, where in self.blocks(value, path):
            self.known(data, where, (peers_key, "ports"))
            peers = tuple(
                self.peer(item, at)
                for item, at in self.blocks(data.get(peers_key), f"{where}.{peers_key}")
            )
            ports = tuple(
                self.port(item, at) for item, at in self.blocks(data.get("ports"), f"{where}.ports")
            )
            out.append(PolicyRule(peers, ports))
        return tuple(out)

    # whole policy -----------------------------------------------------------

    def policy(
        self,
        metadata: Mapping[str, Any],
        spec_value: Any,
        path: str,
        source: Source,
        namespace: str,
        name: str,
    ) -> NetworkPolicy:
        """``metadata`` has been read by the caller (names may be interpolated)."""
        s = self.s
        spec, spec_path = self.block(spec_value, f"{path}spec")
        if spec is None:
            self.fail(f"{path}spec", "missing required field")
        self.known(spec, spec_path, (s.pod_selector, s.policy_types, "ingress", "egress"))
        pod_selector = self.selector(spec.get(s.pod_selector), f"{spec_path}.{s.pod_selector}")
        if pod_selector is None:
            # Kubernetes reads an omitted podSelector as {} (all pods); Terraform
            # requires the block, and state may record an empty one as [].
            if s.blocks_as_lists and s.pod_selector not in spec:
                self.fail(f"{spec_path}.{s.pod_selector}", "missing required field")
            pod_selector = LabelSelector()
        ingress = self.rules(spec.get("ingress"), f"{spec_path}.ingress", "from")
        egress = self.rules(spec.get("egress"), f"{spec_path}.egress", "to")
        declared: tuple[str, ...] | None = None
        if spec.get(s.policy_types) is not None:
            types_path = f"{spec_path}.{s.policy_types}"
            declared = tuple(
                self.string(t, f"{types_path}[{i}]")
                for i, t in enumerate(self.items(spec[s.policy_types], types_path))
            )
            for i, t in enumerate(declared):
                if t not in (INGRESS, EGRESS):
                    self.fail(
                        f"{types_path}[{i}]",
                        f"unknown policy type {t!r}; expected Ingress or Egress",
                    )
        return NetworkPolicy(
            namespace=namespace,
            name=name,
            pod_selector=pod_selector,
            policy_types=default_policy_types(declared, egress),
            ingress=ingress,
            egress=egress,
            source=replace(source, path=path),
            declared_types=declared or None,
        )
