"""Errors raised by netfence.

Every error the library raises on purpose derives from ``NetfenceError`` and
from the builtin that matches its meaning, so callers can catch either::

    NetfenceError
    ├── InvalidIntentError(ValueError)   a construct was declared with bad input;
    │                                    the message names the construct path,
    │                                    the field, the bad value, what is allowed
    ├── ArtifactError(ValueError)        a file on disk (synthesized JSON, YAML
    │                                    manifests, plans, inventories) cannot be
    │                                    read; the message names the file, the
    │                                    document index and the field path
    └── OutputError(OSError)             synthesis cannot write its output (disk
                                         full, read-only, another synthesis holds
                                         the outdir); names the path and the cause

The CLI and ``python -m stacks`` map them to exit code 2.
"""

from __future__ import annotations


class NetfenceError(Exception):
    """Base class of every error netfence raises deliberately."""


class InvalidIntentError(NetfenceError, ValueError):
    """Bad input on a construct or model object.

    ``path`` is the construct path (``prod/shop/api``), ``field`` the argument
    that is wrong.
    """

    def __init__(self, path: str, field: str, message: str) -> None:
        self.path = path
        self.field = field
        super().__init__(f"{path}: {field}: {message}")


class ArtifactError(NetfenceError, ValueError):
    """A file that netfence reads is missing, unreadable or malformed."""

    def __init__(
        self,
        file: str,
        message: str,
        *,
        document: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.document = document
        self.field = field
        where = file
        if document is not None:
            where += f" (document {document})"
        if field:
            where += f" at {field}"
        super().__init__(f"{where}: {message}")


class OutputError(NetfenceError, OSError):
    """Synthesis could not write its output; the previous artifacts are left as they were."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")
