"""Diff: the server's dry run against the live state, classified and normalized."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import TestApiServer


@pytest.fixture
def dev(environment: MakeEnvironment) -> ConfigRepo:
    return environment([
        objects.configmap("settings", {"LOG_LEVEL": "info"}),
        objects.deployment("web", replicas=2),
        objects.service("web"),
    ], namespace="shop", files={"ns.yaml": objects.namespace("shop")})


def plan_json(cli, env: str = "dev") -> dict[str, Any]:
    result = cli("diff", env, "-o", "json")
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def actions(plan: dict[str, Any]) -> dict[str, str]:
    return {f"{c['kind']}/{c['name']}": c["action"] for c in plan["changes"]}


def diff_lines(diff: str) -> list[str]:
    """A unified diff without its context lines (the neighbouring fields, in the server's key
    order): file headers, hunk headers, removed and added lines."""
    return [line for line in diff.splitlines() if line[:1] in "-+@"]


SET_ID = "applyset-LhsidF5SuLEHB_KNBlRqRVZSFhKf80AuxKifgFBUjb8-v1"  # dev's, parent in shop


def test_first_diff_creates_everything(dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    plan = plan_json(cli)
    assert actions(plan) == {"Namespace/shop": "create", "ConfigMap/settings": "create",
                             "Deployment/web": "create", "Service/web": "create"}
    assert plan["summary"] == {"create": 4, "update": 0, "adopt": 0, "unchanged": 0, "delete": 0,
                               "kept": 0, "changes": 4}
    assert api_server.writes() == []


def test_apply_then_diff_shows_no_changes(dev: ConfigRepo, cli) -> None:
    applied = cli("apply", "dev", "--yes")
    assert applied.exit_code == 0, applied.output
    again = cli("diff", "dev", "--exit-code")
    assert again.exit_code == 0, again.output
    assert "No changes: dev matches git." in again.stdout
    assert set(actions(plan_json(cli)).values()) == {"unchanged"}


def test_update_shows_only_the_changed_lines(dev: ConfigRepo, cli) -> None:
    assert cli("apply", "dev", "--yes").exit_code == 0
    dev.write("environments/dev/app.yaml", [
        objects.configmap("settings", {"LOG_LEVEL": "debug"}),
        objects.deployment("web", replicas=2, image="nginx:1.28"),
        objects.service("web"),
    ])
    plan = plan_json(cli)
    assert actions(plan) == {"Namespace/shop": "unchanged", "ConfigMap/settings": "update",
                             "Deployment/web": "update", "Service/web": "unchanged"}
    deployment = next(c for c in plan["changes"] if c["kind"] == "Deployment")
    changed = [line for line in deployment["diff"].splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == ["-        image: nginx:1.27", "+        image: nginx:1.28"]


def test_normalization_hides_server_fields_and_defaults_stay_out_of_the_diff(
        dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    assert cli("apply", "dev", "--yes").exit_code == 0
    live = api_server.cluster.objects[("apps", "deployments", "shop", "web")]
    assert live["metadata"]["managedFields"] and live["spec"]["revisionHistoryLimit"] == 10
    dev.write("environments/dev/app.yaml", [
        objects.configmap("settings", {"LOG_LEVEL": "info"}),
        objects.deployment("web", replicas=3),
        objects.service("web"),
    ])
    diff = next(c for c in plan_json(cli)["changes"] if c["kind"] == "Deployment")["diff"]
    for hidden in ("managedFields", "resourceVersion", "uid:", "creationTimestamp",
                   "generation"):
        assert hidden not in diff
    changed = [line for line in diff.splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == ["-  replicas: 2", "+  replicas: 3"]  # server defaults are no change


def test_drift_by_another_manager_is_shown_and_taken_back(dev: ConfigRepo, cli,
                                                          api_server: TestApiServer) -> None:
    assert cli("apply", "dev", "--yes").exit_code == 0
    api_server.cluster.merge_patch(api_server.cluster.types[("apps", "deployments")], "v1",
                                   "shop", "web", {"spec": {"replicas": 0}}, "kubectl-edit",
                                   False)
    plan = plan_json(cli)
    assert {c["kind"]: (c["action"], c["drift"]) for c in plan["changes"]} == {
        "Namespace": ("unchanged", []), "ConfigMap": ("unchanged", []),
        "Service": ("unchanged", []),
        "Deployment": ("update", [{"field": "spec.replicas", "manager": "kubectl-edit"}])}
    deployment = next(c for c in plan["changes"] if c["kind"] == "Deployment")
    assert diff_lines(deployment["diff"]) == [
        "--- live/Deployment/shop/web", "+++ git/Deployment/shop/web", "@@ -7,7 +7,7 @@",
        "-  replicas: 0", "+  replicas: 2"]
    text = cli("diff", "dev").stdout.splitlines()
    assert [line for line in text if "drift" in line] == [
        "  drift: spec.replicas was changed in the cluster by kubectl-edit; apply takes it back"]
    assert cli("apply", "dev", "--yes").exit_code == 0
    live = api_server.cluster.objects[("apps", "deployments", "shop", "web")]
    assert live["spec"]["replicas"] == 2
    # kubectl-edit owned only spec.replicas, taken back: gitdeploy is the only manager left
    # besides the controller writing status (e2e-drift-is-visible-and-taken-back.jsonl#75)
    assert [(m["manager"], m["operation"]) for m in live["metadata"]["managedFields"]
            if m.get("subresource") != "status"] == [("gitdeploy", "Apply")]
    after = plan_json(cli)
    assert {c["kind"]: (c["action"], c["drift"]) for c in after["changes"]} == {
        kind: ("unchanged", []) for kind in ("Namespace", "ConfigMap", "Service", "Deployment")}


def test_field_removed_from_git_is_removed_from_the_cluster(dev: ConfigRepo, cli,
                                                            api_server: TestApiServer) -> None:
    dev.write("environments/dev/app.yaml", [objects.configmap("settings", {"A": "1", "B": "2"})])
    dev.commit()
    assert cli("apply", "dev", "--yes").exit_code == 0
    dev.write("environments/dev/app.yaml", [objects.configmap("settings", {"A": "1"})])
    change = next(c for c in plan_json(cli)["changes"] if c["kind"] == "ConfigMap")
    assert (change["action"], change["drift"]) == ("update", [])
    assert diff_lines(change["diff"]) == [
        "--- live/ConfigMap/shop/settings", "+++ git/ConfigMap/shop/settings",
        "@@ -7,4 +7,3 @@", "-  B: '2'"]
    dev.commit()
    assert cli("apply", "dev", "--yes").exit_code == 0
    assert api_server.cluster.objects[("", "configmaps", "shop", "settings")]["data"] == {
        "A": "1"}


def test_an_object_read_by_a_list_diffs_without_apiversion_and_kind(dev: ConfigRepo, cli
                                                                   ) -> None:
    dev.write("environments/dev/app.yaml", [objects.configmap("one", {"v": "1"}),
                                            objects.configmap("two", {"v": "1"})])
    dev.commit()
    assert cli("apply", "dev", "--yes").exit_code == 0
    dev.write("environments/dev/app.yaml", [objects.configmap("one", {"v": "2"}),
                                            objects.configmap("two", {"v": "1"})])
    one = next(c for c in plan_json(cli)["changes"] if c["name"] == "one")
    assert [line for line in one["diff"].splitlines() if line[:1] in "-+"] == [
        "--- live/ConfigMap/shop/one", "+++ git/ConfigMap/shop/one", "-  v: '1'", "+  v: '2'"]


def test_objects_in_a_namespace_the_plan_creates_are_unverified_creates(
        dev: ConfigRepo, cli) -> None:
    plan = plan_json(cli)
    by_kind = {c["kind"]: c for c in plan["changes"]}
    assert by_kind["Namespace"]["verified"] is True
    assert {kind: (c["verified"], c["note"]) for kind, c in by_kind.items()
            if kind != "Namespace"} == {
        kind: (False, "not verified by the server: its namespace shop is created by this plan")
        for kind in ("ConfigMap", "Deployment", "Service")}
    # the diff is git's own object, labelled, with the namespace filled in
    assert by_kind["Deployment"]["diff"] == "".join(f"{line}\n" for line in [
        "--- live/Deployment/shop/web", "+++ git/Deployment/shop/web", "@@ -0,0 +1,23 @@",
        "+apiVersion: apps/v1", "+kind: Deployment", "+metadata:", "+  name: web",
        "+  labels:", "+    app: web", f"+    applyset.kubernetes.io/part-of: {SET_ID}",
        "+  namespace: shop", "+spec:", "+  replicas: 2", "+  selector:", "+    matchLabels:",
        "+      app: web", "+  template:", "+    metadata:", "+      labels:",
        "+        app: web", "+    spec:", "+      containers:", "+      - name: web",
        "+        image: nginx:1.27", "+        ports:", "+        - containerPort: 8080"])


def test_crd_and_custom_resource_in_one_plan(repo: ConfigRepo, kubeconfig, cli,
                                             api_server: TestApiServer) -> None:
    repo.settings("dev", context="kind-dev", namespace="default")
    repo.write("environments/dev/crd.yaml", objects.crd("example.com", "Widget", "widgets"))
    repo.write("environments/dev/widget.yaml",
               objects.custom("example.com", "Widget", "gear", {"size": 3}))
    api_server.cluster.crd_establish_delay = 0.5
    plan = plan_json(cli)
    widget = next(c for c in plan["changes"] if c["kind"] == "Widget")
    assert widget["action"] == "create" and widget["verified"] is False
    assert widget["note"] == ("not verified by the server: its CustomResourceDefinition is "
                              "created by this plan")
    repo.commit()
    applied = cli("apply", "dev", "--yes")
    assert applied.exit_code == 0, applied.output
    assert ("example.com", "widgets", "default", "gear") in api_server.cluster.objects
    assert set(actions(plan_json(cli)).values()) == {"unchanged"}


def test_lists_live_objects_once_per_kind_and_namespace(repo: ConfigRepo, kubeconfig, cli,
                                                        api_server: TestApiServer) -> None:
    repo.settings("dev", context="kind-dev", namespace="default")
    repo.write("environments/dev/cms.yaml",
               [objects.configmap(f"cm-{i}", {"i": str(i)}) for i in range(20)])
    assert cli("diff", "dev").exit_code == 0
    reads = [r for r in api_server.requests if r.method == "GET"]
    assert [r.path for r in reads].count("/api/v1/namespaces/default/configmaps") == 1
    # the only single GETs of ConfigMaps are the environment's ApplySet parent and its sync
    # fingerprints (state/synced.py)
    assert sorted(r.path for r in reads if r.path.startswith(
        "/api/v1/namespaces/default/configmaps/")) == [
        "/api/v1/namespaces/default/configmaps/gitdeploy-applyset-dev",
        "/api/v1/namespaces/default/configmaps/gitdeploy-synced-dev"]


def test_verbose_prints_every_request(dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    result = cli("diff", "dev", "-v")
    assert result.exit_code == 0
    logged = [line for line in result.stderr.splitlines()
              if line.startswith("» ") and not line.startswith(("» exec ", "» plan: "))]
    assert len(logged) == len(api_server.requests)
    assert any(line.startswith("» PATCH /api/v1/namespaces/shop?fieldManager=gitdeploy"
                               "&force=false&dryRun=All 201 ") and line.endswith("ms")
               for line in logged)


def test_exit_code_two_when_changes(dev: ConfigRepo, cli) -> None:
    assert cli("diff", "dev", "--exit-code").exit_code == 2
    assert cli("diff", "dev").exit_code == 0


def test_verbose_prints_external_commands(dev: ConfigRepo, cli) -> None:
    result = cli("diff", "dev", "-v")
    assert result.exit_code == 0
    commands = [line for line in result.stderr.splitlines() if line.startswith("» exec git ")]
    assert commands  # git, run by GitPython to read the commit and the dirty state
    assert all("Popen" not in line for line in commands)
    quiet = cli("diff", "dev")
    assert "» exec" not in quiet.stderr
