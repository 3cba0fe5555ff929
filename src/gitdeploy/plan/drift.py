"""Drift: fields that differ between the cluster and git and that another field manager set.

Field ownership comes from the live object's `metadata.managedFields` (FieldsV1); what differs
comes from DeepDiff between the normalized live object and the server's dry-run result.
"""

from __future__ import annotations

import json
from typing import Any

from deepdiff import DeepDiff

from gitdeploy.objects.names import FIELD_MANAGER
from gitdeploy.results import Drift

Path = tuple[str | int, ...]


def _owned(node: dict[str, Any], value: Any, path: Path, out: set[Path]) -> None:
    """Concrete paths (keys and list indexes) of the fields in a FieldsV1 tree."""
    if not node:
        out.add(path)
    for element, child in node.items():
        if element == ".":
            out.add(path)
        elif element.startswith("f:"):
            name = element[2:]
            inner = value.get(name) if isinstance(value, dict) else None
            _owned(child, inner, (*path, name), out)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if _matches(element, item):
                    _owned(child, item, (*path, index), out)


def _matches(element: str, item: Any) -> bool:
    if element.startswith("k:") and isinstance(item, dict):
        key = json.loads(element[2:])
        return all(item.get(k) == v for k, v in key.items())
    if element.startswith("v:"):
        return bool(json.loads(element[2:]) == item)
    return False


def _dotted(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


def find_drift(live: dict[str, Any], before: dict[str, Any], after: dict[str, Any]) -> list[Drift]:
    """Changed fields of `before` -> `after` owned in `live` by a manager other than gitdeploy."""
    changed: list[Path] = [
        tuple(level.path(output_format="list"))
        for levels in DeepDiff(before, after, verbose_level=2).tree.values()
        for level in levels
    ]
    if not changed:
        return []
    found: dict[str, Drift] = {}
    for entry in live.get("metadata", {}).get("managedFields") or []:
        if entry.get("manager") == FIELD_MANAGER:
            continue
        owned: set[Path] = set()
        _owned(entry.get("fieldsV1") or {}, live, (), owned)
        for path in changed:
            if any(path[: len(o)] == o or o[: len(path)] == path for o in owned if o):
                name = _dotted(path)
                found.setdefault(name, Drift(field=name, manager=str(entry.get("manager"))))
    return sorted(found.values(), key=lambda d: d.field)
