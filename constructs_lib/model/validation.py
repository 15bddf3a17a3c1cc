"""Validators for the props of every construct and model object.

Each returns the normalised value or raises ``InvalidIntentError`` naming the
construct path and field, showing the bad value and what is allowed. Every
constructor and method checks its props through these, so one kind of prop
(a bool, a list, a name) is refused the same way everywhere.

Syntax checks use ``syntax`` (whole-string matches: a trailing newline is not
a valid name there, as it is not for the API server).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping

from constructs_lib.errors import InvalidIntentError
from constructs_lib.syntax import is_dns_label, is_dns_subdomain, is_label_name, is_port_name

Labels = tuple[tuple[str, str], ...]


def dns_label(path: str, field: str, value: object) -> str:
    """A DNS-1123 label: what Kubernetes allows for namespace names."""
    if not isinstance(value, str) or not is_dns_label(value):
        raise InvalidIntentError(
            path,
            field,
            f"{value!r} is not a DNS-1123 label (lowercase letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters)",
        )
    return value


def label_key(path: str, field: str, key: object) -> str:
    if not isinstance(key, str) or not key:
        raise InvalidIntentError(path, field, f"label key {key!r} must be a non-empty string")
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or not is_dns_subdomain(prefix)):
        raise InvalidIntentError(
            path,
            field,
            f"label key {key!r} has an invalid prefix {prefix!r} (a DNS subdomain of at most "
            "253 characters, e.g. 'example.com')",
        )
    if not is_label_name(name):
        raise InvalidIntentError(
            path,
            field,
            f"label key {key!r} has an invalid name {name!r} (at most 63 characters: letters, "
            "digits, '-', '_' and '.', starting and ending with a letter or digit)",
        )
    return key


def label_value(path: str, field: str, key: str, value: object) -> str:
    if not isinstance(value, str) or (value and not is_label_name(value)):
        raise InvalidIntentError(
            path,
            field,
            f"label {key!r} has an invalid value {value!r} (at most 63 characters: letters, "
            "digits, '-', '_' and '.', starting and ending with a letter or digit)",
        )
    return value


def labels(path: str, field: str, value: Mapping[str, str] | None, *, allow_empty: bool) -> Labels:
    """Normalise a label mapping into a sorted tuple of pairs."""
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise InvalidIntentError(path, field, f"{value!r} is not a mapping of label keys to values")
    if not value and not allow_empty:
        raise InvalidIntentError(
            path,
            field,
            "an empty label selector selects every pod; declare labels, or use "
            "namespace.all_workloads() to allow all pods of a namespace explicitly",
        )
    return tuple(
        sorted(
            (label_key(path, field, k), label_value(path, field, k, v)) for k, v in value.items()
        )
    )


def port_name(path: str, field: str, value: object) -> str:
    """An IANA service name, as Kubernetes requires for named container ports."""
    if not isinstance(value, str) or not is_port_name(value):
        raise InvalidIntentError(
            path,
            field,
            f"{value!r} is not a valid port name (1-15 lowercase letters, digits and '-', "
            "at least one letter, no '--', not starting or ending with '-')",
        )
    return value


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def cidr(path: str, field: str, value: object) -> Network:
    if not isinstance(value, str):
        raise InvalidIntentError(
            path, field, f"{value!r} is not a CIDR string such as '10.0.0.0/8'"
        )
    if "%" in value:
        raise InvalidIntentError(
            path,
            field,
            f"{value!r} has an IPv6 zone ('%...'); Kubernetes ipBlocks take plain CIDRs "
            "such as 'fe80::/64'",
        )
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise InvalidIntentError(
                path,
                field,
                f"{value!r} is not a valid CIDR (e.g. '203.0.113.0/24' or '2001:db8::/32')",
            ) from None
        fixed = ipaddress.ip_network(value, strict=False)
        raise InvalidIntentError(
            path, field, f"{value!r} has host bits set; did you mean '{fixed}'?"
        ) from None


def boolean(path: str, field: str, value: object) -> bool:
    """A yes/no prop: only ``True`` or ``False`` (a string such as 'no' is truthy)."""
    if not isinstance(value, bool):
        raise InvalidIntentError(
            path, field, f"{value!r} is not True or False; write {field}=True or {field}=False"
        )
    return value


def text(path: str, field: str, value: object, what: str) -> str:
    """A non-empty string prop (a path, a context name)."""
    if not isinstance(value, str) or not value:
        raise InvalidIntentError(path, field, f"{value!r} is not {what} (a non-empty string)")
    return value


def items(
    path: str, field: str, value: object, kind: str, example: Callable[[object], str]
) -> tuple[object, ...]:
    """A list prop: a list, tuple or other iterable (of ``kind``, checked by the caller).

    A bare value is refused, not wrapped: a string would otherwise be read as
    its characters, and ``ports=8080`` names no protocol. ``example(value)``
    is the value written as a list item, for the message's fix.
    """
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise InvalidIntentError(
            path, field, f"{value!r} is not a list of {kind}; write {field}=[{example(value)}]"
        )
    return tuple(value)


def one_of(path: str, field: str, value: object, allowed: tuple[str, ...], what: str) -> str:
    """A string from a closed set, e.g. ``default_deny`` or ``isolate()``'s direction."""
    if not isinstance(value, str) or value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise InvalidIntentError(path, field, f"{value!r} is not one of {choices} ({what})")
    return value
