"""The reader rule, written once: every field netfence reads is read exactly or refused.

Terraform writes snake_case blocks that may be objects or one-element lists;
Kubernetes writes camelCase objects. One reader parameterised by the spelling
keeps the semantics (and the error messages) identical for both, and every
error names the file, the document and the field path as the user wrote it.

Each value is read as the API server (or Terraform) reads it: its type, its
range and its syntax (label keys and values, names, CIDRs, ports); anything
they would refuse is refused here, and unknown fields are refused in every
place where Kubernetes refuses them. Strings in Terraform configuration go
through :meth:`Reader.string`, the one place that refuses Terraform templates
(``${...}``, ``%{...}``), which Terraform evaluates and netfence cannot.

Generated inputs repeat the same selectors, peers, ports and rules thousands
of times, so the reader keeps what it has read by content (:class:`ReadCache`):
a valid result depends only on the item and the spelling, never on where it
stands (paths appear only in refusals), so an item equal to one read before is
that same immutable result.
"""

from __future__ import annotations

import ipaddress
import marshal
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, NoReturn, TypeVar

from constructs_lib import syntax
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
_DIGITS = re.compile(r"[0-9]+")
_CIDR = re.compile(r"[0-9A-Fa-f:.]+/(0|[1-9][0-9]{0,2})")
_TEMPLATE = re.compile(r"\$\$\{|%%\{|\$\{|%\{")
API_VERSION = "networking.k8s.io/v1"
# ObjectMeta as the API server accepts it; Terraform's metadata block (config, then state).
K8S_METADATA = (
    "annotations",
    "creationTimestamp",
    "deletionGracePeriodSeconds",
    "deletionTimestamp",
    "finalizers",
    "generateName",
    "generation",
    "labels",
    "managedFields",
    "name",
    "namespace",
    "ownerReferences",
    "resourceVersion",
    "selfLink",
    "uid",
)
TF_METADATA = (
    "annotations",
    "generate_name",
    "generation",
    "labels",
    "name",
    "namespace",
    "resource_version",
    "uid",
)

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
class Fields:
    """The fields each block of one spelling may hold, as sets (checked in one step)."""

    selector: frozenset[str]
    requirement: frozenset[str]
    ip_block: frozenset[str]
    peer: frozenset[str]
    port: frozenset[str]
    spec: frozenset[str]
    metadata: frozenset[str]
    rule: Mapping[str, frozenset[str]]  # by the key of the rule's peers ("from", "to")


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
    # Terraform configuration: strings may hold templates that Terraform evaluates.
    templates: bool = False

    @property
    def terraform(self) -> bool:
        return self.blocks_as_lists

    def with_templates(self) -> Spelling:
        return replace(self, templates=True)

    @cached_property
    def fields(self) -> Fields:
        return Fields(
            selector=frozenset((self.match_labels, self.match_expressions)),
            requirement=frozenset(("key", "operator", "values")),
            ip_block=frozenset(("cidr", "except")),
            peer=frozenset((self.pod_selector, self.namespace_selector, self.ip_block)),
            port=frozenset(("port", "protocol", self.end_port)),
            spec=frozenset((self.pod_selector, self.policy_types, "ingress", "egress")),
            metadata=frozenset(TF_METADATA if self.terraform else K8S_METADATA),
            rule={key: frozenset((key, "ports")) for key in ("from", "to")},
        )


# plans and state: values Terraform has already evaluated
TERRAFORM_VALUES = Spelling(
    "pod_selector",
    "namespace_selector",
    "ip_block",
    "match_labels",
    "match_expressions",
    "policy_types",
    "end_port",
    True,
)
TERRAFORM = TERRAFORM_VALUES.with_templates()
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


# Label keys and values already read and valid (without "{", so Terraform's template
# reading leaves them as they are): most selectors repeat the same few.
_LABEL_KEYS: set[str] = set()
_LABEL_VALUES: set[str] = set()


T = TypeVar("T")


def content_key(value: Any) -> bytes | None:
    """The exact content of ``value`` as bytes, or None when it is not plain data.

    marshal writes only the exact builtin types (a subclass, a datetime, an enum
    is refused), keeps 53, "53", 53.0 and True apart, a list from a tuple, NaN
    from null, and what it writes reads back: equal bytes are equal content of
    the same types. Key order is part of the bytes, so the same mapping in
    another order is only a miss. Version 2 writes a string the same way whether
    it is interned or not.
    """
    try:
        return marshal.dumps(value, 2)
    except ValueError:  # not plain data, or nested too deep: read it, never remember it
        return None


class ReadCache:
    """Results of valid reads by spelling and content, for one call of a loader.

    The Readers of one input share it (a YAML file has a Reader per document)
    and it goes with them, so memory never grows from one input to the next.
    """

    def __init__(self) -> None:
        self._tables: dict[Spelling, _Tables] = {}

    def tables(self, spelling: Spelling) -> _Tables:
        tables = self._tables.get(spelling)
        if tables is None:
            tables = self._tables[spelling] = _Tables()
        return tables


class _Tables:
    __slots__ = ("other", "peers", "ports", "rules", "selectors")

    def __init__(self) -> None:
        self.selectors: dict[bytes | None, LabelSelector | None] = {}  # (None is never kept)
        self.peers: dict[bytes | None, Peer] = {}
        self.ports: dict[bytes | None, PolicyPort] = {}
        self.rules: dict[str, dict[bytes | None, PolicyRule]] = {"from": {}, "to": {}}
        self.other: dict[str, dict[bytes | None, Any]] = {}  # other loaders' (Reader.table)


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

    def __init__(
        self,
        file: str,
        document: int | None,
        spelling: Spelling,
        cache: ReadCache | None = None,
    ) -> None:
        self.file = file
        self.document = document
        self.s = spelling
        self.cache = ReadCache() if cache is None else cache
        self._seen = self.cache.tables(spelling)

    def table(self, name: str) -> dict[bytes | None, Any]:
        """A table of this reader's cache for what another loader reads by content
        (``read_new``): it lives as long as the cache, one call of a loader."""
        return self._seen.other.setdefault(name, {})

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
        """A string as the consumer will see it: Terraform's escapes undone, templates refused."""
        if not isinstance(value, str):
            self.fail(path, f"expected a string, got {type_name(value)}")
        if self.s.templates and ("{" in value):
            return self.untemplated(value, path)
        return value

    def untemplated(self, value: str, path: str) -> str:
        out = []
        last = 0
        for match in _TEMPLATE.finditer(value):
            token = match.group()
            if token in ("${", "%{"):
                self.fail(
                    path,
                    f"{value!r} is a Terraform template ({token}...}}), which Terraform "
                    "evaluates and netfence cannot verify: write the literal value "
                    f"(or ${token} to mean the characters {token})",
                )
            out.append(value[last : match.start()] + token[1:])
            last = match.end()
        out.append(value[last:])
        return "".join(out)

    def boolean(self, value: Any, path: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(path, f"expected true or false, got {type_name(value)} {value!r}")
        return value

    def required(self, data: Mapping[str, Any], key: str, path: str) -> Any:
        value = data.get(key)
        if value is None:
            self.fail(f"{path}.{key}" if path else key, "missing required field")
        return value

    # names ------------------------------------------------------------------

    def name(self, value: Any, path: str, *, label: bool = False) -> str:
        """An object name: a DNS subdomain (a DNS label for namespaces, ``label=True``)."""
        return self.name_syntax(self.string(value, path), path, label=label)

    def name_syntax(self, text: str, path: str, *, label: bool = False) -> str:
        """``name`` for a string already read (a resolved Terraform reference)."""
        if syntax.is_dns_label(text) if label else syntax.is_dns_subdomain(text):
            return text
        limit, what = (63, "a DNS label") if label else (253, "a DNS subdomain")
        self.fail(
            path,
            f"invalid name {text!r}: must be {what} (at most {limit} characters: "
            "lowercase letters, digits and '-', starting and ending with a letter or digit"
            + ("" if label else ", dot-separated")
            + ")",
        )

    def label_key(self, value: Any, path: str) -> str:
        if value.__class__ is str and value in _LABEL_KEYS:
            return value
        if not isinstance(value, str):
            self.fail(
                path,
                f"label key {value!r} is a {type_name(value)}; label keys are strings "
                "(quote it in YAML)",
            )
        key = self.string(value, path)
        prefix, _, name = key.rpartition("/")
        problem = None
        if not syntax.is_label_name(name):
            problem = (
                "the name part must be 1-63 characters: letters, digits, '-', '_' and '.', "
                "starting and ending with a letter or digit"
            )
        elif "/" in key and (not syntax.is_dns_subdomain(prefix)):
            problem = "the prefix before '/' must be a DNS subdomain (lowercase, dot-separated)"
        if problem:
            self.fail(path, f"invalid label key {key!r}: {problem}")
        if key is value and "{" not in key:
            _LABEL_KEYS.add(key)
        return key

    def label_value(self, value: Any, path: str) -> str:
        if value.__class__ is str and value in _LABEL_VALUES:
            return value
        text = self.string(value, path)
        if text and not syntax.is_label_name(text):
            self.fail(
                path,
                f"invalid label value {text!r}: at most 63 characters, letters, digits, "
                "'-', '_' and '.', starting and ending with a letter or digit (or empty)",
            )
        if text is value and "{" not in text:
            _LABEL_VALUES.add(text)
        return text

    def cidr(self, value: Any, path: str) -> str:
        """A CIDR as the API server parses it (an address with a prefix length, no zone)."""
        from constructs_lib.verifier.ipset import parse_cidr

        text = self.string(value, path)
        if not _CIDR.fullmatch(text):
            reason = (
                "a bare address; add the prefix length (/32 or /128 for one address)"
                if "/" not in text and "%" not in text
                else "expected an address, '/' and a prefix length, without a zone"
            )
            self.fail(path, f"invalid CIDR {text!r}: {reason}")
        try:
            parse_cidr(text)
        except ValueError as exc:
            try:
                net = ipaddress.ip_network(text, strict=False)
            except ValueError:
                self.fail(path, f"invalid CIDR {text!r}: {exc}")
            # host bits set: refused, unless lint reads on with the network it names
            self.doubt(path, NON_CANONICAL_CIDR, text, f"invalid CIDR {text!r}: {exc}")
            return str(net)
        return text

    def block(self, value: Any, path: str) -> tuple[Mapping[str, Any] | None, str]:
        """A nested block: an object, or in Terraform also a list of at most one."""
        if value.__class__ is dict:
            return value, path
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
        items, indexed = self.block_items(value, path)
        if not indexed:
            return [(item, path) for item in items]
        return [(item, f"{path}[{i}]") for i, item in enumerate(items)]

    def block_items(self, value: Any, path: str) -> tuple[Sequence[Mapping[str, Any]], bool]:
        """``blocks`` without the paths: the objects, and whether item i is at ``path[i]``
        (a lone Terraform object is at ``path``). Every item is checked before any is read."""
        if value is None:
            return (), True
        if isinstance(value, list):
            for i, item in enumerate(value):
                if not isinstance(item, dict):
                    self.fail(f"{path}[{i}]", f"expected a mapping, got {type_name(item)}")
            return value, True
        if self.s.blocks_as_lists and isinstance(value, dict):
            return (value,), False
        self.fail(path, f"expected a list, got {type_name(value)}")

    def each(
        self,
        value: Any,
        path: str,
        seen: dict[bytes | None, T],
        read: Callable[[Mapping[str, Any], str], T],
    ) -> tuple[T, ...]:
        """A repeated block read with ``read``, each content once (``seen`` holds the
        results so far); an item's path is spelled out only when it is read."""
        items, indexed = self.block_items(value, path)
        out = []
        item: Any
        for i, item in enumerate(items):
            key = content_key(item)
            result = seen.get(key)
            if result is None:
                where = f"{path}[{i}]" if indexed else path
                result = self.read_new(seen, key, item, where, read)
            out.append(result)
        return tuple(out)

    def read_new(
        self,
        seen: dict[bytes | None, T],
        key: bytes | None,
        value: Any,
        path: str,
        read: Callable[[Any, str], T],
    ) -> T:
        """``read(value, path)``, remembered under ``key`` unless it recorded a doubt.

        Whether a read records a doubt depends on the content alone (each doubt
        tests values of the item itself, never its path or what was read before),
        so content once read without a doubt reads again without one, and under
        lint a remembered result can stand only where a re-read would record
        nothing: every doubt is still recorded at each path where it occurs. A
        refusal raises, so it is never remembered.
        """
        doubts = _DOUBTS.get()
        before = 0 if doubts is None else len(doubts)
        result = read(value, path)
        if key is not None and result is not None and (doubts is None or len(doubts) == before):
            seen[key] = result
        return result

    def known(self, data: Mapping[str, Any], path: str, allowed: Collection[str]) -> None:
        if not isinstance(allowed, frozenset):
            allowed = frozenset(allowed)
        if data.__class__ is dict and data.keys() <= allowed:
            return
        for key in data:
            if key not in allowed and not (self.s.templates and key == "//"):
                where = f"{path}.{key}" if path else key
                self.fail(where, f"unknown field; expected one of {', '.join(sorted(allowed))}")

    # selectors --------------------------------------------------------------

    def labels(self, value: Any, path: str) -> Labels:
        if value is None:
            return ()
        data = self.mapping(value, path)
        keys, values = _LABEL_KEYS, _LABEL_VALUES
        for raw, val in data.items():
            if not (raw in keys and val.__class__ is str and val in values):
                break
        else:  # every pair read before: valid, and the same text after reading
            return tuple(sorted(data.items()))
        out: dict[str, str] = {}
        for raw, val in data.items():
            where = f"{path}.{raw}"
            key = self.label_key(raw, where)
            if key in out:
                self.fail(where, f"label {key!r} is given twice")
            out[key] = self.label_value(val, where)
        return tuple(sorted(out.items()))

    def selector(self, value: Any, path: str) -> LabelSelector | None:
        if value is None:
            return None
        key = content_key(value)
        seen = self._seen.selectors
        hit = seen.get(key)
        return hit if hit is not None else self.read_new(seen, key, value, path, self.new_selector)

    def new_selector(self, value: Any, path: str) -> LabelSelector | None:
        data, path = self.block(value, path)
        if data is None:
            return None
        s = self.s
        self.known(data, path, s.fields.selector)
        # (field paths are spelled out only for the fields present: this runs per peer)
        raw = data.get(s.match_labels)
        match_labels = () if raw is None else self.labels(raw, f"{path}.{s.match_labels}")
        raw = data.get(s.match_expressions)
        if raw is None:
            return LabelSelector(match_labels)
        exprs = [
            self.requirement(item, where)
            for item, where in self.blocks(raw, f"{path}.{s.match_expressions}")
        ]
        return LabelSelector(match_labels, tuple(sorted(exprs, key=repr)))

    def requirement(self, data: Mapping[str, Any], path: str) -> LabelRequirement:
        self.known(data, path, self.s.fields.requirement)
        key = self.label_key(self.required(data, "key", path), f"{path}.key")
        operator = self.string(self.required(data, "operator", path), f"{path}.operator")
        if operator not in OPERATORS:
            self.fail(
                f"{path}.operator",
                f"unknown operator {operator!r}; expected In, NotIn, Exists or DoesNotExist",
            )
        values = tuple(
            self.label_value(v, f"{path}.values[{i}]")
            for i, v in enumerate(self.items(data.get("values"), f"{path}.values"))
        )
        if operator in ("In", "NotIn") and not values:
            self.fail(f"{path}.values", f"operator {operator} needs at least one value")
        if operator in ("Exists", "DoesNotExist") and values:
            self.fail(f"{path}.values", f"operator {operator} takes no values")
        return LabelRequirement(key, operator, tuple(sorted(set(values))))

    # rules ------------------------------------------------------------------

    def ip_block(self, value: Any, path: str) -> IPBlock | None:
        data, path = self.block(value, path)
        if data is None:
            return None
        self.known(data, path, self.s.fields.ip_block)
        cidr = self.cidr(self.required(data, "cidr", path), f"{path}.cidr")
        excepts = []
        for i, item in enumerate(self.items(data.get("except"), f"{path}.except")):
            text = self.except_cidr(item, f"{path}.except[{i}]", cidr)
            if text is not None:
                excepts.append(text)
        return IPBlock(cidr, tuple(excepts))

    def except_cidr(self, value: Any, path: str, outer: str) -> str | None:
        """An ``except`` entry: a strict subset of its cidr, as the API server requires
        (None: lint collected the refusal as a doubt and reads on without it)."""
        from constructs_lib.verifier.ipset import parse_cidr

        text = self.cidr(value, path)
        inner, net = parse_cidr(text), parse_cidr(outer)
        if inner.version != net.version or not inner.subnet_of(net):  # type: ignore[arg-type]
            self.doubt(path, EXCEPT_OUTSIDE_CIDR, text, f"{text!r} is not inside cidr {outer!r}")
            return None
        if inner.prefixlen == net.prefixlen:
            self.fail(path, f"{text!r} is the whole cidr {outer!r}; except must be a part of it")
        return text

    def peer(self, data: Mapping[str, Any], path: str) -> Peer:
        s = self.s
        self.known(data, path, s.fields.peer)
        raw = data.get(s.pod_selector)
        pods = None if raw is None else self.selector(raw, f"{path}.{s.pod_selector}")
        raw = data.get(s.namespace_selector)
        namespaces = None if raw is None else self.selector(raw, f"{path}.{s.namespace_selector}")
        raw = data.get(s.ip_block)
        block = None if raw is None else self.ip_block(raw, f"{path}.{s.ip_block}")
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
        self.known(data, path, s.fields.port)
        raw = data.get("protocol")
        protocol = "TCP" if raw is None else self.protocol(raw, f"{path}.protocol")
        raw = data.get("port")
        port: int | str | None
        if raw.__class__ is int and 1 <= raw <= 65535 and data.get(s.end_port) is None:
            return PolicyPort(protocol, raw)  # the common case, valid as it stands
        if isinstance(raw, str):
            raw = self.string(raw, f"{path}.port")
        if raw is None or (raw == "" and s.terraform):
            # Terraform's provider sends no port for an empty string.
            port = None
        elif isinstance(raw, bool) or not isinstance(raw, int | str):
            self.fail(
                f"{path}.port", f"expected a number or a port name, got {type_name(raw)} {raw!r}"
            )
        elif isinstance(raw, int):
            port = self.port_number(raw, f"{path}.port")
        elif _DIGITS.fullmatch(raw):
            if not s.terraform:
                self.fail(
                    f"{path}.port",
                    f"port {raw!r} is a string, which Kubernetes reads as a port name and "
                    f"refuses: write {int(raw)} (a number) without quotes",
                )
            port = self.port_number(int(raw), f"{path}.port")
        else:
            if not syntax.is_port_name(raw):
                self.fail(
                    f"{path}.port",
                    f"invalid port name {raw!r}: at most 15 lowercase letters, digits and "
                    "single '-', with at least one letter, not starting or ending with '-'",
                )
            port = raw
        end_raw = data.get(s.end_port)
        if isinstance(end_raw, str):
            end_raw = self.string(end_raw, f"{path}.{s.end_port}")
        end_port: int | None = None
        # Terraform's provider sends no endPort for 0 (its zero value); Kubernetes refuses 0.
        if end_raw is not None and not (s.terraform and end_raw in (0, "", "0")):
            where = f"{path}.{s.end_port}"
            if s.terraform and isinstance(end_raw, str) and _DIGITS.fullmatch(end_raw):
                end_raw = int(end_raw)
            if isinstance(end_raw, bool) or not isinstance(end_raw, int):
                self.fail(where, f"expected a number, got {type_name(end_raw)} {end_raw!r}")
            if port is None:
                self.fail(where, f"{s.end_port} needs a numeric port; port is not set")
            end_port = self.port_number(end_raw, where, s.end_port)
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

    def protocol(self, value: Any, path: str) -> str:
        if value is None:
            return "TCP"
        text = self.string(value, path)
        if text not in PROTOCOLS:
            self.fail(path, f"unknown protocol {text!r}; expected TCP, UDP or SCTP")
        return text

    def port_number(self, value: int, path: str, what: str = "port") -> int:
        if not 1 <= value <= 65535:
            self.fail(path, f"{what} {value} is outside 1-65535")
        return value

    def rules(self, value: Any, path: str, peers_key: str) -> tuple[PolicyRule, ...]:
        def read(data: Mapping[str, Any], where: str) -> PolicyRule:
            return self.rule(data, where, peers_key)

        return self.each(value, path, self._seen.rules[peers_key], read)

    def rule(self, data: Mapping[str, Any], path: str, peers_key: str) -> PolicyRule:
        self.known(data, path, self.s.fields.rule[peers_key])
        raw = data.get(peers_key)
        seen = self._seen
        peers = () if raw is None else self.each(raw, f"{path}.{peers_key}", seen.peers, self.peer)
        raw = data.get("ports")
        ports = () if raw is None else self.each(raw, f"{path}.ports", seen.ports, self.port)
        return PolicyRule(peers, ports)

    # whole policy -----------------------------------------------------------

    def metadata(
        self, value: Any, path: str, *, namespaced: bool = True, name_label: bool = False
    ) -> tuple[Mapping[str, Any], str, str | None, str]:
        """(metadata, its path, namespace, name) of a Kubernetes object.

        Terraform names may be references, which the Terraform loader resolves
        itself; it passes them through ``name``/``namespace`` after resolving.
        """
        metadata, meta_path = self.block(value, path)
        if metadata is None:
            self.fail(path, "missing required field")
        self.known(metadata, meta_path, self.s.fields.metadata)
        name = self.name(
            self.required(metadata, "name", meta_path), f"{meta_path}.name", label=name_label
        )
        namespace = None
        if namespaced:
            raw = metadata.get("namespace")
            namespace = (
                "default" if raw is None else self.name(raw, f"{meta_path}.namespace", label=True)
            )
        return metadata, meta_path, namespace, name

    def api_version(self, data: Mapping[str, Any], path: str, expected: str) -> None:
        value = data.get("apiVersion")
        where = f"{path}apiVersion"
        if value is None:
            self.fail(where, f"missing required field; expected {expected!r}")
        if value != expected:
            self.fail(where, f"expected {expected!r}, got {type_name(value)} {value!r}")

    def policy(self, spec_value: Any, source: Source, namespace: str, name: str) -> NetworkPolicy:
        """The policy of ``spec_value``, which is at ``{source.path}spec``; the caller has
        read its metadata (Terraform names may be references)."""
        s = self.s
        path = source.path
        spec, spec_path = self.block(spec_value, f"{path}spec")
        if spec is None:
            self.fail(f"{path}spec", "missing required field")
        self.known(spec, spec_path, s.fields.spec)
        pod_selector = self.selector(spec.get(s.pod_selector), f"{spec_path}.{s.pod_selector}")
        if pod_selector is None:
            # Kubernetes reads an omitted podSelector as {} (all pods); Terraform
            # requires the block, and state may record an empty one as [].
            if s.blocks_as_lists and s.pod_selector not in spec:
                self.fail(f"{spec_path}.{s.pod_selector}", "missing required field")
            pod_selector = LabelSelector()
        raw = spec.get("ingress")
        ingress = () if raw is None else self.rules(raw, f"{spec_path}.ingress", "from")
        raw = spec.get("egress")
        egress = () if raw is None else self.rules(raw, f"{spec_path}.egress", "to")
        declared: tuple[str, ...] | None = None
        raw = spec.get(s.policy_types)
        if raw is not None:
            types_path = f"{spec_path}.{s.policy_types}"
            types = []
            for i, t in enumerate(self.items(raw, types_path)):
                if t.__class__ is not str or "{" in t:
                    t = self.string(t, f"{types_path}[{i}]")
                types.append(t)
            declared = tuple(types)
            for i, t in enumerate(declared):
                if t not in (INGRESS, EGRESS):
                    self.fail(
                        f"{types_path}[{i}]",
                        f"unknown policy type {t!r}; expected Ingress or Egress",
                    )
            if len(declared) > 2:
                self.fail(types_path, "at most two policy types (Ingress, Egress)")
            if not declared:
                if s.terraform:
                    self.fail(
                        types_path,
                        "an empty list; Terraform requires at least one of Ingress, Egress",
                    )
                # The API server defaults an empty list exactly like an omitted one.
                declared = None
        elif s.terraform:
            self.fail(
                f"{spec_path}.{s.policy_types}", "missing required field (Ingress, Egress or both)"
            )
        types_read = default_policy_types(declared, egress)
        return NetworkPolicy(
            namespace, name, pod_selector, types_read, ingress, egress, source, declared or None
        )
