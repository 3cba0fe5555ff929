"""Deploy records, status, history and rollback, through the CLI on the test API server."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment, git
from tests.kubeapi.server import TestApiServer

CANARY = "hunter2-canary-record-value"


@pytest.fixture
def dev(environment: MakeEnvironment) -> ConfigRepo:
    return environment([objects.configmap("settings", {"v": "1"}),
                        objects.secret("creds", {"password": CANARY})],
                       namespace="shop", files={"ns.yaml": objects.namespace("shop")},
                       message="first deploy", state={"namespace": "gitdeploy"},
                       history={"keep": 3})


def deploy(cli, *args: str) -> dict[str, Any]:
    result = cli("apply", "dev", "--yes", "-o", "json", *args)
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def bump(repo: ConfigRepo, value: str, message: str) -> str:
    repo.write("environments/dev/app.yaml", [objects.configmap("settings", {"v": value}),
                                             objects.secret("creds", {"password": CANARY})])
    return repo.commit(message)


def records(api_server: TestApiServer) -> dict[str, dict[str, Any]]:
    return {key[3]: obj for key, obj in api_server.cluster.objects.items()
            if key[:3] == ("", "configmaps", "gitdeploy")
            and key[3].startswith("gitdeploy-record-")}


def test_apply_writes_a_record_readable_with_kubectl(dev: ConfigRepo, cli,
                                                     api_server: TestApiServer) -> None:
    commit = git(dev.root, "rev-parse", "HEAD").strip()
    doc = deploy(cli)
    stored = records(api_server)
    assert list(stored) == ["gitdeploy-record-dev-000001"]
    record = stored["gitdeploy-record-dev-000001"]
    assert record["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "gitdeploy", "gitdeploy.io/environment": "dev",
        "gitdeploy.io/record": "deploy", "gitdeploy.io/sequence": "1"}
    data = record["data"]
    assert data["environment"] == "dev" and data["kind"] == "deploy"
    assert data["commit"] == commit and data["ref"] == "main"
    assert data["subject"] == "first deploy"
    assert data["author"] == "Test Author <author@example.com>"
    assert data["dirty"] == "false" and data["outcome"] == "succeeded"
    assert data["kubeUser"] == "admin" and data["localUser"] and data["host"]
    assert json.loads(data["counts"])["create"] == 3
    assert data["digest"].startswith("sha256:") and len(data["digest"]) == 71
    assert "Secret shop/creds" in data["applied"].split("\n")
    assert doc["record"]["sequence"] == 1 and doc["record"]["commit"] == commit
    assert CANARY not in json.dumps(record)


def test_ci_identity_is_recorded(dev: ConfigRepo, cli, api_server: TestApiServer,
                                 monkeypatch) -> None:
    for name, value in {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/config",
                        "GITHUB_RUN_ID": "4242", "GITHUB_ACTOR": "alice",
                        "GITHUB_SERVER_URL": "https://github.com"}.items():
        monkeypatch.setenv(name, value)
    deploy(cli)
    data = records(api_server)["gitdeploy-record-dev-000001"]["data"]
    assert data["ci"] == "GitHub Actions acme/config run 4242 by alice"
    assert data["ciUrl"] == "https://github.com/acme/config/actions/runs/4242"


def test_records_are_capped_at_keep(dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    for value in "12345":
        bump(dev, value, f"value {value}")
        deploy(cli)
    assert sorted(records(api_server)) == [f"gitdeploy-record-dev-00000{n}" for n in (3, 4, 5)]
    history = json.loads(cli("history", "dev", "-o", "json").stdout)
    assert [r["sequence"] for r in history["records"]] == [5, 4, 3]


def test_a_failed_apply_is_recorded_with_what_was_applied(dev: ConfigRepo, cli,
                                                          api_server: TestApiServer) -> None:
    from tests.kubeapi.server import Fault
    api_server.inject(Fault("PATCH", "/api/v1/namespaces/shop/secrets/creds", status=500,
                            dry_run=False))
    result = cli("apply", "dev", "--yes", "--retries", "0")
    assert result.exit_code == 1
    data = records(api_server)["gitdeploy-record-dev-000001"]["data"]
    assert data["outcome"] == "failed"
    assert "Namespace shop" in data["applied"]
    assert data["failed"].startswith("Secret shop/creds: ")
    assert CANARY not in json.dumps(data)
    table = cli("history", "dev")
    assert "FAILED" in table.stdout


def test_history_lists_deploys_newest_first_without_secret_values(
        dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    first = git(dev.root, "rev-parse", "HEAD").strip()
    deploy(cli)
    second = bump(dev, "2", "second value")
    deploy(cli)
    result = cli("history", "dev")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["#", "WHEN", "(UTC)"]
    assert lines[1].split()[0] == "2" and second[:7] in lines[1] and "second value" in lines[1]
    assert lines[2].split()[0] == "1" and first[:7] in lines[2]
    doc = json.loads(cli("history", "dev", "-o", "json").stdout)
    assert doc["kind"] == "History"
    assert [r["commit"] for r in doc["records"]] == [second, first]
    for output in (result.output, json.dumps(doc)):
        assert CANARY not in output


def test_history_of_an_environment_never_deployed(dev: ConfigRepo, cli) -> None:
    result = cli("history", "dev")
    assert result.exit_code == 0
    assert "No deploys of dev recorded yet." in result.stdout


def test_status_shows_live_commit_distance_author_and_no_drift(dev: ConfigRepo, cli) -> None:
    live = git(dev.root, "rev-parse", "HEAD").strip()
    deploy(cli)
    bump(dev, "2", "not deployed yet")
    bump(dev, "3", "also not deployed")
    doc = json.loads(cli("status", "dev", "-o", "json").stdout)
    assert doc["kind"] == "Status"
    assert doc["live"]["commit"] == live
    assert doc["commitsBehind"] == 2 and doc["commitsAhead"] == 0
    assert doc["inLocalHistory"] is True
    assert doc["drift"] == {"checked": True, "drifted": False, "note": None, "changes": []}
    assert doc["lock"] is None
    head = git(dev.root, "rev-parse", "HEAD").strip()
    lines = [line.rstrip() for line in cli("status", "dev").stdout.splitlines()]
    assert lines[0] == "environment  dev"
    assert re.fullmatch(r"context      kind-dev \(http://127\.0\.0\.1:\d+\)", lines[1])
    assert lines[2] == f"live commit  {live[:7]} first deploy"
    by = doc["live"]["deployedBy"]
    assert re.fullmatch(rf"deployed     \d{{4}}-\d\d-\d\d \d\d:\d\d UTC by "
                        rf"{re.escape(by['localUser'])}@{re.escape(by['host'])} "
                        r"\(kube user admin\)", lines[3]), lines[3]
    assert lines[4:] == ["record       deploy 1 from ref main", "outcome      succeeded",
                         "dirty        no", f"vs git       2 commit(s) behind main ({head[:7]})",
                         "drift        no", "lock         free"]


def test_status_reports_drift_and_no_diff_skips_it(dev: ConfigRepo, cli,
                                                   api_server: TestApiServer) -> None:
    deploy(cli)
    live = api_server.cluster.objects[("", "configmaps", "shop", "settings")]
    live["data"]["v"] = "changed by hand"  # behind the server's back: no field manager
    doc = json.loads(cli("status", "dev", "-o", "json").stdout)
    drift = doc["drift"]
    assert (drift["checked"], drift["drifted"], drift["note"]) == (True, True, None)
    [change] = drift["changes"]
    assert (change["kind"], change["name"], change["action"], change["drift"]) == (
        "ConfigMap", "settings", "update", [])
    assert [line for line in change["diff"].splitlines() if line[:1] in "-+"] == [
        "--- live/ConfigMap/shop/settings", "+++ git/ConfigMap/shop/settings",
        "-  v: changed by hand", "+  v: '1'"]
    text = [line.rstrip() for line in cli("status", "dev").stdout.splitlines()]
    live_commit = git(dev.root, "rev-parse", "HEAD").strip()[:7]
    assert [line for line in text if line.startswith("drift ")] == [
        "drift        yes: 1 object(s) differ from the live commit; gitdeploy diff dev --ref "
        f"{live_commit} shows them"]  # see test_the_drift_hint_is_a_command_that_shows_the_drift
    requests = len(api_server.requests)
    skipped = json.loads(cli("status", "dev", "--no-diff", "-o", "json").stdout)
    assert skipped["drift"]["checked"] is False
    assert not any(r.dry_run for r in api_server.requests[requests:])


def test_the_drift_hint_is_a_command_that_shows_the_drift(dev: ConfigRepo, cli,
                                                          api_server: TestApiServer) -> None:
    deploy(cli)
    api_server.cluster.objects[("", "configmaps", "shop", "settings")]["data"]["v"] = "by hand"
    text = cli("status", "dev").stdout
    drift = next(line for line in text.splitlines() if line.startswith("drift "))
    hint = re.fullmatch(r"drift +yes: 1 object\(s\) differ from the live commit; gitdeploy "
                        r"(.+) shows them", drift.rstrip())
    assert hint is not None, drift
    shown = cli(*hint.group(1).split(), "-o", "json")
    assert shown.exit_code == 0, shown.output
    assert [(c["name"], c["action"]) for c in json.loads(shown.stdout)["changes"]
            if c["action"] != "unchanged"] == [("settings", "update")]


def test_status_when_the_live_commit_is_not_in_local_history(dev: ConfigRepo, cli) -> None:
    deploy(cli)
    git(dev.root, "checkout", "-q", "--orphan", "rewritten")
    dev.commit("history rewritten")
    git(dev.root, "branch", "-D", "main")
    git(dev.root, "reflog", "expire", "--expire=now", "--all")
    git(dev.root, "gc", "-q", "--prune=now")
    doc = json.loads(cli("status", "dev", "-o", "json").stdout)
    assert doc["inLocalHistory"] is False and doc["commitsBehind"] is None
    assert "not in the local history" in doc["drift"]["note"]
    assert "is not in the local history" in cli("status", "dev").stdout


def test_status_of_an_environment_never_deployed(dev: ConfigRepo, cli) -> None:
    result = cli("status", "dev")
    assert result.exit_code == 0, result.output
    assert "nothing deployed by gitdeploy yet" in result.stdout


def test_rollback_to_the_previous_deploy(dev: ConfigRepo, cli,
                                         api_server: TestApiServer) -> None:
    first = git(dev.root, "rev-parse", "HEAD").strip()
    deploy(cli)
    bump(dev, "2", "second")
    deploy(cli)
    result = cli("rollback", "dev", "--yes", "-o", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["record"]["kind"] == "rollback"
    assert doc["record"]["commit"] == first
    assert doc["record"]["rollbackOf"] == f"record 1 ({first[:7]})"
    assert [r["action"] for r in doc["results"]] == ["update"]
    assert api_server.cluster.objects[("", "configmaps", "shop", "settings")]["data"] == {
        "v": "1"}
    assert (dev.root / "environments/dev/app.yaml").read_text().count("'2'") == 1  # untouched
    stored = records(api_server)["gitdeploy-record-dev-000003"]
    assert stored["metadata"]["labels"]["gitdeploy.io/record"] == "rollback"


def test_rollback_to_a_record_number_and_to_a_sha(dev: ConfigRepo, cli,
                                                  api_server: TestApiServer) -> None:
    first = git(dev.root, "rev-parse", "HEAD").strip()
    deploy(cli)
    second = bump(dev, "2", "second")
    deploy(cli)
    bump(dev, "3", "third")
    deploy(cli)
    live = ("", "configmaps", "shop", "settings")
    assert cli("rollback", "dev", "--to", "2", "--yes").exit_code == 0
    assert api_server.cluster.objects[live]["data"] == {"v": "2"}
    to_sha = cli("rollback", "dev", "--to", first[:10], "--yes", "-o", "json")
    assert to_sha.exit_code == 0, to_sha.output
    assert json.loads(to_sha.stdout)["record"]["commit"] == first
    assert api_server.cluster.objects[live]["data"] == {"v": "1"}
    history = json.loads(cli("history", "dev", "-o", "json").stdout)["records"]
    assert [(r["kind"], r["commit"]) for r in history[:2]] == [("rollback", first),
                                                               ("rollback", second)]


def test_rollback_asks_like_apply_and_refuses_without_a_terminal(dev: ConfigRepo, cli,
                                                                 api_server) -> None:
    deploy(cli)
    bump(dev, "2", "second")
    deploy(cli)
    writes = len(api_server.writes(state=True))
    result = cli("rollback", "dev")
    assert result.exit_code == 1
    assert "no terminal to confirm on" in result.stderr
    assert "-  v: '2'" in result.stdout and "+  v: '1'" in result.stdout
    assert len(api_server.writes(state=True)) == writes


def test_rollback_errors(dev: ConfigRepo, cli) -> None:
    none = cli("rollback", "dev", "--yes")
    assert none.exit_code == 1 and "no deploy records to roll back to" in none.stderr
    deploy(cli)
    only_one = cli("rollback", "dev", "--yes")
    assert only_one.exit_code == 1
    assert "no earlier successful deploy of another commit" in only_one.stderr
    missing = cli("rollback", "dev", "--to", "9", "--yes")
    assert missing.exit_code == 1 and "no deploy record 9" in missing.stderr
    unknown = cli("rollback", "dev", "--to", "not-a-ref", "--yes")
    assert unknown.exit_code == 1
    assert "'not-a-ref' is not a commit, tag or branch" in unknown.stderr


def test_a_no_change_apply_records_the_commit_as_live(dev: ConfigRepo, cli) -> None:
    deploy(cli)
    readme = dev.commit("docs only")
    again = cli("apply", "dev")  # nothing to confirm
    assert again.exit_code == 0, again.output
    assert "Nothing to apply to dev." in again.stdout
    doc = json.loads(cli("status", "dev", "-o", "json").stdout)
    assert doc["live"]["commit"] == readme and doc["commitsBehind"] == 0


def test_behind_counts_only_commits_that_change_what_the_environment_renders_from(
        dev: ConfigRepo, cli) -> None:
    """A commit to another environment or to the README does not put dev behind; one to a
    base that dev's kustomization uses does, and so does the repository-wide freeze file.
    `status --exit-code` exits 0 in sync and 2 when behind or drifted (scheduled drift jobs)."""
    dev.write("bases/app/kustomization.yaml", {"resources": ["settings.yaml"]})
    dev.write("bases/app/settings.yaml", objects.configmap("base", {"b": "1"}))
    dev.write("environments/dev/kustomization.yaml", {"resources": ["../../bases/app"]})
    dev.settings("dev", context="kind-dev", namespace="default",
                 kustomize={"loadRestrictor": "none"})
    dev.commit("dev from a base")
    deploy(cli)
    assert cli("status", "dev", "--exit-code").exit_code == 0
    dev.write("README.md", "the config repository\n")
    dev.commit("docs")
    dev.settings("other", context="kind-dev", namespace="other")
    dev.write("environments/other/app.yaml", objects.configmap("other", {}))
    dev.commit("another environment")
    doc = json.loads(cli("status", "dev", "-o", "json").stdout)
    assert (doc["commitsBehind"], doc["commitsAhead"]) == (0, 0)
    assert cli("status", "dev", "--exit-code").exit_code == 0
    dev.write("bases/app/settings.yaml", objects.configmap("base", {"b": "2"}))
    dev.commit("the base changes")
    doc = json.loads(cli("status", "dev", "-o", "json").stdout)
    assert doc["commitsBehind"] == 1
    result = cli("status", "dev", "--exit-code")
    assert result.exit_code == 2, result.output
    assert "1 commit(s) behind main" in result.stdout
    deploy(cli)
    dev.write("environments/FREEZE", "release freeze\n")
    dev.commit("freeze")
    assert json.loads(cli("status", "dev", "-o", "json").stdout)["commitsBehind"] == 1


def test_status_exit_code_when_drifted_or_never_deployed(dev: ConfigRepo, cli,
                                                         api_server: TestApiServer) -> None:
    assert cli("status", "dev", "--exit-code").exit_code == 2  # nothing deployed yet
    deploy(cli)
    assert cli("status", "dev", "--exit-code").exit_code == 0
    api_server.cluster.objects[("", "configmaps", "shop", "settings")]["data"]["v"] = "by hand"
    assert cli("status", "dev", "--exit-code").exit_code == 2
    assert cli("status", "dev").exit_code == 0  # without the flag, status itself succeeded
