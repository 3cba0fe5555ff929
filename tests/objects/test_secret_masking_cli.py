"""Secret values that come back from outside gitdeploy (the API server's error messages,
kustomize's and Helm's errors) are masked before they are shown, stored in a deploy record or
written to the CI job summary: every command, every output format."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import manifests as objects
from tests.conftest import CliResult, ConfigRepo, MakeEnvironment
from tests.kubeapi.server import Fault, TestApiServer

CANARY = "canary-Mk47-never-shown"  # a value of the Secret
CANARY_B64 = base64.b64encode(CANARY.encode()).decode()
PIN = 73914562  # an unquoted number where a string belongs
DATA_CANARY = "canary-Dq93-data-value"  # written base64-encoded in `data`
DATA_B64 = base64.b64encode(DATA_CANARY.encode()).decode()
FORMS = (CANARY, CANARY_B64, str(PIN), DATA_CANARY, DATA_B64)


def assert_clean(text: str, *forms: str) -> None:
    for value in forms or FORMS:
        assert value not in text, f"{value!r} leaked in:\n{text}"


def bad_secret(namespace: str) -> dict[str, Any]:
    """A Secret the API server refuses: a map where `stringData` takes strings. The server's
    error names the field and echoes the value."""
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "bad", "namespace": namespace},
            "stringData": {"password": {"nested": CANARY}, "pin": PIN},
            "data": {"token": DATA_B64}}


@pytest.fixture
def summary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(path))
    yield path


def outputs(result: CliResult, summary: Path) -> str:
    return result.output + (summary.read_text() if summary.exists() else "")


# ---- the API server's error messages ------------------------------------------------------

@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_a_secret_the_server_rejects_in_the_dry_run(environment: MakeEnvironment, cli,
                                                    summary_file: Path, fmt: str) -> None:
    environment([bad_secret("default")])
    result = cli("diff", "dev", "-o", fmt)
    assert result.exit_code == 1, result.output
    assert "stringData.password" in result.stderr  # the server's message, masked
    assert "<masked>" in result.stderr
    assert_clean(outputs(result, summary_file))
    if fmt == "json":
        error = json.loads(result.stdout)["error"]
        assert "<masked>" in " ".join([error["message"], *error["details"]])


@pytest.fixture
def failed_apply(environment: MakeEnvironment) -> ConfigRepo:
    """The Secret is in a namespace the plan creates: it is not dry-run, and the real apply
    fails with the server's message."""
    return environment([objects.namespace("fresh"), bad_secret("fresh")])


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_secret_the_server_rejects_when_applied(failed_apply: ConfigRepo, cli,
                                                  summary_file: Path,
                                                  api_server: TestApiServer, fmt: str) -> None:
    result = cli("apply", "dev", "--yes", "-o", fmt)
    assert result.exit_code == 1, result.output
    assert_clean(outputs(result, summary_file))
    assert "<masked>" in summary_file.read_text()
    if fmt == "json":
        failed = [r for r in json.loads(result.stdout)["results"] if r["outcome"] == "failed"]
        assert failed and "<masked>" in failed[0]["error"]
    else:
        assert "<masked>" in result.stdout
    # the deploy record in the cluster, and what history and status show of it
    records = [obj for key, obj in api_server.cluster.objects.items()
               if key[1] == "configmaps" and key[3].startswith("gitdeploy-record-")]
    assert records and "<masked>" in records[0]["data"]["failed"]
    assert_clean(json.dumps(records))
    for args in (("history", "dev"), ("history", "dev", "-o", "json"),
                 ("status", "dev", "--no-diff"), ("status", "dev", "--no-diff", "-o", "json")):
        shown = cli(*args)
        assert shown.exit_code == 0, (args, shown.output)
        assert_clean(shown.output)
    assert "<masked>" in json.dumps(json.loads(cli("history", "dev", "-o", "json").stdout))


def test_every_form_of_a_value_echoed_by_the_server(environment: MakeEnvironment, cli,
                                                   summary_file: Path,
                                                   api_server: TestApiServer) -> None:
    """An unquoted number in `data`, a base64 value, its decoded form, a `stringData` value
    and its base64 form: whatever the server echoes is masked, in the dry run and the apply."""
    environment([
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "numbers"},
         "data": {"pin": PIN, "token": DATA_B64}, "stringData": {"password": CANARY}},
        objects.configmap("plain", {"k": "v"})])
    echo = (f"failed to create typed patch object (default/numbers; /v1, Kind=Secret): "
            f".data.pin: expected string, got &value.valueUnstructured{{Value:{PIN}}}; "
            f"token {DATA_B64} is {DATA_CANARY}; password {CANARY} is {CANARY_B64}")
    api_server.inject(Fault(method="PATCH", path="/secrets/numbers", status=500, message=echo,
                            dry_run=True, times=2))
    for fmt in ("text", "json"):
        result = cli("diff", "dev", "-o", fmt)
        assert result.exit_code == 1, result.output
        assert "expected string, got" in result.stderr
        assert_clean(outputs(result, summary_file))
    api_server.inject(Fault(method="PATCH", path="/secrets/numbers", status=500, message=echo,
                            dry_run=False))
    for fmt in ("text", "json"):
        result = cli("apply", "dev", "--yes", "-o", fmt)
        assert result.exit_code == 1, result.output
        assert "expected string, got" in result.output
        assert_clean(outputs(result, summary_file))
    assert_clean(cli("history", "dev", "-o", "json").stdout)


def test_an_error_that_ends_the_dry_run(environment: MakeEnvironment, cli,
                                       api_server: TestApiServer) -> None:
    """An error that ends the plan (here a 403) is masked like a refused object."""
    environment([bad_secret("default")])
    api_server.inject(Fault(method="PATCH", path="/secrets/bad", status=403,
                            message=f"webhook denied {CANARY}: not allowed"))
    for fmt in ("text", "json"):
        result = cli("diff", "dev", "-o", fmt)
        assert result.exit_code == 1, result.output
        assert "webhook denied <masked>: not allowed" in result.output
        assert_clean(result.output)


def test_an_error_after_the_plan_is_masked_by_the_error_boundary(
        environment: MakeEnvironment, cli, api_server: TestApiServer) -> None:
    """An error raised after the plan, outside any object's result (here writing the deploy
    record), is masked by the error boundary with the values the run has met."""
    environment([objects.secret("good", {"password": CANARY})])
    api_server.inject(Fault(method="POST", path="/configmaps", status=403,
                            message=f"policy refused a record quoting {CANARY_B64}"))
    for fmt in ("text", "json"):
        result = cli("apply", "dev", "--yes", "-o", fmt)
        assert result.exit_code == 1, result.output
        assert "policy refused a record quoting <masked>" in result.output
        assert_clean(result.output)


# ---- kustomize ------------------------------------------------------------------------------

GENERATED = "supersecret-Kz51-literal"
VALID = "valid-Kz52-literal-value"


@pytest.fixture
def kustomized(environment: MakeEnvironment) -> ConfigRepo:
    """A secretGenerator literal without `=`: kustomize's error echoes every literal."""
    repo = environment()
    repo.write("environments/dev/kustomization.yaml", {
        "resources": ["cm.yaml"],
        "secretGenerator": [{"name": "creds", "literals": [f"password={VALID}", GENERATED]}]})
    repo.write("environments/dev/cm.yaml", objects.configmap("plain", {"k": "v"}))
    repo.commit("generator")
    return repo


@pytest.mark.parametrize("args", [
    ("render", "dev"), ("render", "dev", "-o", "json"), ("diff", "dev"),
    ("diff", "dev", "-o", "json"), ("diff", "dev", "-o", "markdown"), ("apply", "dev", "--yes"),
    ("apply", "dev", "--yes", "-o", "json"), ("validate",), ("validate", "-o", "json"),
], ids=" ".join)
def test_a_kustomize_error_echoing_generator_literals(kustomized: ConfigRepo, cli,
                                                      summary_file: Path,
                                                      args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert "kustomize could not build environments/dev" in result.output
    assert "invalid literal source" in result.output  # kustomize's own words are kept
    assert_clean(outputs(result, summary_file), GENERATED, VALID)


# ---- Helm -----------------------------------------------------------------------------------

HELM_CANARY = "HelmSecret-Hv88-value"


@pytest.fixture
def charted(environment: MakeEnvironment) -> ConfigRepo:
    """A chart whose values schema refuses the password given: Helm's error quotes it."""
    repo = environment(charts=[{"release": "vault", "chart": "chart",
                                "valuesFiles": ["secret-values.yaml"]}])
    repo.write("environments/dev/chart/Chart.yaml",
               {"apiVersion": "v2", "name": "vault", "version": "0.1.0"})
    repo.write("environments/dev/chart/values.yaml", "password: ''\n")
    repo.write("environments/dev/chart/values.schema.json", json.dumps(
        {"type": "object", "properties": {"password": {"type": "string",
                                                       "pattern": "^[a-z]+$"}}}))
    repo.write("environments/dev/chart/templates/secret.yaml",
               "apiVersion: v1\nkind: Secret\nmetadata:\n  name: vault\n"
               "stringData:\n  password: {{ .Values.password | quote }}\n")
    repo.write("environments/dev/secret-values.yaml", {"password": HELM_CANARY})
    repo.commit("chart")
    return repo


@pytest.mark.parametrize("args", [
    ("render", "dev"), ("render", "dev", "-o", "json"), ("diff", "dev", "-o", "json"),
    ("diff", "dev", "-o", "markdown"), ("apply", "dev", "--yes"), ("validate",),
    ("validate", "-o", "json"),
], ids=" ".join)
def test_a_helm_error_echoing_a_value(charted: ConfigRepo, cli, summary_file: Path,
                                      args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert "Helm could not render environments/dev/chart" in result.output
    assert "does not match pattern" in result.output
    assert_clean(outputs(result, summary_file), HELM_CANARY)
