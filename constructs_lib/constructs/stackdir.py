"""Stack directories that always hold one complete synthesis: the previous one or the new one.

``<outdir>/stacks/<stack>/`` after a synthesis::

    cdk.tf.json        -> .netfence/current/cdk.tf.json
    manifests.yaml     -> .netfence/current/manifests.yaml
    .netfence/current  -> gen-<n>     the one pointer a synthesis switches
    .netfence/gen-<n>/                everything one synthesis wrote, complete
    .terraform/ ...                   Terraform's own files, never touched

A synthesis writes a whole new generation beside the current one (cdktf's
own write included, so its partial files are never visible), then switches
``current`` with a single rename(2) of a symlink: a reader, Terraform or a
kill -9 at any moment finds either every old file or every new one. The
stack directory itself stays a real directory in place, so Terraform and
the cdktf CLI keep running there (``terraform init``'s ``.terraform`` and
lock file survive a re-synth, ``../../../`` state paths still resolve), and
every path users and tools name is unchanged.

One synthesis at a time per outdir: ``outdir_lock`` takes an flock on
``<outdir>/.netfence-synth.lock`` (released by the kernel if the holder
dies) and writes who holds it, for the message the next one prints.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from constructs_lib.errors import OutputError

LOCK_FILE = ".netfence-synth.lock"
STATE_DIR = ".netfence"
CURRENT = "current"
_GENERATION = "gen-"

_held: dict[str, int] = {}  # resolved outdir -> nesting depth, for this process


@contextmanager
def outdir_lock(outdir: str | os.PathLike[str]) -> Iterator[None]:
    """Hold ``outdir`` against other synthesizing processes (re-entrant within one)."""
    key = os.path.realpath(outdir)
    if key in _held:
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    path = os.path.join(outdir, LOCK_FILE)
    with output_errors(outdir, "cannot take the synthesis lock"):
        os.makedirs(outdir, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip()
            raise OutputError(
                str(outdir),
                f"another synthesis is writing here ({holder or 'holder not yet recorded'}); "
                f"wait for it to finish, or synthesize into another outdir",
            ) from None
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with output_errors(outdir, "cannot record the synthesis lock holder"):
            os.ftruncate(fd, 0)
            holder = f"pid {os.getpid()} on {socket.gethostname()} since {since}\n"
            os.pwrite(fd, holder.encode(), 0)
        _held[key] = 1
        try:
            yield
        finally:
            del _held[key]
            with suppress(OSError):  # the lock itself goes with the descriptor
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)


def holds_lock(outdir: str | os.PathLike[str]) -> bool:
    return os.path.realpath(outdir) in _held


@contextmanager
def output_errors(where: str | os.PathLike[str], doing: str) -> Iterator[None]:
    """Turn an OSError into an ``OutputError`` that names ``where`` and says what failed."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, OutputError):
            raise
        reason = exc.strerror or str(exc)
        raise OutputError(str(where), f"{doing}: {reason}") from exc


def staging_dir(stack_dir: Path) -> Path:
    """A fresh, private directory to write a generation into (same filesystem as the stack)."""
    state = stack_dir / STATE_DIR
    state.mkdir(parents=True, exist_ok=True)
    staged = state / f"tmp-{os.getpid()}-{time.monotonic_ns()}"
    staged.mkdir()
    return staged


def publish(stack_dir: Path, staged: Path) -> None:
    """Make the complete directory ``staged`` the stack's current generation.

    The caller holds the outdir lock, so stale generations and staging
    directories of killed runs can be removed here.
    """
    state = stack_dir / STATE_DIR
    number = 1 + max((_number(p.name) for p in state.iterdir()), default=0)
    generation = state / f"{_GENERATION}{number}"
    os.rename(staged, generation)
    entries = sorted(os.listdir(generation))
    legacy = []
    for name in entries:
        link = stack_dir / name
        if not os.path.lexists(link):
            # Dangling until ``current`` switches, i.e. absent like the rest of the new set.
            os.symlink(_link_target(name), link)
        elif not _is_our_link(link, name):
            legacy.append(name)  # a file from before generations: replaced after the switch
    _replace_with_symlink(state / CURRENT, generation.name)
    for name in legacy:
        link = stack_dir / name
        if link.is_dir() and not link.is_symlink():
            os.rename(link, state / f"old-{name}")
        _replace_with_symlink(link, _link_target(name))
    keep = set(entries)
    for link in stack_dir.iterdir():
        if link.name not in keep and _is_our_link(link, link.name):
            link.unlink()  # the new generation has no such file
    for old in state.iterdir():
        if old.name not in (CURRENT, generation.name):
            _remove(old)


def _link_target(name: str) -> str:
    return f"{STATE_DIR}/{CURRENT}/{name}"


def _is_our_link(path: Path, name: str) -> bool:
    return path.is_symlink() and os.readlink(path) == _link_target(name)


def _replace_with_symlink(path: Path, target: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    if os.path.lexists(tmp):
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, path)


def _number(name: str) -> int:
    digits = name[len(_GENERATION) :]
    return int(digits) if name.startswith(_GENERATION) and digits.isdigit() else 0


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def js_errno_reason(exc: BaseException) -> str | None:
    """The cause of a Node.js file error (``ENOSPC: no space left on device, write``), or None."""
    code = str(exc).removeprefix("Error: ").split(":", 1)[0].strip()
    number = getattr(errno, code, None) if code.startswith("E") and code.isupper() else None
    return os.strerror(number) if isinstance(number, int) else None


def remove_tree(path: Path) -> None:
    """Remove a staging directory if it is still there (after publish it usually is not)."""
    if os.path.lexists(path):
        _remove(path)
