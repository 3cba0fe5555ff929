"""find_drift: the fields an apply changes back that another field manager set in the cluster.

`live` carries metadata.managedFields (FieldsV1); `before` is the normalized live object and
`after` the server's dry-run answer, as plan/dryrun.py passes them.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gitdeploy.objects.normalize import normalize
from gitdeploy.plan.drift import find_drift
from gitdeploy.results.plan import Drift

Body = dict[str, Any]


def entry(manager: str, fields: Body, operation: str = "Update") -> Body:
    return {"manager": manager, "operation": operation, "apiVersion": "v1",
            "fieldsType": "FieldsV1", "fieldsV1": fields}


def configmap(data: dict[str, str], managed: list[Body] | None) -> Body:
    metadata: Body = {"name": "settings", "namespace": "shop", "uid": "u-1",
                      "resourceVersion": "12"}
    if managed is not None:
        metadata["managedFields"] = managed
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": dict(data)}


GITDEPLOY_OWNS_A = entry("gitdeploy", {"f:data": {"f:a": {}}}, "Apply")
EDITOR_OWNS_B = entry("kubectl-edit", {"f:data": {"f:b": {}}})


def drift_of(live: Body, change: dict[str, str | None]) -> list[Drift]:
    """Drift when git sets data keys to these values (None: git removes the key)."""
    before = normalize(live)
    after = copy.deepcopy(before)
    for key, value in change.items():
        if value is None:
            after["data"].pop(key)
        else:
            after["data"][key] = value
    return find_drift(live, before, after)


def test_a_field_another_manager_changed_is_drift_naming_that_manager() -> None:
    live = configmap({"a": "1", "b": "edited by hand"}, [GITDEPLOY_OWNS_A, EDITOR_OWNS_B])
    assert drift_of(live, {"b": "from git"}) == [Drift(field="data.b", manager="kubectl-edit")]


def test_a_field_gitdeploy_owns_is_an_update_not_drift() -> None:
    live = configmap({"a": "1", "b": "edited by hand"}, [GITDEPLOY_OWNS_A, EDITOR_OWNS_B])
    assert drift_of(live, {"a": "2"}) == []


def test_only_the_other_managers_fields_are_reported_when_both_change() -> None:
    live = configmap({"a": "1", "b": "edited by hand"}, [GITDEPLOY_OWNS_A, EDITOR_OWNS_B])
    assert drift_of(live, {"a": "2", "b": "from git"}) == [
        Drift(field="data.b", manager="kubectl-edit")]


def test_a_field_removed_by_the_apply_that_another_manager_set_is_drift() -> None:
    live = configmap({"a": "1", "b": "added by hand"}, [GITDEPLOY_OWNS_A, EDITOR_OWNS_B])
    assert drift_of(live, {"b": None}) == [Drift(field="data.b", manager="kubectl-edit")]


def test_nothing_changed_means_no_drift_whoever_owns_the_fields() -> None:
    live = configmap({"a": "1", "b": "2"}, [EDITOR_OWNS_B])
    before = normalize(live)
    assert find_drift(live, before, copy.deepcopy(before)) == []


@pytest.mark.parametrize("managed", [None, [], [{"manager": "kubectl-edit"}],
                                     [entry("kubectl-edit", {})]],
                         ids=["no-managedFields", "empty-list", "entry-without-fields",
                              "empty-fieldsV1"])
def test_objects_without_usable_managed_fields_have_no_drift(managed: list[Body] | None
                                                             ) -> None:
    live = configmap({"a": "1", "b": "2"}, managed)
    assert drift_of(live, {"a": "9", "b": "9"}) == []


def test_managed_fields_set_to_null_have_no_drift() -> None:
    live = configmap({"b": "2"}, None)
    live["metadata"]["managedFields"] = None
    assert drift_of(live, {"b": "9"}) == []


def test_an_atomic_map_owned_as_a_whole_covers_keys_added_inside_it() -> None:
    """`f:data: {}` owns the whole map: adding a key to it takes the map back."""
    live = configmap({"b": "2"}, [entry("operator", {"f:data": {}})])
    assert drift_of(live, {"c": "new"}) == [Drift(field="data", manager="operator")]


def test_a_dot_entry_owns_the_existence_of_the_map_not_its_keys() -> None:
    live = configmap({"b": "2"}, [entry("operator", {"f:data": {".": {}}})])
    assert drift_of(live, {"b": "3", "c": "new"}) == []
    before = normalize(live)
    after = copy.deepcopy(before)
    del after["data"]
    assert find_drift(live, before, after) == [Drift(field="data", manager="operator")]


def test_a_label_added_beside_another_managers_labels_is_not_drift() -> None:
    """The real API server writes `".": {}` in every map a manager sets keys in: the
    ApplySet label that gitdeploy adds beside them changes none of that manager's fields."""
    live = configmap({"a": "1"}, [entry("OpenAPI-Generator", {"f:metadata": {"f:labels": {
        ".": {}, "f:app": {}}}, "f:data": {".": {}, "f:a": {}}})])
    live["metadata"]["labels"] = {"app": "shop"}
    before = normalize(live)
    after = copy.deepcopy(before)
    after["metadata"]["labels"]["applyset.kubernetes.io/part-of"] = "applyset-x-v1"
    assert find_drift(live, before, after) == []


def test_a_changed_parent_covers_the_child_fields_another_manager_owns() -> None:
    """The whole `data` map replaced by something else: the owned child is drift."""
    live = configmap({"b": "2"}, [EDITOR_OWNS_B])
    before = normalize(live)
    after = copy.deepcopy(before)
    after["data"] = None
    assert find_drift(live, before, after) == [Drift(field="data.b", manager="kubectl-edit")]


def test_two_managers_of_one_field_name_the_first_listed() -> None:
    live = configmap({"b": "2"}, [entry("first", {"f:data": {"f:b": {}}}),
                                  entry("second", {"f:data": {"f:b": {}}})])
    assert drift_of(live, {"b": "3"}) == [Drift(field="data.b", manager="first")]


def test_drift_is_sorted_by_field_and_each_field_listed_once() -> None:
    live = configmap({"z": "1", "m": "1", "b": "1"},
                     [entry("hand", {"f:data": {"f:z": {}, "f:b": {}}}),
                      entry("bot", {"f:data": {"f:m": {}, "f:z": {}}})])
    found = drift_of(live, {"z": "2", "m": "2", "b": "2"})
    assert found == [Drift(field="data.b", manager="hand"), Drift(field="data.m", manager="bot"),
                     Drift(field="data.z", manager="hand")]


def deployment(managed: list[Body]) -> Body:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "managedFields": managed,
                     "finalizers": ["example.com/keep"]},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [
            {"name": "sidecar", "image": "envoy:1.30",
             "ports": [{"containerPort": 9901, "protocol": "TCP"}]},
            {"name": "web", "image": "nginx:1.27-hotfix",
             "ports": [{"containerPort": 8080, "protocol": "TCP"}]},
        ]}}},
    }


CONTAINERS = ("spec", "template", "spec", "containers")


def nested(fields: Body, path: tuple[str, ...]) -> Body:
    """FieldsV1 with `fields` under the `f:` path."""
    for name in reversed(path):
        fields = {f"f:{name}": fields}
    return fields


def test_a_list_item_by_key_names_the_item_index() -> None:
    """`kubectl set image` owns the web container's image (k: {"name": "web"}); it is the
    second container, so the field is containers[1].image."""
    live = deployment([
        entry("gitdeploy", nested({'k:{"name":"sidecar"}': {"f:image": {}}}, CONTAINERS),
              "Apply"),
        entry("kubectl-set", nested({'k:{"name":"web"}': {".": {}, "f:image": {}}},
                                    CONTAINERS)),
    ])
    before = normalize(live)
    after = copy.deepcopy(before)
    after["spec"]["template"]["spec"]["containers"][1]["image"] = "nginx:1.27"
    assert find_drift(live, before, after) == [
        Drift(field="spec.template.spec.containers[1].image", manager="kubectl-set")]
    after["spec"]["template"]["spec"]["containers"][1]["image"] = "nginx:1.27-hotfix"
    after["spec"]["template"]["spec"]["containers"][0]["image"] = "envoy:1.31"
    assert find_drift(live, before, after) == []


def test_a_composite_list_key_matches_every_part() -> None:
    port_key = 'k:{"containerPort":8080,"protocol":"TCP"}'
    live = deployment([entry("port-bot", nested(
        {'k:{"name":"web"}': {"f:ports": {port_key: {"f:containerPort": {}}}}}, CONTAINERS))])
    before = normalize(live)
    after = copy.deepcopy(before)
    after["spec"]["template"]["spec"]["containers"][1]["ports"][0]["containerPort"] = 8081
    after["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = 9902
    assert find_drift(live, before, after) == [
        Drift(field="spec.template.spec.containers[1].ports[0].containerPort",
              manager="port-bot")]


def test_a_set_item_by_value() -> None:
    live = deployment([entry("finalizer-bot", {"f:metadata": {"f:finalizers": {
        ".": {}, 'v:"example.com/keep"': {}}}})])
    before = normalize(live)
    after = copy.deepcopy(before)
    after["metadata"]["finalizers"] = []
    assert find_drift(live, before, after) == [
        Drift(field="metadata.finalizers[0]", manager="finalizer-bot")]


def test_a_scaled_deployment_is_drift_of_the_autoscaler() -> None:
    live = deployment([entry("gitdeploy", {"f:spec": {"f:template": {}}}, "Apply"),
                       entry("horizontal-pod-autoscaler", {"f:spec": {"f:replicas": {}}})])
    before = normalize(live)
    after = copy.deepcopy(before)
    after["spec"]["replicas"] = 3
    assert find_drift(live, before, after) == [
        Drift(field="spec.replicas", manager="horizontal-pod-autoscaler")]


def test_fields_of_the_status_subresource_are_not_drift() -> None:
    """normalize drops status, so a controller owning status is never reported."""
    live = configmap({"b": "2"}, [entry("controller", {"f:status": {"f:ready": {}}})])
    live["status"] = {"ready": True}
    before = normalize(live)
    after = copy.deepcopy(before)
    after["data"]["b"] = "3"
    assert find_drift(live, before, after) == []


def test_an_item_inserted_in_front_of_a_keyed_item_is_not_drift_of_its_owner() -> None:
    live = deployment([entry("kubectl-set", nested({'k:{"name":"web"}': {"f:image": {}}},
                                                   CONTAINERS))])
    before = normalize(live)
    after = copy.deepcopy(before)
    containers = after["spec"]["template"]["spec"]["containers"]
    containers.insert(0, {"name": "init", "image": "busybox:1.36"})
    assert containers[2]["image"] == "nginx:1.27-hotfix"  # the other manager's value stays
    assert find_drift(live, before, after) == []
