"""``netfence init``, ``--version`` and the help a user reads, through ``main(argv)``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from constructs_lib._version import __version__
from constructs_lib.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parent.parent
FILES = [
    ".github/workflows/netfence.yml",
    ".gitignore",
    "README.md",
    "cdktf.json",
    "main.py",
    "netfence.yaml",
    "package.json",
    "requirements.txt",
    "tests/conftest.py",
    "tests/test_policies.py",
]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"netfence {__version__}\n"
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'version = { attr = "constructs_lib._version.__version__" }' in pyproject


def test_help_speaks_to_users(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert out.splitlines()[2] == (
        "netfence: zero-trust Kubernetes NetworkPolicies from Python intent."
    )
    assert "thin command line" not in out and "``" not in out
    assert "exit codes: 0 all good, 1 findings" in out
    for command in COMMANDS:
        assert f"    {command.name} " in out


@pytest.mark.parametrize("command", [c.name for c in COMMANDS])
def test_each_command_help_has_a_description_an_example_and_the_exit_codes(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert f"  netfence {command} " in out or f"netfence {command} --" in out, out
    assert "exit codes: 0 all good" in out
    assert "``" not in out


def test_init_writes_a_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "policies"
    code, out, err = run(["init", str(target), "--name", "shop"], capsys)
    assert (code, err) == (0, "")
    written = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert written == FILES
    assert out.splitlines()[0] == f"wrote {target / FILES[0]}"
    requirements = (target / "requirements.txt").read_text().splitlines()
    assert [r for r in requirements if not r.startswith("#")] == [
        f"netfence=={__version__}",
        "cdktf==0.21.0",
        "pytest>=8",
    ]
    package = json.loads((target / "package.json").read_text())
    assert package["devDependencies"] == {"cdktf-cli": "0.21.0"}
    assert json.loads((target / "cdktf.json").read_text())["app"] == ".venv/bin/python main.py"
    main_py = (target / "main.py").read_text()
    assert "from cdktf import App" in main_py and 'name="shop-web"' in main_py
    readme = (target / "README.md").read_text()
    assert ".venv/bin/python main.py && .venv/bin/netfence verify cdktf.out" in readme
    assert ".venv/bin/python -m pytest -q" in readme
    assert (
        "from constructs_lib.testing import assert_exact, connections"
        in (target / "tests" / "test_policies.py").read_text()
    )


def test_init_for_cdktn_pins_cdk_terrain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run(["init", str(tmp_path / "p"), "--cdk", "cdktn"], capsys)
    assert code == 0
    requirements = (tmp_path / "p" / "requirements.txt").read_text().splitlines()
    assert f"netfence[cdktn]=={__version__}" in requirements and "cdktn==0.24.0" in requirements
    package = json.loads((tmp_path / "p" / "package.json").read_text())
    assert package["devDependencies"] == {"cdktn-cli": "0.24.0"}
    assert package["scripts"]["synth"] == "cdktn synth"
    for name in ("main.py", "tests/test_policies.py"):
        text = (tmp_path / "p" / name).read_text()
        assert "from cdktn import App" in text and "import cdktf" not in text
        assert "from cdktf" not in text
    # the project is named after its directory when --name is left out
    assert 'name="p-web"' in (tmp_path / "p" / "main.py").read_text()


def test_init_refuses_a_non_empty_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    code, out, err = run(["init", str(tmp_path), "--name", "shop"], capsys)
    assert (code, out) == (2, "")
    assert err == (
        f"netfence: error: {tmp_path}: directory is not empty; choose an empty or new one, "
        "or pass --force to overwrite the scaffold's files there (other files are left alone)\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    code, _, _ = run(["init", str(tmp_path), "--name", "shop", "--force"], capsys)
    assert code == 0
    assert (tmp_path / "notes.txt").read_text() == "mine\n"
    assert (tmp_path / "main.py").exists()


def test_init_refuses_a_name_that_cannot_name_namespaces(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["init", str(tmp_path / "x"), "--name", "Shop_1"], capsys)
    assert code == 2
    assert err == (
        "netfence: error: --name: 'Shop_1' cannot name the project's namespaces; use 1-40 "
        "lowercase letters, digits and '-', starting with a letter (e.g. --name shop)\n"
    )
    assert not (tmp_path / "x").exists()


def test_init_refuses_a_file_in_the_way(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "f").write_text("")
    code, _, err = run(["init", str(tmp_path / "f"), "--name", "shop"], capsys)
    assert (code, err) == (2, f"netfence: error: {tmp_path / 'f'}: exists and is not a directory\n")


def test_the_scaffold_synthesizes_verifies_and_its_own_tests_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """In this process (the wheel test runs it in a fresh venv): main.build and the helpers."""
    import sys

    from cdktf import App

    from constructs_lib import synth
    from constructs_lib.testing import assert_exact, connections

    run(["init", str(tmp_path / "p"), "--name", "shop"], capsys)
    monkeypatch.syspath_prepend(str(tmp_path / "p"))
    sys.modules.pop("main", None)
    import main  # the scaffold's

    synth(main.build(App(outdir=str(tmp_path / "out"))))
    stack = tmp_path / "out" / "stacks" / "prod"
    assert assert_exact(stack).ok
    assert connections(stack, "shop-web/api", "shop-data/db") == "TCP 5432"
    assert connections(stack, "shop-web/api", "external/payments") == "TCP 443"
    assert connections(stack, "shop-data/db", "shop-web/api") == ""
    with pytest.raises(AssertionError, match=r"^'shop-web/nope' is not an endpoint of "):
        connections(stack, "shop-web/nope", "shop-data/db")
    sys.modules.pop("main", None)


def test_the_cdktn_scaffold_synthesizes_and_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util
    import os
    import subprocess
    import sys

    if importlib.util.find_spec("cdktn") is None:
        pytest.skip("cdktn is not installed here (the .venv-cdktn CI environment has it)")
    run(["init", str(tmp_path / "p"), "--cdk", "cdktn", "--name", "shop"], capsys)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "main.py"], cwd=tmp_path / "p", env=env, capture_output=True,
        text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    code, out, _ = run(["verify", str(tmp_path / "p" / "cdktf.out")], capsys)
    assert (code, out.splitlines()[-1]) == (0, "verified: no findings")
