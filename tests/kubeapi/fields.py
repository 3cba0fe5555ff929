"""Field sets and merging as server-side apply does them (a readable subset of
structured-merge-diff).

A field set is a set of paths; each path is a tuple of elements in the `fieldsV1` notation:
`f:<field>`, `k:<json key>` (an item of a list keyed by fields), `v:<json value>` (an item of
a set-like list). Paths name leaves and list items; maps and lists owned as a whole are leaves.
"""

from __future__ import annotations

import json
from typing import Any

Path = tuple[str, ...]
FieldSet = set[Path]

# Built-in list fields merged by key, as the Kubernetes OpenAPI schema declares them.
_KEYED_LISTS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "volumes": ("name",),
    "env": ("name",),
    "imagePullSecrets": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "hostAliases": ("ip",),
}
_METADATA_LISTS: dict[str, tuple[str, ...] | str] = {
    "ownerReferences": ("uid",),
    "finalizers": "set",
}
_STRIPPED: tuple[Path, ...] = (
    ("f:apiVersion",),
    ("f:kind",),
    ("f:status",),
    *(("f:metadata", f"f:{name}") for name in (
        "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
        "managedFields", "selfLink", "deletionTimestamp",
    )),
)


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class Schema:
    """Which lists of an object are merged by key or as sets; all others are atomic."""

    def __init__(self, builtin: bool) -> None:
        self.builtin = builtin

    def list_type(self, path: Path, items: list[Any]) -> tuple[str, ...] | str | None:
        name = path[-1][2:] if path and path[-1].startswith("f:") else ""
        if len(path) == 2 and path[0] == "f:metadata":
            return _METADATA_LISTS.get(name)
        if not self.builtin:
            return None
        if name == "ports" and items and all(isinstance(i, dict) for i in items):
            if any("containerPort" in i for i in items):
                return ("containerPort", "protocol")
            return ("port", "protocol")
        return _KEYED_LISTS.get(name)

    def item_element(self, keys: tuple[str, ...], item: Any) -> str:
        if not isinstance(item, dict):
            return f"v:{_dumps(item)}"
        key = {k: item.get(k, "TCP" if k == "protocol" else None) for k in keys}
        return f"k:{_dumps(key)}"


def field_set(obj: dict[str, Any], schema: Schema) -> FieldSet:
    out: FieldSet = set()

    def walk(value: Any, path: Path) -> None:
        if isinstance(value, dict) and value:
            for key, child in value.items():
                walk(child, (*path, f"f:{key}"))
        elif isinstance(value, list) and value:
            list_type = schema.list_type(path, value)
            if list_type is None:
                out.add(path)
            elif list_type == "set":
                out.update((*path, f"v:{_dumps(item)}") for item in value)
            else:
                for item in value:
                    element = (*path, schema.item_element(tuple(list_type), item))
                    out.add(element)
                    if isinstance(item, dict):
                        walk(item, element)
        else:
            out.add(path)

    walk(obj, ())
    return {p for p in out if not any(p[: len(s)] == s for s in _STRIPPED) and p}


_MISSING = object()


def value_at(obj: Any, path: Path, schema: Schema) -> Any:
    current = obj
    for index, element in enumerate(path):
        kind, text = element[:2], element[2:]
        if kind == "f:":
            if not isinstance(current, dict) or text not in current:
                return _MISSING
            current = current[text]
        elif isinstance(current, list):
            current = _find_item(current, path[:index], element, schema)
            if current is _MISSING:
                return _MISSING
        else:
            return _MISSING
    return current


def _find_item(items: list[Any], list_path: Path, element: str, schema: Schema) -> Any:
    list_type = schema.list_type(list_path, items)
    for item in items:
        if list_type == "set" or list_type is None:
            if f"v:{_dumps(item)}" == element:
                return item
        elif schema.item_element(tuple(list_type), item) == element:
            return item
    return _MISSING


def differs(left: Any, right: Any, path: Path, schema: Schema) -> bool:
    return value_at(left, path, schema) != value_at(right, path, schema)


def remove_path(obj: dict[str, Any], path: Path, schema: Schema) -> None:
    """Remove the field or list item at `path`, and maps or lists left empty by it."""
    parents: list[tuple[Any, Any]] = []
    current: Any = obj
    for index, element in enumerate(path):
        kind, text = element[:2], element[2:]
        if kind == "f:":
            if not isinstance(current, dict) or text not in current:
                return
            parents.append((current, text))
            current = current[text]
        else:
            if not isinstance(current, list):
                return
            item = _find_item(current, path[:index], element, schema)
            if item is _MISSING:
                return
            parents.append((current, item))
            current = item
    for container, key in reversed(parents):
        if isinstance(container, dict):
            del container[key]
        else:
            container.remove(key)
        if container or container is obj:
            break


def merge(live: Any, applied: Any, path: Path, schema: Schema) -> Any:
    """Merge applied configuration into a live value: maps by key, keyed lists by key (live
    order first, new items appended), everything else replaced."""
    if isinstance(live, dict) and isinstance(applied, dict):
        out = dict(live)
        for key, value in applied.items():
            out[key] = merge(live.get(key, _MISSING), value, (*path, f"f:{key}"), schema)
        return out
    if isinstance(live, list) and isinstance(applied, list) and (live or applied):
        list_type = schema.list_type(path, applied or live)
        if list_type == "set":
            return live + [item for item in applied if item not in live]
        if list_type is not None:
            keys = tuple(list_type)
            applied_by_key = {schema.item_element(keys, item): item for item in applied}
            out_items = []
            for item in live:
                element = schema.item_element(keys, item)
                if element in applied_by_key:
                    out_items.append(
                        merge(item, applied_by_key.pop(element), (*path, element), schema))
                else:
                    out_items.append(item)
            out_items.extend(applied_by_key.values())
            return out_items
    return applied


def to_fields_v1(fields: FieldSet) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in sorted(fields):
        node = tree
        for element in path:
            node = node.setdefault(element, {})
        if path[-1].startswith("k:"):
            node.setdefault(".", {})
    return tree


def from_fields_v1(tree: dict[str, Any]) -> FieldSet:
    out: FieldSet = set()

    def walk(node: dict[str, Any], path: Path) -> None:
        if not node:
            out.add(path)
            return
        for element, child in node.items():
            if element == ".":
                out.add(path)
            else:
                walk(child, (*path, element))

    walk(tree, ())
    return {p for p in out if p}


def dotted(path: Path) -> str:
    """`.spec.template.spec.containers[name="web"].image`, as the API server writes paths."""
    text = ""
    for element in path:
        kind, rest = element[:2], element[2:]
        if kind == "f:":
            text += f".{rest}"
        elif kind == "k:":
            key = json.loads(rest)
            text += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in key.items()) + "]"
        else:
            text += f"[={rest}]"
    return text
