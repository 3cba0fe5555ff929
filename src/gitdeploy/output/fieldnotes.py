"""The words of every renderer for fields shared with others (docs/real-clusters.md): the
conflicts with other field managers, the fields left to others, the objects that need
replacing, and the namespaces a first deploy creates. Plain text; terminal and markdown style
it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitdeploy.objects.managers import ConflictPolicy

if TYPE_CHECKING:
    from gitdeploy.results.plan import Change, Plan

_RESOLUTION = {
    ConflictPolicy.TAKE_OVER: "apply takes it over",
    ConflictPolicy.LEAVE: "left to it: apply does not set it",
    ConflictPolicy.FAIL: "apply refuses",
}


def change_notes(change: Change) -> list[tuple[str, str]]:
    """(label, text) lines about one change; a person's edit is already said as drift."""
    notes = []
    for conflict in change.conflicts:
        if conflict.human:
            continue
        notes.append(("conflict", f"{conflict.field} is held by {conflict.manager} with "
                      f"another value: {_RESOLUTION[conflict.resolution]} ({conflict.reason})"))
    notes.extend(("ignored", reason) for reason in change.ignored)
    if change.replace is not None:
        fields = "; ".join(change.replace.fields)
        if change.replace.allowed:
            notes.append(("replace", f"{fields}: apply deletes the object, waits until it is "
                          f"gone, and creates it again ({change.replace.by})"))
        else:
            notes.append(("replace", f"{fields}: the object must be replaced; apply refuses "
                          "unless it is annotated gitdeploy.io/replace: \"true\" or --replace "
                          "is passed"))
    return notes


def plan_notes(plan: Plan) -> list[str]:
    """Lines about the whole plan: the namespaces that do not exist yet."""
    if not plan.missing_namespaces:
        return []
    names = ", ".join(plan.missing_namespaces)
    created = any(c.kind == "Namespace" and c.name in plan.missing_namespaces and
                  not c.namespace for c in plan.to_apply if not c.verified)
    then = ("apply creates it first (createNamespace)" if created else
            "apply refuses unless createNamespace is set or the Namespace is added to git")
    return [f"first deploy: namespace(s) {names} do not exist yet: their objects are shown as "
            f"created, not verified by the server; {then}"]
