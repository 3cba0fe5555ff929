"""Pruning's safety rules, checked before the first write, and the ApplySet parent's updates
around an apply (docs/pruning.md)."""

from __future__ import annotations

from gitdeploy.config.settings import Settings
from gitdeploy.kube.client import KubeClient
from gitdeploy.objects.applyset import GroupKind, Inventory
from gitdeploy.objects.kinds import is_crd, is_namespace
from gitdeploy.objects.manifests import group_of
from gitdeploy.results import Action
from gitdeploy.results.plan import Change, Plan


def refusals(plan: Plan, settings: Settings, *, rendered: int, allow_mass_delete: bool
             ) -> list[str]:
    """Why the planned deletions must not run; empty when they may."""
    deletes = plan.to_delete
    if not plan.prune or not deletes:
        return []
    safety = settings.prune_safety
    problems: list[str] = []
    if rendered == 0:
        problems.append(f"the environment renders no objects: pruning would delete all "
                        f"{len(deletes)} object(s) it owns; an empty render never prunes")
    for change in deletes:
        if is_namespace(group_of(change.api_version), change.kind):
            if change.name == settings.store_namespace:
                problems.append(f"Namespace {change.name} holds gitdeploy's own records and "
                                "lock (state.namespace): it is never pruned")
            elif not safety.namespaces:
                problems.append(f"Namespace {change.name}: pruning a namespace deletes "
                                "everything in it; allow it with pruneSafety.namespaces: true")
        if is_crd(group_of(change.api_version), change.kind) and not safety.crds:
            problems.append(f"CustomResourceDefinition {change.name}: pruning a CRD deletes all "
                            "its objects; allow it with "
                            "pruneSafety.customResourceDefinitions: true")
    if not allow_mass_delete:
        count, size = len(deletes), max(plan.inventory_size, 1)
        share = 100 * count / size
        if count > safety.max_deletions or share > safety.max_percent:
            problems.append(
                f"{count} deletion(s), {share:.0f}% of the {plan.inventory_size} object(s) "
                f"the environment owns: more than pruneSafety allows ({safety.max_deletions} "
                f"objects, {safety.max_percent}%); pass --allow-mass-delete if that is intended")
    return problems


def _group_kind(change: Change) -> GroupKind:
    return group_of(change.api_version), change.kind


def parent_before(plan: Plan) -> tuple[set[GroupKind], set[str]]:
    """Before any child is written: what the set held plus everything this apply writes, so that
    an interrupted apply never leaves a member the parent does not list."""
    inventory = plan.inventory
    assert inventory is not None
    kinds = set(inventory.group_kinds) | {_group_kind(c) for c in plan.changes
                                          if c.action is not Action.DELETE}
    namespaces = set(inventory.namespaces) | {c.namespace for c in plan.changes if c.namespace}
    return kinds, namespaces


def parent_after(plan: Plan) -> tuple[set[GroupKind], set[str]]:
    """After a complete apply and prune: exactly what git holds. Without pruning, members that
    were left in place still count."""
    kept = [c for c in plan.changes if c.action is not Action.DELETE or c.kept or not plan.prune]
    return ({_group_kind(c) for c in kept}, {c.namespace for c in kept if c.namespace})


def write_parent(client: KubeClient, inventory: Inventory,
                 contents: tuple[set[GroupKind], set[str]]) -> None:
    kinds, namespaces = contents
    client.apply(inventory.path, inventory.parent(kinds, namespaces), dry_run=False)
