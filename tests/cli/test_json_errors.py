"""Under -o json an error is a JSON document too: the same envelope, the error's type,
message, details and exit code; the message still goes to stderr for a person."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import Fault, TestApiServer


@pytest.fixture
def dev(environment: MakeEnvironment) -> ConfigRepo:
    return environment([objects.namespace("shop"), objects.configmap("settings", {"a": "1"})],
                       namespace="shop")


def error_document(stdout: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(stdout)  # exactly one document
    assert document["apiVersion"] == "gitdeploy.io/v1"
    assert document["kind"] == "Error"
    assert document["gitdeployVersion"]
    return document["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("command", [
    ["render", "nosuch", "-o", "json"],
    ["diff", "nosuch", "-o", "json"],
    ["apply", "nosuch", "--yes", "-o", "json"],
    ["status", "nosuch", "-o", "json"],
])
def test_an_unknown_environment_is_a_settings_error_document(dev: ConfigRepo, cli: Any,
                                                             command: list[str]) -> None:
    result = cli(*command)
    assert result.exit_code == 1
    error = error_document(result.stdout)
    assert error["type"] == "SettingsError"
    assert error["message"] == "no environment 'nosuch' (environments: dev)"
    assert error["exitCode"] == 1
    assert "error: no environment 'nosuch'" in result.stderr


def test_a_wrong_cluster_is_a_target_error_document(dev: ConfigRepo, cli: Any) -> None:
    dev.settings("dev", context="kind-dev", namespace="shop",
                 cluster={"server": "https://elsewhere.example:6443"})
    dev.commit()
    result = cli("diff", "dev", "-o", "json")
    assert result.exit_code == 1
    error = error_document(result.stdout)
    assert error["type"] == "TargetError"
    assert "wrong API server" in error["message"]
    assert any("https://elsewhere.example:6443" in line for line in error["details"])


def test_a_refusal_is_an_error_document(dev: ConfigRepo, cli: Any) -> None:
    result = cli("apply", "dev", "-o", "json")  # no terminal, no --yes
    assert result.exit_code == 1
    error = error_document(result.stdout)
    assert error["type"] == "RefusedError"
    assert error["details"] == ["review the diff, then run again with --yes"]
    assert '"kind": "Plan"' not in result.stdout  # the plan went to stderr, not stdout


def test_a_failed_apply_writes_its_report_and_no_second_document(
        dev: ConfigRepo, cli: Any, api_server: TestApiServer) -> None:
    api_server.inject(Fault(method="PATCH", path="/configmaps/settings", status=500,
                            dry_run=False))
    result = cli("apply", "dev", "--yes", "-o", "json", "--retries", "0")
    assert result.exit_code == 1
    report = json.loads(result.stdout)  # one document: the report, not an Error
    assert report["kind"] == "ApplyResult" and report["succeeded"] is False
    assert "error: apply to dev failed" in result.stderr


def test_text_output_writes_errors_to_stderr_only(dev: ConfigRepo, cli: Any) -> None:
    result = cli("render", "nosuch")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "error: no environment 'nosuch'" in result.stderr


def test_diff_json_is_the_plan_document_as_is(dev: ConfigRepo, cli: Any) -> None:
    result = cli("diff", "dev", "-o", "json")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("}\n")
    plan = json.loads(result.stdout)
    assert plan["kind"] == "Plan" and plan["summary"]["create"] == 2
    assert result.stdout == json.dumps(plan, indent=2) + "\n"


def test_an_error_document_says_where_the_problem_is(dev: ConfigRepo, cli: Any,
                                                      api_server: TestApiServer) -> None:
    dev.write("environments/dev/broken.yaml", "kind: ConfigMap\nmetadata: {name: a\n")
    for command in (["render", "dev"], ["diff", "dev"], ["apply", "dev", "--yes"]):
        result = cli(*command, "-o", "json")
        assert result.exit_code == 1
        error = error_document(result.stdout)
        assert error["type"] == "LoadError"
        assert (error["file"], error["line"]) == (None, None)  # the message names no file
        assert error["problems"] == [{
            "file": "environments/dev/broken.yaml", "line": 2, "column": None,
            "message": error["details"][0]}]
        assert error["details"][0].startswith("environments/dev/broken.yaml:2: ")
    dev.write("environments/dev/broken.yaml", objects.configmap("a", {}))
    dev.settings("dev", context="kind-dev", namespace="shop", prun=True)
    error = error_document(cli("render", "dev", "-o", "json").stdout)
    assert (error["type"], error["file"]) == ("SettingsError", "environments/dev/gitdeploy.yaml")
    assert not any(r.is_write for r in api_server.requests)
