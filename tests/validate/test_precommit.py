"""The pre-commit hook the repository ships (.pre-commit-hooks.yaml): its entry, run as
pre-commit runs it (in the repository, with the changed files that match `files`), passes on
the bundled example, and checks only the environments whose files changed."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement

from tests import manifests as objects
from tests.conftest import PROJECT, ConfigRepo, git

HOOKS = PROJECT / ".pre-commit-hooks.yaml"


def hook() -> dict[str, Any]:
    hooks = yaml.safe_load(HOOKS.read_text())
    assert [entry["id"] for entry in hooks] == ["gitdeploy-validate"]
    return dict(hooks[0])


def run_hook(root: Path, files: list[str]) -> subprocess.CompletedProcess[str]:
    """The hook's entry with the files pre-commit would pass: those matching `files`."""
    definition = hook()
    chosen = [name for name in files if re.search(definition["files"], name)]
    command = shlex.split(definition["entry"])
    scripts = Path(sys.executable).parent  # where the package's console script is installed
    return subprocess.run(
        [str(scripts / command[0]), *command[1:], *chosen], cwd=root, capture_output=True,
        text=True, env={**os.environ, "PATH": f"{scripts}{os.pathsep}{os.environ['PATH']}"},
        timeout=300, check=False)


def test_the_hook_definition() -> None:
    definition = hook()
    assert definition["language"] == "python" and definition["pass_filenames"] is True
    assert definition["entry"].startswith("gitdeploy validate")
    # what the bundled example needs besides gitdeploy: kustomize (kubectl) and Helm's engine,
    # the packages of the `all` extra, installed here as the hook installs them
    for requirement in map(Requirement, definition["additional_dependencies"]):
        assert requirement.specifier.contains(metadata.version(requirement.name)), requirement


def test_the_hook_passes_on_the_bundled_example(example_repo: ConfigRepo) -> None:
    files = git(example_repo.root, "ls-files").split()
    result = run_hook(example_repo.root, files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All 3 environment(s) are valid." in result.stdout


def test_the_hook_checks_only_the_environments_that_changed(example_repo: ConfigRepo) -> None:
    example_repo.write("environments/prod/broken.yaml", objects.configmap("Bad_Name", {}))
    result = run_hook(example_repo.root, ["environments/dev/web.yaml", "README.md"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All 1 environment(s) are valid." in result.stdout
    assert result.stdout.startswith("dev:")
    failing = run_hook(example_repo.root, ["environments/prod/broken.yaml"])
    assert failing.returncode == 1
    assert "environments/prod/broken.yaml:" in failing.stdout
    shared = run_hook(example_repo.root, ["environments/base/web.yaml"])  # a shared base
    assert shared.returncode == 1 and "3 environment(s)" in shared.stdout


def test_no_changed_environment_means_nothing_to_do(example_repo: ConfigRepo) -> None:
    result = run_hook(example_repo.root, ["docs/readme.md"])
    assert result.returncode == 0
    assert "nothing to validate" in result.stderr
