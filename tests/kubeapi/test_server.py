"""The test API server behaves like kube-apiserver where gitdeploy depends on it. These tests
use the real `kubernetes` client, as gitdeploy does."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from tests import manifests as objects
from tests.kubeapi.server import TestApiServer

APPLY = "application/apply-patch+yaml"
# The client's loader is not annotated; typed here once.
_new_client: Callable[..., k8s.ApiClient] = k8s_config.new_client_from_config


def _close(client: k8s.ApiClient) -> None:
    close: Callable[[], None] = client.close  # not annotated in the client either
    close()


@pytest.fixture
def server() -> Iterator[TestApiServer]:
    with TestApiServer() as api:
        yield api


@pytest.fixture
def api(server: TestApiServer, tmp_path: Path) -> Iterator[k8s.ApiClient]:
    path = server.kubeconfig(tmp_path / "kubeconfig")
    client = _new_client(config_file=str(path), context="test",
                                               persist_config=False)
    yield client
    _close(client)


def apply(api: k8s.ApiClient, body: dict[str, Any], manager: str = "gitdeploy",
          force: bool = True, dry_run: bool = False) -> Any:
    kwargs: dict[str, Any] = {"field_manager": manager, "force": force, "_content_type": APPLY}
    if dry_run:
        kwargs["dry_run"] = "All"
    return k8s.AppsV1Api(api).patch_namespaced_deployment(
        body["metadata"]["name"], body["metadata"]["namespace"], body, **kwargs)


def error_body(excinfo: pytest.ExceptionInfo[k8s.ApiException]) -> dict[str, Any]:
    body = excinfo.value.body
    assert isinstance(body, str)
    data: dict[str, Any] = json.loads(body)
    return data


def test_discovery_lists_groups_resources_and_scope(api: k8s.ApiClient) -> None:
    groups = k8s.ApisApi(api).get_api_versions()
    assert "apps" in [g.name for g in groups.groups]
    resources = k8s.CoreV1Api(api).get_api_resources().resources
    by_name = {r.name: r for r in resources}
    assert by_name["namespaces"].namespaced is False
    assert by_name["configmaps"].namespaced is True
    assert "patch" in by_name["configmaps"].verbs


def test_apply_sets_server_metadata_and_defaults(api: k8s.ApiClient) -> None:
    result = apply(api, objects.deployment("web", namespace="default"))
    meta = result.metadata
    assert meta.uid and meta.resource_version and meta.generation == 1
    assert meta.creation_timestamp is not None
    assert result.spec.strategy.type == "RollingUpdate"
    assert result.spec.revision_history_limit == 10
    container = result.spec.template.spec.containers[0]
    assert container.image_pull_policy == "IfNotPresent"
    assert container.ports[0].protocol == "TCP"
    entry = meta.managed_fields[0]
    assert (entry.manager, entry.operation) == ("gitdeploy", "Apply")
    assert "f:revisionHistoryLimit" not in json.dumps(entry.fields_v1)  # defaults are not owned


def test_dry_run_persists_nothing(api: k8s.ApiClient, server: TestApiServer) -> None:
    apply(api, objects.deployment("web", namespace="default"), dry_run=True)
    assert ("apps", "deployments", "default", "web") not in server.cluster.objects


def test_dry_run_in_a_missing_namespace_is_404(api: k8s.ApiClient) -> None:
    with pytest.raises(k8s.ApiException) as excinfo:
        apply(api, objects.deployment("web", namespace="nowhere"), dry_run=True)
    assert excinfo.value.status == 404
    assert error_body(excinfo)["message"] == 'namespaces "nowhere" not found'


def test_conflict_with_another_manager_unless_forced(api: k8s.ApiClient) -> None:
    apply(api, objects.deployment("web", namespace="default", replicas=2))
    k8s.AppsV1Api(api).patch_namespaced_deployment(
        "web", "default", {"spec": {"replicas": 5}}, field_manager="kubectl-edit")
    with pytest.raises(k8s.ApiException) as excinfo:
        apply(api, objects.deployment("web", namespace="default", replicas=2), force=False)
    body = error_body(excinfo)
    assert excinfo.value.status == 409
    assert body["message"] == ('Apply failed with 1 conflict: conflict with "kubectl-edit" '
                               "using apps/v1: .spec.replicas")
    # A cause's kind is `reason` in the Status (ssa-conflict-force.jsonl#4).
    assert body["details"]["causes"][0]["reason"] == "FieldManagerConflict"
    forced = apply(api, objects.deployment("web", namespace="default", replicas=2), force=True)
    assert forced.spec.replicas == 2
    assert [m.manager for m in forced.metadata.managed_fields] == ["gitdeploy"]


def test_same_value_from_two_appliers_is_shared_without_conflict(api: k8s.ApiClient) -> None:
    apply(api, objects.deployment("web", namespace="default", replicas=2), manager="a")
    result = apply(api, objects.deployment("web", namespace="default", replicas=2),
                   manager="b", force=False)
    assert sorted(m.manager for m in result.metadata.managed_fields) == ["a", "b"]


def test_lists_merge_by_key_and_fields_dropped_by_the_applier_are_removed(
        api: k8s.ApiClient) -> None:
    body = objects.deployment("web", namespace="default")
    apply(api, body)
    sidecar = {"name": "sidecar", "image": "busybox:1.36"}
    other = objects.deployment("web", namespace="default")
    other["spec"]["template"]["spec"]["containers"] = [sidecar]
    del other["spec"]["replicas"]
    merged = apply(api, other, manager="injector")
    assert [c.name for c in merged.spec.template.spec.containers] == ["web", "sidecar"]
    del body["spec"]["template"]["spec"]["containers"][0]["ports"]
    result = apply(api, body)
    web = result.spec.template.spec.containers[0]
    assert web.ports is None  # the applier dropped its ports: removed
    assert [c.name for c in result.spec.template.spec.containers] == ["web", "sidecar"]


def test_invalid_object_is_422_with_causes(api: k8s.ApiClient) -> None:
    broken = objects.deployment("web", namespace="default")
    broken["spec"]["template"]["spec"]["containers"][0]["image"] = ""
    with pytest.raises(k8s.ApiException) as excinfo:
        apply(api, broken)
    body = error_body(excinfo)
    assert excinfo.value.status == 422
    assert body["reason"] == "Invalid"
    assert body["details"]["causes"][0]["field"] == "spec.template.spec.containers[0].image"


def test_crd_makes_its_resource_discoverable(api: k8s.ApiClient) -> None:
    k8s.ApiextensionsV1Api(api).create_custom_resource_definition(
        cast(Any, objects.crd("example.com", "Widget", "widgets")))
    resources = k8s.CustomObjectsApi(api).get_api_resources("example.com", "v1").resources
    assert [r.kind for r in resources] == ["Widget"]
    created: Any = k8s.CustomObjectsApi(api).create_namespaced_custom_object(
        "example.com", "v1", "default", "widgets",
        objects.custom("example.com", "Widget", "w", {"size": 1}))
    assert created["metadata"]["uid"]


def test_label_selectors(api: k8s.ApiClient) -> None:
    core = k8s.CoreV1Api(api)
    for name, tier in (("a", "web"), ("b", "db"), ("c", None)):
        body = objects.configmap(name, {})
        if tier:
            body["metadata"]["labels"] = {"tier": tier}
        core.create_namespaced_config_map("default", cast(Any, body))

    def names(selector: str) -> list[str]:
        items = core.list_namespaced_config_map("default", label_selector=selector).items
        found = [str(i.metadata.name) for i in items if i.metadata is not None]
        return [name for name in found if name != "kube-root-ca.crt"]

    assert names("tier=web") == ["a"]
    assert names("tier!=web") == ["b", "c"]
    assert names("tier in (web,db)") == ["a", "b"]
    assert names("!tier") == ["c"]


def test_forbidden_and_unauthorized(api: k8s.ApiClient, server: TestApiServer,
                                    tmp_path: Path) -> None:
    server.forbid("list", "secrets")
    with pytest.raises(k8s.ApiException) as excinfo:
        k8s.CoreV1Api(api).list_namespaced_secret("default")
    assert excinfo.value.status == 403
    assert 'cannot list resource "secrets"' in error_body(excinfo)["message"]
    bad = _new_client(
        config_file=str(server.kubeconfig(tmp_path / "bad", token="wrong")), context="test",
        persist_config=False)
    with pytest.raises(k8s.ApiException) as unauthorized:
        k8s.CoreV1Api(bad).list_namespace()
    assert unauthorized.value.status == 401
    _close(bad)
