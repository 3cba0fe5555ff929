"""What in a plan stops apply before any write, each with the ways out
(docs/real-clusters.md): conflicts whose policy is `fail`, objects that need replacing without
the permission to, namespaces that do not exist without `createNamespace`."""

from __future__ import annotations

from gitdeploy.objects.managers import CONFLICTS_ANNOTATION, ConflictPolicy
from gitdeploy.plan.fields import REPLACE_ANNOTATION
from gitdeploy.results.plan import Plan


def blockers(plan: Plan, settings_path: str, *, create_namespace: bool) -> list[str]:
    """Why apply must refuse this plan; empty when it may go ahead."""
    problems: list[str] = []
    conflicted = [(c, conflict) for c in plan.changes for conflict in c.conflicts
                  if conflict.resolution is ConflictPolicy.FAIL]
    for change, conflict in conflicted:
        problems.append(f"{change.title()} ({change.manifest.origin}): {conflict.field} is held "
                        f"by field manager {conflict.manager!r} with another value than git's")
    if conflicted:
        problems.append(
            "a controller holds these fields: annotate the object "
            f"{CONFLICTS_ANNOTATION}: take-over (git wins) or leave (the controller keeps the "
            f"field), set conflicts.policy in {settings_path}, leave the field to it with an "
            "ignoreDifferences rule, or remove the field from git")
    replaced = [c for c in plan.changes if c.replace is not None and not c.replace.allowed]
    for change in replaced:
        assert change.replace is not None
        problems.append(f"{change.title()} ({change.manifest.origin}) must be replaced: "
                        + "; ".join(change.replace.fields))
    if replaced:
        problems.append(f"to delete and create it again, annotate it {REPLACE_ANNOTATION}: "
                        "\"true\" or pass --replace; or undo the change of these fields in git")
    if plan.missing_namespaces and not create_namespace:
        names = ", ".join(plan.missing_namespaces)
        problems.append(f"namespace(s) {names} do not exist: nothing was written")
        problems.append(f"set createNamespace: true in {settings_path}, or add the Namespace "
                        "object(s) to the environment")
    return problems
