"""Plan files keep a keyed digest (HMAC-SHA256) of each Secret, never a plain hash that would let
a reader confirm a guessed value. The key stays on the machine (a file readable by its owner
only) or is shared by CI as GITDEPLOY_PLAN_KEY; a plan made with another key is refused."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from gitdeploy.errors import SettingsError
from gitdeploy.output import jsondoc
from gitdeploy.plan import planfile
from gitdeploy.results import Action
from gitdeploy.results.plan import Plan
from tests import builders
from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import TestApiServer

SECRET_KEY = "/Secret/shop/db"
GUESS = "hunter2-canary"
SHARED = "a-shared-ci-plan-key-0123456789"


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This machine's config folder."""
    config = tmp_path / "machine-a"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.delenv(planfile.KEY_ENV, raising=False)
    return config


def secret_plan(password: str = GUESS) -> Plan:
    body = builders.body("Secret", "db", "shop", stringData={"password": password})
    return builders.plan([
        builders.change("Secret", "db", content=body, action=Action.CREATE),
        builders.change("ConfigMap", "settings", content=builders.configmap("settings")),
    ])


def save(plan: Plan, path: Path) -> dict[str, Any]:
    planfile.save(plan, path, jsondoc.plan(plan))
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def test_a_secret_digest_is_keyed(machine: Path, tmp_path: Path) -> None:
    plan = secret_plan()
    document = save(plan, tmp_path / "plan.json")
    digest = document["objects"][SECRET_KEY]["digest"]
    assert digest.startswith("hmac-sha256:")
    # the plain hash of the object with a guessed value is nowhere: a guess cannot be confirmed
    body = plan.changes[0].manifest.body
    guessed = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"))
                             .encode()).hexdigest()
    assert guessed not in (tmp_path / "plan.json").read_text()
    assert GUESS not in (tmp_path / "plan.json").read_text()
    # other objects keep a plain digest: nothing secret in them
    assert document["objects"]["/ConfigMap/shop/settings"]["digest"].startswith("sha256:")
    key = machine / "gitdeploy" / "plan-key"
    assert document["planKey"] == planfile.plan_key(create=False).id  # type: ignore[union-attr]
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    saved = planfile.load(tmp_path / "plan.json")
    assert planfile.differences(saved, secret_plan()) == []
    assert planfile.differences(saved, secret_plan("rotated-value")) == [
        f"{SECRET_KEY}: the rendered object changed since the plan"]


def test_the_key_is_made_once_and_only_for_secrets(machine: Path, tmp_path: Path) -> None:
    document = save(builders.plan([builders.change("ConfigMap", "settings")]),
                    tmp_path / "plain.json")
    assert document["planKey"] is None
    assert not (machine / "gitdeploy").exists()
    first = save(secret_plan(), tmp_path / "one.json")
    second = save(secret_plan(), tmp_path / "two.json")
    assert first["planKey"] == second["planKey"]
    assert first["objects"][SECRET_KEY] == second["objects"][SECRET_KEY]


def test_a_plan_from_another_machine_is_refused(machine: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    save(secret_plan(), tmp_path / "plan.json")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "machine-b"))
    with pytest.raises(SettingsError) as refused:
        planfile.load(tmp_path / "plan.json")
    assert "was made with another plan key" in refused.value.message
    assert any("set GITDEPLOY_PLAN_KEY to the same secret" in line
               for line in refused.value.details)
    save(secret_plan(), tmp_path / "b.json")  # machine b now has a key of its own: still refused
    with pytest.raises(SettingsError, match="another plan key"):
        planfile.load(tmp_path / "plan.json")


def test_a_shared_key_for_ci(machine: Path, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(planfile.KEY_ENV, SHARED)
    save(secret_plan(), tmp_path / "plan.json")
    assert not (machine / "gitdeploy").exists()  # the shared key is used, no file is made
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "machine-b"))
    assert planfile.differences(planfile.load(tmp_path / "plan.json"), secret_plan()) == []
    monkeypatch.setenv(planfile.KEY_ENV, SHARED + "-other")
    with pytest.raises(SettingsError, match="another plan key"):
        planfile.load(tmp_path / "plan.json")


def test_plans_without_secrets_need_no_key(machine: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    plan = builders.plan([builders.change("ConfigMap", "settings")])
    save(plan, tmp_path / "plan.json")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "machine-b"))
    assert planfile.differences(planfile.load(tmp_path / "plan.json"), plan) == []


@pytest.mark.parametrize(("setup", "expected"), [
    ("short-env", "GITDEPLOY_PLAN_KEY is too short"),
    ("open-file", "can be read by other users"),
    ("short-file", "is not a plan key"),
])
def test_bad_keys(machine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setup: str,
                  expected: str) -> None:
    key = machine / "gitdeploy" / "plan-key"
    if setup == "short-env":
        monkeypatch.setenv(planfile.KEY_ENV, "short")
    else:
        key.parent.mkdir(parents=True)
        key.write_text("abc" if setup == "short-file" else "x" * 64)
        key.chmod(0o600 if setup == "short-file" else 0o644)
    with pytest.raises(SettingsError, match=expected):
        save(secret_plan(), tmp_path / "plan.json")


def test_an_old_plan_file_with_unkeyed_secret_digests(machine: Path, tmp_path: Path) -> None:
    document = save(secret_plan(), tmp_path / "plan.json")
    document["objects"][SECRET_KEY]["digest"] = "sha256:" + "0" * 64
    del document["planKey"]
    (tmp_path / "plan.json").write_text(json.dumps(document))
    with pytest.raises(SettingsError, match="made by an older gitdeploy"):
        planfile.load(tmp_path / "plan.json")


def test_two_plans_of_one_run_are_compared_without_a_key_file(machine: Path) -> None:
    assert planfile.differences(planfile.snapshot(secret_plan()), secret_plan()) == []
    assert planfile.differences(planfile.snapshot(secret_plan()), secret_plan("other")) == [
        f"{SECRET_KEY}: the rendered object changed since the plan"]
    assert not (machine / "gitdeploy").exists()


# ---- through the command line ---------------------------------------------------------------

@pytest.fixture
def dev(environment: MakeEnvironment, cli) -> ConfigRepo:
    repo = environment([objects.configmap("a", {"v": "1"}), objects.secret("s", {"p": GUESS})])
    assert cli("apply", "dev", "--yes").exit_code == 0
    repo.write("environments/dev/app.yaml", [objects.configmap("a", {"v": "2"}),
                                             objects.secret("s", {"p": GUESS})])
    repo.commit("a to 2")
    return repo


def test_plan_on_one_machine_apply_on_another(dev: ConfigRepo, cli, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              api_server: TestApiServer) -> None:
    plan = tmp_path / "plan.json"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "planner"))
    assert cli("diff", "dev", "--out-plan", str(plan)).exit_code == 0
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "applier"))
    writes = len(api_server.writes())
    result = cli("apply", "dev", "--plan", str(plan), "--yes")
    assert result.exit_code == 1, result.output
    assert "was made with another plan key" in result.stderr
    assert "GITDEPLOY_PLAN_KEY" in result.stderr
    assert len(api_server.writes()) == writes
    # with a key shared by both machines, it applies
    monkeypatch.setenv(planfile.KEY_ENV, SHARED)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "planner"))
    assert cli("diff", "dev", "--out-plan", str(plan)).exit_code == 0
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "applier"))
    result = cli("apply", "dev", "--plan", str(plan), "--yes")
    assert result.exit_code == 0, result.output
    assert api_server.cluster.objects[("", "configmaps", "default", "a")]["data"] == {"v": "2"}
    assert not os.path.exists(tmp_path / "applier" / "gitdeploy" / "plan-key")
