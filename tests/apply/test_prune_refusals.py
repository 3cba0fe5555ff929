"""Pruning's safety rules (`refusals`) and the ApplySet parent's contents around an apply
(`parent_before`, `parent_after`); docs/pruning.md."""

from __future__ import annotations

import pytest

from gitdeploy.apply.prune import parent_after, parent_before, refusals
from gitdeploy.config.settings import PruneSafety, Settings
from gitdeploy.results import Action
from gitdeploy.results.plan import Change, Plan
from tests import builders

KEEP = "gitdeploy.io/prune: disabled"


def settings(*, max_deletions: int = 20, max_percent: int = 50, namespaces: bool = False,
             crds: bool = False, namespace: str = "shop",
             state_namespace: str | None = None) -> Settings:
    return Settings(context="kind-dev", namespace=namespace, state_namespace=state_namespace,
                    prune_safety=PruneSafety(max_deletions=max_deletions,
                                             max_percent=max_percent, namespaces=namespaces,
                                             crds=crds))


def pruning(deletes: list[Change], *, inventory_size: int = 100, prune: bool = True,
            others: list[Change] | None = None) -> Plan:
    return builders.plan([*(others or [builders.change()]), *deletes], prune=prune,
                         inventory_size=inventory_size)


def old_configmaps(count: int) -> list[Change]:
    return [builders.delete("ConfigMap", f"old-{n}") for n in range(count)]


def refused(plan: Plan, safety: Settings | None = None, *, rendered: int = 10,
            allow_mass_delete: bool = False) -> list[str]:
    return refusals(plan, safety or settings(), rendered=rendered,
                    allow_mass_delete=allow_mass_delete)


def test_a_few_deletions_are_allowed() -> None:
    assert refused(pruning(old_configmaps(3))) == []


def test_nothing_is_refused_when_pruning_is_off() -> None:
    dangerous = [builders.delete("Namespace", "shop", ""), *old_configmaps(60)]
    assert refused(pruning(dangerous, prune=False), rendered=0) == []


def test_nothing_is_refused_without_deletions() -> None:
    assert refused(pruning([]), rendered=0) == []


def test_kept_objects_are_not_deletions() -> None:
    kept = [builders.delete("Namespace", "legacy", "", kept=KEEP),
            builders.delete("CustomResourceDefinition", "widgets.example.com", "",
                            api_version="apiextensions.k8s.io/v1", kept=KEEP),
            *[builders.delete("ConfigMap", f"old-{n}", kept=KEEP) for n in range(30)]]
    assert refused(pruning(kept, inventory_size=31)) == []


def test_an_empty_render_never_prunes() -> None:
    problems = refused(pruning(old_configmaps(2), others=[], inventory_size=2), rendered=0,
                       allow_mass_delete=True)
    assert problems == ["the environment renders no objects: pruning would delete all 2 "
                        "object(s) it owns; an empty render never prunes"]


def test_an_empty_render_is_also_over_the_share() -> None:
    problems = refused(pruning(old_configmaps(2), others=[], inventory_size=2), rendered=0)
    assert len(problems) == 2
    assert problems[0].startswith("the environment renders no objects")
    assert problems[1].startswith("2 deletion(s), 100% of the 2 object(s) the environment owns")


@pytest.mark.parametrize(("count", "refuse"), [(20, False), (21, True)])
def test_the_cap_on_the_number_of_deletions(count: int, refuse: bool) -> None:
    problems = refused(pruning(old_configmaps(count), inventory_size=1000))
    if refuse:
        assert problems == [
            "21 deletion(s), 2% of the 1000 object(s) the environment owns: more than "
            "pruneSafety allows (20 objects, 50%); pass --allow-mass-delete if that is intended"]
    else:
        assert problems == []


@pytest.mark.parametrize(("count", "refuse"), [(5, False), (6, True)])
def test_the_cap_on_the_share_of_the_applyset(count: int, refuse: bool) -> None:
    problems = refused(pruning(old_configmaps(count), inventory_size=10))
    if refuse:
        assert problems == [
            "6 deletion(s), 60% of the 10 object(s) the environment owns: more than "
            "pruneSafety allows (20 objects, 50%); pass --allow-mass-delete if that is intended"]
    else:
        assert problems == []


def test_the_caps_come_from_the_settings() -> None:
    strict = settings(max_deletions=1, max_percent=100)
    assert refused(pruning(old_configmaps(1)), strict) == []
    assert refused(pruning(old_configmaps(2)), strict) == [
        "2 deletion(s), 2% of the 100 object(s) the environment owns: more than pruneSafety "
        "allows (1 objects, 100%); pass --allow-mass-delete if that is intended"]


def test_a_cap_of_zero_refuses_every_deletion() -> None:
    assert len(refused(pruning(old_configmaps(1)), settings(max_deletions=0))) == 1
    assert len(refused(pruning(old_configmaps(1)), settings(max_percent=0))) == 1


def test_allow_mass_delete_lifts_the_caps() -> None:
    assert refused(pruning(old_configmaps(60), inventory_size=61), allow_mass_delete=True) == []


def test_kept_objects_do_not_count_towards_the_caps() -> None:
    deletes = [*old_configmaps(5), *[builders.delete("ConfigMap", f"kept-{n}", kept=KEEP)
                                    for n in range(5)]]
    assert refused(pruning(deletes, inventory_size=10)) == []


def test_a_namespace_needs_permission() -> None:
    plan = pruning([builders.delete("Namespace", "legacy", "")])
    assert refused(plan) == [
        "Namespace legacy: pruning a namespace deletes everything in it; allow it with "
        "pruneSafety.namespaces: true"]
    assert refused(plan, settings(namespaces=True)) == []


def test_allow_mass_delete_does_not_allow_a_namespace() -> None:
    plan = pruning([builders.delete("Namespace", "legacy", "")])
    assert len(refused(plan, allow_mass_delete=True)) == 1


def test_a_crd_needs_permission() -> None:
    plan = pruning([builders.delete("CustomResourceDefinition", "widgets.example.com", "",
                                    api_version="apiextensions.k8s.io/v1")])
    assert refused(plan, allow_mass_delete=True) == [
        "CustomResourceDefinition widgets.example.com: pruning a CRD deletes all its objects; "
        "allow it with pruneSafety.customResourceDefinitions: true"]
    assert refused(plan, settings(crds=True)) == []


@pytest.mark.parametrize(("namespace", "state_namespace"), [("shop", None),
                                                            ("web", "shop")])
def test_the_state_namespace_is_never_pruned(namespace: str, state_namespace: str | None
                                             ) -> None:
    plan = pruning([builders.delete("Namespace", "shop", "")])
    everything_allowed = settings(namespaces=True, crds=True, max_deletions=100,
                                  max_percent=100, namespace=namespace,
                                  state_namespace=state_namespace)
    assert refused(plan, everything_allowed, allow_mass_delete=True) == [
        "Namespace shop holds gitdeploy's own records and lock (state.namespace): it is never "
        "pruned"]


def test_the_environment_namespace_is_an_ordinary_namespace_when_state_lives_elsewhere(
        ) -> None:
    plan = pruning([builders.delete("Namespace", "shop", "")])
    assert refused(plan, settings(namespaces=True, state_namespace="gitdeploy")) == []


def test_a_namespace_kind_of_another_group_is_not_a_namespace() -> None:
    plan = pruning([builders.delete("Namespace", "team-a", "", api_version="example.com/v1")])
    assert refused(plan) == []


def test_every_problem_is_listed() -> None:
    plan = pruning([builders.delete("Namespace", "legacy", ""),
                    builders.delete("Namespace", "shop", ""),
                    builders.delete("CustomResourceDefinition", "widgets.example.com", "",
                                    api_version="apiextensions.k8s.io/v1"),
                    *old_configmaps(20)], inventory_size=30)
    problems = refused(plan)
    assert [p.split(":")[0] for p in problems] == [
        "Namespace legacy",
        "Namespace shop holds gitdeploy's own records and lock (state.namespace)",
        "CustomResourceDefinition widgets.example.com",
        "23 deletion(s), 77% of the 30 object(s) the environment owns"]


# The ApplySet parent around an apply


def test_parent_before_adds_what_this_apply_writes_to_what_the_set_held() -> None:
    applyset = builders.inventory(group_kinds={("", "ConfigMap"), ("batch", "Job")},
                                  namespaces={"jobs"})
    plan = builders.plan([
        builders.change("ConfigMap", "settings"),
        builders.change("Deployment", "web", "frontend", api_version="apps/v1",
                        action=Action.CREATE),
        builders.change("Namespace", "frontend", "", action=Action.UNCHANGED),
        builders.delete("Secret", "old", "legacy"),
    ], applyset=applyset)
    kinds, namespaces = parent_before(plan)
    assert kinds == {("", "ConfigMap"), ("batch", "Job"), ("apps", "Deployment"),
                     ("", "Namespace")}
    assert namespaces == {"jobs", "shop", "frontend", "legacy"}


def test_parent_before_keeps_members_this_apply_deletes() -> None:
    applyset = builders.inventory(group_kinds={("", "Secret")}, namespaces={"legacy"})
    plan = builders.plan([builders.delete("Secret", "old", "legacy")], applyset=applyset,
                         prune=True)
    assert parent_before(plan) == ({("", "Secret")}, {"legacy"})


def test_parent_after_a_prune_is_exactly_what_git_holds() -> None:
    plan = builders.plan([
        builders.change("ConfigMap", "settings"),
        builders.change("Namespace", "frontend", "", action=Action.UNCHANGED),
        builders.delete("Secret", "old", "legacy"),
        builders.delete("Job", "migrate", "jobs", api_version="batch/v1"),
    ], applyset=builders.inventory(group_kinds={("", "Secret"), ("batch", "Job")}),
        prune=True)
    assert parent_after(plan) == ({("", "ConfigMap"), ("", "Namespace")}, {"shop"})


def test_parent_after_without_prune_still_lists_the_members_left_in_place() -> None:
    plan = builders.plan([
        builders.change("ConfigMap", "settings"),
        builders.delete("Job", "migrate", "jobs", api_version="batch/v1"),
    ], prune=False)
    assert parent_after(plan) == ({("", "ConfigMap"), ("batch", "Job")}, {"shop", "jobs"})


def test_parent_after_a_prune_still_lists_kept_members() -> None:
    plan = builders.plan([
        builders.change("ConfigMap", "settings"),
        builders.delete("PersistentVolumeClaim", "data", "db", kept=KEEP),
        builders.delete("Secret", "old", "legacy"),
    ], prune=True)
    assert parent_after(plan) == ({("", "ConfigMap"), ("", "PersistentVolumeClaim")},
                                  {"shop", "db"})
