"""The GitHub Action (action.yml) and the GitLab CI template, without the hosting service:
their shell steps run as the runners run them, with a fake GITHUB_* (CI_*) environment, and a
local HTTP server stands in for the comments API; the requests it receives are checked."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import manifests as objects
from tests.ci.comments_api import CommentsApi
from tests.conftest import PROJECT, ConfigRepo, git

ACTION = PROJECT / "action.yml"
GITLAB_TEMPLATE = PROJECT / "ci" / "gitlab" / "gitdeploy.gitlab-ci.yml"
BIN = str(Path(sys.executable).parent)  # gitdeploy and python of the test environment


def run_action(inputs: dict[str, str], environ: dict[str, str], cwd: Path, tmp: Path
               ) -> tuple[int, dict[str, str]]:
    """Run the action's `run:` steps in order as GitHub's bash runs them (`bash --noprofile
    --norc -eo pipefail`), expressions filled in from `inputs` (else the defaults), the
    previous steps' outputs and GITHUB_ENV; stop at the first failing step. Returns its exit
    code (0 when all passed) and the outputs of the step `run`."""
    action = yaml.safe_load(ACTION.read_text())
    values = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values.update(inputs)
    outputs: dict[str, dict[str, str]] = {}
    env = dict(environ)

    def expand(text: str) -> str:
        def one(found: re.Match[str]) -> str:
            expression = found.group(1).strip()
            if expression.startswith("inputs."):
                return expand(values[expression.removeprefix("inputs.")])  # a default may be one
            if expression == "github.token":
                return "token-from-github"
            step = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression)
            if step:
                return outputs.get(step.group(1), {}).get(step.group(2), "")
            raise AssertionError(f"unknown expression {expression}")
        return re.sub(r"\$\{\{(.*?)\}\}", one, text)

    for index, step in enumerate(action["runs"]["steps"]):
        if "run" not in step:
            continue  # actions/setup-python: the test's Python is on PATH
        files = {name: tmp / f"{name.lower()}-{index}" for name in ("GITHUB_ENV",
                                                                      "GITHUB_OUTPUT")}
        for file in files.values():
            file.write_text("")
        step_env = {**env, **{k: expand(str(v)) for k, v in step.get("env", {}).items()},
                    **{k: str(v) for k, v in files.items()}}
        folder = cwd / expand(step.get("working-directory", "."))
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                               expand(step["run"])], cwd=folder, env=step_env,
                              capture_output=True, text=True, timeout=300, check=False)
        print(step.get("name"), done.returncode, done.stdout, done.stderr, sep="\n")
        for line in files["GITHUB_ENV"].read_text().splitlines():
            key, _, value = line.partition("=")
            env[key] = value
        if "id" in step:
            outputs[step["id"]] = dict(line.split("=", 1) for line in
                                       files["GITHUB_OUTPUT"].read_text().splitlines())
        if done.returncode:
            return done.returncode, outputs.get("run", {})
    return 0, outputs.get("run", {})


@pytest.fixture
def config(repo: ConfigRepo) -> ConfigRepo:
    """`one` and `two` on a shared kustomize base, `plain` on its own; the base commit is
    `main`, a pull request's branch `change` changes the base."""
    repo.write("environments/base/kustomization.yaml", {"resources": ["web.yaml"]})
    repo.write("environments/base/web.yaml", objects.deployment("web", image="nginx:1.27"))
    for name in ("one", "two"):
        repo.settings(name, context="kind-dev", namespace="default", labels={"app": "web"})
        repo.write(f"environments/{name}/kustomization.yaml",
                   {"resources": ["../base"], "nameSuffix": f"-{name}"})
    repo.settings("plain", context="kind-dev", namespace="default")
    repo.write("environments/plain/app.yaml", objects.configmap("plain", {"v": "1"}))
    repo.commit("start")
    git(repo.root, "checkout", "-q", "-b", "change")
    repo.write("environments/base/web.yaml", objects.deployment("web", image="nginx:1.28"))
    repo.commit("new image")
    return repo


def github_env(api: CommentsApi, tmp: Path, event: dict[str, Any], name: str
               ) -> dict[str, str]:
    event_path = tmp / "event.json"
    event_path.write_text(json.dumps(event))
    (tmp / "runner").mkdir(exist_ok=True)
    return {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_API_URL": api.url, "GITHUB_REPOSITORY": "acme/config",
            "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"), "RUNNER_TEMP": str(tmp / "runner")}


def pull_request(repo: ConfigRepo, number: int = 7) -> dict[str, Any]:
    base = git(repo.root, "rev-parse", "main").strip()
    return {"number": number, "pull_request": {"number": number, "base": {"sha": base}}}


def test_a_pull_request_gets_one_comment_that_later_runs_update(config: ConfigRepo,
                                                                tmp_path: Path) -> None:
    with CommentsApi() as api:
        someone = api.add("LGTM")  # a person's comment: never touched
        other = api.add("<!-- gitdeploy-report:status part 1 of 1 -->\nanother key's")
        environ = github_env(api, tmp_path, pull_request(config), "pull_request")
        code, outputs = run_action({"package": ""}, environ, config.root, tmp_path)
        assert code == 0  # changes found (2) is a successful preview
        assert outputs["exit-code"] == "2"
        assert json.loads(outputs["environments"]) == ["one", "two"]
        posts = [r for r in api.requests if r.method == "POST"]
        assert len(posts) == 1
        assert posts[0].path == "/repos/acme/config/issues/7/comments"
        assert posts[0].headers["Authorization"] == "Bearer token-from-github"
        body = posts[0].body["body"]
        assert body.startswith("<!-- gitdeploy-report:diff part 1 of 1 -->")
        assert "<b>one</b>" in body and "<b>two</b>" in body and "plain" not in body
        assert "+  - image: nginx:1.28" in body or "nginx:1.28" in body
        summary = (tmp_path / "summary.md").read_text()
        assert "gitdeploy diff: 2 environment(s)" in summary
        ours = max(api.comments)

        # the pull request changes again: now only `plain` differs from main
        config.write("environments/base/web.yaml", objects.deployment("web",
                                                                      image="nginx:1.27"))
        config.write("environments/plain/app.yaml", objects.configmap("plain", {"v": "2"}))
        config.commit("back, and plain")
        api.requests.clear()
        code, outputs = run_action({"package": ""}, environ, config.root, tmp_path)
        assert code == 0
        assert api.writes() == [("PATCH", f"/repos/acme/config/issues/comments/{ours}")]
        assert "<b>plain</b>" in api.comments[ours] and "<b>one</b>" not in api.comments[ours]
        assert api.comments[someone] == "LGTM"
        assert api.comments[other].endswith("another key's")

        # nothing changes any more: the comment says so, still one comment
        git(config.root, "reset", "-q", "--hard", "main")
        api.requests.clear()
        code, _ = run_action({"package": ""}, environ, config.root, tmp_path)
        assert code == 0
        assert api.writes() == [("PATCH", f"/repos/acme/config/issues/comments/{ours}")]
        assert "No environment selected" in api.comments[ours]
        assert len(api.comments) == 3


def test_a_long_report_posts_several_comments_and_deletes_the_surplus(
        config: ConfigRepo, tmp_path: Path) -> None:
    with CommentsApi() as api:
        for part in (1, 2, 3):
            api.add(f"<!-- gitdeploy-report:diff part {part} of 3 -->\nold")
        environ = github_env(api, tmp_path, pull_request(config), "pull_request")
        code, _ = run_action({"package": ""}, environ, config.root, tmp_path)
        assert code == 0
        methods = [method for method, _ in api.writes()]
        assert methods == ["PATCH", "DELETE", "DELETE"]  # one part now: the rest removed
        assert len(api.comments) == 1


def test_no_token_fails_the_comment_step(config: ConfigRepo, tmp_path: Path) -> None:
    with CommentsApi() as api:
        environ = github_env(api, tmp_path, pull_request(config), "pull_request")
        code, _ = run_action({"package": "", "token": ""}, environ, config.root, tmp_path)
        assert code == 1
        assert api.writes() == []


def test_a_push_applies_the_changed_environments_with_the_kubeconfig_input(
        config: ConfigRepo, kubeconfig: Path, tmp_path: Path) -> None:
    before = git(config.root, "rev-parse", "main").strip()
    with CommentsApi() as api:
        environ = github_env(api, tmp_path, {"before": before}, "push")
        environ.pop("KUBECONFIG", None)
        code, outputs = run_action({"package": "", "kubeconfig": kubeconfig.read_text(),
                                    "args": "--no-wait"}, environ, config.root, tmp_path)
        assert code == 0, outputs
        report = json.loads(Path(outputs["report"]).read_text())
        assert report["command"] == "apply"
        assert [s["name"] for s in report["environments"]] == ["one", "two"]
        assert all(s["document"]["succeeded"] for s in report["environments"])
        written = Path(tmp_path / "runner" / "gitdeploy-kubeconfig")
        assert written.stat().st_mode & 0o077 == 0
        assert api.requests == []  # no comments on a push


def test_the_gitlab_template_posts_notes(config: ConfigRepo, tmp_path: Path) -> None:
    template = yaml.safe_load(GITLAB_TEMPLATE.read_text())
    job = template[".gitdeploy-preview"]
    script = [*template[".gitdeploy"]["before_script"], *job["script"]]
    with CommentsApi() as api:
        base = git(config.root, "rev-parse", "main").strip()
        environ = {**os.environ, **{k: str(v) for k, v in template["variables"].items()},
                   "GITDEPLOY_PACKAGE": "", "PATH": f"{BIN}:{os.environ['PATH']}",
                   "CI_API_V4_URL": api.url, "CI_PROJECT_ID": "acme/config",
                   "CI_MERGE_REQUEST_IID": "3", "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
                   "GITLAB_TOKEN": "glpat-test"}
        for run in range(3):  # the same report leaves the note; a new one updates it
            if run == 2:
                config.write("environments/plain/app.yaml", objects.configmap("plain",
                                                                              {"v": "2"}))
                config.commit("plain too")
            done = subprocess.run(["bash", "-e", "-c", "\n".join(script)], cwd=config.root,
                                  env=environ, capture_output=True, text=True, timeout=300,
                                  check=False)
            assert done.returncode == 0, done.stdout + done.stderr
        assert api.writes() == [("POST", "/projects/acme%2Fconfig/merge_requests/3/notes"),
                                ("PUT", "/projects/acme%2Fconfig/merge_requests/3/notes/101")]
        assert all(r.headers["PRIVATE-TOKEN"] == "glpat-test" for r in api.requests)
        assert "<b>one</b>" in api.comments[101] and "<b>plain</b>" in api.comments[101]
