"""Option groups: every command that reaches a cluster takes the same cluster options, every
command the same repository and verbosity options, apply and rollback the same deploy ones."""

from __future__ import annotations

import re
from typing import Any

import pytest

CLUSTER = ["--kubeconfig", "--context", "--request-timeout"]
COMMON = ["--repo", "--verbose"]
DEPLOY = ["--yes", "--prune", "--allow-mass-delete", "--lock-timeout", "--wait",
          "--wait-timeout"]


def options(cli: Any, command: str) -> set[str]:
    result = cli(command, "--help")
    assert result.exit_code == 0, result.output
    return set(re.findall(r"--[a-z-]+", result.stdout))


@pytest.mark.parametrize("command", ["envs", "render", "validate", "diff", "apply", "rollback",
                                     "orphans", "status", "history", "unlock"])
def test_every_command_takes_the_common_options(cli: Any, command: str) -> None:
    assert set(COMMON) <= options(cli, command)


@pytest.mark.parametrize("command", ["diff", "apply", "rollback", "orphans", "status"])
def test_commands_that_send_many_requests_take_concurrency(cli: Any, command: str) -> None:
    assert {*CLUSTER, "--concurrency"} <= options(cli, command)


@pytest.mark.parametrize("command", ["history", "unlock"])
def test_commands_that_send_few_requests_take_no_concurrency(cli: Any, command: str) -> None:
    found = options(cli, command)
    assert set(CLUSTER) <= found and "--concurrency" not in found


@pytest.mark.parametrize("command", ["envs", "render", "validate"])
def test_offline_commands_take_no_cluster_options(cli: Any, command: str) -> None:
    assert not set(CLUSTER) & options(cli, command)


@pytest.mark.parametrize("command", ["apply", "rollback"])
def test_apply_and_rollback_share_the_deploy_options(cli: Any, command: str) -> None:
    assert set(DEPLOY) <= options(cli, command)


def test_a_bad_duration_is_an_error_of_the_command_line(cli: Any) -> None:
    result = cli("apply", "dev", "--lock-timeout", "soon")
    assert result.exit_code == 1
    assert "error: --lock-timeout:" in result.stderr
