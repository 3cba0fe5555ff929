"""Orphans: what nobody owns in an environment's namespaces, reported and never deleted."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import TestApiServer


def make(api_server: TestApiServer, plural: str, body: dict[str, Any], group: str = "",
         version: str = "v1", manager: str = "kubectl-create") -> None:
    cluster = api_server.cluster
    cluster.create(cluster.find_type(group, version, plural), version,
                   body["metadata"]["namespace"], body, manager, False)


@pytest.fixture
def dev(environment: MakeEnvironment, api_server: TestApiServer, cli) -> ConfigRepo:
    repo = environment([
        objects.namespace("shop"), objects.namespace("tools"),
        objects.configmap("in-git", {}), objects.configmap("tool", {}, namespace="tools"),
        objects.deployment("web"),
    ], namespace="shop", orphans={"ignore": ["ConfigMap/ignored-*", "Service.*/*/never"]})
    assert cli("apply", "dev", "--yes").exit_code == 0
    make(api_server, "configmaps", objects.configmap("handmade", {"a": "1"}, namespace="shop"))
    make(api_server, "configmaps", objects.configmap("ignored-1", {}, namespace="shop"))
    make(api_server, "secrets", {"apiVersion": "v1", "kind": "Secret", "type":
                                 "kubernetes.io/service-account-token", "metadata": {
                                     "name": "sa-token", "namespace": "shop"}})
    make(api_server, "pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": "web-abc", "namespace": "shop", "ownerReferences": [{
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1", "uid": "u1"}]},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}}, manager="kube-controller")
    make(api_server, "events", {"apiVersion": "v1", "kind": "Event", "metadata": {
        "name": "web.1", "namespace": "shop"}, "involvedObject": {"kind": "Pod"}})
    make(api_server, "deployments", objects.deployment("stray", namespace="tools"),
         group="apps")
    make(api_server, "configmaps", objects.configmap("elsewhere", {}, namespace="default"))
    return repo


def test_orphans_are_reported_with_ignores_applied(dev: ConfigRepo, cli,
                                                   api_server: TestApiServer) -> None:
    result = cli("orphans", "dev", "-o", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["kind"] == "Orphans"
    assert doc["namespaces"] == ["shop", "tools"]
    found = [(o["kind"], o["namespace"], o["name"], o["managers"]) for o in doc["items"]]
    # a Deployment's status (and revision annotation) are written by the deployment controller
    # of kube-controller-manager, on the test API server as on a real one
    assert found == [("ConfigMap", "shop", "handmade", ["kubectl-create"]),
                     ("Deployment", "tools", "stray", ["kube-controller-manager",
                                                       "kubectl-create"])]
    assert doc["unchecked"] == []
    text = cli("orphans", "dev").stdout
    assert "2 orphan(s) in dev's namespaces (shop, tools)" in text
    assert "Deployment.apps  tools" in text
    writes = len(api_server.writes(state=True))
    cli("orphans", "dev")
    assert len(api_server.writes(state=True)) == writes  # reported, never deleted


def test_an_object_removed_from_git_is_a_prune_candidate_not_an_orphan(
        dev: ConfigRepo, cli) -> None:
    dev.write("environments/dev/app.yaml", [
        objects.namespace("shop"), objects.namespace("tools"),
        objects.configmap("tool", {}, namespace="tools"), objects.deployment("web")])
    dev.commit("drop in-git")
    doc = json.loads(cli("diff", "dev", "--orphans", "-o", "json").stdout)
    assert [c["name"] for c in doc["changes"] if c["action"] == "delete"] == ["in-git"]
    assert "in-git" not in [o["name"] for o in doc["orphans"]["items"]]
    assert [o["name"] for o in doc["orphans"]["items"]] == ["handmade", "stray"]
    text = cli("diff", "dev", "--orphans").stdout
    assert "delete ConfigMap shop/in-git" in text
    assert "2 orphan(s) in dev's namespaces" in text


def test_kinds_that_may_not_be_listed_are_named(dev: ConfigRepo, cli,
                                                api_server: TestApiServer) -> None:
    api_server.forbid("list", "persistentvolumeclaims")
    doc = json.loads(cli("orphans", "dev", "-o", "json").stdout)
    assert "PersistentVolumeClaim.core in shop: 403 Forbidden" in doc["unchecked"]
    assert len(doc["items"]) == 2


def test_each_kind_is_listed_once_per_namespace(
        dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    start = len(api_server.requests)
    cli("orphans", "dev")
    lists = [r.path for r in api_server.requests[start:]
             if r.method == "GET" and "/namespaces/shop/" in r.path]
    assert len(lists) == len(set(lists))
    assert "/api/v1/namespaces/shop/events" not in lists  # never listed: clusters fill them


def test_another_environments_objects_in_a_shared_namespace_are_not_orphans(
        environment: MakeEnvironment, api_server: TestApiServer, cli) -> None:
    environment([objects.namespace("shop"), objects.configmap("dev-settings", {}),
                 objects.deployment("web")], namespace="shop")
    environment([objects.configmap("qa-settings", {}), objects.deployment("api")],
                name="qa", namespace="shop")
    assert cli("apply", "dev", "--yes").exit_code == 0
    assert cli("apply", "qa", "--yes").exit_code == 0
    make(api_server, "configmaps", objects.configmap("handmade", {}, namespace="shop"))
    labelled = objects.configmap("kubectl-set", {}, namespace="shop")
    labelled["metadata"]["labels"] = {
        "applyset.kubernetes.io/part-of": "applyset-c29tZS1vdGhlci1zZXQ-v1"}
    make(api_server, "configmaps", labelled)  # a member of a set kubectl applied
    for env, own in (("dev", {"dev-settings", "web"}), ("qa", {"qa-settings", "api"})):
        result = cli("orphans", env, "-o", "json")
        assert result.exit_code == 0, result.output
        found = [(o["kind"], o["name"]) for o in json.loads(result.stdout)["items"]]
        assert found == [("ConfigMap", "handmade")], env
        assert not own & {name for _, name in found}
    doc = json.loads(cli("diff", "qa", "--orphans", "-o", "json").stdout)
    assert [o["name"] for o in doc["orphans"]["items"]] == ["handmade"]
