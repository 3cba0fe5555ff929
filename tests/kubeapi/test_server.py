"""The test API server behaves like kube-apiserver where gitdeploy depends on it. These tests
use the real `kubernetes` client, as gitdeploy does."""

from __future__ import annotations

import http.client
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
    # kube-controller-manager's entry is the Deployment's status (controllers.py)
    assert [m.manager for m in forced.metadata.managed_fields if not m.subresource] == [
        "gitdeploy"]


def test_same_value_from_two_appliers_is_shared_without_conflict(api: k8s.ApiClient) -> None:
    apply(api, objects.deployment("web", namespace="default", replicas=2), manager="a")
    result = apply(api, objects.deployment("web", namespace="default", replicas=2),
                   manager="b", force=False)
    assert sorted(m.manager for m in result.metadata.managed_fields
                  if not m.subresource) == ["a", "b"]


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


# ---- authorization, patches, updates, generateName (rbac-forbidden, patch-types,
# lease-conflict, ssa-generate-name) ----------------------------------------------------------
def _client_as(server: TestApiServer, tmp_path: Path, token: str) -> k8s.ApiClient:
    path = server.kubeconfig(tmp_path / f"kubeconfig-{token}", token=token)
    return _new_client(config_file=str(path), context="test", persist_config=False)


def _raw(server: TestApiServer, method: str, path: str, body: Any = None,
         content_type: str = "application/json", token: str = "admin-token") -> tuple[int, Any]:
    """A request as curl would send it: the status and the parsed body, errors included."""
    host, port = server.httpd.server_address[:2]
    connection = http.client.HTTPConnection(str(host), int(port), timeout=10)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    payload = None
    if body is not None:
        payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers["Content-Type"] = content_type
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def test_a_user_without_role_bindings_is_refused_before_anything_else(
        server: TestApiServer, api: k8s.ApiClient, tmp_path: Path) -> None:
    limited = _client_as(server, tmp_path, "limited-token")
    core = k8s.CoreV1Api(limited)
    with pytest.raises(k8s.ApiException) as missing:
        core.read_namespaced_config_map("does-not-exist", "nowhere")
    assert missing.value.status == 403
    body = error_body(missing)
    assert body["message"] == ('configmaps "does-not-exist" is forbidden: User "limited" cannot '
                               'get resource "configmaps" in API group "" in the namespace '
                               '"nowhere"')
    assert body["details"] == {"name": "does-not-exist", "kind": "configmaps"}
    with pytest.raises(k8s.ApiException) as namespace:
        core.read_namespace("kube-system")
    assert 'in the namespace "kube-system"' in error_body(namespace)["message"]
    with pytest.raises(k8s.ApiException) as listing:
        core.list_config_map_for_all_namespaces()
    assert error_body(listing)["message"].endswith('in API group "" at the cluster scope')
    _close(limited)


def test_self_subject_review_says_who_with_uid_and_groups(server: TestApiServer) -> None:
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    path = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
    status, admin = _raw(server, "POST", path, review)
    assert status == 201
    assert admin["status"]["userInfo"] == {"username": "admin", "uid": "admin-uid",
                                           "groups": ["system:masters", "system:authenticated"]}
    assert admin["metadata"]["creationTimestamp"]
    status, answer = _raw(server, "POST", path, review, token="limited-token")
    assert status == 201
    assert answer["status"]["userInfo"]["groups"] == ["system:authenticated"]


def test_strategic_merge_patch_merges_lists_by_key_and_deletes_by_directive(
        api: k8s.ApiClient) -> None:
    body = objects.deployment("web", namespace="default")
    body["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "A", "value": "1"}]
    body["spec"]["template"]["spec"]["containers"].append({"name": "side", "image": "busybox"})
    apply(api, body)
    apps = k8s.AppsV1Api(api)
    patched: Any = apps.patch_namespaced_deployment("web", "default", {"spec": {"template": {
        "spec": {"containers": [{"name": "web", "env": [{"name": "B", "value": "2"}],
                                 "ports": [{"containerPort": 9090}]}]}}}},
        field_manager="kubectl-edit")
    web, side = patched.spec.template.spec.containers
    assert (web.name, side.name) == ("web", "side")
    assert [e.name for e in web.env] == ["B", "A"]  # patch items first (patch-types.jsonl#3)
    assert [p.container_port for p in web.ports] == [9090, 8080]
    assert patched.metadata.generation == 2
    deleted: Any = apps.patch_namespaced_deployment("web", "default", {"spec": {"template": {
        "spec": {"containers": [{"name": "side", "$patch": "delete"}]}}}})
    assert [c.name for c in deleted.spec.template.spec.containers] == ["web"]
    gitdeploy = next(m for m in deleted.metadata.managed_fields if m.manager == "gitdeploy")
    assert "side" not in json.dumps(gitdeploy.fields_v1)


def test_json_patch_and_media_types(api: k8s.ApiClient, server: TestApiServer) -> None:
    apply(api, objects.deployment("web", namespace="default"))
    path = "/apis/apps/v1/namespaces/default/deployments/web"
    status, answer = _raw(server, "PATCH", path, [
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "x:1"}],
        "application/json-patch+json")
    assert status == 200
    assert answer["spec"]["template"]["spec"]["containers"][0]["image"] == "x:1"
    status, answer = _raw(server, "PATCH", path, [
        {"op": "test", "path": "/spec/replicas", "value": 99},
        {"op": "replace", "path": "/spec/replicas", "value": 1}], "application/json-patch+json")
    assert (status, answer["reason"], answer["message"], answer["details"]) == (
        422, "Invalid", "the server rejected our request due to an error in our request", {})
    status, answer = _raw(server, "PATCH", path, "hello", "text/plain")
    assert (status, answer["message"]) == (415, "415: Unsupported Media Type")
    status, answer = _raw(server, "PATCH", path + "?force=true", {"spec": {}},
                          "application/merge-patch+json")
    assert status == 422
    assert answer["message"] == ('PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: '
                                 "may not be specified for non-apply patch")


def test_scale_subresource(api: k8s.ApiClient) -> None:
    apply(api, objects.deployment("web", namespace="default", replicas=2))
    apps = k8s.AppsV1Api(api)
    scale: Any = apps.read_namespaced_deployment_scale("web", "default")
    assert (scale.spec.replicas, scale.status.selector) == (2, "app=web")
    scaled: Any = apps.patch_namespaced_deployment_scale(
        "web", "default", {"spec": {"replicas": 3}}, field_manager="kubectl")
    assert scaled.spec.replicas == 3
    deployment: Any = apps.read_namespaced_deployment("web", "default")
    assert deployment.spec.replicas == 3
    entry = next(m for m in deployment.metadata.managed_fields if m.manager == "kubectl")
    assert (entry.subresource, entry.fields_v1) == ("scale", {"f:spec": {"f:replicas": {}}})


def test_lease_update_needs_a_current_resource_version(server: TestApiServer) -> None:
    path = "/apis/coordination.k8s.io/v1/namespaces/default/leases"
    lease: dict[str, Any] = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "lock"}, "spec": {"holderIdentity": "a"}}
    assert _raw(server, "PUT", f"{path}/lock", lease)[0] == 201  # created by the PUT
    status, answer = _raw(server, "PUT", f"{path}/lock", lease)
    assert (status, answer["details"]["causes"][0]["field"]) == (422,
                                                                 "metadata.resourceVersion")
    lease["metadata"]["resourceVersion"] = "abc"
    status, answer = _raw(server, "PUT", f"{path}/lock", lease)
    assert (status, answer["message"]) == (500, 'strconv.ParseUint: parsing "abc": invalid syntax')
    lease["metadata"]["resourceVersion"] = "1"
    assert _raw(server, "PUT", f"{path}/lock", lease)[0] == 409
    status, answer = _raw(server, "PUT", f"{path}/other", lease)
    assert (status, answer["message"]) == (
        400, "the name of the object (lock) does not match the name on the URL (other)")
    status, answer = _raw(server, "PATCH", f"{path}/lock",
                          {"metadata": {"resourceVersion": "1"}}, "application/merge-patch+json")
    assert status == 409


def test_generate_name(api: k8s.ApiClient, server: TestApiServer) -> None:
    core = k8s.CoreV1Api(api)
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "job-"}}
    created: Any = core.create_namespaced_config_map("default", cast(Any, body))
    name = created.metadata.name
    assert name.startswith("job-") and len(name) == 9
    assert set(name[4:]) <= set("bcdfghjklmnpqrstvwxz2456789")
    path = "/api/v1/namespaces/default/configmaps/job-x?fieldManager=gitdeploy"
    status, answer = _raw(server, "PATCH", path, {**body, "metadata": {"generateName": "job-"}},
                          APPLY)
    assert (status, answer["message"]) == (400, "the name of the object (job-x based on URL) "
                                                "was undeterminable: name must be provided")


def test_list_pages_follow_continue_tokens(api: k8s.ApiClient, server: TestApiServer) -> None:
    core = k8s.CoreV1Api(api)
    core.create_namespace(cast(Any, {"metadata": {"name": "paged"}}))
    for name in ("e", "a", "d", "b", "c"):
        body = objects.configmap(name, {})
        body["metadata"]["labels"] = {"tier": "web" if name in "ace" else "db"}
        core.create_namespaced_config_map("paged", cast(Any, body))
    listed: Any = core.list_namespaced_config_map("paged")
    everything = [str(i.metadata.name) for i in listed.items]
    assert everything == sorted(everything)  # storage key order

    def pages(**kwargs: Any) -> list[tuple[list[str], int | None]]:
        found: list[tuple[list[str], int | None]] = []
        token = ""
        while True:
            page: Any = core.list_namespaced_config_map("paged", limit=2,
                                                        _continue=token or None, **kwargs)
            found.append(([str(i.metadata.name) for i in page.items],
                          page.metadata.remaining_item_count))
            token = page.metadata._continue
            if not token:
                return found

    walked = pages()
    assert [name for names, _ in walked for name in names] == everything
    assert [remaining for _, remaining in walked][:-1] == [
        len(everything) - 2 * n for n in range(1, len(walked))]
    assert walked[-1][1] is None
    # With a selector, pages are filled with matching items and no count is given.
    selected = pages(label_selector="tier=web")
    assert [name for names, _ in selected for name in names] == ["a", "c", "e"]
    assert all(remaining is None for _, remaining in selected)
    with pytest.raises(k8s.ApiException) as excinfo:
        core.list_namespaced_config_map("paged", _continue="not a token")
    assert excinfo.value.status == 400
    assert error_body(excinfo)["message"].startswith(
        "invalid continue token: continue key is not valid")


def test_field_selectors_match_the_fields_each_kind_offers(api: k8s.ApiClient) -> None:
    core = k8s.CoreV1Api(api)
    core.create_namespaced_secret("default", cast(Any, objects.secret("plain", {"a": "1"})))
    typed = objects.secret("typed", {"a": "1"})
    typed["type"] = "example.com/typed"
    core.create_namespaced_secret("default", cast(Any, typed))

    def names(selector: str) -> list[str]:
        listed: Any = core.list_namespaced_secret("default", field_selector=selector)
        return [str(i.metadata.name) for i in listed.items]

    assert names("type=example.com/typed") == ["typed"]
    assert names("type!=example.com/typed,metadata.name!=other") == ["plain"]
    assert names("metadata.name==plain") == ["plain"]
    with pytest.raises(k8s.ApiException) as excinfo:
        core.list_namespaced_config_map("default", field_selector="data.a=1")
    assert error_body(excinfo)["message"] == (
        '"data.a" is not a known field selector: only "metadata.name", "metadata.namespace"')
    with pytest.raises(k8s.ApiException) as excinfo:
        core.list_namespaced_config_map("default", label_selector="tier in web")
    assert excinfo.value.status == 400
    assert error_body(excinfo)["message"] == (
        "unable to parse requirement: found 'web' expected: '('")


def test_custom_resource_lists_keep_kind_and_an_empty_continue(api: k8s.ApiClient) -> None:
    k8s.ApiextensionsV1Api(api).create_custom_resource_definition(
        cast(Any, objects.crd("example.com", "Widget", "widgets")))
    custom = k8s.CustomObjectsApi(api)
    custom.create_namespaced_custom_object("example.com", "v1", "default", "widgets",
                                           objects.custom("example.com", "Widget", "w", {}))
    listed: Any = custom.list_namespaced_custom_object("example.com", "v1", "default",
                                                       "widgets")
    assert listed["metadata"]["continue"] == ""
    assert [(i["apiVersion"], i["kind"]) for i in listed["items"]] == [
        ("example.com/v1", "Widget")]
    with pytest.raises(k8s.ApiException) as excinfo:
        custom.list_namespaced_custom_object("example.com", "v1", "default", "widgets",
                                             field_selector="spec.size=1")
    assert error_body(excinfo)["message"] == "field label not supported: spec.size"


# ---- discovery and OpenAPI (discovery) ------------------------------------------------------
def _fetch(server: TestApiServer, path: str, accept: str = "application/json",
           token: str = "admin-token") -> tuple[int, str, bytes]:
    """A GET as curl would send it: status, Content-Type and the raw body."""
    host, port = server.httpd.server_address[:2]
    connection = http.client.HTTPConnection(str(host), int(port), timeout=10)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}",
                                                 "Accept": accept})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        connection.close()


def test_discovery_lists_every_group_of_the_real_server_in_its_order(
        api: k8s.ApiClient) -> None:
    groups = k8s.ApisApi(api).get_api_versions().groups
    assert [g.name for g in groups] == [
        "apiregistration.k8s.io", "apps", "events.k8s.io", "authentication.k8s.io",
        "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io",
        "networking.k8s.io", "policy", "rbac.authorization.k8s.io", "storage.k8s.io",
        "admissionregistration.k8s.io", "apiextensions.k8s.io", "scheduling.k8s.io",
        "coordination.k8s.io", "node.k8s.io", "discovery.k8s.io", "resource.k8s.io",
        "flowcontrol.apiserver.k8s.io"]
    autoscaling = next(g for g in groups if g.name == "autoscaling")
    assert [v.version for v in autoscaling.versions] == ["v2", "v1"]
    assert autoscaling.preferred_version is not None
    assert autoscaling.preferred_version.version == "v2"


def test_resource_lists_carry_subresources_short_names_categories_and_hashes(
        api: k8s.ApiClient) -> None:
    resources = {r.name: r for r in k8s.AppsV1Api(api).get_api_resources().resources}
    assert list(resources)[:6] == ["controllerrevisions", "daemonsets", "daemonsets/status",
                                   "deployments", "deployments/scale", "deployments/status"]
    deployments = resources["deployments"]
    assert (deployments.short_names, deployments.categories) == (["deploy"], ["all"])
    # sha256("apps/v1/Deployment")[:8] in base64, as the real server computes it
    assert deployments.storage_version_hash == "8aSe+NMegvE="
    scale = resources["deployments/scale"]
    assert (scale.group, scale.version, scale.kind, scale.verbs) == (
        "autoscaling", "v1", "Scale", ["get", "patch", "update"])
    core = {r.name: r for r in k8s.CoreV1Api(api).get_api_resources().resources}
    assert core["namespaces"].verbs == ["create", "delete", "get", "list", "patch", "update",
                                        "watch"]
    assert core["pods/log"].verbs == ["get"] and core["bindings"].verbs == ["create"]
    assert core["bindings"].storage_version_hash is None


def test_resources_the_server_gives_no_behaviour_list_empty_and_get_404(
        api: k8s.ApiClient) -> None:
    custom = k8s.CustomObjectsApi(api)
    claims: Any = custom.list_namespaced_custom_object("resource.k8s.io", "v1", "default",
                                                       "resourceclaims")
    assert (claims["kind"], claims["items"]) == ("ResourceClaimList", [])
    with pytest.raises(k8s.ApiException) as excinfo:
        custom.get_cluster_custom_object("node.k8s.io", "v1", "runtimeclasses", "gvisor")
    assert excinfo.value.status == 404


def test_aggregated_discovery_when_the_client_asks_for_it(server: TestApiServer) -> None:
    accept = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
              "application/json")
    status, content_type, raw = _fetch(server, "/apis", accept)
    assert (status, content_type) == (
        200, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
    body = json.loads(raw)
    assert (body["kind"], body["apiVersion"]) == ("APIGroupDiscoveryList",
                                                  "apidiscovery.k8s.io/v2")
    apps = next(i for i in body["items"] if i["metadata"] == {"name": "apps"})
    deployments = next(r for r in apps["versions"][0]["resources"]
                       if r["resource"] == "deployments")
    assert [s["subresource"] for s in deployments["subresources"]] == ["scale", "status"]
    assert deployments["responseKind"] == {"group": "", "version": "", "kind": "Deployment"}
    _, _, raw = _fetch(server, "/api", accept)
    core = json.loads(raw)["items"]
    assert core[0]["metadata"] == {} and core[0]["versions"][0]["freshness"] == "Current"
    status, content_type, raw = _fetch(server, "/apis")
    assert (status, content_type, json.loads(raw)["kind"]) == (200, "application/json",
                                                               "APIGroupList")


def test_a_crd_is_discovered_as_the_apiextensions_server_lists_it(
        api: k8s.ApiClient, server: TestApiServer) -> None:
    crd = objects.crd("example.com", "Widget", "widgets")
    crd["spec"]["names"].update({"shortNames": ["wd"], "categories": ["all"]})
    crd["spec"]["versions"][0]["subresources"] = {
        "status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                                "statusReplicasPath": ".status.replicas"}}
    k8s.ApiextensionsV1Api(api).create_custom_resource_definition(cast(Any, crd))
    resources = k8s.CustomObjectsApi(api).get_api_resources("example.com", "v1").resources
    assert [r.name for r in resources] == ["widgets", "widgets/status", "widgets/scale"]
    widgets = resources[0]
    assert widgets.verbs == ["delete", "deletecollection", "get", "list", "patch", "create",
                             "update", "watch"]
    assert (widgets.short_names, widgets.categories) == (["wd"], ["all"])
    groups = [g.name for g in k8s.ApisApi(api).get_api_versions().groups]
    assert groups[-1] == "example.com"
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    items = json.loads(_fetch(server, "/apis", accept)[2])["items"]
    entry = items[-1]["versions"][0]["resources"][0]
    assert entry["responseKind"] == {"group": "example.com", "version": "v1", "kind": "Widget"}
    assert [s["subresource"] for s in entry["subresources"]] == ["status", "scale"]
    schema_path = "/openapi/v3/apis/example.com/v1"
    status, _, raw = _fetch(server, schema_path)
    schemas = json.loads(raw)["components"]["schemas"]
    assert status == 200 and "com.example.v1.Widget" in schemas


def test_openapi_v3_tells_kubectl_that_patch_validates_fields(server: TestApiServer) -> None:
    status, content_type, raw = _fetch(server, "/openapi/v3", "application/json, */*")
    assert (status, content_type) == (200, "text/plain; charset=utf-8")  # configmap-1mib#7
    url = json.loads(raw)["paths"]["api/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/api/v1?hash=")
    status, content_type, raw = _fetch(server, url)
    assert (status, content_type) == (200, "application/json")
    document = json.loads(raw)
    patch = document["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "", "version": "v1",
                                                        "kind": "ConfigMap"}
    assert {"fieldValidation", "fieldManager", "dryRun", "force"} <= {
        p["name"] for p in patch["parameters"] if p["in"] == "query"}
    assert _fetch(server, "/openapi/v3/apis/no.such.group/v1")[0] == 404


def test_openapi_v2_answers_the_media_type_asked_for(server: TestApiServer) -> None:
    protobuf = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
    status, content_type, raw = _fetch(server, "/openapi/v2", protobuf)
    assert (status, content_type) == (200, protobuf)
    assert raw.startswith(b"\x0a\x032.0\x12")  # swagger = "2.0", then info
    status, content_type, raw = _fetch(server, "/openapi/v2")
    assert (status, content_type, json.loads(raw)["swagger"]) == (200, "application/json",
                                                                  "2.0")


def test_root_lists_the_paths_the_server_serves(server: TestApiServer) -> None:
    status, _, raw = _fetch(server, "/")
    paths = json.loads(raw)["paths"]
    assert status == 200 and paths == sorted(paths)
    assert {"/api/v1", "/apis/apps/v1", "/openapi/v3", "/version"} <= set(paths)
    status, _, raw = _fetch(server, "/", token="limited-token")
    assert (status, json.loads(raw)["reason"]) == (403, "Forbidden")


def test_a_terminating_crd_lists_only_the_verbs_its_cleanup_needs(api: k8s.ApiClient) -> None:
    crd = objects.crd("example.com", "Widget", "widgets")
    crd["metadata"]["finalizers"] = ["example.com/hold"]
    extensions = k8s.ApiextensionsV1Api(api)
    extensions.create_custom_resource_definition(cast(Any, crd))
    extensions.delete_custom_resource_definition("widgets.example.com")
    resources = k8s.CustomObjectsApi(api).get_api_resources("example.com", "v1").resources
    assert resources[0].verbs == ["delete", "deletecollection", "get", "list", "watch"]


# ---- object content: defaults, validation, controllers (ssa-defaults, immutable-fields,
# unschedulable-workload, e2e-drift..., crd-establish-and-cr) ---------------------------------
def _send(server: TestApiServer, method: str, path: str, body: str | None = None,
          content_type: str = APPLY) -> tuple[int, Any]:
    """A request as curl sends it, the body as given: the status and the parsed answer."""
    host, port = server.httpd.server_address[:2]
    connection = http.client.HTTPConnection(str(host), int(port), timeout=10)
    headers = {"Authorization": "Bearer admin-token"}
    if body is not None:
        headers["Content-Type"] = content_type
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    answer = json.loads(response.read() or b"null")
    connection.close()
    return response.status, answer


WEB_TEMPLATE: dict[str, Any] = {  # ssa-defaults.jsonl#3, as stored: ReplicaSet web-678fb84b47
    "metadata": {"labels": {"app": "web"}},
    "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                             "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                             "resources": {}, "terminationMessagePath": "/dev/termination-log",
                             "terminationMessagePolicy": "File",
                             "imagePullPolicy": "IfNotPresent"}],
             "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
             "dnsPolicy": "ClusterFirst", "securityContext": {},
             "schedulerName": "default-scheduler"}}


def _web(replicas: int, node_selector: dict[str, str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "web", "image": "nginx:1.27",
                            "ports": [{"containerPort": 8080}]}]}
    if node_selector:
        spec["nodeSelector"] = node_selector
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": spec}}}


def test_the_pod_template_hash_is_the_deployment_controllers() -> None:
    from tests.kubeapi.controllers import template_hash

    assert template_hash(WEB_TEMPLATE) == "678fb84b47"
    unschedulable = json.loads(json.dumps(WEB_TEMPLATE))
    unschedulable["spec"]["nodeSelector"] = {"gitdeploy.io/no-such-node": "true"}
    assert template_hash(unschedulable) == "7c7cbd59b8"  # unschedulable-workload.jsonl#3
    # podinfo (e2e-helm-chart-...jsonl#41): probes, requests, an emptyDir, annotations
    podinfo = {
        "metadata": {"labels": {"app.kubernetes.io/name": "web-podinfo"},
                     "annotations": {"prometheus.io/port": "9898",
                                     "prometheus.io/scrape": "true"}},
        "spec": {"volumes": [{"name": "data", "emptyDir": {}}], "containers": [{
            "name": "podinfo", "image": "ghcr.io/stefanprodan/podinfo:6.14.1",
            "command": ["./podinfo", "--port=9898", "--prefix=/", "--cert-path=/data/cert",
                        "--port-metrics=9797", "--grpc-port=9999",
                        "--grpc-service-name=podinfo", "--level=info", "--random-delay=false",
                        "--random-error=false"],
            "ports": [{"name": "http", "containerPort": 9898, "protocol": "TCP"},
                      {"name": "http-metrics", "containerPort": 9797, "protocol": "TCP"},
                      {"name": "grpc", "containerPort": 9999, "protocol": "TCP"}],
            "env": [{"name": "PODINFO_UI_COLOR", "value": "#34577c"}],
            "resources": {"requests": {"cpu": "1m", "memory": "16Mi"}},
            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
            **{probe: {"exec": {"command": ["podcli", "check", "http",
                                            f"localhost:9898/{path}"]},
                       "initialDelaySeconds": 1, "timeoutSeconds": 5, "periodSeconds": 10,
                       "successThreshold": 1, "failureThreshold": 3}
               for probe, path in (("livenessProbe", "healthz"),
                                   ("readinessProbe", "readyz"))},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst", "securityContext": {},
            "schedulerName": "default-scheduler"}}
    assert template_hash(podinfo) == "6d7b77696f"


def test_without_nodes_a_deployment_waits_with_its_pods_pending(server: TestApiServer) -> None:
    """unschedulable-workload.jsonl#3-#5: the controllers' writes, as the recorded cluster
    without nodes made them."""
    server.cluster.nodes = 0
    server.cluster.scheduler = False
    status, created = _send(server, "PATCH", "/apis/apps/v1/namespaces/default/deployments/"
                            "web?fieldManager=gitdeploy&force=true", json.dumps(_web(1)))
    assert status == 201 and created["status"] == {}  # the controllers act after the answer
    _, live = _send(server, "GET", "/apis/apps/v1/namespaces/default/deployments/web")
    assert live["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "1"}
    status_entry = live["metadata"]["managedFields"][1]
    assert (status_entry["manager"], status_entry["subresource"]) == (
        "kube-controller-manager", "status")
    assert set(status_entry["fieldsV1"]["f:status"]) == {
        "f:conditions", "f:observedGeneration", "f:replicas", "f:terminatingReplicas",
        "f:unavailableReplicas", "f:updatedReplicas"}
    conditions = live["status"].pop("conditions")
    assert live["status"] == {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1,
                              "unavailableReplicas": 1, "terminatingReplicas": 0}
    assert [(c["type"], c["status"], c["reason"], c["message"]) for c in conditions] == [
        ("Available", "False", "MinimumReplicasUnavailable",
         "Deployment does not have minimum availability."),
        ("Progressing", "True", "ReplicaSetUpdated",
         'ReplicaSet "web-678fb84b47" is progressing.')]
    _, sets = _send(server, "GET", "/apis/apps/v1/namespaces/default/replicasets")
    [replica_set] = sets["items"]
    assert replica_set["metadata"]["name"] == "web-678fb84b47"
    assert replica_set["metadata"]["annotations"] == {
        "deployment.kubernetes.io/desired-replicas": "1",
        "deployment.kubernetes.io/max-replicas": "2", "deployment.kubernetes.io/revision": "1"}
    assert replica_set["status"] == {"replicas": 1, "fullyLabeledReplicas": 1,
                                     "terminatingReplicas": 0, "observedGeneration": 1}
    _, pods = _send(server, "GET", "/api/v1/namespaces/default/pods")
    [pod] = pods["items"]
    assert pod["metadata"]["generateName"] == "web-678fb84b47-"
    assert pod["metadata"]["labels"] == {"app": "web", "pod-template-hash": "678fb84b47"}
    assert pod["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    assert pod["spec"]["serviceAccountName"] == "default"
    assert pod["spec"]["enableServiceLinks"] is True and pod["spec"]["priority"] == 0
    _, events = _send(server, "GET", "/api/v1/namespaces/default/events")
    assert sorted((e["reason"], e["source"]["component"]) for e in events["items"]) == [
        ("ScalingReplicaSet", "deployment-controller"),
        ("SuccessfulCreate", "replicaset-controller")]  # no scheduler: no FailedScheduling


def test_a_deployment_scaled_to_zero_and_back_keeps_its_progress(server: TestApiServer) -> None:
    """e2e-drift-is-visible-and-taken-back.jsonl#32 and #75: a condition that changes moves to
    the end; Progressing stays complete when only the replicas change."""
    server.cluster.nodes = 0
    server.cluster.scheduler = False
    path = "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=gitdeploy&force=true"
    _send(server, "PATCH", path, json.dumps(_web(2)))
    _send(server, "PATCH", path, json.dumps(_web(0)))
    _, scaled_down = _send(server, "GET", "/apis/apps/v1/namespaces/default/deployments/web")
    assert [(c["type"], c["reason"]) for c in scaled_down["status"]["conditions"]] == [
        ("Available", "MinimumReplicasAvailable"), ("Progressing", "NewReplicaSetAvailable")]
    _send(server, "PATCH", path, json.dumps(_web(2)))
    _, back = _send(server, "GET", "/apis/apps/v1/namespaces/default/deployments/web")
    assert [(c["type"], c["status"], c["reason"]) for c in back["status"]["conditions"]] == [
        ("Progressing", "True", "NewReplicaSetAvailable"),
        ("Available", "False", "MinimumReplicasUnavailable")]
    assert back["status"]["observedGeneration"] == 3 and back["status"]["replicas"] == 2


def test_a_new_template_gets_a_new_replica_set_and_revision(server: TestApiServer) -> None:
    path = "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=gitdeploy&force=true"
    _send(server, "PATCH", path, json.dumps(_web(2)))
    changed = _web(2)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    _send(server, "PATCH", path, json.dumps(changed))
    _, live = _send(server, "GET", "/apis/apps/v1/namespaces/default/deployments/web")
    assert live["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    _, sets = _send(server, "GET", "/apis/apps/v1/namespaces/default/replicasets")
    replicas = {s["metadata"]["name"]: s["spec"]["replicas"] for s in sets["items"]}
    assert replicas["web-678fb84b47"] == 0  # a node runs the new pods: the old set empties
    assert sorted(replicas.values()) == [0, 2]


def test_deleting_a_deployment_takes_its_replica_sets_and_pods(server: TestApiServer) -> None:
    path = "/apis/apps/v1/namespaces/default/deployments/web"
    _send(server, "PATCH", f"{path}?fieldManager=gitdeploy&force=true", json.dumps(_web(2)))
    assert len(_send(server, "GET", "/api/v1/namespaces/default/pods")[1]["items"]) == 2
    status, _ = _send(server, "DELETE", path)
    assert status == 200
    assert _send(server, "GET", "/apis/apps/v1/namespaces/default/replicasets")[1]["items"] == []
    assert _send(server, "GET", "/api/v1/namespaces/default/pods")[1]["items"] == []


def test_a_crd_gets_its_status_from_the_api_server(server: TestApiServer) -> None:
    """crd-establish-and-cr.jsonl#2, #4 and #6: conversion defaulted, names accepted and the
    CRD established by kube-apiserver's status write."""
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "scope": "Namespaced",
                    "names": {"kind": "Widget", "plural": "widgets"},
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                        "openAPIV3Schema": {"type": "object"}}}]}}
    path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com"
    status, created = _send(server, "PATCH", f"{path}?fieldManager=gitdeploy&force=true",
                            json.dumps(crd))
    assert status == 201
    assert created["spec"]["conversion"] == {"strategy": "None"}
    assert created["spec"]["names"] == {"kind": "Widget", "plural": "widgets",
                                        "singular": "widget", "listKind": "WidgetList"}
    assert created["status"] == {"conditions": None, "acceptedNames": {"plural": "",
                                                                       "kind": ""},
                                 "storedVersions": ["v1"]}
    _, live = _send(server, "GET", path)
    assert [(c["type"], c["status"], c["reason"], c["message"])
            for c in live["status"]["conditions"]] == [
        ("NamesAccepted", "True", "NoConflicts", "no conflicts found"),
        ("Established", "True", "InitialNamesAccepted", "the initial names have been accepted")]
    assert live["status"]["acceptedNames"] == created["spec"]["names"]
    entry = live["metadata"]["managedFields"][1]
    assert (entry["manager"], entry["subresource"]) == ("kube-apiserver", "status")
    assert set(entry["fieldsV1"]["f:status"]) == {"f:acceptedNames", "f:conditions"}


def test_job_selector_and_template_immutability(server: TestApiServer) -> None:
    """ssa-defaults.jsonl#11 and immutable-fields.jsonl#11: a generated selector on the job's
    own uid; its pod template may not change, told as the internal Go type prints it."""
    job: dict[str, Any] = {"apiVersion": "batch/v1", "kind": "Job",
           "metadata": {"name": "migrate", "namespace": "default"},
           "spec": {"suspend": True, "template": {"spec": {
               "restartPolicy": "Never", "containers": [{"name": "m", "image": "busybox:1.36"}]}}}}
    path = "/apis/batch/v1/namespaces/default/jobs/migrate?fieldManager=gitdeploy&force=true"
    status, created = _send(server, "PATCH", path, json.dumps(job))
    assert status == 201
    uid = created["metadata"]["uid"]
    assert created["spec"]["selector"] == {
        "matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert created["metadata"]["labels"] == created["spec"]["template"]["metadata"]["labels"] \
        == {"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "migrate",
            "controller-uid": uid, "job-name": "migrate"}
    assert (created["spec"]["manualSelector"], created["spec"]["completionMode"],
            created["spec"]["podReplacementPolicy"]) == (False, "NonIndexed",
                                                          "TerminatingOrFailed")
    job["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:1.37"
    status, refused = _send(server, "PATCH", path, json.dumps(job))
    assert status == 422
    [cause] = refused["details"]["causes"]
    assert cause["field"] == "spec.template.spec"
    assert cause["message"].startswith('Invalid value: {"Volumes":null,"InitContainers":null,'
                                       '"Containers":[{"Name":"m","Image":"busybox:1.37",')
    assert cause["message"].endswith('"HostnameOverride":null,"SchedulingGroup":null}: field '
                                     "is immutable")


def test_a_node_port_service_gets_its_ports(server: TestApiServer) -> None:
    """ssa-defaults.jsonl#8: node ports allocated, the external traffic policy defaulted; both
    go when the service becomes a ClusterIP one."""
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "Service",
                            "metadata": {"name": "np", "namespace": "default"},
            "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]}}
    path = "/api/v1/namespaces/default/services/np?fieldManager=gitdeploy&force=true"
    _, created = _send(server, "PATCH", path, json.dumps(body))
    [port] = created["spec"]["ports"]
    assert 30000 <= port["nodePort"] <= 32767 and port["targetPort"] == 80
    assert created["spec"]["externalTrafficPolicy"] == "Cluster"
    body["spec"]["type"] = "ClusterIP"
    _, changed = _send(server, "PATCH", path, json.dumps(body))
    assert "nodePort" not in changed["spec"]["ports"][0]
    assert "externalTrafficPolicy" not in changed["spec"]


def test_validation_causes_come_in_the_servers_order(server: TestApiServer) -> None:
    """ssa-defaults.jsonl#17."""
    body = {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "Bad_Name", "namespace": "default"},
            "spec": {"replicas": -1, "selector": {"matchLabels": {"app": "x"}},
                     "template": {"metadata": {"labels": {"app": "y"}},
                                  "spec": {"containers": [{"name": "c"}]}}}}
    status, answer = _send(server, "PATCH", "/apis/apps/v1/namespaces/default/deployments/"
                           "Bad_Name?fieldManager=gitdeploy&force=true&dryRun=All",
                           json.dumps(body))
    assert status == 422
    assert [(c["field"], c["reason"]) for c in answer["details"]["causes"]] == [
        ("metadata.name", "FieldValueInvalid"), ("spec.replicas", "FieldValueInvalid"),
        ("spec.template.metadata.labels", "FieldValueInvalid"),
        ("spec.template.spec.containers[0].image", "FieldValueRequired")]
    assert answer["details"]["causes"][2]["message"] == (
        'Invalid value: {"app":"y"}: `selector` does not match template `labels`')


def test_a_repeated_yaml_key_is_refused_under_strict_validation(server: TestApiServer) -> None:
    """ssa-unknown-field.jsonl#13."""
    body = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m\n  namespace: default\n"
            'data:\n  a: "1"\n  a: "2"\n')
    path = "/api/v1/namespaces/default/configmaps/m?fieldManager=gitdeploy&force=true"
    status, answer = _send(server, "PATCH", f"{path}&fieldValidation=Strict", body)
    assert (status, answer["message"]) == (400, (
        "error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n"
        '  line 8: key "a" already set in map'))
    assert _send(server, "PATCH", path, body)[0] == 201  # without Strict: the last one wins


# ---- the scheduler and Events (controllers.py, events.py) -----------------------------------
UNSCHEDULABLE = ("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. "
                 "no new claims to deallocate, preemption: 0/1 nodes are available: 1 "
                 "Preemption is not helpful for scheduling.")
DEPLOY = "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=gitdeploy&force=true"


def _warnings(server: TestApiServer, api: str = "/api/v1") -> list[dict[str, Any]]:
    _, listed = _send(server, "GET", f"{api}/namespaces/default/events?fieldSelector="
                      "type%3DWarning")
    return cast(list[dict[str, Any]], listed["items"])


def test_the_scheduler_reports_each_pod_that_fits_no_node_once(server: TestApiServer) -> None:
    """One node and a scheduler: each pod of a workload that fits no node gets PodScheduled
    False and one FailedScheduling event, written through events.k8s.io/v1 as kube-scheduler
    writes it; applying the same workload again makes no new event."""
    _send(server, "PATCH", DEPLOY, json.dumps(_web(2, {"gitdeploy.io/no-such-node": "true"})))
    _, pods = _send(server, "GET", "/api/v1/namespaces/default/pods")
    names = sorted(p["metadata"]["name"] for p in pods["items"])
    assert len(names) == 2
    for pod in pods["items"]:
        assert "nodeName" not in pod["spec"]
        [condition] = pod["status"]["conditions"]
        assert {k: v for k, v in condition.items() if k != "lastTransitionTime"} == {
            "type": "PodScheduled", "status": "False", "lastProbeTime": None,
            "reason": "Unschedulable", "message": UNSCHEDULABLE}
        assert pod["metadata"]["managedFields"][-1]["manager"] == "kube-scheduler"
    warnings = _warnings(server)
    assert sorted(e["involvedObject"]["name"] for e in warnings) == names
    for event in warnings:
        assert event["reason"] == "FailedScheduling" and event["message"] == UNSCHEDULABLE
        assert (event["source"], event["firstTimestamp"], event["lastTimestamp"]) == (
            {}, None, None)
        assert (event["action"], event["reportingComponent"]) == (
            "Scheduling", "default-scheduler")
        assert event["reportingInstance"] == "default-scheduler-control-plane"
        assert "count" not in event and "series" not in event
        assert event["metadata"]["name"].startswith(event["involvedObject"]["name"] + ".")
        entry = event["metadata"]["managedFields"][0]
        assert (entry["manager"], entry["apiVersion"]) == ("kube-scheduler",
                                                           "events.k8s.io/v1")
    [read_back] = [e for e in _warnings(server, "/apis/events.k8s.io/v1")
                   if e["regarding"]["name"] == names[0]]
    assert (read_back["note"], read_back["reportingController"]) == (
        UNSCHEDULABLE, "default-scheduler")
    _send(server, "PATCH", DEPLOY, json.dumps(_web(2, {"gitdeploy.io/no-such-node": "true"})))
    assert _warnings(server) == warnings  # nothing new: no invented events


def test_a_repeated_scheduling_failure_is_a_series_not_a_new_event(
        server: TestApiServer) -> None:
    """The scheduler's recorder keys an event on the pod as it saw it (its resourceVersion
    included): the retry after the pod's status changed is a new Event, the retries after it
    a series on that one."""
    _send(server, "PATCH", DEPLOY, json.dumps(_web(1, {"gitdeploy.io/no-such-node": "true"})))
    [first] = _warnings(server)
    server.cluster.reschedule()
    after_one = _warnings(server)
    assert len(after_one) == 2 and first in after_one
    [second] = [e for e in after_one if e != first]
    assert "series" not in second
    server.cluster.reschedule()
    server.cluster.reschedule()
    after_three = _warnings(server)
    assert [e["metadata"]["name"] for e in after_three] == [
        e["metadata"]["name"] for e in after_one]
    [counted] = [e for e in after_three if e["metadata"]["name"] == second["metadata"]["name"]]
    assert counted["series"]["count"] == 3 and counted["eventTime"] == second["eventTime"]
    assert counted["series"]["lastObservedTime"] > second["eventTime"]
    [listed] = [e for e in _warnings(server, "/apis/events.k8s.io/v1")
                if e["metadata"]["name"] == counted["metadata"]["name"]]
    assert listed["series"] == counted["series"]


def test_a_pod_that_fits_is_bound_and_a_labelled_node_takes_a_waiting_one(
        server: TestApiServer) -> None:
    _send(server, "PATCH", DEPLOY, json.dumps(_web(1, {"disk": "ssd"})))
    assert len(_warnings(server)) == 1
    _send(server, "PATCH", "/api/v1/nodes/node-1?fieldManager=kubectl-label",
          json.dumps({"metadata": {"labels": {"disk": "ssd"}}}),
          "application/merge-patch+json")
    _, pods = _send(server, "GET", "/api/v1/namespaces/default/pods")
    [pod] = pods["items"]
    assert pod["spec"]["nodeName"] == "node-1"
    condition = pod["status"]["conditions"][0]
    assert (condition["type"], condition["status"]) == ("PodScheduled", "True")
    assert "reason" not in condition
    _, listed = _send(server, "GET", "/api/v1/namespaces/default/events?fieldSelector="
                      "reason%3DScheduled")
    [scheduled] = listed["items"]
    assert scheduled["message"] == (f"Successfully assigned default/{pod['metadata']['name']} "
                                    "to node-1")
    assert (scheduled["type"], scheduled["action"]) == ("Normal", "Binding")


def test_without_a_scheduler_nothing_is_scheduled_or_reported(server: TestApiServer) -> None:
    server.cluster.scheduler = False
    _send(server, "PATCH", DEPLOY, json.dumps(_web(1)))
    _, pods = _send(server, "GET", "/api/v1/namespaces/default/pods")
    assert [p["status"] for p in pods["items"]] == [{"phase": "Pending",
                                                      "qosClass": "BestEffort"}]
    _, live = _send(server, "GET", "/apis/apps/v1/namespaces/default/deployments/web")
    assert live["status"].get("availableReplicas") is None  # nothing runs its pods
    assert _warnings(server) == []
    server.cluster.scheduler = True
    server.cluster.nodes = 0
    _send(server, "PATCH", DEPLOY, json.dumps(_web(2)))
    messages = {e["message"] for e in _warnings(server)}
    assert messages == {"no nodes available to schedule pods"}


def test_a_binding_assigns_a_pod_once_and_is_not_stored(server: TestApiServer) -> None:
    server.cluster.scheduler = False
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}
    _send(server, "POST", "/api/v1/namespaces/default/pods", json.dumps(pod),
          "application/json")
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
               "target": {"kind": "Node", "name": "node-1"}}
    status, answer = _send(server, "POST", "/api/v1/namespaces/default/pods/p/binding",
                           json.dumps(binding), "application/json")
    assert (status, answer) == (201, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                      "status": "Success", "code": 201})
    _, bound = _send(server, "GET", "/api/v1/namespaces/default/pods/p")
    assert bound["spec"]["nodeName"] == "node-1"
    assert len(bound["metadata"]["managedFields"]) == 1  # the binding writes no entry
    status, answer = _send(server, "POST", "/api/v1/namespaces/default/bindings",
                           json.dumps(binding), "application/json")
    assert status == 409 and answer["message"] == (
        'Operation cannot be fulfilled on pods/binding "p": pod p is already assigned to '
        'node "node-1"')
    assert answer["details"] == {"name": "p", "kind": "pods/binding"}
    status, answer = _send(server, "POST", "/api/v1/namespaces/default/bindings",
                           json.dumps({**binding, "metadata": {"name": "q"}}),
                           "application/json")
    assert (status, answer["message"]) == (404, 'pods "q" not found')
    status, _ = _send(server, "GET", "/api/v1/namespaces/default/bindings")
    assert status == 405


def test_a_token_review_answers_and_is_not_stored(server: TestApiServer) -> None:
    path = "/apis/authentication.k8s.io/v1/tokenreviews"
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
              "spec": {"token": "limited-token"}}
    status, answer = _send(server, "POST", path, json.dumps(review), "application/json")
    assert status == 201
    assert answer["status"] == {"authenticated": True, "user": {
        "username": "limited", "uid": "limited-uid", "groups": ["system:authenticated"]}}
    assert answer["metadata"]["managedFields"][0]["fieldsV1"] == {"f:spec": {"f:token": {}}}
    status, answer = _send(server, "POST", path, json.dumps(
        {**review, "spec": {"token": "nobody"}}), "application/json")
    assert (status, answer["status"]) == (201, {"authenticated": False, "user": {}})
    assert _send(server, "GET", path)[0] == 405
    assert not [k for k in server.cluster.objects if k[1] in ("tokenreviews", "bindings")]


def test_a_crd_being_deleted_takes_no_new_objects(api: k8s.ApiClient,
                                                  server: TestApiServer) -> None:
    crd = objects.crd("example.com", "Widget", "widgets")
    crd["metadata"]["finalizers"] = ["example.com/hold"]
    extensions = k8s.ApiextensionsV1Api(api)
    extensions.create_custom_resource_definition(cast(Any, crd))
    path = "/apis/example.com/v1/namespaces/default/widgets"
    widget = {"apiVersion": "example.com/v1", "kind": "Widget",
              "metadata": {"name": "old", "namespace": "default"}, "spec": {"size": 1}}
    assert _send(server, "POST", path, json.dumps(widget), "application/json")[0] == 201
    extensions.delete_custom_resource_definition("widgets.example.com")
    status, answer = _send(server, "POST", path, json.dumps(
        {**widget, "metadata": {"name": "new"}}), "application/json")
    assert (status, answer["reason"], answer["message"]) == (
        403, "Forbidden", 'widgets.example.com "new" is forbidden: create not allowed while '
        "custom resource definition is terminating")
    assert answer["details"] == {"name": "new", "group": "example.com", "kind": "widgets"}
    status, _ = _send(server, "PATCH", f"{path}/new?fieldManager=gitdeploy",
                      json.dumps({**widget, "metadata": {"name": "new"}}))
    assert status == 403  # an apply that would create is a create
    status, changed = _send(server, "PATCH", f"{path}/old?fieldManager=gitdeploy&force=true",
                            json.dumps({**widget, "spec": {"size": 2}}))
    assert (status, changed.get("spec")) == (200, {"size": 2}), changed  # it can change


def test_openapi_and_aggregated_discovery_answer_a_cached_copy_with_304(
        server: TestApiServer) -> None:
    host, port = server.httpd.server_address[:2]
    connection = http.client.HTTPConnection(str(host), int(port), timeout=10)
    headers = {"Authorization": "Bearer admin-token", "Accept": "application/json"}
    connection.request("GET", "/openapi/v2", headers=headers)
    first = connection.getresponse()
    first.read()
    etag = first.getheader("ETag")
    assert first.status == 200 and etag
    connection.request("GET", "/openapi/v2", headers={**headers, "If-None-Match": etag})
    cached = connection.getresponse()
    assert (cached.status, cached.read(), cached.getheader("Content-Type")) == (304, b"", None)
    connection.request("GET", "/openapi/v2", headers={**headers, "If-None-Match": '"other"'})
    again = connection.getresponse()
    again.read()
    assert again.status == 200
    connection.close()
