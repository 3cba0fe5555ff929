"""Drift: fields that the apply changes back and that another field manager set.

Field ownership comes from the live object's `metadata.managedFields` (FieldsV1). Each field
another manager owns is looked up, by its FieldsV1 path, in the normalized live object and in
the server's dry-run result: where its value differs, the apply takes it back. List items are
found by their keys (`k:{...}`) or values (`v:...`), never by position, so an item added in
front of another does not move its owner's fields.

A `"."` entry says that the manager owns the existence of a map or list item, not its content:
it is drift only when the apply removes that map or item. The real API server writes one for
every map a manager sets keys in (`f:labels: {".": {}, "f:app": {}}`), so a label added by git
next to another manager's labels is no drift.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gitdeploy.objects.names import FIELD_MANAGER
from gitdeploy.results.plan import Drift

_MISSING = object()


@dataclass(frozen=True)
class _Field:
    """One owned field: its FieldsV1 elements, and whether only its existence is owned."""

    elements: tuple[str, ...]
    existence_only: bool


def _fields(node: dict[str, Any], elements: tuple[str, ...] = ()) -> Iterator[_Field]:
    if not node:
        yield _Field(elements, existence_only=False)
    for element, child in node.items():
        if element == ".":
            yield _Field(elements, existence_only=True)
        else:
            yield from _fields(child or {}, (*elements, element))


def _step(value: Any, element: str) -> tuple[Any, str | int | None]:
    """The value one FieldsV1 element below `value`, and its name (a key or a list index)."""
    if element.startswith("f:"):
        name = element[2:]
        if isinstance(value, dict) and name in value:
            return value[name], name
        return _MISSING, name
    if isinstance(value, list):
        for index, item in enumerate(value):
            if _matches(element, item):
                return item, index
    return _MISSING, None


def _matches(element: str, item: Any) -> bool:
    if element.startswith("k:") and isinstance(item, dict):
        key = json.loads(element[2:])
        return all(item.get(k) == v for k, v in key.items())
    if element.startswith("v:"):
        return bool(json.loads(element[2:]) == item)
    return False


def _resolve(body: Any, elements: tuple[str, ...]) -> tuple[Any, list[str | int | None]]:
    value, names = body, []
    for element in elements:
        value, name = _step(value, element) if value is not _MISSING else (_MISSING, None)
        names.append(name)
    return value, names


def _dotted(names: list[str | int | None]) -> str:
    text = ""
    for part in names:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if part is not None else ""
    return text.lstrip(".")


def find_drift(live: dict[str, Any], before: dict[str, Any], after: dict[str, Any]) -> list[Drift]:
    """Fields owned in `live` by a manager other than gitdeploy that differ between `before`
    (the normalized live object) and `after` (what the apply leaves)."""
    if before == after:
        return []
    found: dict[str, Drift] = {}
    for entry in live.get("metadata", {}).get("managedFields") or []:
        if entry.get("manager") == FIELD_MANAGER:
            continue
        for owned in _fields(entry.get("fieldsV1") or {}):
            if not owned.elements:
                continue
            old, names = _resolve(before, owned.elements)
            if old is _MISSING:
                continue  # normalized away (status, server-set metadata), or never there
            new, _ = _resolve(after, owned.elements)
            changed = new is _MISSING if owned.existence_only else new != old
            if changed:
                name = _dotted(names)
                found.setdefault(name, Drift(field=name, manager=str(entry.get("manager"))))
    return sorted(found.values(), key=lambda d: d.field)
