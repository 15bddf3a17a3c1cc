"""Architecture rules that keep cdktf and CDK Terrain (cdktn) behind one seam."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "constructs_lib"
CDK_MODULES = ("cdktf", "cdktn")
HEAVY_MODULES = (
    *CDK_MODULES,
    "constructs",
    "jsii",
    "cdktf_cdktf_provider_kubernetes",
    "cdktn_provider_kubernetes",
)
SEAM = PACKAGE / "constructs" / "cdk.py"
JSII_ALLOWED = {PACKAGE / "emitters" / "cdktf_emitter.py"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_only_the_seam_imports_cdktf_or_cdktn() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        bad = _imported_roots(path) & set(CDK_MODULES)
        if bad and path != SEAM:
            offenders.append(f"{path.relative_to(PACKAGE.parent)} imports {sorted(bad)}")
    assert offenders == []


def test_only_the_construct_layer_and_cdktf_emitter_touch_jsii_constructs() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path in JSII_ALLOWED or (PACKAGE / "constructs") in path.parents:
            continue
        bad = _imported_roots(path) & set(HEAVY_MODULES)
        if bad:
            offenders.append(f"{path.relative_to(PACKAGE.parent)} imports {sorted(bad)}")
    assert offenders == []


def test_the_boundary_check_would_catch_either_cdk(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("import os\nfrom cdktf import App\nimport cdktn.x\nimport jsii.errors\n")
    assert _imported_roots(sample) & set(HEAVY_MODULES) == {"cdktf", "cdktn", "jsii"}


def test_model_compiler_and_emitters_load_without_any_cdk() -> None:
    code = (
        "import sys\n"
        "import constructs_lib, constructs_lib.model, constructs_lib.compiler\n"
        "import constructs_lib.emitters\n"
        f"print(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lint_runs_without_any_cdk(tmp_path: Path) -> None:
    """`netfence lint` reads artifacts only: no cdktf, jsii or provider bindings, any format."""
    manifests = PACKAGE.parent / "tests" / "golden" / "prod.manifests.yaml"
    synth = PACKAGE.parent / "tests" / "golden" / "prod.cdk.tf.json"
    code = (
        "import sys\n"
        "from constructs_lib.cli import main\n"
        f"for fmt in ('text', 'md', 'json', 'sarif'):\n"
        f"    main(['lint', {str(manifests)!r}, {str(synth)!r}, '--format', fmt,"
        f" '-o', {str(tmp_path / 'out')!r}])\n"
        f"print(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert (tmp_path / "out").read_text().startswith("{")
