"""What kubectl users type: `-o yaml` (the same document as `-o json`), `-n/--namespace`
(a preview for render and validate, a check for commands that reach a cluster), and shell
completion of environment names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import TestApiServer


@pytest.fixture
def dev(environment: MakeEnvironment) -> ConfigRepo:
    return environment([objects.configmap("settings", {"v": "1"}),
                        objects.secret("creds", {"password": "hunter2-canary"})],
                       namespace="shop")


@pytest.mark.parametrize("args", [("envs",), ("render", "dev"), ("diff", "dev"),
                                  ("status", "dev"), ("validate", "dev")])
def test_yaml_is_the_json_document(dev: ConfigRepo, cli, args: tuple[str, ...]) -> None:
    as_json = cli(*args, "-o", "json")
    as_yaml = cli(*args, "-o", "yaml")
    assert as_yaml.exit_code == as_json.exit_code, as_yaml.output
    expected = json.loads(as_json.stdout)
    for volatile in ("target",):  # nothing differs but the run itself
        expected.pop(volatile, None)
    found = yaml.safe_load(as_yaml.stdout)
    found.pop("target", None)
    if args[0] == "status":
        assert found["kind"] == "Status" and found["live"] == expected["live"]
    else:
        assert found == expected
    assert "hunter2-canary" not in as_yaml.stdout


def test_yaml_diffs_are_literal_blocks_and_errors_are_documents(dev: ConfigRepo, cli) -> None:
    text = cli("diff", "dev", "-o", "yaml").stdout
    assert "  diff: |" in text  # readable, not one quoted line with \n escapes
    failed = cli("render", "nope", "-o", "yaml")
    assert failed.exit_code == 1
    error = yaml.safe_load(failed.stdout)
    assert error["kind"] == "Error" and error["error"]["exitCode"] == 1
    assert "no environment 'nope'" in error["error"]["message"]


def test_namespace_previews_render_and_checks_cluster_commands(dev: ConfigRepo, cli,
                                                               api_server: TestApiServer
                                                               ) -> None:
    rendered = json.loads(cli("render", "dev", "-n", "preview", "-o", "json").stdout)
    assert {o["object"]["metadata"]["namespace"] for o in rendered["objects"]} == {"preview"}
    same = cli("diff", "dev", "-n", "shop")
    assert same.exit_code == 0, same.output  # the environment's own namespace: a check passed
    for args in (("diff", "dev"), ("apply", "dev", "--yes"), ("status", "dev")):
        refused = cli(*args, "--namespace", "other")
        assert refused.exit_code == 1, refused.output
        assert refused.stderr.splitlines()[0] == (
            "error: -n other: environment 'dev' deploys to namespace 'shop' "
            "(environments/dev/gitdeploy.yaml)")
    assert not any(r.is_write for r in api_server.requests)


def test_shell_completion_of_environment_names(dev: ConfigRepo) -> None:
    dev.settings("prod", context="prod", namespace="shop")
    dev.settings("preview", context="kind-dev", namespace="shop")
    env = {**os.environ, "_GITDEPLOY_COMPLETE": "complete_bash",
           "COMP_WORDS": "gitdeploy diff pr", "COMP_CWORD": "2"}
    script = Path(sys.executable).parent / "gitdeploy"  # completion goes by the program name
    done = subprocess.run([str(script)], cwd=dev.root, env=env,
                          capture_output=True, text=True, check=False)
    assert done.stdout.split() == ["preview", "prod"], done
