"""Names from an artifact cannot inject Markdown into a PR comment or an audit report.

A pull request controls its own synth output, so every name a Markdown
report prints (stacks, namespaces, workloads, files, policies, messages) is
hostile input. The output is rendered by a real CommonMark parser
(commonmark.js, from the pinned CLI's node_modules) and must show each name
as its own characters: no heading, image, link, HTML or early end of a code span.
"""

from __future__ import annotations

import functools
import io
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from constructs_lib.reports import audit_markdown, markdown, review_markdown
from constructs_lib.reports.audit import Audit, AuditFlow, AuditNamespace, AuditPolicy, StackAudit
from constructs_lib.reports.markdown import cell, code
from constructs_lib.reports.mermaid import render_mermaid
from constructs_lib.review.diff import Diff, FlowChange, Risk, StackDiff
from constructs_lib.verifier.connections import ConnectionSet
from constructs_lib.verifier.netmap import NetworkMap
from constructs_lib.verifier.verify import Finding, StackResult, Verification

ROOT = Path(__file__).resolve().parent.parent
COMMONMARK = ROOT / "node_modules" / "commonmark"

HOSTILE = [
    "x`\n# Owned",
    "`` ![pixel](https://evil.example/p.png) ``",
    "a](https://evil.example)[b",
    "<img src=x onerror=alert(1)>",
    "*bold* _it_ ~~gone~~",
    "pipe|cell",
    "back\\slash`",
]


@functools.cache
def _commonmark() -> subprocess.Popen[str]:
    """One node process for the module: a JSON string in per line, HTML out per line."""
    if shutil.which("node") is None or not COMMONMARK.exists():
        pytest.skip("needs node and node_modules/commonmark (installed with the cdktf CLI)")
    script = (
        f"const cm = require({json.dumps(str(COMMONMARK))});"
        "const rl = require('readline').createInterface({input: process.stdin});"
        "rl.on('line', l => process.stdout.write(JSON.stringify("
        "new cm.HtmlRenderer().render(new cm.Parser().parse(JSON.parse(l)))) + '\\n'));"
    )
    return subprocess.Popen(
        ["node", "-e", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


@functools.cache
def render(md: str) -> str:
    node = _commonmark()
    assert node.stdin is not None and node.stdout is not None
    node.stdin.write(json.dumps(md) + "\n")
    node.stdin.flush()
    html: str = json.loads(node.stdout.readline())
    return html


@pytest.fixture(scope="module", autouse=True)
def _stop_node() -> Iterator[None]:
    yield
    if _commonmark.cache_info().currsize:
        node = _commonmark()
        assert node.stdin is not None
        node.stdin.close()
        node.wait(timeout=10)


BENIGN = "benign"


def _tags(html: str) -> list[str]:
    return re.findall(r"<(/?[a-z][a-z0-9]*)", html)


def _assert_inert(html: str, benign_html: str) -> None:
    """The same elements, in the same order, as the report of a harmless name."""
    assert _tags(html) == _tags(benign_html), html


def _shown(html: str) -> str:
    return (
        html.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    )


@pytest.mark.parametrize("name", HOSTILE)
def test_a_code_span_holds_any_name_whole(name: str) -> None:
    html = render(f"stack {code(name)} done\n")
    _assert_inert(html, render(f"stack {code(BENIGN)} done\n"))
    (span,) = html.split("<code>")[1:]
    assert _shown(span.split("</code>")[0]) == " ".join(name.splitlines())
    assert html.rstrip().endswith("done</p>")


def test_in_a_table_a_code_span_escapes_the_cell_separator() -> None:
    assert code("a|b", table=True) == "`a\\|b`"
    assert code("``x") == "``` ``x ```"


@pytest.mark.parametrize("name", HOSTILE)
def test_a_cell_renders_as_its_own_characters(name: str) -> None:
    html = render(f"- {cell(name)}\n")
    _assert_inert(html, render(f"- {cell(BENIGN)}\n"))
    assert "<code>" not in html
    (item,) = html.split("<li>")[1:]
    assert _shown(item.split("</li>")[0]) == " ".join(name.splitlines())


def test_cell_keeps_plain_names_readable() -> None:
    assert cell("shop-web/{app=api} -> external/internet") == (
        "shop-web/{app=api} -&gt; external/internet"
    )
    assert cell("[environment prod]/[app=prometheus]") == "[environment prod]/[app=prometheus]"


def _hostile_diff(name: str) -> Diff:
    conns = ConnectionSet.port_range("TCP", 443)
    flow = FlowChange(f"{name}/api", f"{name}/db", conns, name)
    return Diff(
        (StackDiff(name, f"base/{name}", f"head/{name}", (flow,), (flow,),
                   (Risk(name, f"{name} may now connect"),)),)
    )  # fmt: skip


def _reports(name: str) -> str:
    out = io.StringIO()
    review_markdown.write_diff(_hostile_diff(name), out)
    result = Verification(
        (StackResult(name, f"{name}/cdk.tf.json", 3, 1,
                     (Finding(name, f"{name} is allowed", (name,)),)),)
    )  # fmt: skip
    markdown.write_verification(result, out)
    network = NetworkMap(
        (f"{name}/a", f"{name}/b"),
        ((f"{name}/a", f"{name}/b", ConnectionSet.port_range("TCP", 80)),),
    )
    markdown.write_map(network, out)
    return out.getvalue()


@pytest.mark.parametrize("name", HOSTILE)
def test_review_verify_and_map_reports_stay_inert(name: str) -> None:
    md = _reports(name)
    _assert_inert(render(md), render(_reports(BENIGN)))
    assert len(md.splitlines()) == len(_reports(BENIGN).splitlines())


@pytest.mark.parametrize("name", HOSTILE)
def test_the_mermaid_map_cannot_leave_its_fence_or_label(name: str) -> None:
    network = NetworkMap(
        (f"{name}/a", f"{name}/b"),
        ((f"{name}/a", f"{name}/b", ConnectionSet.port_range("TCP", 80)),),
    )
    text = render_mermaid(network)
    labels = re.findall(r'"([^"]*)"', text)
    assert len(labels) == 4, text  # the subgraph, two nodes, the edge
    for label in labels:
        for bad in ("`", "<", ">", "\n"):
            assert bad not in label, (bad, label)
    assert len(text.splitlines()) == 6, text


def _audit(name: str) -> str:
    """The audit report (``netfence report --format md``) of a stack made of ``name``."""
    network = NetworkMap(
        (f"{name}/a", f"{name}/b"),
        ((f"{name}/a", f"{name}/b", ConnectionSet.port_range("TCP", 80)),),
    )
    flows = (
        AuditFlow(f"{name}/a", f"{name}/b", name, True, f"{name}/a.allow_to()"),
        AuditFlow(f"{name}/b", f"{name}/a", name, False, None),  # an older record
    )
    stack = StackAudit(
        name, f"{name}/cdk.tf.json", (AuditNamespace(name, name, True, True),), flows,
        (AuditPolicy(name, name, f"kubernetes_network_policy_v1.{name}", name),),
        (Finding(name, f"{name} is allowed", (name,)),), (), network, (f"{name} note",),
    )  # fmt: skip
    out = io.StringIO()
    audit_markdown.write_audit(Audit(name, (stack,)), out)
    return out.getvalue()


@pytest.mark.parametrize("name", HOSTILE)
def test_the_audit_report_stays_inert(name: str) -> None:
    """Every cell of the audit, the flows' declaration sites included."""
    md = _audit(name)
    html = render(md)
    _assert_inert(html, render(_audit(BENIGN)))
    assert len(md.splitlines()) == len(_audit(BENIGN).splitlines())
    # one code span; GFM unescapes the table's \| inside it, CommonMark shows it as written
    site = " ".join(f"{name}/a.allow_to()".splitlines()).replace("|", "\\|")
    assert f"<code>{site}</code>" in _shown(html)
    assert _shown(html).count("not recorded (artifact older than declared_at)") == 1
