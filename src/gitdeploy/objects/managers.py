"""Who else writes the fields gitdeploy applies, and what apply does about a conflict.

A field manager is a person's tool (kubectl edit, patch, scale, client-side apply...) or a
controller (an autoscaler, an operator, a webhook's requester). An edit by a person is drift:
git is the record, so apply takes the field back. A controller owns its fields for a reason:
what apply does then is the conflict policy of the object (annotation `gitdeploy.io/conflicts`)
or of the environment (setting `conflicts.policy`), `fail` by default (docs/real-clusters.md).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

CONFLICTS_ANNOTATION = "gitdeploy.io/conflicts"
HANDOVER_MANAGER = "gitdeploy-handover"  # holds fields gitdeploy stopped applying (handover)

# Managers that stand for a person at a terminal or a dashboard: kubectl's own (kubectl,
# kubectl-edit, kubectl-patch, kubectl-client-side-apply, kubectl-scale, kubectl-set,
# kubectl-label, kubectl-annotate, kubectl-replace, kubectl-rollout, ...), k9s, and browsers
# (the Kubernetes dashboard, Headlamp and Lens send requests under a browser's user agent).
HUMAN_MANAGERS = ("kubectl", "kubectl-*", "k9s", "Mozilla", "dashboard", "headlamp", "lens")


class ConflictPolicy(StrEnum):
    TAKE_OVER = "take-over"  # force: the field becomes gitdeploy's, with git's value
    LEAVE = "leave"  # the field is not applied: it keeps its live value and owner
    FAIL = "fail"  # apply refuses before any write, naming the field and its owner


DEFAULT_POLICY = ConflictPolicy.FAIL


def _matches(manager: str, pattern: str) -> bool:
    if pattern.endswith("*"):
        return manager.startswith(pattern[:-1])
    return manager == pattern


def is_human(manager: str, extra: tuple[str, ...] = ()) -> bool:
    """A person's edit (drift), not a controller's field."""
    return any(_matches(manager, pattern) for pattern in (*HUMAN_MANAGERS, *extra))


_MANAGER = re.compile(r'conflict with "((?:[^"\\]|\\.)*)"')


def conflict_causes(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, manager) of each FieldManagerConflict cause of a 409 answer to an apply."""
    found = []
    for cause in (body.get("details") or {}).get("causes") or []:
        if cause.get("reason") != "FieldManagerConflict":
            continue
        match = _MANAGER.search(str(cause.get("message") or ""))
        found.append((str(cause.get("field") or ""), match.group(1) if match else "unknown"))
    return found


def object_policy(body: dict[str, Any]) -> ConflictPolicy | str | None:
    """The object's own policy (its annotation), None without one, or the annotation's text
    when it is not a policy."""
    value = ((body.get("metadata") or {}).get("annotations") or {}).get(CONFLICTS_ANNOTATION)
    if value is None:
        return None
    try:
        return ConflictPolicy(str(value))
    except ValueError:
        return str(value)
