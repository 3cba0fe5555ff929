"""How a planned object is classified (create, update, adopt, unchanged, delete) from what git
renders, the live object and the server's dry-run answer.

`build_plan` itself talks to the API server; these tests drive the pure steps it is made of
(`_change` for an object in git, `_deletion` for an ApplySet member no longer in git,
`_adopted`, `_crd_resources`), with bodies built here.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gitdeploy.kube.discovery import ResourceInfo
from gitdeploy.objects.applyset import PART_OF_LABEL
from gitdeploy.objects.manifests import Manifest, Origin
from gitdeploy.objects.secrets import MASK_AFTER, MASK_BEFORE
from gitdeploy.plan.dryrun import _adopted, _change, _crd_resources, _deletion, _Item
from gitdeploy.results import Action
from gitdeploy.results.plan import Drift
from gitdeploy.state.inventory import Member
from tests import builders

Body = dict[str, Any]

SET_ID = builders.inventory().id
OTHER_SET = "applyset-c29tZW9uZSBlbHNl-v1"
CONFIGMAPS = ResourceInfo(api_version="v1", kind="ConfigMap", plural="configmaps",
                          namespaced=True)
SECRETS = ResourceInfo(api_version="v1", kind="Secret", plural="secrets", namespaced=True)
NAMESPACES = ResourceInfo(api_version="v1", kind="Namespace", plural="namespaces",
                          namespaced=False)


def in_git(data: dict[str, str]) -> Manifest:
    """The ConfigMap shop/settings as rendered and labelled part of the set."""
    content = builders.configmap("settings", "shop", data)
    content["metadata"]["labels"] = {"app": "shop", PART_OF_LABEL: SET_ID}
    return builders.manifest(content, "environments/dev/settings.yaml", 3)


def from_server(manifest: Manifest, *, resource_version: str = "41") -> Body:
    """The object as the server returns it: with server fields and status."""
    answer = copy.deepcopy(manifest.body)
    answer["metadata"].update(uid="0f3c-uid", resourceVersion=resource_version,
                              creationTimestamp="2025-01-02T03:04:05Z", generation=1,
                              managedFields=[{"manager": "gitdeploy", "operation": "Apply",
                                              "fieldsV1": {"f:data": {"f:key": {}}}}])
    return answer


def live_with(manifest: Manifest, data: dict[str, str], *, labels: dict[str, str] | None = None,
              managers: list[Body] | None = None) -> Body:
    live = from_server(manifest, resource_version="40")
    live["data"] = dict(data)
    if labels is not None:
        live["metadata"]["labels"] = labels
    if managers is not None:
        live["metadata"]["managedFields"] = managers
    return live


def test_an_object_missing_in_the_cluster_is_a_create() -> None:
    manifest = in_git({"key": "v1"})
    change = _change(_Item(manifest, CONFIGMAPS, result=from_server(manifest)), SET_ID)
    assert change.action is Action.CREATE
    assert change.title() == "ConfigMap shop/settings"
    assert change.path == "/api/v1/namespaces/shop/configmaps/settings"
    assert change.diff.startswith("--- live/ConfigMap/shop/settings\n"
                                  "+++ git/ConfigMap/shop/settings\n")
    assert "+  key: v1\n" in change.diff
    assert not any(line.startswith("-") for line in change.diff.splitlines()[2:])
    assert "resourceVersion" not in change.diff and "uid" not in change.diff
    assert (change.uid, change.resource_version, change.note) == ("", "", "")
    assert change.verified is True
    assert change.drift == []


def test_the_same_object_is_unchanged_whatever_the_server_fields() -> None:
    manifest = in_git({"key": "v1"})
    live = live_with(manifest, {"key": "v1"}, labels=dict(manifest.body["metadata"]["labels"]),
                     managers=[{"manager": "kubectl-edit", "fieldsV1": {"f:data": {}}}])
    live["status"] = {"observed": True}
    live["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": "{}"}
    change = _change(_Item(manifest, CONFIGMAPS, live=live, result=from_server(manifest)),
                     SET_ID)
    assert change.action is Action.UNCHANGED
    assert change.diff == ""
    assert change.drift == []
    assert not change.is_change
    assert (change.uid, change.resource_version) == ("0f3c-uid", "40")


def test_a_different_value_is_an_update_with_only_the_changed_lines() -> None:
    manifest = in_git({"key": "v2", "other": "same"})
    live = live_with(manifest, {"key": "v1", "other": "same"},
                     labels=dict(manifest.body["metadata"]["labels"]))
    change = _change(_Item(manifest, CONFIGMAPS, live=live, result=from_server(manifest)),
                     SET_ID)
    assert change.action is Action.UPDATE
    changed = [line for line in change.diff.splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == ["-  key: v1", "+  key: v2"]
    assert change.note == ""
    assert change.resource_version == "40"


def test_an_update_names_the_fields_another_manager_set_as_drift() -> None:
    manifest = in_git({"key": "v2"})
    live = live_with(manifest, {"key": "edited"}, labels=dict(manifest.body["metadata"]["labels"]),
                     managers=[{"manager": "kubectl-edit", "operation": "Update",
                                "fieldsV1": {"f:data": {"f:key": {}}}}])
    change = _change(_Item(manifest, CONFIGMAPS, live=live, result=from_server(manifest)),
                     SET_ID)
    assert change.action is Action.UPDATE
    assert change.drift == [Drift(field="data.key", manager="kubectl-edit")]


def test_an_object_without_the_set_label_is_adopted() -> None:
    manifest = in_git({"key": "v1"})
    live = live_with(manifest, {"key": "v1"}, labels={"app": "shop"},
                     managers=[{"manager": "kubectl-client-side-apply",
                                "fieldsV1": {"f:data": {"f:key": {}}}}])
    change = _change(_Item(manifest, CONFIGMAPS, live=live, result=from_server(manifest)),
                     SET_ID)
    assert change.action is Action.ADOPT
    assert change.note == ("exists in the cluster, not yet managed by this environment: "
                           "apply takes it over")
    assert f"+    {PART_OF_LABEL}: {SET_ID}" in change.diff
    assert change.is_change


def test_an_object_of_another_applyset_is_adopted_naming_that_set() -> None:
    manifest = in_git({"key": "v2"})
    live = live_with(manifest, {"key": "v1"}, labels={"app": "shop", PART_OF_LABEL: OTHER_SET},
                     managers=[{"manager": "other-tool", "fieldsV1": {"f:data": {"f:key": {}}}}])
    change = _change(_Item(manifest, CONFIGMAPS, live=live, result=from_server(manifest)),
                     SET_ID)
    assert change.action is Action.ADOPT
    assert change.note == f"taken over from another ApplySet ({OTHER_SET})"
    assert change.drift == [Drift(field="data.key", manager="other-tool")]


def test_an_object_the_server_could_not_dry_run_is_an_unverified_create() -> None:
    manifest = in_git({"key": "v1"})
    item = _Item(manifest, CONFIGMAPS, unverified="its namespace shop is created by this plan")
    change = _change(item, SET_ID)
    assert change.action is Action.CREATE
    assert change.verified is False
    assert change.note == "not verified by the server: its namespace shop is created by this plan"
    assert "+  key: v1\n" in change.diff  # the diff is git's own object


def test_a_cluster_scoped_object_has_no_namespace() -> None:
    manifest = builders.manifest(builders.body("Namespace", "shop", ""))
    manifest.body["metadata"]["labels"] = {PART_OF_LABEL: SET_ID}
    change = _change(_Item(manifest, NAMESPACES, result=from_server(manifest)), SET_ID)
    assert change.action is Action.CREATE
    assert change.namespace == ""
    assert change.title() == "Namespace shop"
    assert change.path == "/api/v1/namespaces/shop"
    assert "+++ git/Namespace/shop\n" in change.diff


def test_a_changed_secret_value_is_an_update_without_its_value() -> None:
    content = builders.body("Secret", "db", "shop", type="Opaque",
                            data={"password": "bmV3LXNlY3JldA==", "user": "YWRtaW4="})
    content["metadata"]["labels"] = {PART_OF_LABEL: SET_ID}
    manifest = builders.manifest(content)
    live = from_server(manifest)
    live["data"] = {"password": "b2xkLXNlY3JldA==", "user": "YWRtaW4="}
    change = _change(_Item(manifest, SECRETS, live=live, result=from_server(manifest)), SET_ID)
    assert change.action is Action.UPDATE
    assert f"-  password: '{MASK_BEFORE}'" in change.diff
    assert f"+  password: '{MASK_AFTER}'" in change.diff
    assert "user" not in [line.split(":")[0].strip("+- ") for line in change.diff.splitlines()
                          if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    for value in ("bmV3LXNlY3JldA==", "b2xkLXNlY3JldA==", "YWRtaW4="):
        assert value not in change.diff


@pytest.mark.parametrize(
    ("labels", "why"),
    [
        ({PART_OF_LABEL: SET_ID}, ""),
        ({PART_OF_LABEL: OTHER_SET}, f"taken over from another ApplySet ({OTHER_SET})"),
        ({"app": "shop"}, "exists in the cluster, not yet managed by this environment: apply "
                          "takes it over"),
        (None, "exists in the cluster, not yet managed by this environment: apply takes it "
               "over"),
    ],
    ids=["this-set", "other-set", "no-set-label", "no-labels"],
)
def test_adopted_says_why_a_live_object_is_not_in_the_set(labels: dict[str, str] | None,
                                                          why: str) -> None:
    live = builders.configmap()
    if labels is not None:
        live["metadata"]["labels"] = labels
    assert _adopted(live, SET_ID) == why


def test_adopted_is_empty_for_an_object_not_in_the_cluster() -> None:
    assert _adopted(None, SET_ID) == ""


def member(kind: ResourceInfo, content: Body) -> Member:
    content["metadata"].update(uid="9a8b-uid", resourceVersion="77",
                               labels={PART_OF_LABEL: SET_ID})
    return Member(resource=kind, body=content)


def test_a_member_no_longer_in_git_is_a_delete() -> None:
    change = _deletion(member(CONFIGMAPS, builders.configmap("old", "shop", {"k": "v"})))
    assert change.action is Action.DELETE
    assert change.title() == "ConfigMap shop/old"
    assert change.path == "/api/v1/namespaces/shop/configmaps/old"
    assert (change.uid, change.resource_version) == ("9a8b-uid", "77")
    assert str(change.manifest.origin) == "(not in git)"
    assert change.diff.startswith("--- live/ConfigMap/shop/old\n+++ git/ConfigMap/shop/old\n")
    assert "-  k: v\n" in change.diff
    assert not any(line.startswith("+") for line in change.diff.splitlines()[2:])
    assert change.kept == ""
    assert change.is_change


def test_a_member_with_pruning_disabled_is_kept() -> None:
    content = builders.configmap("old", "shop")
    content["metadata"]["annotations"] = {"gitdeploy.io/prune": "disabled"}
    change = _deletion(member(CONFIGMAPS, content))
    assert change.action is Action.DELETE
    assert change.kept == "gitdeploy.io/prune: disabled"
    assert not change.is_change


@pytest.mark.parametrize("value", ["enabled", "false", "Disabled", ""])
def test_only_the_value_disabled_keeps_a_member(value: str) -> None:
    content = builders.configmap("old", "shop")
    content["metadata"]["annotations"] = {"gitdeploy.io/prune": value}
    assert _deletion(member(CONFIGMAPS, content)).kept == ""


def test_a_cluster_scoped_member_is_deleted_by_its_cluster_path() -> None:
    change = _deletion(member(NAMESPACES, builders.body("Namespace", "legacy", "")))
    assert change.action is Action.DELETE
    assert change.namespace == ""
    assert change.title() == "Namespace legacy"
    assert change.path == "/api/v1/namespaces/legacy"


def test_a_secret_member_is_deleted_without_showing_its_values() -> None:
    content = builders.body("Secret", "db", "shop", data={"password": "c2VjcmV0"})
    change = _deletion(member(SECRETS, content))
    assert "c2VjcmV0" not in change.diff
    assert "-  password:" in change.diff


def crd(scope: str) -> Manifest:
    return builders.manifest(builders.body(
        "CustomResourceDefinition", "widgets.example.com", "",
        api_version="apiextensions.k8s.io/v1",
        spec={"group": "example.com", "scope": scope,
              "names": {"kind": "Widget", "plural": "widgets"},
              "versions": [{"name": "v1"}, {"name": "v1beta1"}]}))


@pytest.mark.parametrize(("scope", "namespaced"), [("Namespaced", True), ("Cluster", False)])
def test_kinds_of_a_crd_in_the_plan_are_known_before_the_server_has_them(scope: str,
                                                                         namespaced: bool
                                                                         ) -> None:
    found = _crd_resources([crd(scope), builders.manifest()])
    assert sorted(found) == [("example.com/v1", "Widget"), ("example.com/v1beta1", "Widget")]
    widget = found[("example.com/v1", "Widget")]
    assert widget.namespaced is namespaced
    assert widget.path("shop", "blue") == (
        "/apis/example.com/v1/namespaces/shop/widgets/blue" if namespaced
        else "/apis/example.com/v1/widgets/blue")


def test_a_kind_named_like_a_crd_in_another_group_declares_nothing() -> None:
    other = builders.manifest(builders.body("CustomResourceDefinition", "x", "",
                                            api_version="example.com/v1",
                                            spec={"group": "g", "names": {"kind": "K"},
                                                  "versions": [{"name": "v1"}]}))
    assert _crd_resources([other]) == {}


def test_origin_of_the_manifest_is_kept_on_the_change() -> None:
    manifest = Manifest(body=in_git({"key": "v1"}).body,
                        origin=Origin("environments/dev/kustomization.yaml", 0, "kustomize"))
    change = _change(_Item(manifest, CONFIGMAPS, result=from_server(manifest)), SET_ID)
    assert change.manifest is manifest
    assert str(change.manifest.origin) == "environments/dev/kustomization.yaml (kustomize)"
