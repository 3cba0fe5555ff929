"""Plan files at the unit level: `save` and `load` a reviewed plan, and `differences` between it
and a plan made again just before applying (what moved, in the words `apply --plan` shows)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitdeploy.errors import SettingsError
from gitdeploy.output import jsondoc
from gitdeploy.plan import planfile
from gitdeploy.results import API_VERSION, Action
from gitdeploy.results.plan import Change, Plan
from tests import builders

CM = "/ConfigMap/shop/settings"  # the plan file's key of a core-group object
DEPLOY = "apps/Deployment/shop/web"


def reviewed_changes() -> list[Change]:
    """A ConfigMap update, a Deployment create and a delete, as `diff` planned them."""
    return [
        builders.change("ConfigMap", "settings", content=builders.configmap(
            "settings", "shop", {"mode": "fast"}), resource_version="40"),
        builders.change("Deployment", "web", api_version="apps/v1", action=Action.CREATE,
                        content=builders.body("Deployment", "web", "shop",
                                              api_version="apps/v1", spec={"replicas": 2})),
        builders.delete("ConfigMap", "old"),
    ]


def reviewed(*, prune: bool = False) -> Plan:
    return builders.plan(reviewed_changes(), prune=prune)


def saved_copy(plan: Plan, tmp_path: Path) -> planfile.SavedPlan:
    path = tmp_path / "plan.json"
    planfile.save(plan, path, jsondoc.plan(plan))
    return planfile.load(path)


def test_the_same_plan_has_no_differences(tmp_path: Path) -> None:
    saved = saved_copy(reviewed(), tmp_path)
    assert planfile.differences(saved, reviewed()) == []


def test_the_saved_file_is_the_plan_document_with_digests(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    plan = reviewed(prune=True)
    planfile.save(plan, path, jsondoc.plan(plan))
    document = json.loads(path.read_text())
    assert document["apiVersion"] == API_VERSION
    assert document["kind"] == "PlanFile"
    assert document["summary"]["changes"] == 3
    assert sorted(document["objects"]) == ["/ConfigMap/shop/old", CM, DEPLOY]
    assert document["objects"][CM]["action"] == "update"
    assert document["objects"][CM]["resourceVersion"] == "40"
    assert document["objects"][CM]["digest"].startswith("sha256:")
    assert document["objects"]["/ConfigMap/shop/old"] == {
        "action": "delete", "resourceVersion": "7", "live": "", "digest": ""}
    assert document["objects"][DEPLOY]["resourceVersion"] == ""
    saved = planfile.load(path)
    assert (saved.path, saved.environment, saved.commit, saved.prune) == (
        path, "dev", builders.COMMIT, True)
    assert saved.objects == document["objects"]


def test_no_secret_value_is_saved(tmp_path: Path) -> None:
    secret = builders.body("Secret", "db", "shop", stringData={"password": "hunter2-canary"})
    plan = builders.plan([builders.change("Secret", "db", content=secret, action=Action.CREATE,
                                          diff="+  password: '<masked>'\n")])
    path = tmp_path / "plan.json"
    planfile.save(plan, path, jsondoc.plan(plan))
    assert "hunter2-canary" not in path.read_text()
    assert planfile.differences(planfile.load(path), plan) == []


def test_a_plan_for_another_environment_says_only_that(tmp_path: Path) -> None:
    saved = saved_copy(reviewed(), tmp_path)
    now = builders.plan([], environment="prod",
                        source_info=builders.source(builders.OTHER_COMMIT, dirty=True))
    assert planfile.differences(saved, now) == ["the plan is for environment dev, not prod"]


def test_another_commit(tmp_path: Path) -> None:
    saved = saved_copy(reviewed(), tmp_path)
    now = builders.plan(reviewed_changes(), source_info=builders.source(builders.OTHER_COMMIT))
    assert planfile.differences(saved, now) == ["commit: planned 1a2b3c4, now 9f8e7d6"]


def test_uncommitted_files_are_named(tmp_path: Path) -> None:
    saved = saved_copy(reviewed(), tmp_path)
    now = builders.plan(reviewed_changes(), source_info=builders.source(
        dirty=True, dirty_files=("environments/dev/app.yaml", "environments/dev/gitdeploy.yaml")))
    assert planfile.differences(saved, now) == [
        "the files have uncommitted changes: environments/dev/app.yaml, "
        "environments/dev/gitdeploy.yaml"]


def test_an_object_added_since_the_plan(tmp_path: Path) -> None:
    saved = saved_copy(reviewed(), tmp_path)
    now = reviewed()
    now.changes.append(builders.change("Service", "web", action=Action.CREATE))
    assert planfile.differences(saved, now) == [
        "/Service/shop/web: not in the plan, now create"]


def test_an_object_removed_since_the_plan(tmp_path: Path) -> None:
    saved = saved_copy(reviewed(), tmp_path)
    now = reviewed()
    del now.changes[1]
    assert planfile.differences(saved, now) == [
        f"{DEPLOY}: in the plan (create), now gone from the plan"]


def test_a_rendered_object_that_changed(tmp_path: Path) -> None:
    saved = saved_copy(reviewed(), tmp_path)
    now = reviewed()
    now.changes[0].manifest.body["data"]["mode"] = "safe"
    assert planfile.differences(saved, now) == [
        f"{CM}: the rendered object changed since the plan"]


def test_a_live_object_that_changed(tmp_path: Path) -> None:
    saved = saved_copy(reviewed(), tmp_path)
    now = reviewed()
    now.changes[0].resource_version = "43"
    assert planfile.differences(saved, now) == [
        f"{CM}: changed in the cluster since the plan (resourceVersion 40 -> 43)"]


def test_a_live_object_that_appeared_since_the_plan(tmp_path: Path) -> None:
    saved = saved_copy(reviewed(), tmp_path)
    now = reviewed()
    now.changes[1].resource_version = "5"
    now.changes[1].action = Action.ADOPT
    assert planfile.differences(saved, now) == [
        f"{DEPLOY}: changed in the cluster since the plan (resourceVersion none -> 5)"]


def test_an_object_to_delete_that_changed_in_the_cluster(tmp_path: Path) -> None:
    saved = saved_copy(reviewed(), tmp_path)
    now = reviewed()
    now.changes[2].resource_version = "8"
    assert planfile.differences(saved, now) == [
        "/ConfigMap/shop/old: changed in the cluster since the plan (resourceVersion 7 -> 8)"]


def test_every_difference_is_listed_commit_first_then_objects_by_key(tmp_path: Path) -> None:
    saved = saved_copy(reviewed(), tmp_path)
    changes = reviewed_changes()
    changes[0].resource_version = "41"
    changes[1].manifest.body["spec"]["replicas"] = 3
    del changes[2]
    now = builders.plan(changes, source_info=builders.source(builders.OTHER_COMMIT))
    assert planfile.differences(saved, now) == [
        "commit: planned 1a2b3c4, now 9f8e7d6",
        "/ConfigMap/shop/old: in the plan (delete), now gone from the plan",
        f"{CM}: changed in the cluster since the plan (resourceVersion 40 -> 41)",
        f"{DEPLOY}: the rendered object changed since the plan",
    ]


def test_a_rendered_change_is_reported_before_a_live_one_for_the_same_object(
        tmp_path: Path) -> None:
    saved = saved_copy(reviewed(), tmp_path)
    now = reviewed()
    now.changes[0].manifest.body["data"]["mode"] = "safe"
    now.changes[0].resource_version = "41"
    assert planfile.differences(saved, now) == [
        f"{CM}: the rendered object changed since the plan"]


def test_objects_are_told_apart_by_group_and_namespace(tmp_path: Path) -> None:
    saved = saved_copy(builders.plan([builders.change("ConfigMap", "a", "one")]), tmp_path)
    now = builders.plan([builders.change("ConfigMap", "a", "two")])
    assert planfile.differences(saved, now) == [
        "/ConfigMap/one/a: in the plan (update), now gone from the plan",
        "/ConfigMap/two/a: not in the plan, now update"]


def test_a_plan_outside_git_matches_a_plan_outside_git(tmp_path: Path) -> None:
    plan = builders.plan(reviewed_changes(), source_info=builders.source(None))
    saved = saved_copy(plan, tmp_path)
    assert saved.commit is None
    assert planfile.differences(saved, plan) == []


def test_load_reads_a_missing_prune_as_off(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"apiVersion": API_VERSION, "kind": "PlanFile",
                                "environment": "dev", "source": {"commit": "abc"}}))
    saved = planfile.load(path)
    assert (saved.environment, saved.commit, saved.prune, saved.objects) == (
        "dev", "abc", False, {})


def test_load_of_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "none.json"
    with pytest.raises(SettingsError) as caught:
        planfile.load(path)
    assert caught.value.message.startswith(f"cannot read the plan file {path}: ")
    assert "No such file or directory" in caught.value.message


def test_load_of_a_folder(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read the plan file"):
        planfile.load(tmp_path)


def test_load_of_a_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text("kind: PlanFile\n")
    with pytest.raises(SettingsError) as caught:
        planfile.load(path)
    assert caught.value.message.startswith(f"cannot read the plan file {path}: Expecting value")


@pytest.mark.parametrize(
    "content",
    [
        [],
        "PlanFile",
        {"apiVersion": API_VERSION, "kind": "Plan", "environment": "dev"},
        {"apiVersion": "gitdeploy.io/v2", "kind": "PlanFile", "environment": "dev"},
        {"apiVersion": "v1", "kind": "PlanFile", "environment": "dev"},
        {"kind": "PlanFile", "environment": "dev"},
    ],
    ids=["list", "string", "plan-document", "newer-api-version", "other-api-version",
         "no-api-version"],
)
def test_load_of_something_else_than_a_plan_file(tmp_path: Path, content: object) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(content))
    with pytest.raises(SettingsError) as caught:
        planfile.load(path)
    assert caught.value.message == (f"{path} is not a gitdeploy plan file "
                                    "(diff --out-plan FILE)")
