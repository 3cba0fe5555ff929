"""SOPS-encrypted Secrets and variables through every command and output: the clear values go
to the API server in the apply request, and nowhere else (terminal, JSON, markdown, the CI job
summary, `-v`, deploy records, plan files). Real sops, an age key made in the test."""

from __future__ import annotations

import base64
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliResult, ConfigRepo, git
from tests.kubeapi.server import TestApiServer
from tests.render.sops_keys import AgeKey, encrypt, make_age_key, use_key

SECRET_CANARY = "canary-Sx81-secret-value"  # a value of an encrypted Secret
VARIABLE_CANARY = "canary-Vq27-variable-value"  # a variable of an encrypted substituteFrom file
TOKEN_CANARY = "canary-Tk55-token-value"  # another, substituted into a Secret
NEW_VARIABLE = "canary-Nw90-rotated-value"  # the variable after a rotation
CANARIES = (SECRET_CANARY, VARIABLE_CANARY, TOKEN_CANARY, NEW_VARIABLE)


def forms(value: str) -> list[str]:
    encoded = base64.b64encode(value.encode()).decode()
    return [value, encoded, encoded.rstrip("=")]


def assert_clean(*texts: str) -> None:
    for text in texts:
        for canary in CANARIES:
            for form in forms(canary):
                assert form not in text, f"{form!r} leaked in:\n{text}"


def write_encrypted(repo: ConfigRepo, key: AgeKey, *, variable: str = VARIABLE_CANARY) -> None:
    env = repo.root / "environments" / "dev"
    repo.write("environments/dev/secret.enc.yaml", {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
        "stringData": {"password": SECRET_CANARY, "user": "app"}})
    encrypt(env / "secret.enc.yaml", key)
    repo.write("environments/dev/vars.enc.env",
               f"DB_PASSWORD={variable}\nAPI_TOKEN={TOKEN_CANARY}\n")
    encrypt(env / "vars.enc.env", key)


@pytest.fixture
def key(tmp_path: Path) -> AgeKey:
    return make_age_key(tmp_path / "keys")


@pytest.fixture
def encrypted_repo(repo: ConfigRepo, kubeconfig: Path, key: AgeKey,
                   monkeypatch: pytest.MonkeyPatch) -> ConfigRepo:
    """An environment with an encrypted Secret, and an encrypted file of variables that go
    into a ConfigMap (not a Secret) and into a Secret; the key given to sops."""
    repo.settings("dev", context="kind-dev", namespace="default",
                  substitute={"APP": "shop"}, substituteFrom=["vars.enc.env"])
    repo.write("environments/dev/app.yaml", [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings-${APP}"},
         "data": {"url": "postgres://app:${DB_PASSWORD}@db:5432/shop", "app": "${APP}"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "api"},
         "stringData": {"token": "${API_TOKEN}"}},
    ])
    write_encrypted(repo, key)
    repo.commit("encrypted")
    use_key(monkeypatch, key)
    return repo


@pytest.fixture
def summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(path))
    return path


def everything(result: CliResult, summary: Path) -> str:
    return result.output + (summary.read_text() if summary.exists() else "")


def cluster_get(server: TestApiServer, path: str) -> Any:
    request = urllib.request.Request(server.url + path,
                                     headers={"Authorization": "Bearer admin-token"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_canary_never_shown_by_any_command(encrypted_repo: ConfigRepo, cli, summary: Path,
                                           api_server: TestApiServer, tmp_path: Path,
                                           key: AgeKey, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    repo = encrypted_repo
    seen: list[str] = []

    def run(*args: str, code: int = 0) -> CliResult:
        result: CliResult = cli(*args)
        assert result.exit_code == code, result.output
        seen.append(everything(result, summary))
        return result

    rendered = run("render", "dev")
    assert "<masked>" in rendered.stdout and "settings-shop" in rendered.stdout
    rendered_json = json.loads(run("render", "dev", "-o", "json").stdout)
    by_name = {o["object"]["metadata"]["name"]: o["object"] for o in rendered_json["objects"]}
    assert by_name["settings-shop"]["data"]["url"] == "<masked>"  # not a Secret, still masked
    assert by_name["settings-shop"]["data"]["app"] == "shop"  # a plain variable is shown
    diff = run("diff", "dev", code=0)
    assert "DB_PASSWORD (environments/dev/vars.enc.env, encrypted)" in diff.stdout
    assert "APP (substitute)" in diff.stdout
    plan = json.loads(run("diff", "dev", "-o", "json").stdout)
    assert "API_TOKEN (environments/dev/vars.enc.env, encrypted)" in plan["variables"]
    assert "Variables:" in run("diff", "dev", "-o", "markdown").stdout
    run("diff", "dev", "-v")
    vv = run("diff", "dev", "-vv")  # the bodies of the dry runs, masked
    assert "  stringData:" in vv.stderr or "  data:" in vv.stderr
    plan_file = tmp_path / "plan.json"
    run("diff", "dev", "--out-plan", str(plan_file))
    seen.append(plan_file.read_text())
    applied = json.loads(run("apply", "dev", "--yes", "-o", "json").stdout)
    assert applied["succeeded"] is True

    # the clear values went to the cluster, in the apply request
    secret = cluster_get(api_server, "/api/v1/namespaces/default/secrets/db")
    assert base64.b64decode(secret["data"]["password"]).decode() == SECRET_CANARY
    assert "sops" not in secret
    configmap = cluster_get(api_server, "/api/v1/namespaces/default/configmaps/settings-shop")
    assert VARIABLE_CANARY in configmap["data"]["url"]

    # the deploy record and the ApplySet parent hold none of it, but name the variables
    configmaps = cluster_get(api_server, "/api/v1/namespaces/default/configmaps")["items"]
    ours = [c for c in configmaps if c["metadata"]["name"].startswith("gitdeploy-")]
    assert ours
    seen.append(json.dumps(ours))
    records = [c for c in ours if c["metadata"]["name"].startswith("gitdeploy-record-")]
    assert "DB_PASSWORD (environments/dev/vars.enc.env, encrypted)" in \
        records[0]["data"]["variables"]
    run("history", "dev", "-o", "json")
    run("status", "dev")

    # a rotated variable: the ConfigMap's old and new values, both masked, shown as changed
    write_encrypted(repo, key, variable=NEW_VARIABLE)
    repo.commit("rotate")
    rotated = run("diff", "dev", "--exit-code", code=2)
    assert "<masked: old value>" in rotated.stdout and "<masked: new value>" in rotated.stdout
    run("diff", "dev", "-o", "json", "--exit-code", code=2)
    run("apply", "dev", "--yes")

    # without keys: validate and the offline diff, the ciphertext masked
    use_key(monkeypatch, None)
    run("validate")
    offline = run("diff", "dev", "--offline", "--base", "HEAD~1")
    assert "<masked: new value>" in offline.stdout  # a new ciphertext is a changed value
    assert "ENC[" not in offline.stdout
    run("diff", "dev", "--offline", "--base", "HEAD~1", "-o", "json")
    run("diff", "dev", "--offline", "--base", "HEAD~1", "-o", "markdown")
    assert_clean(*seen)
    assert git(repo.root, "status", "--porcelain") == ""  # nothing decrypted in the work tree


def test_a_server_error_quoting_a_decrypted_value_is_masked(encrypted_repo: ConfigRepo, cli,
                                                            summary: Path,
                                                            api_server: TestApiServer) -> None:
    from tests.kubeapi.server import Fault

    echo = f"ConfigMap is invalid: data.url: {VARIABLE_CANARY} is not allowed"
    api_server.inject(Fault(method="PATCH", path="/configmaps/settings-shop", status=422,
                            message=echo))
    for fmt in ("text", "json"):
        result = cli("apply", "dev", "--yes", "-o", fmt)
        assert result.exit_code == 1, result.output
        assert "<masked>" in result.output
        assert_clean(everything(result, summary))
