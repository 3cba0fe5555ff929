"""Shallow clones, as CI checkout steps make them (`git clone --depth 1`): a base commit beyond
the depth is fetched, that one commit, from the remote; without a remote that has it, the error
says the clone is shallow and how to get enough history (exit 1, never a crash)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment, git


@pytest.fixture
def upstream(environment: MakeEnvironment) -> ConfigRepo:
    repo = environment([objects.configmap("settings", {"v": "1"})], message="v1")
    repo.write("environments/dev/app.yaml", objects.configmap("settings", {"v": "2"}))
    repo.commit("v2")
    return repo


def shallow_clone(upstream: ConfigRepo, tmp_path: Path) -> Path:
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{upstream.root}", str(clone))
    assert (clone / ".git" / "shallow").is_file()
    return clone


def test_the_base_commit_of_a_shallow_clone_is_fetched(upstream: ConfigRepo, cli,
                                                       tmp_path: Path) -> None:
    clone = shallow_clone(upstream, tmp_path)
    parent = git(upstream.root, "rev-parse", "HEAD~1").strip()
    result = cli("diff", "dev", "--offline", "--base", "HEAD~1", "-o", "json", "-v", cwd=clone)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["base"]["commit"] == parent
    [change] = [c for c in doc["changes"] if c["action"] != "unchanged"]
    assert (change["name"], change["action"]) == ("settings", "update")
    assert f"git fetch --quiet --no-tags --no-write-fetch-head --depth=1 origin {parent}" in (
        result.stderr)  # -v shows the fetch
    assert git(clone, "status", "--porcelain") == ""  # the work tree is not touched


def test_without_a_remote_the_error_says_the_clone_is_shallow(upstream: ConfigRepo, cli,
                                                              tmp_path: Path) -> None:
    clone = shallow_clone(upstream, tmp_path)
    git(clone, "remote", "remove", "origin")
    short = git(upstream.root, "rev-parse", "HEAD~1").strip()[:7]
    for base in ("HEAD~1", "HEAD~2"):
        result = cli("diff", "dev", "--offline", "--base", base, cwd=clone)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output and "internal error" not in result.stderr
        assert "shallow" in result.stderr
        assert "git fetch --deepen=50" in result.stderr
        assert "fetch-depth: 0" in result.stderr
    message = cli("diff", "dev", "--offline", "--base", "HEAD~1", cwd=clone).stderr
    assert f"'HEAD~1' is commit {short}, which is not in this clone" in message


def test_a_full_clone_still_says_fetch_or_check_the_spelling(upstream: ConfigRepo,
                                                            cli) -> None:
    result = cli("diff", "dev", "--offline", "--base", "no-such-branch")
    assert result.exit_code == 1
    assert "'no-such-branch' is not a commit, tag or branch" in result.stderr
    assert "shallow" not in result.stderr
