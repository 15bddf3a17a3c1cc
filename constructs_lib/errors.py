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
    ├── OutputError(OSError)             a file netfence writes cannot be written
    │                                    (missing directory, disk full, read-only,
    │                                    another synthesis holds the outdir); the
    │                                    message names that file (never a temporary
    │                                    one) and the cause
    └── ScaffoldError(ValueError)        ``netfence init`` cannot write the project
                                         there (not empty, bad --name)

The CLI and ``python -m stacks`` map all of them to exit code 2; anything else
is an internal error (3).
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
    """A file or stack directory netfence writes cannot be written; what was there is kept."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


class ScaffoldError(NetfenceError, ValueError):
    """``netfence init`` refuses the target directory or the project name."""
