"""Every confirmation path, through a real pseudo-terminal where a person would answer."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import TestApiServer


def run_in_terminal(args: list[str], answer: str, cwd: Path, prompt: bytes,
                    timeout: float = 60) -> tuple[int, str]:
    """Run gitdeploy with stdin/stdout/stderr on a pseudo-terminal; answer the prompt."""
    primary, secondary = os.openpty()
    process = subprocess.Popen([sys.executable, "-m", "gitdeploy", *args], cwd=cwd,
                               stdin=secondary, stdout=secondary, stderr=secondary,
                               env={**os.environ, "COLUMNS": "200"}, close_fds=True)
    os.close(secondary)
    output, answered, deadline = b"", False, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(primary, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                output += chunk
                if not answered and prompt in output:
                    os.write(primary, answer.encode() + b"\n")
                    answered = True
            elif process.poll() is not None:
                break
    finally:
        os.close(primary)
        if process.poll() is None:
            process.kill()
        code = process.wait()
    assert answered, output.decode(errors="replace")
    return code, output.decode(errors="replace")


@pytest.fixture
def env(environment: MakeEnvironment) -> ConfigRepo:
    app = [objects.configmap("a", {"x": "1"}), objects.configmap("b", {"y": "2"}),
           objects.deployment("web"), objects.service("web")]
    environment(app, name="beta")
    return environment(app, name="prod", context="prod", protected=True)


def test_yes_applies(env: ConfigRepo, api_server: TestApiServer) -> None:
    code, out = run_in_terminal(["apply", "beta"], "y", env.root, b"[y/N]")
    assert code == 0, out
    assert "Apply 4 changes to beta? [y/N]" in out
    assert len(api_server.writes()) == 4


@pytest.mark.parametrize("answer", ["n", "", "maybe"])
def test_anything_but_yes_refuses(env: ConfigRepo, api_server: TestApiServer,
                                  answer: str) -> None:
    code, out = run_in_terminal(["apply", "beta"], answer, env.root, b"[y/N]")
    assert code == 1
    assert "not applied" in out
    assert api_server.writes() == []


def test_protected_requires_the_typed_name(env: ConfigRepo, api_server: TestApiServer) -> None:
    code, out = run_in_terminal(["apply", "prod"], "y", env.root, b"Type its name")
    assert code == 1
    assert "'y' is not 'prod'" in out
    assert api_server.writes() == []
    code, out = run_in_terminal(["apply", "prod"], "prod", env.root, b"Type its name")
    assert code == 0, out
    assert "prod is protected. Type its name to apply 4 changes:" in out
    assert len(api_server.writes()) == 4


def test_no_terminal_without_yes_refuses(env: ConfigRepo, cli, api_server: TestApiServer
                                         ) -> None:
    result = cli("apply", "beta", input="y\n")
    assert result.exit_code == 1
    assert "no terminal to confirm on" in result.stderr
    assert "--yes" in result.stderr
    assert api_server.writes() == []


def test_yes_flag_skips_the_prompt_even_when_protected(env: ConfigRepo, cli,
                                                       api_server: TestApiServer) -> None:
    result = cli("apply", "prod", "--yes")
    assert result.exit_code == 0, result.output
    assert len(api_server.writes()) == 4


def test_rollback_of_a_protected_environment_requires_the_typed_name(
        env: ConfigRepo, cli, api_server: TestApiServer) -> None:
    assert cli("apply", "prod", "--yes").exit_code == 0
    env.write("environments/prod/app.yaml", [objects.configmap("a", {"x": "2"})])
    env.commit("shrink")
    assert cli("apply", "prod", "--yes").exit_code == 0
    writes = len(api_server.writes())
    code, out = run_in_terminal(["rollback", "prod"], "y", env.root, b"Type its name")
    assert code == 1 and "'y' is not 'prod'" in out
    assert len(api_server.writes()) == writes
    code, out = run_in_terminal(["rollback", "prod"], "prod", env.root, b"Type its name")
    assert code == 0, out
    assert "Recorded as rollback 3 of prod" in out


def test_unlock_asks_on_a_terminal(env: ConfigRepo, cli, api_server: TestApiServer) -> None:
    assert cli("apply", "beta", "--yes").exit_code == 0
    key = ("coordination.k8s.io", "leases", "default", "gitdeploy-lock-beta")
    api_server.cluster.objects[key]["spec"]["holderIdentity"] = "alice@laptop pid 7"
    code, out = run_in_terminal(["unlock", "beta"], "n", env.root, b"[y/N]")
    assert code == 1 and "lock kept" in out
    code, out = run_in_terminal(["unlock", "beta"], "y", env.root, b"[y/N]")
    assert code == 0, out
    assert "beta is locked by alice@laptop pid 7" in out
    assert not api_server.cluster.objects[key]["spec"].get("holderIdentity")


def test_deletions_are_listed_apart_in_the_confirmation(env: ConfigRepo, cli,
                                                        api_server: TestApiServer) -> None:
    assert cli("apply", "beta", "--yes").exit_code == 0
    env.write("environments/beta/app.yaml", [objects.configmap("a", {"x": "changed"}),
                                             objects.deployment("web"),
                                             objects.service("web")])
    env.commit("drop b")
    code, out = run_in_terminal(["apply", "beta", "--prune"], "n", env.root, b"[y/N]")
    assert code == 1
    assert "To be deleted from beta (removed from git):\r\n  - ConfigMap default/b" in out
    assert "Apply 1 change and delete 1 object in beta? [y/N]" in out
    assert ("", "configmaps", "default", "b") in api_server.cluster.objects
    code, out = run_in_terminal(["apply", "prod", "--prune"], "prod", env.root,
                                b"Type its name")
    assert code == 0, out
    assert "Type its name to apply 4 changes:" in out
