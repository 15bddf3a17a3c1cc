"""Atomic file output: a reader never sees a half-written artifact, and none is left behind.

Every file netfence writes (synthesized artifacts, ``--output``, ``--write``)
goes through :func:`atomic_writer`: the text goes to a temporary file beside
the target, which is renamed over it only when complete. Temporary files are
named ``.<target>.netfence-<pid>-<random>.tmp``; they are removed on any
error or interruption that Python sees, and the next write to the same
target removes those a killed process (``kill -9``) left behind.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TextIO

from constructs_lib.errors import OutputError

_TMP = re.compile(r"\.netfence-([0-9]+)-[^/]*\.tmp")


def _check_parent(target: Path, make_parents: bool) -> None:
    parent = target.parent
    for ancestor in (parent, *parent.parents):
        if ancestor.exists() or ancestor.is_symlink():
            if not ancestor.is_dir():
                raise OutputError(
                    str(target), f"cannot write: {ancestor} is a file, not a directory"
                )
            break
    if not parent.is_dir():
        if not make_parents:
            raise OutputError(str(target), f"cannot write: directory {parent} does not exist")
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(str(target), f"cannot create {parent}: {exc.strerror}") from None
    if target.is_dir():
        raise OutputError(str(target), "cannot write: it is a directory; name a file")


def _remove_stale(target: Path) -> None:
    prefix = f".{target.name}.netfence-"
    try:
        names = [n for n in os.listdir(target.parent) if n.startswith(prefix)]
    except OSError:
        return
    for name in names:
        match = _TMP.fullmatch(name[len(target.name) + 1 :])
        if match is None or _alive(int(match.group(1))):
            continue
        with suppress(OSError):
            (target.parent / name).unlink()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


@contextmanager
def atomic_writer(path: str | os.PathLike[str], *, make_parents: bool = False) -> Iterator[TextIO]:
    """A text handle whose content replaces ``path`` only once the block completes.

    Every failure names ``path`` (never the temporary file): a missing or
    non-directory parent, a full disk, a read-only directory.
    """
    target = Path(path)
    _check_parent(target, make_parents)
    _remove_stale(target)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.netfence-{os.getpid()}-", suffix=".tmp", dir=target.parent
        )
    except OSError as exc:
        raise OutputError(str(target), f"cannot write: {exc.strerror or exc}") from None
    try:
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                yield handle
            os.replace(tmp, target)
        except OSError as exc:
            if isinstance(exc, (BrokenPipeError, OutputError)):
                raise
            raise OutputError(str(target), f"cannot write: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: str | os.PathLike[str], text: str, *, make_parents: bool = True) -> None:
    with atomic_writer(path, make_parents=make_parents) as handle:
        handle.write(text)
