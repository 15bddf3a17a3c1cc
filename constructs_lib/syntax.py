"""Kubernetes name syntax, shared by the SDK validators and the artifact loaders.

Every predicate matches the WHOLE string (``re.fullmatch``): ``re.match``
with ``$`` accepts a trailing newline, which the API server and Terraform
reject, so a name would pass netfence and fail on apply.
"""

from __future__ import annotations

import re

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_PORT_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def is_dns_label(value: str) -> bool:
    """DNS-1123 label: namespace and object names (at most 63 characters)."""
    return len(value) <= 63 and _DNS_LABEL.fullmatch(value) is not None


def is_dns_subdomain(value: str) -> bool:
    """DNS-1123 subdomain: label key prefixes (at most 253 characters)."""
    return len(value) <= 253 and _DNS_SUBDOMAIN.fullmatch(value) is not None


def is_label_name(value: str) -> bool:
    """The name part of a label key, and a non-empty label value (at most 63)."""
    return len(value) <= 63 and _LABEL_NAME.fullmatch(value) is not None


def is_port_name(value: str) -> bool:
    """IANA service name: 1-15 of [a-z0-9-], a letter, no '--', no '-' at either end."""
    return (
        len(value) <= 15
        and _PORT_NAME.fullmatch(value) is not None
        and "--" not in value
        and any(c.isalpha() for c in value)
    )


def is_path_segment(value: str) -> bool:
    """One directory name: letters, digits, '-', '_', '.', starting with a letter
    or digit (so never '.', '..', a hidden name or a path with a separator)."""
    return len(value) <= 255 and _PATH_SEGMENT.fullmatch(value) is not None
