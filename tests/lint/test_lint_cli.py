"""``netfence lint`` through the CLI: every input kind, every format, the exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from constructs_lib.cli import main
from constructs_lib.lint import RULES, LintResult, lint_paths
from constructs_lib.loaders import load_policies

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]

TWO_PROBLEMS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-in
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: web
  policyTypes: [Ingress]
  ingress:
  - from:
    - ipBlock:
        cidr: 10.0.0.1/8
  - {}
"""


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def two(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A policy file with an error (line 14) and a warning (line 15), as a relative path."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "web.yaml").write_text(TWO_PROBLEMS)
    return "policies/web.yaml"


def test_text_output(two: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["lint", two], capsys)
    assert (code, err) == (1, "")
    assert out == (
        "policies/web.yaml:12: warning NF301 shadowed-rule: shop/web-in spec.ingress[0]: ingress "
        "rule 0 adds nothing: ingress rule 1 of the same policy already allows every peer and "
        "port it allows\n"
        "    fix: delete ingress rule 0, or narrow rule 1 if it is wider than meant\n"
        "policies/web.yaml:14: error NF108 non-canonical-cidr: shop/web-in "
        "spec.ingress[0].from[0].ipBlock.cidr: 10.0.0.1/8 has host bits set; network plugins "
        "read it differently (as 10.0.0.0/8, as one address, or not at all) and netfence "
        "refuses it\n"
        "    fix: write 10.0.0.0/8\n"
        "policies/web.yaml:15: warning NF101 empty-rule: shop/web-in spec.ingress[1]: ingress "
        "rule 1 is empty: it admits every source (all pods, all namespaces, all addresses) on "
        "every port\n"
        "    fix: name the peers (from) and ports this rule should allow\n"
        "3 findings (1 error, 2 warnings, 0 info) in 1 policy from 1 file\n"
    )


def test_json_output_has_every_field(two: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["lint", two, "--format", "json"], capsys)
    data = json.loads(out)
    assert code == 1
    assert data["summary"] == {
        "files": ["policies/web.yaml"],
        "inventory": None,
        "policies": 1,
        "findings": 3,
        "error": 1,
        "warning": 2,
        "info": 0,
    }
    assert [f["id"] for f in data["findings"]] == ["NF301", "NF108", "NF101"]
    assert data["findings"][1] == {
        "id": "NF108",
        "rule": "non-canonical-cidr",
        "severity": "error",
        "file": "policies/web.yaml",
        "line": 14,
        "document": 0,
        "item": None,
        "namespace": "shop",
        "name": "web-in",
        "path": "spec.ingress[0].from[0].ipBlock.cidr",
        "message": "10.0.0.1/8 has host bits set; network plugins read it differently "
        "(as 10.0.0.0/8, as one address, or not at all) and netfence refuses it",
        "fix": "write 10.0.0.0/8",
    }


def test_markdown_output_is_a_table(two: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["lint", two, "--format", "md"], capsys)
    lines = out.splitlines()
    assert code == 1
    assert lines[:3] == [
        "## netfence lint",
        "",
        "3 findings (1 error, 2 warnings, 0 info) in 1 policy from 1 file.",
    ]
    assert lines[4] == "| severity | rule | where | policy | field | finding | fix |"
    assert lines[7].startswith(
        "| error | NF108 non-canonical-cidr | policies/web.yaml:14 | shop/web-in | "
        "spec.ingress[0].from[0].ipBlock.cidr | 10.0.0.1/8 has host bits set;"
    )
    assert len(lines) == 9


def test_markdown_without_findings(capsys: pytest.CaptureFixture[str]) -> None:
    golden = ROOT / "tests/golden/prod.manifests.yaml"
    count = len(load_policies(golden))
    code, out, _ = run(["lint", str(golden), "--format", "md"], capsys)
    assert code == 0
    assert out == (
        "## netfence lint\n\n"
        f"0 findings (0 errors, 0 warnings, 0 info) in {count} policies from 1 file.\n"
    )


# SARIF -------------------------------------------------------------------------

# The essentials of SARIF 2.1.0 (OASIS standard, sections 3.13-3.30) that GitHub code
# scanning reads, written from the specification; additionalProperties stay open as
# the format allows.
_MESSAGE = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}
SARIF_ESSENTIALS: dict[str, Any] = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "$schema": {"type": "string"},
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool", "results"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name", "rules"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "version": {"type": "string"},
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id", "shortDescription", "help"],
                                            "properties": {
                                                "id": {"type": "string"},
                                                "name": {"type": "string"},
                                                "shortDescription": _MESSAGE,
                                                "fullDescription": _MESSAGE,
                                                "help": _MESSAGE,
                                                "defaultConfiguration": {
                                                    "type": "object",
                                                    "properties": {
                                                        "level": {
                                                            "enum": [
                                                                "none",
                                                                "note",
                                                                "warning",
                                                                "error",
                                                            ]
                                                        }
                                                    },
                                                },
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["ruleId", "message", "locations"],
                            "properties": {
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": 0},
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": _MESSAGE,
                                "locations": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": {
                                        "type": "object",
                                        "required": ["physicalLocation"],
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "required": ["artifactLocation", "region"],
                                                "properties": {
                                                    "artifactLocation": {
                                                        "type": "object",
                                                        "required": ["uri"],
                                                        "properties": {"uri": {"type": "string"}},
                                                    },
                                                    "region": {
                                                        "type": "object",
                                                        "required": ["startLine"],
                                                        "properties": {
                                                            "startLine": {
                                                                "type": "integer",
                                                                "minimum": 1,
                                                            }
                                                        },
                                                    },
                                                },
                                            },
                                            "logicalLocations": {"type": "array"},
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def _sarif(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, _ = run([*argv, "--format", "sarif", "--fail-on", "info"], capsys)
    assert code == 1
    data: dict[str, Any] = json.loads(out)
    return data


def test_sarif_validates_against_the_essentials_of_2_1_0(
    two: str, capsys: pytest.CaptureFixture[str]
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    data = _sarif(["lint", two, str(DATA / "boutique.yaml")], capsys)
    jsonschema.Draft202012Validator.check_schema(SARIF_ESSENTIALS)
    jsonschema.validate(data, SARIF_ESSENTIALS)
    bad = json.loads(json.dumps(data))
    bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SARIF_ESSENTIALS)


def test_sarif_results_sit_on_the_yaml_lines(two: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = _sarif(["lint", two], capsys)
    assert data["version"] == "2.1.0"
    [run_] = data["runs"]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in RULES]
    assert all(r["help"]["text"] and r["shortDescription"]["text"] for r in rules)
    results = run_["results"]
    assert [
        (
            r["ruleId"],
            rules[r["ruleIndex"]]["id"],
            r["level"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in results
    ] == [
        ("NF301", "NF301", "warning", "policies/web.yaml", 12),
        ("NF108", "NF108", "error", "policies/web.yaml", 14),
        ("NF101", "NF101", "warning", "policies/web.yaml", 15),
    ]
    assert TWO_PROBLEMS.splitlines()[13].strip() == "cidr: 10.0.0.1/8"
    assert results[1]["locations"][0]["logicalLocations"] == [
        {"fullyQualifiedName": "shop/web-in", "kind": "resource"}
    ]
    assert results[1]["message"]["text"].startswith(
        "shop/web-in spec.ingress[0].from[0].ipBlock.cidr: 10.0.0.1/8 has host bits set"
    )


def test_sarif_keeps_absolute_paths_outside_the_working_directory_as_file_uris(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.yaml").write_text(TWO_PROBLEMS)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    data = _sarif(["lint", str(tmp_path / "p.yaml")], capsys)
    uri = data["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": (tmp_path / "p.yaml").as_uri()}


# exit codes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fail_on", "code"),
    [("error", 1), ("warning", 1), ("info", 1)],
)
def test_exit_1_at_or_above_fail_on(
    fail_on: str, code: int, two: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["lint", two, "--fail-on", fail_on], capsys)[0] == code


def test_exit_0_below_fail_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Only a warning and an info: error passes, warning and info fail."""
    doc = yaml.safe_load(TWO_PROBLEMS)
    doc["spec"]["ingress"] = [{"from": [{"podSelector": {}}]}, {}]
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(doc))
    file = str(tmp_path / "p.yaml")
    assert {f.rule.name for f in lint_paths([file]).findings} == {
        "empty-rule",
        "all-pods-peer",
        "shadowed-rule",
    }
    assert run(["lint", file], capsys)[0] == 0
    assert run(["lint", file, "--fail-on", "warning"], capsys)[0] == 1
    doc["spec"]["ingress"] = [{"from": [{"podSelector": {}}]}]
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(doc))
    assert run(["lint", file, "--fail-on", "warning"], capsys)[0] == 0
    assert run(["lint", file, "--fail-on", "info"], capsys)[0] == 1


def test_exit_2_on_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\n"
    (tmp_path / "p.yaml").write_text(bad + "spec: {bogus: 1}\n")
    code, out, err = run(["lint", str(tmp_path / "p.yaml")], capsys)
    assert (code, out) == (2, "")
    assert err == (
        f"netfence: error: {tmp_path / 'p.yaml'} (document 0) at spec.bogus: unknown field; "
        "expected one of egress, ingress, podSelector, policyTypes\n"
    )
    code, _, err = run(["lint", str(tmp_path / "missing.yaml")], capsys)
    assert code == 2
    assert err == f"netfence: error: {tmp_path / 'missing.yaml'}: no such file or directory\n"
    code, _, err = run(["lint", str(tmp_path / "p.yaml"), "--fail-on", "never"], capsys)
    assert code == 2
    assert "argument --fail-on: invalid choice: 'never'" in err


def test_output_file(two: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["lint", two, "--format", "json", "-o", "lint.json"], capsys)
    assert (code, out) == (1, "")
    assert json.loads(Path("lint.json").read_text())["summary"]["findings"] == 3


# every input kind, with lines ----------------------------------------------------

SYNTH = """\
{
  "resource": {
    "kubernetes_network_policy_v1": {
      "web": {
        "metadata": {"name": "web-in", "namespace": "shop"},
        "spec": {
          "pod_selector": {"match_labels": {"app": "web"}},
          "policy_types": ["Ingress"],
          "ingress": [
            {}
          ]
        }
      }
    }
  }
}
"""
PLAN = {
    "format_version": "1.2",
    "resource_changes": [
        {
            "address": "kubernetes_network_policy_v1.web",
            "mode": "managed",
            "type": "kubernetes_network_policy_v1",
            "change": {
                "actions": ["update"],
                "before": {
                    "metadata": [{"name": "web-in", "namespace": "shop"}],
                    "spec": [{"pod_selector": [{}], "policy_types": ["Ingress"],
                              "ingress": [{"from": [{"ip_block": [{"cidr": "10.9.9.9/8"}]}]}]}],
                },
                "after": {
                    "metadata": [{"name": "web-in", "namespace": "shop"}],
                    "spec": [{"pod_selector": [{}], "policy_types": ["Ingress"],
                              "ingress": [{"from": [{"ip_block": [{"cidr": "10.0.0.1/8"}]}]}]}],
                },
            },
        }
    ],
}  # fmt: skip
STATE = {
    "format_version": "1.0",
    "values": {
        "root_module": {
            "resources": [
                {
                    "address": "kubernetes_network_policy_v1.web",
                    "mode": "managed",
                    "type": "kubernetes_network_policy_v1",
                    "values": {
                        "metadata": [{"name": "web-in", "namespace": "shop"}],
                        "spec": [{"pod_selector": [{}], "policy_types": ["Egress"],
                                  "egress": [{"to": [], "ports": []}]}],
                    },
                }
            ]
        }
    },
}  # fmt: skip
LIST = {
    "apiVersion": "v1",
    "kind": "List",
    "items": [
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "a", "namespace": "shop"},
         "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "b", "namespace": "ops"},
         "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{}]}},
    ],
}  # fmt: skip


def _only(file: Path) -> tuple[str, str | None, str, int | None]:
    ignored = ("egress-without-dns", "half-open-namespace")  # of the default-deny shapes
    [f] = [f for f in lint_paths([file]).findings if f.rule.name not in ignored]
    return f.rule.name, f.item, f.path, f.line


def test_synthesized_terraform_json(tmp_path: Path) -> None:
    (tmp_path / "cdk.tf.json").write_text(SYNTH)
    assert _only(tmp_path / "cdk.tf.json") == (
        "empty-rule",
        "kubernetes_network_policy_v1.web",
        "spec.ingress[0]",
        10,
    )


def test_plan_json_judges_the_after_side_only(tmp_path: Path) -> None:
    (tmp_path / "plan.json").write_text(json.dumps(PLAN, indent=2))
    name, item, path, line = _only(tmp_path / "plan.json")
    assert (name, item, path) == (
        "non-canonical-cidr",
        "kubernetes_network_policy_v1.web",
        "spec[0].ingress[0].from[0].ip_block[0].cidr",
    )
    text = (tmp_path / "plan.json").read_text().splitlines()
    assert line is not None and '"10.0.0.1/8"' in text[line - 1]


def test_state_json(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text(json.dumps(STATE, indent=2))
    name, item, path, line = _only(tmp_path / "state.json")
    assert (name, item, path) == (
        "empty-rule",
        "kubernetes_network_policy_v1.web",
        "spec[0].egress[0]",
    )
    text = (tmp_path / "state.json").read_text().splitlines()
    assert line is not None and '"egress": [' in text[line - 2]


def test_kubectl_list_json_names_the_item(tmp_path: Path) -> None:
    (tmp_path / "live.json").write_text(json.dumps(LIST, indent=1))
    assert _only(tmp_path / "live.json")[:3] == ("empty-rule", "items[1]", "spec.ingress[0]")


def test_multi_document_yaml_counts_empty_documents_like_the_loader(tmp_path: Path) -> None:
    text = "# header\n---\n---\n" + TWO_PROBLEMS
    (tmp_path / "p.yaml").write_text(text)
    [cidr] = [f for f in lint_paths([tmp_path / "p.yaml"]).findings if f.rule.id == "NF108"]
    assert (cidr.document, cidr.line) == (1, 17)
    assert text.splitlines()[16].strip() == "cidr: 10.0.0.1/8"


def test_netfence_s_own_artifacts_lint_clean() -> None:
    golden = sorted((ROOT / "tests" / "golden").iterdir())
    result = lint_paths(golden[:2])  # one stack: its cdk.tf.json and manifests.yaml
    assert [f for f in result.findings if f.rule.name != "duplicate-name"] == []
    for file in golden:
        assert lint_paths([file]).findings == ()


# real-world shaped policy sets ---------------------------------------------------


def _table(result: LintResult) -> list[tuple[str, str, str, int]]:
    return [
        (f.rule.id, f.policy or f"ns {f.namespace}", f.path, f.line or 0) for f in result.findings
    ]


def test_shop_demo_policies() -> None:
    result = lint_paths([DATA / "boutique.yaml"], DATA / "boutique-inventory.yaml")
    open_egress = [
        ("storefront", 31),
        ("basket", 54),
        ("basket-store", 74),
        ("catalogue", 106),
        ("exchange-rates", 129),
        ("shipping", 188),
        ("till", 228),
        ("adverts", 272),
    ]
    expected = [
        ("NF203", "ns kube-system", "namespaces.kube-system", 4),
        ("NF105", "boutique/default-deny", "spec.podSelector", 10),
        ("NF104", "boutique/storefront", "spec.ingress[0].from[0].ipBlock", 25),
        ("NF201", "boutique/basket-store", "spec.ingress[0].ports[0]", 72),
        ("NF301", "boutique/catalogue", "spec.ingress[1]", 99),
        ("NF108", "boutique/payments", "spec.egress[1].to[0].ipBlock.cidr", 163),
        ("NF107", "boutique/mailer", "spec.egress", 207),
        ("NF106", "boutique/suggestions", "spec", 235),
        ("NF105", "boutique/suggestions", "spec.podSelector", 236),
        *[("NF101", f"boutique/{name}", "spec.egress[0]", line) for name, line in open_egress],
    ]
    assert sorted(_table(result), key=lambda r: r[3]) == sorted(expected, key=lambda r: r[3])
    [dns] = [f for f in result.findings if f.rule.id == "NF105" and f.name == "default-deny"]
    assert dns.message == (
        "isolates egress for pods mailer, suggestions, traffic, and no policy in namespace "
        "boutique allows DNS (UDP 53) to all of them"
    )


def test_recipe_patterns() -> None:
    assert _table(lint_paths([DATA / "recipes.yaml"])) == [
        ("NF204", "web/deny-all-ingress", "spec.policyTypes", 8),
        ("NF101", "web/blog-open", "spec.ingress[0]", 18),
        ("NF103", "web/wiki-same-namespace", "spec.ingress[0].from[0]", 29),
        ("NF102", "web/status-all-namespaces", "spec.ingress[0].from[0]", 40),
        ("NF104", "web/gateway-external", "spec.ingress[0].from[0].ipBlock", 78),
        ("NF104", "web/gateway-external", "spec.ingress[0].from[1].ipBlock", 79),
        ("NF105", "data/vault-no-egress", "spec.podSelector", 88),
        ("NF102", "data/jobs-cluster-only", "spec.egress[1].to[0]", 115),
        ("NF106", "data/etl-to-warehouse", "spec", 121),
        ("NF110", "data/warehouse-replication", "spec.ingress[1].ports[0].endPort", 146),
    ]
