"""Secret values never leave gitdeploy: every renderer sees masked copies.

A masked value keeps its key, so a diff still shows which keys were added, removed or changed.
"""

from __future__ import annotations

import copy
from typing import Any

MASK = "<masked>"
MASK_BEFORE = "<masked: old value>"
MASK_AFTER = "<masked: new value>"
SECRET_FIELDS = ("data", "stringData")


def is_secret(body: dict[str, Any] | None) -> bool:
    return bool(body) and body.get("kind") == "Secret" and body.get("apiVersion") == "v1"  # type: ignore[union-attr]


def mask(body: dict[str, Any]) -> dict[str, Any]:
    """A copy of `body` with every Secret value replaced."""
    if not is_secret(body):
        return body
    masked = copy.deepcopy(body)
    for field in SECRET_FIELDS:
        if isinstance(masked.get(field), dict):
            masked[field] = dict.fromkeys(masked[field], MASK)
    _drop_last_applied(masked)
    return masked


def mask_pair(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Masked copies of two versions of an object; a changed value shows as changed."""
    if not (is_secret(before) or is_secret(after)):
        return before, after
    old = mask(before) if before else None
    new = mask(after) if after else None
    if before and after and old and new:
        for field in SECRET_FIELDS:
            old_values, new_values = before.get(field), after.get(field)
            if not (isinstance(old_values, dict) and isinstance(new_values, dict)):
                continue
            for key in old_values.keys() & new_values.keys():
                if old_values[key] != new_values[key]:
                    old[field][key], new[field][key] = MASK_BEFORE, MASK_AFTER
    return old, new


def _drop_last_applied(body: dict[str, Any]) -> None:
    # kubectl's client-side apply keeps the whole object, values included, in this annotation.
    annotations = (body.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        annotations.pop("kubectl.kubernetes.io/last-applied-configuration", None)
