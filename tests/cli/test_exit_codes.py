"""Exit codes, command by command (docs/exit-codes.md): 0 success, 1 error, 2 only for
`diff --exit-code` with changes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment

CLUSTER_COMMANDS = ["diff", "apply", "rollback", "status", "history", "unlock", "orphans"]


@pytest.fixture
def dev(environment: MakeEnvironment) -> ConfigRepo:
    return environment([objects.configmap("a", {"v": "1"})])


@pytest.mark.parametrize("args", [
    ["envs"], ["render", "dev"], ["validate"], ["diff", "dev"], ["diff", "dev", "--exit-code"],
    ["apply", "dev", "--yes"], ["status", "dev"], ["history", "dev"], ["unlock", "dev", "--yes"],
    ["orphans", "dev"], ["diff", "dev", "--offline", "--base", "HEAD"],
])
def test_success_is_0(dev: ConfigRepo, cli, args: list[str]) -> None:
    if args[:2] == ["diff", "dev"] and "--exit-code" in args:
        assert cli("apply", "dev", "--yes").exit_code == 0  # nothing left to change
    result = cli(*args)
    assert result.exit_code == 0, result.output


def test_changes_are_2_only_with_exit_code(dev: ConfigRepo, cli) -> None:
    assert cli("diff", "dev").exit_code == 0
    assert cli("diff", "dev", "--exit-code").exit_code == 2
    dev.write("environments/dev/app.yaml", objects.configmap("a", {"v": "2"}))
    dev.commit("change")
    assert cli("diff", "dev", "--offline", "--base", "HEAD~1", "--exit-code").exit_code == 2


@pytest.mark.parametrize("command", ["render", "validate", *CLUSTER_COMMANDS])
def test_bad_settings_are_1_for_every_command(dev: ConfigRepo, cli, command: str) -> None:
    dev.write("environments/dev/gitdeploy.yaml", "context: kind-dev\nreplicas: 3\n")
    args = [command] if command == "validate" else [command, "dev"]
    result = cli(*args, *(["--yes"] if command in ("apply", "rollback", "unlock") else []))
    assert result.exit_code == 1, result.output
    assert "replicas" in result.output


@pytest.mark.parametrize("command", CLUSTER_COMMANDS)
def test_an_unreachable_cluster_is_1_for_every_command(dev: ConfigRepo, cli, api_server,
                                                      command: str) -> None:
    api_server.stop()
    extra = ["--yes"] if command in ("apply", "rollback", "unlock") else []
    result = cli(command, "dev", *extra, "--request-timeout", "2")
    assert result.exit_code == 1, result.output
    assert "cannot reach the API server" in result.stderr


def test_no_colour_and_no_prompt_when_not_a_terminal(dev: ConfigRepo, api_server) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    result = subprocess.run([sys.executable, "-m", "gitdeploy", "apply", "dev"],
                            cwd=dev.root, env=env, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=60, check=False)
    assert result.returncode == 1
    assert "\x1b[" not in result.stdout + result.stderr  # pipes get no colour codes
    assert "no terminal to confirm on" in result.stderr
    assert "+kind: ConfigMap" in result.stdout  # data on stdout, the message on stderr
