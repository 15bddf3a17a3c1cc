"""The pull-request workflow: safe by construction (checked on the YAML), and run for real.

The same template serves this repository (its examples) and every project
``netfence init`` writes; both renderings are checked point by point, and
the harness runs each on a git repository with a base and a head commit.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.scaffold import init_project, render_workflow

from .conftest import ROOT, source_files
from .harness import (
    Expressions,
    Runner,
    Toolchain,
    action_name,
    load_workflow,
    make_repo,
    pull_request_event,
    run_github_script,
)

REPO_WORKFLOW = ROOT / ".github" / "workflows" / "netfence.yml"
OLD_WORKFLOW = Path(__file__).parent / "data" / "netfence-before-issue-13.yml"
REPO_INSTALL = "python -m pip install --quiet ."
REPO_APP = "python -m stacks"
BOT = 41898282  # github-actions[bot]
MALLORY = {"id": 666, "login": "mallory"}
ACTIONS = {"id": BOT, "login": "github-actions[bot]"}
MARKER = "<!-- netfence:connectivity-review -->"
HEAD_SHA = "${{ github.event.pull_request.head.sha }}"
BASE_SHA = "${{ github.event.pull_request.base.sha }}"


def _rendered(which: str, tmp_path: Path) -> Path:
    if which == "repository":
        return REPO_WORKFLOW
    init_project(tmp_path / "scaffold", name="shop")
    return tmp_path / "scaffold" / ".github" / "workflows" / "netfence.yml"


@pytest.fixture(params=["repository", "scaffold"])
def workflow(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    return load_workflow(_rendered(request.param, tmp_path))


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = job["steps"]
    return steps


def _checkout_refs(job: dict[str, Any]) -> list[str]:
    return [
        s.get("with", {}).get("ref", "<default: the merge commit>")
        for s in _steps(job)
        if action_name(s.get("uses", "")) == "actions/checkout"
    ]


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(s["run"] for s in _steps(job) if "run" in s)


# the YAML, point by point ---------------------------------------------------------------


def test_the_repository_workflow_is_the_template_rendered_for_its_examples() -> None:
    expected = render_workflow(REPO_INSTALL, REPO_APP)
    assert REPO_WORKFLOW.read_text(encoding="utf-8") == expected, (
        "regenerate: python -c 'from constructs_lib.scaffold import render_workflow; "
        f'print(render_workflow("{REPO_INSTALL}", "{REPO_APP}"), end="")\' > {REPO_WORKFLOW}'
    )


def test_it_runs_on_pull_request_never_pull_request_target(workflow: dict[str, Any]) -> None:
    assert set(workflow["on"]) == {"pull_request"}


def test_no_credentials_anywhere_and_no_plan_of_pull_request_code(
    workflow: dict[str, Any],
) -> None:
    text = json.dumps(workflow)
    assert "secrets." not in text
    assert "KUBE" not in text and "kubeconfig" not in text.lower()
    assert "env" not in workflow
    for job in workflow["jobs"].values():
        assert "env" not in job
        assert "terraform" not in _runs(job), "a plan runs the head's configuration"


def test_every_checkout_leaves_no_token_in_git_config(workflow: dict[str, Any]) -> None:
    checkouts = [
        s
        for job in workflow["jobs"].values()
        for s in _steps(job)
        if action_name(s.get("uses", "")) == "actions/checkout"
    ]
    assert len(checkouts) == 2
    assert all(s["with"]["persist-credentials"] is False for s in checkouts)


def test_pull_request_code_runs_only_where_nothing_can_be_written(
    workflow: dict[str, Any],
) -> None:
    jobs = workflow["jobs"]
    head_jobs = [n for n, j in jobs.items() if HEAD_SHA in _checkout_refs(j)]
    assert head_jobs == ["synth"]
    assert jobs["synth"]["permissions"] == {"contents": "read"}
    assert "netfence " not in _runs(jobs["synth"]), "the head's netfence must not judge"


def test_the_review_runs_the_base_branch_netfence_on_the_head_artifacts_only(
    workflow: dict[str, Any],
) -> None:
    review = workflow["jobs"]["review"]
    assert _checkout_refs(review) == [BASE_SHA]
    downloads = [s for s in _steps(review) if "download-artifact" in s.get("uses", "")]
    assert [d["with"] for d in downloads] == [{"name": "netfence-head", "path": "out/head"}]
    assert review["needs"] == "synth"
    # every netfence call comes after the base install in the same job
    runs = [s["run"] for s in _steps(review) if "run" in s]
    assert "cd base" in runs[0] and "netfence" not in runs[0]
    assert all("cd head" not in r and "head/" not in r for r in runs)


def test_least_permissions(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {}
    assert {n: j["permissions"] for n, j in workflow["jobs"].items()} == {
        "synth": {"contents": "read"},
        "review": {"contents": "read"},
        "comment": {"pull-requests": "write"},
    }
    comment = workflow["jobs"]["comment"]
    assert _checkout_refs(comment) == [], "the job that can write runs no repository code"
    assert [action_name(s["uses"]) for s in _steps(comment)] == [
        "actions/download-artifact",
        "actions/github-script",
    ]


def test_third_party_actions_are_pinned_by_full_commit_sha(workflow: dict[str, Any]) -> None:
    uses = [s["uses"] for j in workflow["jobs"].values() for s in _steps(j) if "uses" in s]
    assert uses
    for ref in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), ref


# Each pin checked against the action's own repository (the tag's commit), 2026-12-01:
# `git rev-parse <tag>^{commit}` in a clone of each. A pin changes only with this table.
VERIFIED_PINS = {
    "actions/checkout": ("11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"),
    "actions/setup-python": ("0b93645e9fea7318ecaed2b359559ac225c90a2b", "v5.3.0"),
    "actions/upload-artifact": ("ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"),
    "actions/download-artifact": ("d3f86a106a0bac45b974a628896c90dbdf5c8093", "v4.3.0"),
    "actions/github-script": ("60a0d83039c74a4aee543508d2ffcb1c3799cdea", "v7.0.1"),
}


@pytest.mark.parametrize("which", ["repository", "scaffold"])
def test_each_pin_is_a_verified_commit_named_by_its_tag(which: str, tmp_path: Path) -> None:
    text = _rendered(which, tmp_path).read_text()
    uses = re.findall(r"^\s*(?:- )?uses: (\S+)@(\S+)(.*)$", text, re.M)
    assert {action for action, _, _ in uses} == set(VERIFIED_PINS)
    for action, sha, comment in uses:
        pinned, tag = VERIFIED_PINS[action]
        assert (sha, comment) == (pinned, f" # {tag}"), action


def test_no_expression_inside_run(workflow: dict[str, Any]) -> None:
    for job in workflow["jobs"].values():
        for step in _steps(job):
            assert "${{" not in step.get("run", ""), step.get("name")
            assert "${{" not in step.get("with", {}).get("script", ""), step.get("name")


def test_fork_pull_requests_get_the_summary_and_artifact_instead_of_a_comment(
    workflow: dict[str, Any],
) -> None:
    condition = workflow["jobs"]["comment"]["if"]
    outputs = {"review": {"outputs": {"composed": "true"}}}
    for fork, comments in ((False, True), (True, False)):
        event = pull_request_event("b" * 40, "h" * 40, fork=fork)
        contexts = {
            "github": {"event": event, "repository": event["repository"]["full_name"]},
            "needs": outputs,
        }
        assert Expressions(contexts).condition(condition) is comments
    review = workflow["jobs"]["review"]
    compose = next(s for s in _steps(review) if s.get("id") == "compose")
    assert 'cat review/comment.md >> "$GITHUB_STEP_SUMMARY"' in compose["run"]
    uploads = [s["with"] for s in _steps(review) if "upload-artifact" in s.get("uses", "")]
    assert uploads == [{"name": "netfence-review", "path": "review", "if-no-files-found": "error"}]


def _comment_script(workflow: dict[str, Any]) -> tuple[str, dict[str, str]]:
    step = _steps(workflow["jobs"]["comment"])[-1]
    return step["with"]["script"], {k: str(v) for k, v in step["env"].items()}


@pytest.mark.parametrize(
    ("comments", "expected"),
    [
        ([], "POST"),
        # anyone can write a comment starting with the marker: it is not netfence's
        ([{"id": 11, "user": MALLORY, "body": MARKER + "\nall good"}], "POST"),
        ([{"id": 11, "user": MALLORY, "body": MARKER + "\nall good"},
          {"id": 12, "user": ACTIONS, "body": "unrelated"},
          {"id": 13, "user": ACTIONS, "body": MARKER + "\nold"}],
         "PATCH 13"),
    ],
)  # fmt: skip
def test_the_comment_is_found_by_the_bot_author_id_and_the_marker(
    tmp_path: Path, comments: list[dict[str, Any]], expected: str
) -> None:
    script, env = _comment_script(load_workflow(REPO_WORKFLOW))
    (tmp_path / "review").mkdir()
    (tmp_path / "review" / "comment.md").write_text("## netfence connectivity diff\n")
    ok, log, requests = run_github_script(
        script, tmp_path / "scratch", pull_request_event("b" * 40, "h" * 40), comments, tmp_path,
        env={"PATH": "/usr/bin:/bin", **env},
    )  # fmt: skip
    assert ok, log
    assert requests[0]["route"] == "GET /repos/{owner}/{repo}/issues/{issue_number}/comments"
    assert requests[0]["params"] == {
        "owner": "acme", "repo": "policies", "issue_number": 7, "per_page": 100
    }  # fmt: skip
    (write,) = requests[1:]
    verb = write["route"].split()[0]
    assert (verb if verb == "POST" else f"{verb} {write['params']['comment_id']}") == expected
    assert write["params"]["body"] == MARKER + "\n## netfence connectivity diff\n"


# the harness, for real --------------------------------------------------------------------


def _repo_sources() -> dict[str, str | Path]:
    keep = ("constructs_lib", "stacks", ".github", "pyproject.toml", "setup.py",
            "_netfence_jsii_node.py", "README.md", "cdktf.json")  # fmt: skip
    return {
        str(f.relative_to(ROOT)): f for f in source_files() if f.relative_to(ROOT).parts[0] in keep
    }


def _run(tmp_path: Path, toolchain: Toolchain, base: dict[str, Any], head: dict[str, Any],
         workflow: str = ".github/workflows/netfence.yml", **kw: Any) -> Any:  # fmt: skip
    repo = tmp_path / "repo"
    base_sha, head_sha = make_repo(repo, base, head)
    runner = Runner(repo, pull_request_event(base_sha, head_sha), toolchain, tmp_path / "run", **kw)
    return runner.run(load_workflow(repo / workflow))


@pytest.mark.slow
def test_the_old_workflow_failed_at_its_first_synth_out_was_never_created(
    tmp_path: Path, toolchain: Toolchain
) -> None:
    base = {**_repo_sources(), ".github/workflows/netfence.yml": OLD_WORKFLOW}
    run = _run(tmp_path, toolchain, base, {"stacks/README": "a change\n"})
    failed = run.failed_step()
    assert failed is not None, run.logs()
    assert failed.name == "Synthesize base and head"
    # netfence names the directory cdktf could not create (cdktf's own ENOENT, reworded)
    assert re.search(
        r"netfence: error: \S+/out/base: cannot create the output directory: "
        r"No such file or directory",
        failed.log,
    ), failed.log
    assert run.requests == []


SHOP_CHANGE = ("        worker.allow_to(payments)\n",
               "        worker.allow_to(payments)\n        frontend.allow_to(db)\n")  # fmt: skip


@pytest.mark.slow
def test_the_workflow_reviews_a_pull_request_of_the_examples(
    tmp_path: Path, toolchain: Toolchain
) -> None:
    shop = (ROOT / "stacks" / "shop.py").read_text(encoding="utf-8")
    assert SHOP_CHANGE[0] in shop
    mallory = {"id": 5, "user": MALLORY, "body": MARKER + "\nLGTM"}
    run = _run(
        tmp_path, toolchain, _repo_sources(), {"stacks/shop.py": shop.replace(*SHOP_CHANGE)},
        comments=[mallory],
    )  # fmt: skip
    assert {n: j.status for n, j in run.jobs.items()} == {
        "synth": "success", "review": "success", "comment": "success"
    }, run.logs()  # fmt: skip
    routes = [r["route"].split()[0] for r in run.requests]
    assert routes == ["GET", "POST"], "mallory's marker comment must not be edited"
    body = run.requests[1]["params"]["body"]
    assert body.startswith(MARKER + "\n## netfence connectivity diff\n\n**2 flows opened, 0 closed")
    for stack in ("staging", "prod"):
        assert f"### stack `{stack}`" in body
    assert "| shop-web/frontend | shop-data/db | TCP 5432 |" in body
    assert "<summary>netfence verify</summary>" in body
    # the head's artifact, verified: one more declared flow than the base's nine
    assert re.search(r"### stack `prod`: exact\n\n\d+ policies, 10 declared flows", body)
    assert (
        run.jobs["review"].summary == (run.artifacts / "netfence-review" / "comment.md").read_text()
    )


@pytest.mark.slow
def test_the_scaffold_workflow_comments_then_fails_the_check_on_a_risk(
    tmp_path: Path, toolchain: Toolchain
) -> None:
    init_project(tmp_path / "project", name="shop")
    files = {str(p.relative_to(tmp_path / "project")): p
             for p in sorted((tmp_path / "project").rglob("*")) if p.is_file()}  # fmt: skip
    main = (tmp_path / "project" / "main.py").read_text(encoding="utf-8")
    risky = main.replace(
        "    return app\n",
        "    internet = ExternalEndpoint(\n"
        '        "internet", cidrs=["0.0.0.0/0"], internet=True, ports=[Port.tcp(443)]\n'
        "    )\n    api.allow_to(internet)\n    return app\n",
    )
    run = _run(tmp_path, toolchain, files, {"main.py": risky})
    statuses = {n: j.status for n, j in run.jobs.items()}
    assert statuses == {"synth": "success", "review": "failure", "comment": "success"}, run.logs()
    assert [s.name for s in run.jobs["review"].steps if s.status == "failure"] == [
        "Gate on verification and risk flags"
    ]
    body = run.requests[-1]["params"]["body"]
    assert run.requests[-1]["route"].startswith("POST")
    assert "**⚠️ 1 flow opened, 0 closed, 1 risk flag**" in body
    assert (
        "**internet-egress**: shop-web/api may now connect to external/internet on TCP 443" in body
    )
