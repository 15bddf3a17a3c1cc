"""``netfence report``: the audit of a synthesized app, in Markdown and in HTML.

The HTML is loaded in a real headless Chromium (Debian's ``chromium``; .ci/run
installs it when missing) which lays it out: the map's boxes and arrows and
the tables must have size on the page.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from constructs_lib.cli import main
from constructs_lib.reports.audit import audit_app

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """cdktf.out with the prod and data-pipeline example stacks (golden artifacts)."""
    for stack in ("prod", "data-pipeline"):
        target = tmp_path / "cdktf.out" / "stacks" / stack
        target.mkdir(parents=True)
        shutil.copy2(GOLDEN / f"{stack}.cdk.tf.json", target / "cdk.tf.json")
    return tmp_path / "cdktf.out"


def report(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["report", *args])
    out, err = capsys.readouterr()
    assert err == ""
    return code, out


def test_markdown_audit_per_stack(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = report([str(app / "stacks" / "prod"), "--format", "md"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"# netfence audit: `{app / 'stacks' / 'prod'}`"
    assert "| shop-web | prod | created | allowed |" in lines
    assert "| shop-web/api | shop-data/db | TCP 5432 | no | `prod/web/api.allow_to()` |" in lines
    assert (
        "| namespaces named ingress-nginx / pods app.kubernetes.io/name=ingress-nginx | "
        "shop-web/frontend | TCP 8080 (http) | yes, declared | `prod/web/frontend.allow_from()` |"
    ) in lines
    assert (
        "| shop-web | api-ingress | connections api accepts | "
        "`kubernetes_network_policy_v1.shop-web_api-ingress` |"
    ) in lines
    golden = json.loads((GOLDEN / "prod.cdk.tf.json").read_text())
    flows = len(golden["//"]["metadata"]["netfence"]["flows"])
    policies = len(golden["resource"]["kubernetes_network_policy_v1"])
    assert f"### Declared flows ({flows})" in lines and f"### Policies ({policies})" in lines
    assert "Exact: the policies allow exactly the declared flows." in lines
    mermaid = out.split("```mermaid\n")[1].split("```")[0]
    assert mermaid.startswith("flowchart LR\n") and '-->|"TCP 5432"|' in mermaid


def test_findings_are_reported_and_exit_1(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = app / "stacks" / "prod" / "cdk.tf.json"
    doc = json.loads(file.read_text())
    del doc["resource"]["kubernetes_network_policy_v1"]["shop-data_db-ingress"]
    file.write_text(json.dumps(doc))
    code, out = report([str(app), "--format", "md"], capsys)
    assert code == 1
    assert "2 stack(s); findings below." in out
    assert "| kind | finding | policies |" in out


def _strip_declared_at(file: Path) -> None:
    """The stack as a netfence older than ``flows[].declared_at`` wrote it."""
    doc = json.loads(file.read_text())
    for flow in doc["//"]["metadata"]["netfence"]["flows"]:
        del flow["declared_at"]
    file.write_text(json.dumps(doc))


def test_a_record_without_declaration_sites_says_so(
    app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _strip_declared_at(app / "stacks" / "prod" / "cdk.tf.json")
    code, out = report([str(app / "stacks" / "prod"), "--format", "md"], capsys)
    assert code == 0
    assert (
        "| shop-web/api | shop-data/db | TCP 5432 | no | "
        "not recorded (artifact older than declared\\_at) |"
    ) in out.splitlines()
    html = _html(app, tmp_path, capsys).read_text()
    assert "<td>not recorded (artifact older than declared_at)</td>" in html
    assert "<code>data-pipeline/etl-load/load.reaches()</code>" in html  # the other stack


def _html(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    page = tmp_path / "audit.html"
    code, _ = report([str(app), "--format", "html", "--output", str(page)], capsys)
    assert code == 0
    return page


def test_html_is_one_self_contained_page(
    app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    html = _html(app, tmp_path, capsys).read_text()
    assert html.startswith("<!doctype html>")
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert re.findall(r"(?:src|href)=", html) == []
    assert set(re.findall(r"https?://[^\"' ]+", html)) == {"http://www.w3.org/2000/svg"}
    assert html.count('<svg class="netfence-map"') == 2
    assert html.count('<section class="stack"') == 2
    assert (
        "<tr><td>shop-web/api</td><td>shop-data/db</td><td>TCP 5432</td><td>no</td>"
        "<td><code>prod/web/api.allow_to()</code></td></tr>"
    ) in html


def test_html_escapes_names(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = app / "stacks" / "prod" / "cdk.tf.json"
    doc = json.loads(file.read_text())
    doc["//"]["metadata"]["netfence"]["stack"] = "<img src=x onerror=alert(1)>"
    file.write_text(json.dumps(doc))
    html = _html(app, tmp_path, capsys).read_text()
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


PROBE = """<script>
addEventListener('load', () => {
  const out = [...document.querySelectorAll('section.stack')].map(s => {
    const svg = s.querySelector('svg.netfence-map').getBoundingClientRect();
    const boxes = [...s.querySelectorAll('g.endpoint rect')].map(r => r.getBoundingClientRect());
    const arrows = [...s.querySelectorAll('g.flow path')].map(p => p.getTotalLength());
    const rows = {};
    for (const t of s.querySelectorAll('table')) {
      rows[t.className] = [...t.querySelectorAll('tbody tr')]
        .filter(r => r.getBoundingClientRect().height > 0).length;
    }
    return {svg: [svg.width, svg.height], boxes: boxes.filter(b => b.width > 0).length,
            arrows: arrows.filter(l => l > 0).length, rows};
  });
  document.body.setAttribute('data-probe', JSON.stringify(out));
});
</script>"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    return found


def _chromium(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1300,900",
         *args, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip


@pytest.mark.slow
def test_html_renders_the_map_and_tables_in_headless_chromium(
    app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = _html(app, tmp_path, capsys)
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    dom = _chromium(probed, tmp_path, "--dump-dom").stdout
    found = re.search(r"data-probe=\"([^\"]*)\"", dom)
    assert found, dom[:2000]
    stacks = json.loads(found.group(1).replace("&quot;", '"'))
    # data-pipeline first (sorted), then prod
    pipeline, prod = stacks
    audit = audit_app(app)
    assert [len(s.network.nodes) for s in audit.stacks] == [pipeline["boxes"], prod["boxes"]]
    assert [len(s.network.edges) for s in audit.stacks] == [pipeline["arrows"], prod["arrows"]]
    assert prod["boxes"] >= 8 and prod["arrows"] >= 9, prod
    assert prod["svg"][0] > 800 and prod["svg"][1] > 200
    for probe, stack in zip((pipeline, prod), audit.stacks, strict=True):
        assert probe["rows"] == {
            "namespaces": len(stack.namespaces),
            "flows": len(stack.flows),
            "policies": len(stack.policies),
        }
    shot = tmp_path / "audit.png"
    _chromium(page, tmp_path, f"--screenshot={shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_lint_findings_are_in_the_audit(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = app / "stacks" / "prod"
    code, out = report([str(stack)], capsys)
    assert "### netfence lint\n\nNo finding.\n" in out
    file = stack / "cdk.tf.json"
    doc = json.loads(file.read_text())
    doc["resource"]["kubernetes_network_policy_v1"]["shop-data_db-ingress"]["spec"]["ingress"] = [
        {}
    ]
    file.write_text(json.dumps(doc))
    code, out = report([str(stack)], capsys)
    assert code == 1  # the widened rule is also a verify finding
    lint = out.split("### netfence lint\n\n")[1].split("###")[0]
    assert "| NF101 empty-rule | warning | shop-data/db-ingress |" in lint, lint
