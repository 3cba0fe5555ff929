"""Fields shared with others (docs/real-clusters.md): autoscalers' replicas, conflicts with
other field managers and their policy, ignore rules, fields another manager co-owns; against
the test API server, which answers an apply without force as kube-apiserver does (a 409 whose
causes name each field and its manager, ssa-conflict-force.jsonl)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import TestApiServer

CONTROLLER = "kube-controller-manager"  # the HPA controller writes /scale under this name


def hpa(target: str, namespace: str = "shop") -> dict[str, Any]:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": target, "namespace": namespace},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                        "name": target},
                     "minReplicas": 2, "maxReplicas": 10}}


def plan_json(cli, env: str = "dev") -> dict[str, Any]:
    result = cli("diff", env, "-o", "json")
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def change_of(plan: dict[str, Any], kind: str, name: str = "web") -> dict[str, Any]:
    return next(c for c in plan["changes"] if c["kind"] == kind and c["name"] == name)


def live(api_server: TestApiServer, group: str, plural: str, name: str,
         namespace: str = "shop") -> dict[str, Any]:
    found: dict[str, Any] = api_server.cluster.objects[(group, plural, namespace, name)]
    return found


def scale_as_autoscaler(api_server: TestApiServer, replicas: int) -> None:
    """What the HPA controller does: a write of the Deployment's /scale subresource."""
    api_server.cluster.update_scale(
        api_server.cluster.types[("apps", "deployments")], "v1", "shop", "web",
        lambda scale: {**scale, "spec": {"replicas": replicas}}, CONTROLLER, False)


def edit_as(api_server: TestApiServer, manager: str, data: dict[str, str],
            name: str = "settings") -> None:
    api_server.cluster.merge_patch(api_server.cluster.types[("", "configmaps")], "v1", "shop",
                                   name, {"data": data}, manager, False)


@pytest.fixture
def scaled(environment: MakeEnvironment) -> ConfigRepo:
    return environment([objects.deployment("web", replicas=2), hpa("web")], namespace="shop",
                       files={"ns.yaml": objects.namespace("shop")})


def test_an_autoscaled_deployment_keeps_the_replicas_its_hpa_set(
        scaled: ConfigRepo, cli, api_server: TestApiServer) -> None:
    assert cli("apply", "dev", "--yes").exit_code == 0  # created with git's replicas
    assert live(api_server, "apps", "deployments", "web")["spec"]["replicas"] == 2
    scale_as_autoscaler(api_server, 5)
    plan = plan_json(cli)
    deployment = change_of(plan, "Deployment")
    assert deployment["action"] == "unchanged"
    assert deployment["ignored"] == [
        "spec.replicas is left to HorizontalPodAutoscaler shop/web (in "
        "environments/dev/app.yaml:23)"]
    # git changes the image and its replicas: the image is applied, the replicas are the HPA's
    scaled.write("environments/dev/app.yaml", [
        objects.deployment("web", replicas=3, image="nginx:1.28"), hpa("web")])
    scaled.commit()
    text = cli("diff", "dev").stdout
    assert "replicas" not in "".join(line for line in text.splitlines()
                                     if line.startswith(("-", "+")) and "---" not in line)
    assert cli("apply", "dev", "--yes").exit_code == 0
    after = live(api_server, "apps", "deployments", "web")
    assert after["spec"]["replicas"] == 5
    assert after["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"


def test_replicas_gitdeploy_owned_are_handed_over_not_reset(
        scaled: ConfigRepo, cli, api_server: TestApiServer) -> None:
    """Before the autoscaler ever scaled, gitdeploy alone owns the replicas: leaving them out
    would reset them to 1 (ssa-field-removal.jsonl#11). They are handed over first."""
    assert cli("apply", "dev", "--yes").exit_code == 0
    scaled.write("environments/dev/app.yaml", [
        objects.deployment("web", replicas=2, image="nginx:1.28"), hpa("web")])
    scaled.commit()
    assert cli("apply", "dev", "--yes").exit_code == 0
    after = live(api_server, "apps", "deployments", "web")
    assert after["spec"]["replicas"] == 2
    owners = {m["manager"]: m["fieldsV1"] for m in after["metadata"]["managedFields"]
              if m.get("operation") == "Apply"}
    assert owners["gitdeploy-handover"] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in owners["gitdeploy"]["f:spec"]
    assert plan_json(cli)["summary"]["changes"] == 0


def test_an_hpa_found_only_in_the_cluster_counts_too(environment: MakeEnvironment, cli,
                                                       api_server: TestApiServer) -> None:
    environment([objects.deployment("web", replicas=2)], namespace="shop",
                files={"ns.yaml": objects.namespace("shop")})
    assert cli("apply", "dev", "--yes").exit_code == 0
    api_server.cluster.create(api_server.cluster.types[("autoscaling",
                                                        "horizontalpodautoscalers")],
                              "v2", "shop", hpa("web"), "kubectl-create", False)
    scale_as_autoscaler(api_server, 4)
    deployment = change_of(plan_json(cli), "Deployment")
    assert deployment["action"] == "unchanged"
    assert deployment["ignored"] == [
        "spec.replicas is left to HorizontalPodAutoscaler shop/web (in the cluster)"]


@pytest.fixture
def operated(environment: MakeEnvironment) -> ConfigRepo:
    return environment([objects.configmap("settings", {"mode": "git", "level": "info"})],
                       namespace="shop", files={"ns.yaml": objects.namespace("shop")})


def test_a_controllers_field_fails_the_apply_by_default_and_is_shown(
        operated: ConfigRepo, cli, api_server: TestApiServer) -> None:
    assert cli("apply", "dev", "--yes").exit_code == 0
    edit_as(api_server, "mode-operator", {"mode": "operator"})
    plan = plan_json(cli)
    configmap = change_of(plan, "ConfigMap", "settings")
    assert configmap["conflicts"] == [
        {"field": "data.mode", "manager": "mode-operator", "human": False,
         "resolution": "fail", "reason": "conflicts.policy of the environment"}]
    assert configmap["action"] == "update"  # git differs: the diff shows what, apply refuses
    assert configmap["drift"] == []  # not taken back
    assert [line for line in configmap["diff"].splitlines() if line[:1] in "+-"][2:] == [
        "-  mode: operator", "+  mode: git"]
    text = cli("diff", "dev").stdout
    assert ("  conflict: data.mode is held by mode-operator with another value: apply refuses "
            "(conflicts.policy of the environment)") in text.splitlines()
    writes = len(api_server.writes())
    refused = cli("apply", "dev", "--yes")
    assert refused.exit_code == 1
    assert "ConfigMap shop/settings (environments/dev/app.yaml:1): data.mode is held by field " \
           "manager 'mode-operator'" in refused.stderr
    assert "gitdeploy.io/conflicts: take-over" in refused.stderr
    assert len(api_server.writes()) == writes  # refused before any write
    assert live(api_server, "", "configmaps", "settings")["data"]["mode"] == "operator"


@pytest.mark.parametrize(("how", "expected"), [("leave", "operator"), ("take-over", "git")])
def test_the_objects_annotation_leaves_or_takes_over(operated: ConfigRepo, cli,
                                                     api_server: TestApiServer, how: str,
                                                     expected: str) -> None:
    assert cli("apply", "dev", "--yes").exit_code == 0
    edit_as(api_server, "mode-operator", {"mode": "operator"})
    annotated = objects.configmap("settings", {"mode": "git", "level": "debug"})
    annotated["metadata"]["annotations"] = {"gitdeploy.io/conflicts": how}
    operated.write("environments/dev/app.yaml", [annotated])
    operated.commit()
    result = cli("apply", "dev", "--yes")
    assert result.exit_code == 0, result.output
    data = live(api_server, "", "configmaps", "settings")["data"]
    assert data == {"mode": expected, "level": "debug"}


def test_the_environments_policy_applies_to_every_object(environment: MakeEnvironment, cli,
                                                         api_server: TestApiServer) -> None:
    environment([objects.configmap("settings", {"mode": "git"})], namespace="shop",
                files={"ns.yaml": objects.namespace("shop")}, conflicts={"policy": "leave"})
    assert cli("apply", "dev", "--yes").exit_code == 0
    edit_as(api_server, "mode-operator", {"mode": "operator"})
    assert cli("apply", "dev", "--yes").exit_code == 0
    assert live(api_server, "", "configmaps", "settings")["data"] == {"mode": "operator"}


def test_a_persons_edit_is_drift_taken_back_whatever_the_policy(
        operated: ConfigRepo, cli, api_server: TestApiServer) -> None:
    assert cli("apply", "dev", "--yes").exit_code == 0
    edit_as(api_server, "kubectl-client-side-apply", {"mode": "by hand"})
    configmap = change_of(plan_json(cli), "ConfigMap", "settings")
    assert configmap["drift"] == [{"field": "data.mode",
                                   "manager": "kubectl-client-side-apply"}]
    assert [c["resolution"] for c in configmap["conflicts"]] == ["take-over"]
    assert cli("apply", "dev", "--yes").exit_code == 0
    assert live(api_server, "", "configmaps", "settings")["data"]["mode"] == "git"


def test_ignore_rules_leave_fields_alone_in_diff_apply_and_drift(
        environment: MakeEnvironment, cli, api_server: TestApiServer) -> None:
    rules = [{"kind": "ConfigMap", "name": "settings", "jsonPointers": ["/data/mode"]},
             {"group": "apps", "kind": "Deployment",
              "jsonPaths": ['$.spec.template.spec.containers[?name=="web"].image']}]
    environment([objects.configmap("settings", {"mode": "git", "level": "info"}),
                 objects.deployment("web")], namespace="shop",
                files={"ns.yaml": objects.namespace("shop")}, ignoreDifferences=rules)
    assert cli("apply", "dev", "--yes").exit_code == 0
    edit_as(api_server, "kubectl-edit", {"mode": "changed"})
    api_server.cluster.patch(
        api_server.cluster.types[("apps", "deployments")], "v1", "shop", "web",
        lambda d: {**d, "spec": {**d["spec"], "template": {**d["spec"]["template"], "spec": {
            **d["spec"]["template"]["spec"], "containers": [
                {**d["spec"]["template"]["spec"]["containers"][0], "image": "nginx:9"}]}}}},
        "image-updater", False)
    plan = plan_json(cli)
    assert {c["kind"]: (c["action"], c["drift"], c["conflicts"]) for c in plan["changes"]} == {
        "Namespace": ("unchanged", [], []), "ConfigMap": ("unchanged", [], []),
        "Deployment": ("unchanged", [], [])}
    assert change_of(plan, "ConfigMap", "settings")["ignored"] == [
        "ignoreDifferences[0] of environments/dev/gitdeploy.yaml"]
    assert cli("apply", "dev", "--yes").exit_code == 0
    assert live(api_server, "", "configmaps", "settings")["data"]["mode"] == "changed"
    deployment = live(api_server, "apps", "deployments", "web")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:9"


def test_a_field_removed_from_git_that_another_manager_owns_is_not_reset(
        operated: ConfigRepo, cli, api_server: TestApiServer) -> None:
    """ssa-field-removal.jsonl#3-#6: the other applier co-owns `level` with the same value."""
    assert cli("apply", "dev", "--yes").exit_code == 0
    api_server.cluster.apply(api_server.cluster.types[("", "configmaps")], "v1", "shop",
                             "settings", {"apiVersion": "v1", "kind": "ConfigMap",
                                          "metadata": {"name": "settings"},
                                          "data": {"level": "info"}}, "other", False, False)
    operated.write("environments/dev/app.yaml",
                   [objects.configmap("settings", {"mode": "git"})])
    operated.commit()
    configmap = change_of(plan_json(cli), "ConfigMap", "settings")
    assert configmap["action"] == "unchanged"
    assert cli("apply", "dev", "--yes").exit_code == 0
    assert live(api_server, "", "configmaps", "settings")["data"] == {"mode": "git",
                                                                        "level": "info"}


@pytest.mark.parametrize(("rule", "message"), [
    ({"kind": "ConfigMap", "jsonPointers": ["data/x"]},
     "'ignoreDifferences[0].jsonPointers': 'data/x' is not a JSON pointer"),
    ({"kind": "ConfigMap", "jsonPaths": ["$.data[?("]},
     "'ignoreDifferences[0].jsonPaths'"),
    ({"kind": "ConfigMap", "jsonPointer": ["/data/x"]},
     "unknown key 'ignoreDifferences[0].jsonPointer'"),
])
def test_unknown_ignore_rule_keys_and_bad_pointers_are_refused(
        environment: MakeEnvironment, cli, api_server: TestApiServer, rule: dict[str, Any],
        message: str) -> None:
    environment([objects.configmap("a", {})], ignoreDifferences=[rule])
    result = cli("diff", "dev")
    assert result.exit_code == 1
    assert message in result.stderr, result.stderr
    assert "environments/dev/gitdeploy.yaml:" in result.stderr
    assert not any(r.is_write or r.dry_run for r in api_server.requests)


def test_fields_of_listed_managers_are_left_alone(environment: MakeEnvironment, cli,
                                                  api_server: TestApiServer) -> None:
    """managedFieldsManagers: what the named managers own is neither drift nor taken back."""
    repo = environment([objects.configmap("settings", {"mode": "git"})], namespace="shop",
                       createNamespace=True)
    assert cli("apply", "dev", "--yes").exit_code == 0
    edit_as(api_server, "configmap-reloader", {"mode": "operator"})
    assert change_of(plan_json(cli), "ConfigMap", "settings")["action"] != "unchanged"
    repo.settings("dev", context="kind-dev", namespace="shop", createNamespace=True,
                  ignoreDifferences=[{"kind": "ConfigMap",
                                      "managedFieldsManagers": ["configmap-reloader"]}])
    repo.commit()
    assert change_of(plan_json(cli), "ConfigMap", "settings")["action"] == "unchanged"
    assert cli("apply", "dev", "--yes").exit_code == 0
    assert live(api_server, "", "configmaps", "settings")["data"]["mode"] == "operator"


# ---- first deploys: namespaces that do not exist ---------------------------------------------
def test_a_first_deploy_into_a_missing_namespace_is_shown_and_refused(
        environment: MakeEnvironment, cli, api_server: TestApiServer) -> None:
    environment([objects.configmap("settings", {"a": "1"}), objects.deployment("web")],
                namespace="shop")
    plan = plan_json(cli)
    assert plan["missingNamespaces"] == ["shop"]
    assert {c["kind"]: (c["action"], c["verified"]) for c in plan["changes"]} == {
        "ConfigMap": ("create", False), "Deployment": ("create", False)}
    text = cli("diff", "dev").stdout
    assert "first deploy: namespace(s) shop do not exist yet" in text
    result = cli("apply", "dev", "--yes")
    assert result.exit_code == 1
    assert "namespace(s) shop do not exist: nothing was written" in result.stderr
    assert api_server.writes() == []


def test_create_namespace_creates_it_first_outside_the_applyset(
        environment: MakeEnvironment, cli, api_server: TestApiServer) -> None:
    environment([objects.configmap("settings", {"a": "1"})], namespace="shop",
                createNamespace=True, files={"other.yaml": objects.configmap(
                    "elsewhere", {"b": "2"}, namespace="tools")})
    plan = plan_json(cli)
    assert plan["missingNamespaces"] == ["shop", "tools"]
    assert [(c["kind"], c["name"], c["action"]) for c in plan["changes"]][:2] == [
        ("Namespace", "shop", "create"), ("Namespace", "tools", "create")]
    result = cli("apply", "dev", "--yes")
    assert result.exit_code == 0, result.output
    tools = live(api_server, "", "namespaces", "tools", namespace="")
    assert "applyset.kubernetes.io/part-of" not in (tools["metadata"].get("labels") or {})
    assert live(api_server, "", "configmaps", "elsewhere", namespace="tools")["data"] == {
        "b": "2"}
    again = plan_json(cli)
    assert again["missingNamespaces"] == [] and again["summary"]["changes"] == 0
