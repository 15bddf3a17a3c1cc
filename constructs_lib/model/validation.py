"""Validators for Kubernetes names, labels and CIDRs.

Each returns the normalised value or raises ``InvalidIntentError`` naming the
construct path and field, showing the bad value and what is allowed.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

from constructs_lib.errors import InvalidIntentError

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

Labels = tuple[tuple[str, str], ...]


def dns_label(path: str, field: str, value: object) -> str:
    """A DNS-1123 label: what Kubernetes allows for namespace names."""
    if not isinstance(value, str) or len(value) > 63 or not _DNS_LABEL.match(value):
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
    if "/" in key and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        raise InvalidIntentError(
            path,
            field,
            f"label key {key!r} has an invalid prefix {prefix!r} (a DNS subdomain of at most "
            "253 characters, e.g. 'example.com')",
        )
    if len(name) > 63 or not _LABEL_NAME.match(name):
        raise InvalidIntentError(
            path,
            field,
            f"label key {key!r} has an invalid name {name!r} (at most 63 characters: letters, "
            "digits, '-', '_' and '.', starting and ending with a letter or digit)",
        )
    return key


def label_value(path: str, field: str, key: str, value: object) -> str:
    if not isinstance(value, str) or len(value) > 63 or (value and not _LABEL_NAME.match(value)):
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
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= 15
        or not _PORT_NAME.match(value)
        or "--" in value
        or not any(c.isalpha() for c in value)
    ):
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


def one_of(path: str, field: str, value: object, allowed: tuple[str, ...], what: str) -> str:
    """A string from a closed set, e.g. ``default_deny`` or ``isolate()``'s direction."""
    if not isinstance(value, str) or value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise InvalidIntentError(path, field, f"{value!r} is not one of {choices} ({what})")
    return value
