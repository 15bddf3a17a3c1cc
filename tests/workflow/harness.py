"""Run a GitHub Actions workflow's jobs here, as a runner would, on a real git repo.

Each job gets its own workspace (a fresh runner), GitHub's environment
(GITHUB_WORKSPACE, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_EVENT_PATH, ...)
and runs its ``run:`` steps with ``bash --noprofile --norc -eo pipefail``, in
order, as written. Only the steps that need GitHub itself are replaced:

- ``actions/checkout``: ``git worktree add`` at the ``ref`` the step names
  (default: the event's head SHA);
- ``actions/setup-python`` (and setup-terraform): the local toolchain, a
  fresh virtualenv per job whose dependencies come from a prepared directory;
- ``actions/upload-artifact`` / ``download-artifact``: a directory per run;
- ``actions/github-script``: the step's script run by node against a stand-in
  ``github`` client whose calls are captured (``Run.requests``) instead of sent.

``${{ }}`` expressions are evaluated for the subset workflows here use
(context paths, string literals, ``==``, ``!=``, ``&&``, ``!cancelled()``,
``always()``, ``success()``); anything else raises instead of guessing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.S)
STEP_TIMEOUT = 600

NODE_GITHUB_SCRIPT = r"""
const fs = require('fs');
const [scriptFile, stateFile, outFile] = process.argv.slice(2);
const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
const requests = [];
const call = (route, data) => async (params) => {
  requests.push({ route, params });
  return { data: typeof data === 'function' ? data(params) : data };
};
const github = {
  rest: { issues: {
    listComments: call('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', state.comments),
    createComment: call('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { id: 1 }),
    updateComment: call('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', {}),
  } },
  paginate: async (fn, params) => (await fn(params)).data,
};
const [owner, repo] = state.repository.split('/');
const context = {
  repo: { owner, repo }, issue: { owner, repo, number: state.event.number },
  payload: state.event, eventName: 'pull_request',
};
const core = {
  info: (m) => console.log(m), warning: (m) => console.log('warning: ' + m),
  setFailed: (m) => { throw new Error(m); },
};
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const script = new AsyncFunction('require', 'github', 'context', 'core',
  fs.readFileSync(scriptFile, 'utf8'));
script(require, github, context, core).then(
  () => fs.writeFileSync(outFile, JSON.stringify(requests)),
  (err) => { console.error(err); process.exit(1); });
"""


@dataclass(frozen=True)
class Toolchain:
    """What setup-python stands for: a base interpreter plus a dependencies directory.

    deps: installed with ``pip install --target`` (pip, the project's
    dependencies); a job's Python sees it through PYTHONPATH, so even a
    virtualenv a step creates finds them. wheelhouse: the only package index
    (PIP_NO_INDEX): build backends and the netfence wheel a scaffold pins.
    """

    python: Path
    deps: Path
    wheelhouse: Path


@dataclass
class StepResult:
    name: str
    status: str  # success, failure, skipped
    log: str = ""


@dataclass
class JobResult:
    name: str
    status: str = "skipped"
    steps: list[StepResult] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""

    def log(self) -> str:
        return "\n".join(f"--- {s.name} [{s.status}]\n{s.log}" for s in self.steps)


@dataclass
class Run:
    jobs: dict[str, JobResult]
    requests: list[dict[str, Any]]
    artifacts: Path

    def failed_step(self) -> StepResult | None:
        for job in self.jobs.values():
            for step in job.steps:
                if step.status == "failure":
                    return step
        return None

    def logs(self) -> str:
        return "\n".join(f"=== job {j.name}: {j.status}\n{j.log()}" for j in self.jobs.values())


def load_workflow(path: Path) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def action_name(uses: str) -> str:
    return uses.split("@", 1)[0]


class Expressions:
    """The little of GitHub's expression language these workflows use."""

    def __init__(self, contexts: Mapping[str, Any], succeeded: bool = True) -> None:
        self.contexts = contexts
        self.succeeded = succeeded

    def value(self, text: str) -> Any:
        text = text.strip()
        if re.fullmatch(r"'[^']*'", text):
            return text[1:-1]
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        if text in ("true", "false"):
            return text == "true"
        if text in ("!cancelled()", "always()"):
            return True
        if text == "success()":
            return self.succeeded
        if text == "failure()":
            return not self.succeeded
        if not re.fullmatch(r"[A-Za-z_][\w-]*(\.[\w-]+)*", text):
            raise NotImplementedError(f"expression not supported by the harness: {text!r}")
        node: Any = self.contexts
        for part in text.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        return "" if node is None else node

    def evaluate(self, expression: str) -> Any:
        if "||" in expression or "(" in expression.replace("!cancelled()", "").replace(
            "always()", ""
        ).replace("success()", "").replace("failure()", ""):
            raise NotImplementedError(f"expression not supported by the harness: {expression!r}")
        terms = [t.strip() for t in expression.split("&&")]
        results = []
        for term in terms:
            m = re.fullmatch(r"(.+?)\s*(==|!=)\s*(.+)", term)
            if m:
                left, right = self.value(m.group(1)), self.value(m.group(3))
                same = str(left) == str(right)
                results.append(same if m.group(2) == "==" else not same)
            else:
                results.append(self.value(term))
        if len(results) == 1:
            return results[0]
        return all(bool(r) for r in results)

    def condition(self, raw: Any) -> bool:
        if raw is None:
            return self.succeeded
        text = str(raw).strip()
        m = EXPRESSION.fullmatch(text)
        return bool(self.evaluate(m.group(1) if m else text))

    def substitute(self, text: str) -> str:
        return EXPRESSION.sub(lambda m: str(self.evaluate(m.group(1))), text)


def _parse_outputs(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        heredoc = re.fullmatch(r"([\w-]+)<<(\S+)", line)
        if heredoc:
            name, end = heredoc.groups()
            body = []
            i += 1
            while lines[i] != end:
                body.append(lines[i])
                i += 1
            out[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
        i += 1
    return out


class Runner:
    def __init__(
        self,
        repo: Path,
        event: dict[str, Any],
        toolchain: Toolchain,
        work: Path,
        comments: list[dict[str, Any]] | None = None,
    ) -> None:
        self.repo = repo
        self.event = event
        self.toolchain = toolchain
        self.work = work
        self.comments = comments or []
        self.artifacts = work / "artifacts"
        self.artifacts.mkdir(parents=True)
        self.requests: list[dict[str, Any]] = []
        self.event_path = work / "event.json"
        self.event_path.write_text(json.dumps(event), encoding="utf-8")
        self.repository = event["repository"]["full_name"]

    # jobs -------------------------------------------------------------------------

    def run(self, workflow: dict[str, Any]) -> Run:
        jobs: dict[str, JobResult] = {}
        for name in self._order(workflow["jobs"]):
            spec = workflow["jobs"][name]
            needs = spec.get("needs", [])
            needs = [needs] if isinstance(needs, str) else list(needs)
            contexts = self._contexts(
                needs={n: {"outputs": jobs[n].outputs, "result": jobs[n].status} for n in needs}
            )
            ok = all(jobs[n].status == "success" for n in needs)
            if not Expressions(contexts, ok).condition(spec.get("if")):
                jobs[name] = JobResult(name, "skipped")
                continue
            jobs[name] = self._job(name, spec, workflow.get("env", {}), contexts)
        return Run(jobs, self.requests, self.artifacts)

    @staticmethod
    def _order(jobs: Mapping[str, Any]) -> list[str]:
        done: list[str] = []
        while len(done) < len(jobs):
            for name, spec in jobs.items():
                needs = spec.get("needs", [])
                needs = [needs] if isinstance(needs, str) else needs
                if name not in done and all(n in done for n in needs):
                    done.append(name)
                    break
            else:
                raise ValueError("jobs' needs form a cycle")
        return done

    def _contexts(self, **extra: Any) -> dict[str, Any]:
        github = {
            "event": self.event,
            "event_name": "pull_request",
            "repository": self.repository,
            "sha": self.event["pull_request"]["head"]["sha"],
            "ref": f"refs/pull/{self.event['number']}/merge",
            "token": "ghs_harness-token-that-must-never-be-printed",
        }
        return {"github": github, "secrets": {}, "env": {}, **extra}

    def _job(
        self,
        name: str,
        spec: dict[str, Any],
        workflow_env: dict[str, Any],
        contexts: dict[str, Any],
    ) -> JobResult:
        result = JobResult(name, "success")
        root = self.work / "jobs" / name
        workspace = root / "workspace"
        temp = root / "temp"
        workspace.mkdir(parents=True)
        temp.mkdir()
        summary = root / "summary.md"
        summary.touch()
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", str(root)),
            "LANG": "C.UTF-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_EVENT_PATH": str(self.event_path),
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_REPOSITORY": self.repository,
            "GITHUB_SHA": contexts["github"]["sha"],
            "GITHUB_REF": contexts["github"]["ref"],
            "GITHUB_STEP_SUMMARY": str(summary),
            "RUNNER_TEMP": str(temp),
            "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache/pip")),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(self.toolchain.wheelhouse),
        }
        steps: dict[str, Any] = {}
        contexts = {**contexts, "steps": steps}
        for key, value in {**workflow_env, **spec.get("env", {})}.items():
            env[key] = Expressions(contexts).substitute(str(value))
        for index, step in enumerate(spec["steps"]):
            label = step.get("name") or step.get("uses") or f"step {index}"
            exprs = Expressions({**contexts, "env": env}, result.status == "success")
            if not exprs.condition(step.get("if")):
                result.steps.append(StepResult(label, "skipped"))
                continue
            step_env = dict(env)
            for key, value in step.get("env", {}).items():
                step_env[key] = exprs.substitute(str(value))
            output_file = root / f"output-{index}"
            output_file.touch()
            step_env["GITHUB_OUTPUT"] = str(output_file)
            try:
                ok, log = self._step(step, step_env, workspace, root, index, exprs, env)
            except subprocess.TimeoutExpired as exc:
                ok, log = False, f"timed out: {exc}"
            result.steps.append(StepResult(label, "success" if ok else "failure", log))
            if "id" in step:
                steps[step["id"]] = {
                    "outputs": _parse_outputs(output_file),
                    "outcome": "success" if ok else "failure",
                }
            if not ok:
                result.status = "failure"
        result.summary = summary.read_text(encoding="utf-8")
        exprs = Expressions(contexts)
        result.outputs = {k: exprs.substitute(str(v)) for k, v in spec.get("outputs", {}).items()}
        return result

    # steps ------------------------------------------------------------------------

    def _step(
        self,
        step: dict[str, Any],
        env: dict[str, str],
        workspace: Path,
        root: Path,
        index: int,
        exprs: Expressions,
        job_env: dict[str, str],
    ) -> tuple[bool, str]:
        if "run" in step:
            script = root / f"step-{index}.sh"
            script.write_text(step["run"], encoding="utf-8")  # run: text is never substituted
            cwd = workspace / step.get("working-directory", ".")
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=STEP_TIMEOUT,
                check=False,
            )
            return done.returncode == 0, done.stdout + done.stderr
        uses = action_name(step["uses"])
        inputs = {k: exprs.substitute(str(v)) for k, v in step.get("with", {}).items()}
        if uses == "actions/checkout":
            return self._checkout(inputs, workspace)
        if uses == "actions/setup-python":
            return self._setup_python(root, job_env)
        if uses == "hashicorp/setup-terraform":
            found = shutil.which("terraform")
            return found is not None, f"local terraform: {found}"
        if uses == "actions/upload-artifact":
            source = workspace / inputs["path"]
            if not source.exists() or not any(source.rglob("*")):
                return inputs.get("if-no-files-found") != "error", f"no files at {source}"
            shutil.copytree(source, self.artifacts / inputs["name"])
            return True, f"uploaded {source} as {inputs['name']}"
        if uses == "actions/download-artifact":
            stored = self.artifacts / inputs["name"]
            if not stored.exists():
                return False, f"no artifact {inputs['name']}"
            shutil.copytree(stored, workspace / inputs.get("path", "."), dirs_exist_ok=True)
            return True, f"downloaded {inputs['name']}"
        if uses == "actions/github-script":
            return self._github_script(inputs["script"], env, workspace, root, index)
        raise NotImplementedError(f"the harness has no stand-in for {step['uses']}")

    def _checkout(self, inputs: dict[str, str], workspace: Path) -> tuple[bool, str]:
        ref = inputs.get("ref") or self.event["pull_request"]["head"]["sha"]
        target = workspace / inputs.get("path", ".")
        if target.exists() and any(target.iterdir()):
            return False, f"{target} is not empty"
        done = subprocess.run(
            ["git", "-C", str(self.repo), "worktree", "add", "--detach", str(target), ref],
            capture_output=True,
            text=True,
            check=False,
        )
        return done.returncode == 0, done.stdout + done.stderr

    def _setup_python(self, root: Path, job_env: dict[str, str]) -> tuple[bool, str]:
        venv = root / "python"
        subprocess.run(
            [str(self.toolchain.python), "-m", "venv", "--without-pip", str(venv)],
            check=True,
            capture_output=True,
        )
        job_env["PATH"] = f"{venv / 'bin'}{os.pathsep}{job_env['PATH']}"
        job_env["PYTHONPATH"] = str(self.toolchain.deps)
        return True, f"python {venv}"

    def _github_script(
        self, script: str, env: dict[str, str], workspace: Path, root: Path, index: int
    ) -> tuple[bool, str]:
        ok, log, requests = run_github_script(
            script, root / f"github-script-{index}", self.event, self.comments, workspace, env
        )
        self.requests.extend(requests)
        return ok, log


def run_github_script(
    script: str,
    scratch: Path,
    event: dict[str, Any],
    comments: list[dict[str, Any]],
    cwd: Path,
    env: Mapping[str, str] | None = None,
) -> tuple[bool, str, list[dict[str, Any]]]:
    """Run an actions/github-script ``script`` in node; returns (ok, log, captured calls)."""
    scratch.mkdir(parents=True)
    (scratch / "script.js").write_text(script, encoding="utf-8")
    state = {"repository": event["repository"]["full_name"], "event": event, "comments": comments}
    (scratch / "state.json").write_text(json.dumps(state), encoding="utf-8")
    (scratch / "runner.js").write_text(NODE_GITHUB_SCRIPT, encoding="utf-8")
    out = scratch / "requests.json"
    done = subprocess.run(
        ["node", *(str(scratch / f) for f in ("runner.js", "script.js", "state.json")), str(out)],
        cwd=cwd,
        env=dict(env if env is not None else os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    requests = json.loads(out.read_text(encoding="utf-8")) if done.returncode == 0 else []
    return done.returncode == 0, done.stdout + done.stderr, requests


def make_repo(
    path: Path, base: Mapping[str, str | Path], head: Mapping[str, str | None]
) -> tuple[str, str]:
    """A git repo with a base commit (``base``: relative path -> text or a file/dir to
    copy) and a head commit on top (``head``: relative path -> new text, None deletes)."""
    path.mkdir(parents=True)

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(path), *args],
            capture_output=True,
            text=True,
            check=True,
            env={
                **os.environ,
                "GIT_AUTHOR_NAME": "dev",
                "GIT_AUTHOR_EMAIL": "dev@example.invalid",
                "GIT_COMMITTER_NAME": "dev",
                "GIT_COMMITTER_EMAIL": "dev@example.invalid",
            },
        ).stdout.strip()

    git("init", "-q", "-b", "main")
    for relative, content in base.items():
        target = path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            if content.is_dir():
                shutil.copytree(
                    content, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
                )
            else:
                shutil.copy2(content, target)
        else:
            target.write_text(content, encoding="utf-8")
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    base_sha = git("rev-parse", "HEAD")
    for relative, text in head.items():
        target = path / relative
        if text is None:
            target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    git("add", "-A")
    git("commit", "-q", "-m", "head")
    return base_sha, git("rev-parse", "HEAD")


def pull_request_event(
    base: str, head: str, *, repository: str = "acme/policies", fork: bool = False
) -> dict[str, Any]:
    head_repo = "contributor/policies" if fork else repository
    return {
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "title": "$(touch /tmp/pwned) `injected` ${{ secrets.X }}",
            "base": {"sha": base, "ref": "main", "repo": {"full_name": repository}},
            "head": {"sha": head, "ref": "feature", "repo": {"full_name": head_repo}},
        },
        "repository": {"full_name": repository},
    }
