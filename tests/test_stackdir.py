"""A stack directory always holds one complete synthesis: kill -9, concurrency, full disk, ro."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from constructs_lib.errors import OutputError

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ("cdk.tf.json", "manifests.yaml")
KEPT = "the previous synthesis is left in place"

# The app of version A or B: B has one more workload and flow, so every
# file of the two sets differs. Two stacks, to see a mix across stacks too.
_APP = """
from cdktf import App, TerraformStack
import constructs_lib
from constructs_lib import Port, ZeroTrustNamespace

def build(outdir, version, stacks=("one", "two")):
    app = App(outdir=outdir)
    for name in stacks:
        shop = ZeroTrustNamespace(TerraformStack(app, name), "shop", environment="prod")
        api = shop.workload("api", labels={"app": "api"}, ports=[Port.tcp(8080)])
        db = shop.workload("db", labels={"app": "db"}, ports=[Port.tcp(5432)])
        api.allow_to(db)
        if version == "B":
            shop.workload("cache", labels={"app": "cache"}, ports=[Port.tcp(6379)]).allow_to(db)
    return app
"""


def _build(outdir: Path, version: str, stacks: tuple[str, ...] = ("one", "two")) -> object:
    scope: dict[str, object] = {}
    exec(_APP, scope)
    return scope["build"](str(outdir), version, stacks)  # type: ignore[operator]


def _synth(outdir: Path, version: str, stacks: tuple[str, ...] = ("one", "two")) -> None:
    from constructs_lib import synth

    synth(_build(outdir, version, stacks))  # type: ignore[arg-type]


def _contents(outdir: Path, stacks: tuple[str, ...] = ("one", "two")) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    for stack in stacks:
        for name in ARTIFACTS:
            path = outdir / "stacks" / stack / name
            out[f"{stack}/{name}"] = path.read_bytes() if path.exists() else None
    return out


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, bytes | None]]:
    base = tmp_path_factory.mktemp("expected")
    _synth(base / "A", "A")
    _synth(base / "B", "B")
    sets = {v: _contents(base / v) for v in "AB"}
    assert sets["A"]["one/cdk.tf.json"] != sets["B"]["one/cdk.tf.json"]
    assert sets["A"]["one/manifests.yaml"] != sets["B"]["one/manifests.yaml"]
    return sets


def _only_current_generation(outdir: Path, stacks: tuple[str, ...] = ("one", "two")) -> None:
    for stack in stacks:
        state = outdir / "stacks" / stack / ".netfence"
        names = sorted(p.name for p in state.iterdir())
        assert len(names) == 2 and names[0] == "current", names
        assert os.readlink(state / "current") == names[1]
        listed = sorted(p.name for p in (outdir / "stacks" / stack).iterdir())
        ours = [n for n in listed if not n.startswith(".terraform")]
        assert ours == [".netfence", *sorted(ARTIFACTS)], listed


def test_resynth_swaps_the_files_and_keeps_terraforms_own(
    tmp_path: Path, expected: dict[str, dict[str, bytes | None]]
) -> None:
    _synth(tmp_path, "A")
    stack = tmp_path / "stacks" / "one"
    (stack / ".terraform").mkdir()
    (stack / ".terraform.lock.hcl").write_text("# lock\n")
    (stack / ".netfence" / "tmp-1-1").mkdir()  # left behind by a killed run
    _synth(tmp_path, "B")
    assert _contents(tmp_path) == expected["B"]
    assert os.readlink(stack / "cdk.tf.json") == ".netfence/current/cdk.tf.json"
    assert (stack / ".terraform.lock.hcl").read_text() == "# lock\n"
    assert (stack / ".terraform").is_dir()
    _only_current_generation(tmp_path)


def test_files_of_an_older_layout_are_replaced(
    tmp_path: Path, expected: dict[str, dict[str, bytes | None]]
) -> None:
    for stack in ("one", "two"):
        (tmp_path / "stacks" / stack).mkdir(parents=True)
        for name in ARTIFACTS:
            (tmp_path / "stacks" / stack / name).write_text("old, written in place\n")
    _synth(tmp_path, "A")
    assert _contents(tmp_path) == expected["A"]
    _only_current_generation(tmp_path)


# Every file-system step synthesis takes, counted; the child dies at step N.
_KILLER = """
import os, pathlib, shutil, signal, sys
outdir, version, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
app = build(outdir, version, stacks=("one",))
steps = [0]
def counted(module, name):
    real = getattr(module, name)
    def step(*args, **kwargs):
        steps[0] += 1
        if steps[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    setattr(module, name, step)
for name in ("mkdir", "rename", "replace", "symlink"):
    counted(os, name)
counted(shutil, "rmtree")
counted(pathlib.Path, "open")
counted(pathlib.Path, "unlink")
from constructs_lib import synth
synth(app)
print(steps[0])
"""


def test_kill_at_every_step_leaves_the_old_set_or_the_new_one(
    tmp_path: Path, expected: dict[str, dict[str, bytes | None]]
) -> None:
    # A killed child cannot remove the jsii runtime it unpacked: into tmp_path with it.
    (tmp_path / "tmp").mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp_path / "tmp"))
    one = ("one",)
    old, new = ({n: expected[v][f"one/{n}"] for n in ARTIFACTS} for v in "AB")
    kill_at, seen = 1, []
    while True:
        outdir = tmp_path / str(kill_at)
        _synth(outdir, "A", one)
        run = subprocess.run(
            [sys.executable, "-c", _APP + _KILLER, str(outdir), "B", str(kill_at)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        files = {n: (outdir / "stacks" / "one" / n).read_bytes() for n in ARTIFACTS}
        assert files in (old, new), f"killed at step {kill_at}: a mix of the old and new set"
        seen.append("new" if files == new else "old")
        _synth(outdir, "B", one)  # the next synthesis recovers: lock free, leftovers removed
        assert _contents(outdir, one) == {f"one/{n}": new[n] for n in ARTIFACTS}
        _only_current_generation(outdir, one)
        if run.returncode == 0:
            break
        assert run.returncode == -9, run.stderr
        kill_at += 1
    assert int(run.stdout.split()[-1]) < kill_at  # every step was a kill point
    assert kill_at > 8 and seen[0] == "old" and seen[-1] == "new"


_HOLDER = """
import sys
from constructs_lib.constructs.stackdir import outdir_lock
with outdir_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_second_synthesis_is_refused_naming_the_holder(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(OutputError) as info:
            _synth(tmp_path, "A")
    finally:
        holder.communicate("")
    since = (tmp_path / ".netfence-synth.lock").read_bytes()  # emptied on release
    assert since == b""
    match = re.fullmatch(
        rf"{re.escape(str(tmp_path))}: another synthesis is writing here "
        rf"\(pid {holder.pid} on {re.escape(socket.gethostname())} since "
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\); wait for it to finish, "
        r"or synthesize into another outdir",
        str(info.value),
    )
    assert match, str(info.value)
    assert not (tmp_path / "stacks" / "one").exists()  # nothing was written
    _synth(tmp_path, "A")  # released: the next one runs


_CONCURRENT = """
import sys
from constructs_lib import NetfenceError, synth
try:
    synth(build(sys.argv[1], sys.argv[2]))
except NetfenceError as exc:
    print(exc, file=sys.stderr)
    sys.exit(2)
"""


def test_concurrent_synths_of_two_apps_never_mix(
    tmp_path: Path, expected: dict[str, dict[str, bytes | None]]
) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for attempt in range(2):
        outdir = tmp_path / str(attempt)
        runs = [
            subprocess.Popen(
                [sys.executable, "-c", _APP + _CONCURRENT, str(outdir), version],
                env=env,
                cwd=ROOT,
                stderr=subprocess.PIPE,
                text=True,
            )
            for version in "AB"
        ]
        results = [(r.wait(timeout=120), r.stderr.read() if r.stderr else "") for r in runs]
        for r in runs:
            if r.stderr:
                r.stderr.close()
        assert {code for code, _ in results} <= {0, 2}, results
        assert any(code == 0 for code, _ in results), results
        for code, err in results:
            if code == 2:
                assert "another synthesis is writing here (pid " in err, err
        assert _contents(outdir) in (expected["A"], expected["B"])


def _mount_tmpfs(path: Path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "fs"
    _mount_tmpfs(mount, "256k")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(fs: Path, leave: int) -> None:
    stat = os.statvfs(fs)
    free = stat.f_bavail * stat.f_frsize
    with open(fs / "filler", "wb") as handle:
        handle.write(b"\0" * max(0, free - leave))


def test_disk_full_keeps_the_previous_synthesis(
    small_fs: Path, expected: dict[str, dict[str, bytes | None]]
) -> None:
    outdir = small_fs / "out"
    _synth(outdir, "A")
    _fill(small_fs, 4096)
    with pytest.raises(OutputError) as info:
        _synth(outdir, "B")
    assert str(info.value) == (
        f"{outdir}/stacks/one: cannot write the new synthesis ({KEPT}): No space left on device"
    )
    assert _contents(outdir) == expected["A"]
    state = outdir / "stacks" / "one" / ".netfence"
    assert [p.name for p in state.iterdir() if "tmp" in p.name] == []


def test_python_m_stacks_on_a_full_disk_says_so_without_a_traceback(small_fs: Path) -> None:
    _fill(small_fs, 8192)
    outdir = small_fs / "out"
    run = _python_m_stacks(outdir)
    assert run.returncode == 2, run.stderr
    assert run.stdout == ""
    assert run.stderr == (
        f"netfence: error: {outdir}/stacks/staging: cannot write the new synthesis "
        f"({KEPT}): No space left on device\n"
    )


@contextmanager
def _read_only(outdir: Path) -> Iterator[str]:
    """Make ``outdir`` read-only (a read-only tmpfs for root, whom mode bits do not stop)."""
    if os.geteuid() == 0:
        _mount_tmpfs(outdir, "1m")
        subprocess.run(["mount", "-o", "remount,ro", str(outdir)], check=True)
        try:
            yield "Read-only file system"
        finally:
            subprocess.run(["umount", "-l", str(outdir)], check=False)
    else:
        outdir.mkdir(exist_ok=True)
        outdir.chmod(0o555)
        yield "Permission denied"


def _python_m_stacks(outdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stacks"],
        env=dict(os.environ, PYTHONPATH=str(ROOT), CDKTF_OUTDIR=str(outdir)),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_python_m_stacks_into_a_read_only_outdir_says_so(tmp_path: Path) -> None:
    outdir = tmp_path / "out"
    with _read_only(outdir) as reason:
        run = _python_m_stacks(outdir)
    assert run.returncode == 2, run.stderr
    assert run.stderr == (
        f"netfence: error: {outdir}: cannot create the output directory: {reason}\n"
    )


def test_synth_into_a_read_only_outdir_names_it(tmp_path: Path) -> None:
    from constructs_lib import synth

    outdir = tmp_path / "out"
    app = _build(outdir, "A")  # creates outdir/stacks; then the directory turns read-only
    with _read_only(outdir) as reason, pytest.raises(OutputError) as info:
        synth(app)  # type: ignore[arg-type]
    assert str(info.value) == f"{outdir}: cannot take the synthesis lock: {reason}"


def test_plain_app_synth_publishes_the_same_complete_set(
    tmp_path: Path, expected: dict[str, dict[str, bytes | None]]
) -> None:
    app = _build(tmp_path, "B")
    app.synth()  # type: ignore[attr-defined]
    assert _contents(tmp_path) == expected["B"]
    _only_current_generation(tmp_path)
