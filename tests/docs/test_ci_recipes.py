"""The CI recipes in docs/ci.md: their YAML parses, and every gitdeploy command in them runs
against the test API server in a config repository with a `prod` environment."""

from __future__ import annotations

import re
import shlex

import yaml

from tests import manifests as objects
from tests.conftest import PROJECT, ConfigRepo, git

DOC = PROJECT / "docs" / "ci.md"


def yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.S)


def commands() -> list[list[str]]:
    """gitdeploy commands in YAML steps (`run:` or list items) and in indented examples."""
    lines = [line for block in yaml_blocks() for line in block.splitlines()]
    lines += [line for line in DOC.read_text().splitlines() if line.startswith("    gitdeploy")]
    found = []
    for line in lines:
        match = re.match(r"\s*(?:- run: |run: |- )?(gitdeploy [^>#\n|]*)", line)
        if match and "completion" not in match.group(1):
            found.append(shlex.split(match.group(1))[1:])
    return found


def test_every_yaml_block_parses() -> None:
    blocks = yaml_blocks()
    assert len(blocks) == 3
    for block in blocks:
        assert isinstance(yaml.safe_load(block), (dict, list))


def test_every_command_in_the_recipes_runs(repo: ConfigRepo, kubeconfig, cli, tmp_path,
                                           monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    repo.settings("prod", context="prod", namespace="default")
    repo.write("environments/prod/app.yaml", objects.configmap("web", {"v": "1"}))
    repo.commit("first")
    git(repo.root, "update-ref", "refs/remotes/origin/main", "HEAD")
    repo.write("environments/prod/app.yaml", objects.configmap("web", {"v": "2"}))
    repo.commit("second")
    found = commands()
    assert ["apply", "prod", "--yes", "--lock-timeout", "10m"] in found
    assert ["diff", "prod", "--exit-code"] in found
    for args in found:
        result = cli(*args)
        assert result.exit_code in (0, 2), (args, result.output)
        if "--exit-code" not in args:
            assert result.exit_code == 0, (args, result.output)
    assert "### gitdeploy apply: `prod`" in (tmp_path / "summary.md").read_text()
