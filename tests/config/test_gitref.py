"""--ref reads any commit without touching the work tree; apply refuses uncommitted files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment, git
from tests.kubeapi.server import TestApiServer


@pytest.fixture
def dev(environment: MakeEnvironment) -> ConfigRepo:
    repo = environment([objects.configmap("settings", {"v": "1"})], message="v1")
    git(repo.root, "tag", "v1.0.0")
    repo.write("environments/dev/app.yaml", objects.configmap("settings", {"v": "2"}))
    repo.commit("v2")
    return repo


def snapshot(root: Path) -> tuple[str, str, dict[str, bytes]]:
    files = {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
             if p.is_file() and ".git/" not in str(p.relative_to(root)) + "/"}
    return (git(root, "status", "--porcelain"), (root / ".git" / "index").read_bytes().hex(),
            files)


def test_ref_reads_a_tag_while_the_work_tree_is_dirty_and_leaves_it_untouched(
        dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    dev.write("environments/dev/app.yaml", objects.configmap("settings", {"v": "dirty"}))
    dev.write("environments/dev/untracked.yaml", objects.configmap("scratch", {}))
    before = snapshot(dev.root)
    rendered = json.loads(cli("render", "dev", "--ref", "v1.0.0", "-o", "json").stdout)
    assert [o["object"]["data"] for o in rendered["objects"]] == [{"v": "1"}]
    plan = json.loads(cli("diff", "dev", "--ref", "v1.0.0", "-o", "json").stdout)
    assert plan["source"]["ref"] == "v1.0.0" and plan["source"]["dirty"] is False
    assert [c["name"] for c in plan["changes"]] == ["settings"]
    applied = cli("apply", "dev", "--ref", "v1.0.0", "--yes", "-o", "json")
    assert applied.exit_code == 0, applied.output
    record = json.loads(applied.stdout)["record"]
    assert record["ref"] == "v1.0.0" and record["dirty"] is False
    assert record["commit"] == git(dev.root, "rev-parse", "v1.0.0^{commit}").strip()
    assert api_server.cluster.objects[("", "configmaps", "default", "settings")]["data"] == {
        "v": "1"}
    assert snapshot(dev.root) == before


def test_ref_accepts_branches_and_shas_and_reads_new_environments(dev: ConfigRepo, cli) -> None:
    git(dev.root, "checkout", "-q", "-b", "feature")
    dev.settings("qa", context="kind-dev", namespace="qa")
    dev.write("environments/qa/sub/dir/app.yaml", objects.configmap("qa", {"q": "1"}))
    sha = dev.commit("add qa")
    git(dev.root, "checkout", "-q", "main")
    assert not (dev.root / "environments" / "qa").exists()
    for ref in ("feature", sha, sha[:8]):
        result = cli("render", "qa", "--ref", ref, "-o", "json")
        assert result.exit_code == 0, result.output
        objects_ = json.loads(result.stdout)["objects"]
        assert objects_[0]["source"] == "environments/qa/sub/dir/app.yaml:1"
        assert objects_[0]["object"]["metadata"]["namespace"] == "qa"


def test_unknown_ref_is_a_clear_error(dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    result = cli("diff", "dev", "--ref", "no-such-branch")
    assert result.exit_code == 1
    assert "'no-such-branch' is not a commit, tag or branch" in result.stderr
    assert api_server.requests == []


def test_ref_in_a_config_repo_below_the_git_root(tmp_path: Path, kubeconfig, cli) -> None:
    top = tmp_path / "mono"
    (top / "deploy" / "environments" / "dev").mkdir(parents=True)
    git(top, "init", "-q", "-b", "main")
    config = ConfigRepo(top / "deploy")
    config.settings("dev", context="kind-dev")
    config.write("environments/dev/app.yaml", objects.configmap("mono", {"m": "1"}))
    config.commit("mono")
    config.write("environments/dev/app.yaml", objects.configmap("mono", {"m": "2"}))
    result = cli("render", "dev", "--ref", "HEAD", "-o", "json", cwd=config.root)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["objects"][0]["object"]["data"] == {"m": "1"}
    refused = cli("apply", "dev", "--yes", cwd=config.root)
    assert refused.exit_code == 1
    assert "environments/dev/app.yaml" in refused.stderr


def test_apply_refuses_uncommitted_and_untracked_files_naming_them(
        dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    dev.write("environments/dev/app.yaml", objects.configmap("settings", {"v": "3"}))
    dev.write("environments/dev/new.yaml", objects.configmap("new", {}))
    dev.write("environments/dev/notes.txt", "not deployed, so not a reason to refuse")
    result = cli("apply", "dev", "--yes")
    assert result.exit_code == 1
    assert "2 file(s) it would deploy have uncommitted changes" in result.stderr
    assert "environments/dev/app.yaml" in result.stderr
    assert "environments/dev/new.yaml" in result.stderr
    assert "notes.txt" not in result.stderr
    assert "--allow-dirty" in result.stderr
    assert api_server.requests == []


def test_ignored_and_deleted_files_count_as_dirty(dev: ConfigRepo, cli) -> None:
    dev.write(".gitignore", "local-*.yaml\n")
    dev.commit("ignore")
    dev.write("environments/dev/local-override.yaml", objects.configmap("local", {}))
    ignored = cli("apply", "dev", "--yes")
    assert ignored.exit_code == 1
    assert "environments/dev/local-override.yaml" in ignored.stderr
    (dev.root / "environments/dev/local-override.yaml").unlink()
    (dev.root / "environments/dev/app.yaml").unlink()
    dev.write("environments/dev/other.yaml", objects.configmap("other", {}))
    dev.commit("other")
    git(dev.root, "rm", "-q", "--cached", "environments/dev/other.yaml")
    (dev.root / "environments/dev/other.yaml").unlink()
    deleted = cli("apply", "dev", "--yes")
    assert deleted.exit_code == 1
    assert "environments/dev/other.yaml" in deleted.stderr


def test_allow_dirty_applies_and_records_it(dev: ConfigRepo, cli) -> None:
    dev.write("environments/dev/app.yaml", objects.configmap("settings", {"v": "wip"}))
    diff = cli("diff", "dev")
    assert diff.exit_code == 0
    assert "(dirty)" in diff.stdout
    plan = json.loads(cli("diff", "dev", "-o", "json").stdout)
    assert plan["source"]["dirtyFiles"] == ["environments/dev/app.yaml"]
    result = cli("apply", "dev", "--yes", "--allow-dirty", "-o", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["record"]["dirty"] is True
    history = cli("history", "dev")
    assert "(dirty)" in history.stdout
    status = json.loads(cli("status", "dev", "-o", "json").stdout)
    assert status["live"]["dirty"] is True
    assert "uncommitted" in status["drift"]["note"]


def test_outside_a_git_repository(tmp_path: Path, kubeconfig, cli) -> None:
    root = tmp_path / "plain"
    (root / "environments" / "dev").mkdir(parents=True)
    (root / "environments/dev/gitdeploy.yaml").write_text(yaml.safe_dump({"context": "kind-dev"}))
    (root / "environments/dev/app.yaml").write_text(yaml.safe_dump(objects.configmap("p", {})))
    assert cli("diff", "dev", cwd=root).exit_code == 0
    refused = cli("apply", "dev", "--yes", cwd=root)
    assert refused.exit_code == 1
    assert "not committed to git" in refused.stderr
    no_ref = cli("render", "dev", "--ref", "HEAD", cwd=root)
    assert no_ref.exit_code == 1 and "is not in a git repository" in no_ref.stderr
    assert cli("apply", "dev", "--yes", "--allow-dirty", cwd=root).exit_code == 0


def test_errors_reading_a_commit_name_the_commit(dev: ConfigRepo, cli) -> None:
    """--ref and the base of an offline diff: a file that does not parse at that commit is
    reported with the commit it was read from; the work tree's own errors need no commit."""
    dev.write("environments/dev/broken.yaml", "kind: ConfigMap\nmetadata: {name: a\n")
    broken = dev.commit("broken")
    dev.write("environments/dev/broken.yaml", objects.configmap("a", {}))
    dev.commit("fixed")
    for args in (("render", "dev", "--ref", "HEAD~1"),
                 ("diff", "dev", "--offline", "--base", "HEAD~1")):
        result = cli(*args)
        assert result.exit_code == 1, result.output
        assert result.stderr.splitlines()[0] == (
            f"error: 1 problem(s) reading environment 'dev', at commit {broken[:7]} (HEAD~1)")
        assert "environments/dev/broken.yaml:2:" in result.stderr  # where the { opened
    dev.settings("dev", context="kind-dev", namespace="default", namspace="typo")
    bad_settings = dev.commit("bad settings")
    dev.settings("dev", context="kind-dev", namespace="default")
    dev.commit("settings fixed")
    message = cli("render", "dev", "--ref", bad_settings).stderr.splitlines()[0]
    assert message.endswith(f", at commit {bad_settings[:7]} ({bad_settings})"), message
    dev.write("environments/dev/broken.yaml", "kind: ConfigMap\nmetadata: {name: a\n")
    assert cli("render", "dev").stderr.splitlines()[0] == (
        "error: 1 problem(s) reading environment 'dev'")
