"""Several environments in one command (docs/fleet.md), against the test API server: names,
patterns, --all and -l; each environment's own result; the summary table; the worst exit
code; one confirmation for apply; fail-fast and keep-going; waves."""

from __future__ import annotations

import json

import pytest

from tests import manifests as objects
from tests.cli.test_confirm import run_in_terminal
from tests.conftest import ConfigRepo, MakeEnvironment


@pytest.fixture
def three(environment: MakeEnvironment) -> ConfigRepo:
    """app-dev, app-staging (tier=test), app-prod (tier=prod, protected, after staging)."""
    environment([objects.configmap("dev-config", {"v": "1"})], name="app-dev",
                labels={"tier": "test"})
    environment([objects.configmap("staging-config", {"v": "1"})], name="app-staging",
                context="kind-staging", labels={"tier": "test"})
    return environment([objects.configmap("prod-config", {"v": "1"})], name="app-prod",
                       context="prod", labels={"tier": "prod"}, protected=True,
                       dependsOn=["app-staging"])


def test_one_environment_runs_as_before(three: ConfigRepo, cli) -> None:
    """A single name: the single-environment output and exit code, no summary table."""
    result = cli("diff", "app-dev", "--exit-code")
    assert result.exit_code == 2, result.output
    assert "=== summary" not in result.stdout
    assert "1 change(s) to app-dev" in result.stdout or "app-dev" in result.stdout


def test_a_pattern_runs_each_environment_and_ends_with_a_table(three: ConfigRepo, cli) -> None:
    result = cli("diff", "app-*", "--exit-code")
    assert result.exit_code == 2, result.output
    for name in ("app-dev", "app-staging", "app-prod"):
        assert f"=== {name} " in result.stdout
    table = result.stdout.split("=== summary")[1]
    assert "ENVIRONMENT" in table and "RESULT" in table
    assert table.count("changes") >= 3
    assert "3 environment(s): 3 with changes; exit code 2" in table


def test_several_names_and_without_exit_code_is_0(three: ConfigRepo, cli) -> None:
    result = cli("diff", "app-dev", "app-prod")
    assert result.exit_code == 0, result.output
    assert "app-staging" not in result.stdout
    assert "2 environment(s)" in result.stdout


def test_label_selection(three: ConfigRepo, cli) -> None:
    result = cli("render", "-l", "tier=test", "-o", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [s["name"] for s in document["environments"]] == ["app-dev", "app-staging"]
    result = cli("render", "--all", "-l", "tier!=test", "-o", "json")
    assert [s["name"] for s in json.loads(result.stdout)["environments"]] == ["app-prod"]


def test_a_name_that_is_no_environment_is_an_error(three: ConfigRepo, cli) -> None:
    result = cli("diff", "app-dev", "app-typo")
    assert result.exit_code == 1
    assert "no environment 'app-typo'" in result.stderr
    result = cli("diff", "nothing-*")
    assert result.exit_code == 1
    assert "no environment matches 'nothing-*'" in result.stderr


def test_the_exit_code_is_the_worst_and_the_others_still_run(three: ConfigRepo, cli) -> None:
    """A wrong context in one environment fails it (exit 1); the others report their changes
    (2): the run exits 1, with every environment in the table."""
    three.settings("app-staging", context="no-such-context", namespace="default")
    three.commit("break staging")
    result = cli("diff", "--all", "--exit-code", "-o", "json")
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    states = {s["name"]: (s["state"], s["exitCode"]) for s in document["environments"]}
    assert states == {"app-dev": ("changes", 2), "app-prod": ("changes", 2),
                      "app-staging": ("failed", 1)}
    failed = next(s for s in document["environments"] if s["name"] == "app-staging")
    assert "no-such-context" in failed["error"]["message"]
    assert document["exitCode"] == 1


def test_apply_without_a_terminal_refuses_before_any_write(three: ConfigRepo, cli) -> None:
    result = cli("apply", "app-*")
    assert result.exit_code == 1
    assert "no terminal to confirm on" in result.stderr
    assert "app-prod: 1 change(s) (protected)" in result.stderr
    assert cli("diff", "app-dev", "--exit-code").exit_code == 2  # nothing applied


def test_apply_yes_applies_in_waves_and_records_each(three: ConfigRepo, cli) -> None:
    result = cli("apply", "--all", "--yes", "-o", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    waves = {s["name"]: s["wave"] for s in document["environments"]}
    assert waves == {"app-dev": 0, "app-staging": 0, "app-prod": 1}  # prod dependsOn staging
    assert [s["name"] for s in document["environments"]][-1] == "app-prod"
    for section in document["environments"]:
        assert section["document"]["kind"] == "ApplyResult"
        assert section["document"]["record"]["sequence"] == 1
    status = cli("status", "--all", "--exit-code")
    assert status.exit_code == 0, status.output
    assert "3 environment(s): 3 ok" in status.stdout


def test_apply_fails_fast_and_keeps_going_on_request(three: ConfigRepo, cli) -> None:
    """staging's cluster refuses (wrong context): fail-fast (apply's default) leaves prod,
    of the next wave, not started; dev, of the same wave, ran."""
    three.settings("app-staging", context="no-such-context", namespace="default")
    three.commit("break staging")
    result = cli("apply", "--all", "--yes", "--parallel", "1", "-o", "json")
    assert result.exit_code == 1
    sections = {s["name"]: s for s in json.loads(result.stdout)["environments"]}
    assert sections["app-staging"]["state"] == "failed"
    assert sections["app-prod"]["state"] == "skipped"
    assert sections["app-prod"]["exitCode"] is None
    assert cli("diff", "app-prod", "--exit-code").exit_code == 2  # not applied
    # --keep-going: prod still waits for its dependency, which failed
    result = cli("apply", "--all", "--yes", "--keep-going", "-o", "json")
    sections = {s["name"]: s for s in json.loads(result.stdout)["environments"]}
    assert "app-staging (dependsOn) did not succeed" in sections["app-prod"]["skipped"]


def test_one_confirmation_with_typed_names_for_the_protected(three: ConfigRepo) -> None:
    code, output = run_in_terminal(["apply", "app-*", "--no-wait"], "app-prod", three.root,
                                   prompt=b"Type their names")
    assert code == 0, output
    assert "To be applied to 3 environment(s):" in output
    assert output.count("Type their names") == 1  # one question for all
    assert "3 environment(s): 3 ok" in output


def test_a_wrong_typed_name_applies_nothing(three: ConfigRepo, cli) -> None:
    code, output = run_in_terminal(["apply", "app-*"], "app-dev", three.root,
                                   prompt=b"Type their names")
    assert code == 1, output
    assert "not applied" in output
    assert cli("diff", "app-dev", "--exit-code").exit_code == 2


def test_matrix(three: ConfigRepo, cli) -> None:
    result = cli("diff", "--all", "--matrix", "github")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"environment": ["app-dev", "app-prod", "app-staging"]}
    result = cli("apply", "-l", "tier=test", "--matrix", "gitlab")
    assert result.stdout == ('parallel:\n  matrix:\n    - ENVIRONMENT: ["app-dev", '
                             '"app-staging"]\n')


def test_validate_takes_patterns_and_labels(three: ConfigRepo, cli) -> None:
    result = cli("validate", "-l", "tier=prod", "-o", "json")
    assert result.exit_code == 0, result.output
    assert [e["name"] for e in json.loads(result.stdout)["environments"]] == ["app-prod"]
    result = cli("validate", "app-d*", "-o", "json")
    assert [e["name"] for e in json.loads(result.stdout)["environments"]] == ["app-dev"]
