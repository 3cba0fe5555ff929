"""Objects unchanged since the last apply are not dry-run (state/synced.py), and whatever
changed them behind gitdeploy's back is still caught: another manager's apply, a `kubectl
edit`, a controller's write. Each plan made with the skip is the plan `--full` makes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client as k8s

from gitdeploy.kube.client import LIST_PAGE
from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import RequestRecord, TestApiServer

APPLY_PATCH = "application/apply-patch+yaml"


@pytest.fixture
def dev(environment: MakeEnvironment, cli) -> ConfigRepo:
    repo = environment([
        objects.configmap("settings", {"LOG_LEVEL": "info"}),
        objects.deployment("web", replicas=2),
        objects.service("web"),
    ], namespace="shop", files={"ns.yaml": objects.namespace("shop")})
    applied = cli("apply", "dev", "--yes", "--no-wait")
    assert applied.exit_code == 0, applied.output
    return repo



def dry_runs(requests: list[RequestRecord]) -> list[str]:
    return [r.path for r in requests if r.method == "PATCH" and r.dry_run]


def diff(cli, *extra: str) -> dict[str, Any]:
    result = cli("diff", "dev", "-o", "json", *extra)
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def actions(plan: dict[str, Any]) -> dict[str, str]:
    return {f"{c['kind']}/{c['name']}": c["action"] for c in plan["changes"]}


def change(plan: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in plan["changes"]
                                 if (c["kind"], c["name"]) == (kind, name))
    return found


def same_as_full(cli, api_server: TestApiServer) -> tuple[dict[str, Any], list[str]]:
    """The plan with the skip, the objects it dry-ran, after checking that `--full` (which
    dry-runs every object) makes the same plan."""
    start = len(api_server.requests)
    plan = diff(cli)
    ran = dry_runs(api_server.requests[start:])
    start = len(api_server.requests)
    full = diff(cli, "--full")
    # each object once (twice when the first answer is a conflict)
    assert len(set(dry_runs(api_server.requests[start:]))) == len(full["changes"])
    assert plan == full
    return plan, ran


def test_nothing_changed_sends_no_dry_run(dev: ConfigRepo, cli,
                                          api_server: TestApiServer) -> None:
    start = len(api_server.requests)
    quiet = cli("diff", "dev", "--exit-code")
    assert quiet.exit_code == 0, quiet.output
    assert "No changes: dev matches git." in quiet.stdout
    sent = api_server.requests[start:]
    assert dry_runs(sent) == []
    assert not any(r.is_write for r in sent)
    plan, ran = same_as_full(cli, api_server)
    assert set(actions(plan).values()) == {"unchanged"} and ran == []


def test_full_dry_runs_every_object(dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    start = len(api_server.requests)
    assert cli("diff", "dev", "--full").exit_code == 0
    assert len(dry_runs(api_server.requests[start:])) == 4
    start = len(api_server.requests)
    applied = cli("apply", "dev", "--yes", "--no-wait", "--full")
    assert applied.exit_code == 0, applied.output
    assert len(dry_runs(api_server.requests[start:])) == 4
    start = len(api_server.requests)
    assert cli("status", "dev", "--full").exit_code == 0
    assert len(dry_runs(api_server.requests[start:])) == 4


def test_verbose_says_how_many_were_skipped(dev: ConfigRepo, cli) -> None:
    result = cli("diff", "dev", "-v")
    assert "» plan: 4 of 4 object(s) unchanged since the last apply, not dry-run" in \
        result.stderr
    full = cli("diff", "dev", "-v", "--full")
    assert "» plan: 0 of 4 object(s) unchanged since the last apply, not dry-run " \
        "(fingerprints: --full)" in full.stderr


def test_a_change_in_git_dry_runs_that_object_only(dev: ConfigRepo, cli,
                                                   api_server: TestApiServer) -> None:
    dev.write("environments/dev/app.yaml", [objects.configmap("settings", {"LOG_LEVEL": "debug"}),
                                            objects.deployment("web", replicas=2),
                                            objects.service("web")])
    plan, ran = same_as_full(cli, api_server)
    assert ran == ["/api/v1/namespaces/shop/configmaps/settings"]
    assert actions(plan)["ConfigMap/settings"] == "update"


def test_another_managers_apply_is_caught(dev: ConfigRepo, cli, api_server: TestApiServer,
                                          kube: k8s.ApiClient) -> None:
    """A person's server-side apply (kubectl --server-side --force-conflicts) of a field
    gitdeploy set: drift, which apply takes back."""
    k8s.CoreV1Api(kube).patch_namespaced_config_map(
        "settings", "shop", {"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": "settings", "namespace": "shop"},
                             "data": {"LOG_LEVEL": "trace"}},
        field_manager="kubectl", force=True, _content_type=APPLY_PATCH)
    plan, ran = same_as_full(cli, api_server)
    assert set(ran) == {"/api/v1/namespaces/shop/configmaps/settings"}
    settings = change(plan, "ConfigMap", "settings")
    assert settings["action"] == "update"
    assert settings["drift"] == [{"field": "data.LOG_LEVEL", "manager": "kubectl"}]


def test_kubectl_edit_is_caught(dev: ConfigRepo, cli, api_server: TestApiServer,
                                kube: k8s.ApiClient) -> None:
    """`kubectl edit` reads the object and writes it back whole (an update, PUT)."""
    core = k8s.CoreV1Api(kube)
    live = core.read_namespaced_config_map("settings", "shop")
    assert live.data is not None
    live.data["LOG_LEVEL"] = "warning"
    core.replace_namespaced_config_map("settings", "shop", live, field_manager="kubectl-edit")
    plan, ran = same_as_full(cli, api_server)
    assert set(ran) == {"/api/v1/namespaces/shop/configmaps/settings"}
    settings = change(plan, "ConfigMap", "settings")
    assert settings["action"] == "update"
    assert settings["drift"] == [{"field": "data.LOG_LEVEL", "manager": "kubectl-edit"}]


def test_a_controllers_spec_write_is_caught(dev: ConfigRepo, cli, api_server: TestApiServer,
                                            kube: k8s.ApiClient) -> None:
    """A controller's update of a field gitdeploy set (an operator scaling a Deployment):
    the conflict policy decides, as when every object is dry-run."""
    k8s.AppsV1Api(kube).patch_namespaced_deployment(
        "web", "shop", {"spec": {"replicas": 5}}, field_manager="scaling-operator")
    plan, ran = same_as_full(cli, api_server)
    assert set(ran) == {"/apis/apps/v1/namespaces/shop/deployments/web"}
    web = change(plan, "Deployment", "web")
    assert web["action"] != "unchanged"
    assert [(c["field"], c["manager"]) for c in web["conflicts"]] == [
        ("spec.replicas", "scaling-operator")]


def test_writes_outside_gitdeploys_fields_keep_the_skip(dev: ConfigRepo, cli,
                                                        api_server: TestApiServer,
                                                        kube: k8s.ApiClient) -> None:
    """What others set beside gitdeploy's fields (an annotation, a status) leaves the object
    as a dry run would: unchanged, and not dry-run."""
    k8s.CoreV1Api(kube).patch_namespaced_config_map(
        "settings", "shop", {"metadata": {"annotations": {"example.com/seen": "yes"}}},
        field_manager="auditor")
    deployment = api_server.cluster.objects[("apps", "deployments", "shop", "web")]
    assert deployment.get("status"), "the test server's controller wrote the status"
    plan, ran = same_as_full(cli, api_server)
    assert ran == [] and set(actions(plan).values()) == {"unchanged"}


def test_an_object_deleted_and_created_again_is_dry_run(dev: ConfigRepo, cli,
                                                        api_server: TestApiServer,
                                                        kube: k8s.ApiClient) -> None:
    core = k8s.CoreV1Api(kube)
    live = core.read_namespaced_config_map("settings", "shop")
    assert live.metadata is not None
    core.delete_namespaced_config_map("settings", "shop")
    core.create_namespaced_config_map("shop", k8s.V1ConfigMap(
        metadata=k8s.V1ObjectMeta(name="settings", labels=live.metadata.labels),
        data=live.data), field_manager="restore-tool")
    plan, ran = same_as_full(cli, api_server)
    assert ran == ["/api/v1/namespaces/shop/configmaps/settings"]
    assert actions(plan)["ConfigMap/settings"] == "unchanged"  # the same content, re-checked


def test_the_next_apply_keeps_what_it_checked(dev: ConfigRepo, cli,
                                              api_server: TestApiServer) -> None:
    """An apply keeps the fingerprints of the objects it applied and of those it found
    unchanged: a new object is not dry-run by the next diff either."""
    dev.write("environments/dev/extra.yaml", objects.configmap("extra", {"a": "1"}))
    dev.commit()
    applied = cli("apply", "dev", "--yes", "--no-wait")
    assert applied.exit_code == 0, applied.output
    plan, ran = same_as_full(cli, api_server)
    assert ran == [] and set(actions(plan).values()) == {"unchanged"}


def secret_environment(environment: MakeEnvironment) -> ConfigRepo:
    return environment([objects.secret("db", {"password": "hunter2"})], namespace="shop",
                       files={"ns.yaml": objects.namespace("shop")})


def test_secrets_need_the_plan_key_to_be_skipped(environment: MakeEnvironment, cli,
                                                 api_server: TestApiServer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A Secret's fingerprint is keyed with the plan key: without one it is always dry-run,
    and what is kept in the cluster holds no hash of its values."""
    secret_environment(environment)
    assert cli("apply", "dev", "--yes", "--no-wait").exit_code == 0
    start = len(api_server.requests)
    assert cli("diff", "dev").exit_code == 0
    assert dry_runs(api_server.requests[start:]) == ["/api/v1/namespaces/shop/secrets/db"]
    monkeypatch.setenv("GITDEPLOY_PLAN_KEY", "k" * 32)
    assert cli("apply", "dev", "--yes", "--no-wait").exit_code == 0
    start = len(api_server.requests)
    assert cli("diff", "dev").exit_code == 0
    assert dry_runs(api_server.requests[start:]) == []
    monkeypatch.setenv("GITDEPLOY_PLAN_KEY", "another key of 32 characters ...")
    start = len(api_server.requests)
    assert cli("diff", "dev").exit_code == 0
    assert dry_runs(api_server.requests[start:]) == ["/api/v1/namespaces/shop/secrets/db"]


def test_collections_larger_than_a_page(environment: MakeEnvironment, cli,
                                        api_server: TestApiServer, kube: k8s.ApiClient) -> None:
    """The plan reads collections a page at a time (LIST_PAGE objects, then `continue`) and
    lets each unchanged object go as its page arrives: a change behind gitdeploy's back and
    an object removed from git, both past the first page, are still found."""
    count = LIST_PAGE + 10
    names = [f"cm-{index:04d}" for index in range(count)]  # in the server's (name) order
    listed = [objects.configmap(name, {"v": "1"}) for name in names]
    repo = environment(listed, namespace="shop", files={"ns.yaml": objects.namespace("shop")})
    applied = cli("apply", "dev", "--yes", "--no-wait")
    assert applied.exit_code == 0, applied.output
    edited, removed = names[-5], names[-2]
    k8s.CoreV1Api(kube).patch_namespaced_config_map(
        edited, "shop", {"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": edited, "namespace": "shop"}, "data": {"v": "2"}},
        field_manager="kubectl", force=True, _content_type=APPLY_PATCH)
    repo.write("environments/dev/app.yaml", [m for m in listed
                                             if m["metadata"]["name"] != removed])
    start = len(api_server.requests)
    plan = diff(cli)
    sent = api_server.requests[start:]
    # (twice: the first answer is a conflict with kubectl, the field's new manager)
    assert set(dry_runs(sent)) == {f"/api/v1/namespaces/shop/configmaps/{edited}"}
    assert plan == diff(cli, "--full")
    found = actions(plan)
    assert found.pop(f"ConfigMap/{edited}") == "update"
    assert found.pop(f"ConfigMap/{removed}") == "delete"
    assert set(found.values()) == {"unchanged"} and len(found) == count - 1  # and Namespace
    pages = [r for r in sent
             if r.method == "GET" and r.path == "/api/v1/namespaces/shop/configmaps"]
    assert [r.query.get("limit") for r in pages][:2] == [[str(LIST_PAGE)]] * 2
    assert [bool(r.query.get("continue")) for r in pages][:2] == [False, True]
