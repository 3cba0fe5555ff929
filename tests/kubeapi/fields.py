"""Field sets, comparison and merging as server-side apply does them (a readable subset of
structured-merge-diff, the library kube-apiserver uses).

A field set is a set of paths; each path is a tuple of elements in the `fieldsV1` notation:
`f:<field>`, `k:<json key>` (an item of a list keyed by fields), `v:<json value>` (an item of
a set-like list). A path in the set that has members below it is written with a `".": {}`
marker in fieldsV1: the map or list item itself is owned, not only what is in it.

Which paths a manager owns differs by operation (as structured-merge-diff computes them):

- Apply: the applied configuration's own fields (`applied_set`): its leaves, empty maps, list
  items of keyed and set lists (`.` markers for items), atomic maps and lists as leaves, and
  keys the schema does not declare (under `x-kubernetes-preserve-unknown-fields`). Maps the
  schema declares are not owned themselves: no `.` for `metadata.labels` or `spec`.
- Update (create, PUT, merge patch): what the write changed (`compare`): every leaf added or
  modified, and every map, list or list item that did not exist before, which is why an Update
  manager's `labels` and `data` carry `.` when its write created them. A create compares with
  the zero object of the kind, in which non-pointer structs (`spec`, a pod template) exist
  already.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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
    "conditions": ("type",),
    "resourceClaims": ("name",),
}
_METADATA_LISTS: dict[str, tuple[str, ...] | str] = {
    "ownerReferences": ("uid",),
    "finalizers": "set",
}
# Built-in maps that are atomic: a LabelSelector, and maps the schema marks `mapType=atomic`.
_ATOMIC_MAPS = frozenset({"selector", "nodeSelector", "podSelector", "namespaceSelector",
                          "labelSelector", "namespaces"})
# Object references, atomic structs wherever they are (an Event's `involvedObject`).
_ATOMIC_STRUCTS = frozenset({"involvedObject", "regarding", "related"})
_MAPS_OF_ANY_KEYS = frozenset({"labels", "annotations", "data", "binaryData", "stringData",
                               "nodeSelector", "matchLabels", "limits", "requests"})
_STRIPPED: tuple[Path, ...] = (
    ("f:apiVersion",),
    ("f:kind",),
    ("f:status",),
    ("f:metadata",),
    *(("f:metadata", f"f:{name}") for name in (
        "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
        "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds",
    )),
)
_MISSING: Any = object()


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _name(element: str) -> str:
    return element[2:] if element.startswith("f:") else ""


@dataclass
class Schema:
    """What server-side apply knows of a kind's schema: which lists are merged by key or as
    sets (others are atomic), which maps are atomic, and, for a custom resource, which fields
    its CRD declares (`openapi`: the version's openAPIV3Schema)."""

    builtin: bool
    openapi: dict[str, Any] | None = field(default=None)

    def node(self, path: Path) -> dict[str, Any] | None:
        """The CRD schema of the value at `path`, or None where the schema says nothing."""
        node = self.openapi
        for element in path:
            if node is None:
                return None
            if element.startswith("f:"):
                child = (node.get("properties") or {}).get(element[2:])
                if child is None and isinstance(node.get("additionalProperties"), dict):
                    child = node["additionalProperties"]
            else:
                child = node.get("items")
            node = child if isinstance(child, dict) else None
        return node

    def declared(self, path: Path, key: str) -> bool:
        """Whether the schema names `key` as a field of the map at `path`. Keys of maps of
        arbitrary keys (labels, data), and unknown fields a CRD keeps with
        `x-kubernetes-preserve-unknown-fields`, are not declared."""
        if self.builtin:
            return not path or _name(path[-1]) not in _MAPS_OF_ANY_KEYS
        if not path:
            return key in ("apiVersion", "kind", "metadata") or self._declared_in(path, key)
        if path[0] == "f:metadata":
            return len(path) == 1
        return self._declared_in(path, key)

    def _declared_in(self, path: Path, key: str) -> bool:
        node = self.node(path)
        return bool(node and key in (node.get("properties") or {}))

    def atomic_map(self, path: Path) -> bool:
        if len(path) == 3 and path[:2] == ("f:metadata", "f:ownerReferences"):
            return True  # an OwnerReference is an atomic struct (unschedulable-workload#4)
        if self.builtin:
            name = _name(path[-1]) if path else ""
            return name in _ATOMIC_STRUCTS or (len(path) > 1 and name in _ATOMIC_MAPS
                                               and path[0] != "f:metadata")
        node = self.node(path)
        return bool(node and node.get("x-kubernetes-map-type") == "atomic")

    def list_type(self, path: Path, items: list[Any]) -> tuple[str, ...] | str | None:
        """Keys of a list merged by key, "set", or None for an atomic list."""
        name = _name(path[-1]) if path else ""
        if len(path) == 2 and path[0] == "f:metadata":
            return _METADATA_LISTS.get(name)
        if not self.builtin:
            node = self.node(path)
            kind = (node or {}).get("x-kubernetes-list-type")
            if kind == "map":
                return tuple((node or {}).get("x-kubernetes-list-map-keys") or ())
            return "set" if kind == "set" else None
        if name == "ports" and items and all(isinstance(i, dict) for i in items):
            if any("containerPort" in i for i in items):
                return ("containerPort", "protocol")
            return ("port", "protocol")
        return _KEYED_LISTS.get(name)

    def item_element(self, keys: tuple[str, ...], item: Any) -> str:
        if not isinstance(item, dict):
            return f"v:{_dumps(item)}"
        key = {k: item.get(k, "TCP" if k == "protocol" else None) for k in keys}
        return f"k:{_dumps({k: v for k, v in key.items() if v is not None})}"

    def element(self, path: Path, items: list[Any], item: Any) -> str | None:
        """The path element of `item` in the list at `path`; None for an atomic list."""
        list_type = self.list_type(path, items)
        if list_type is None:
            return None
        if list_type == "set":
            return f"v:{_dumps(item)}"
        return self.item_element(tuple(list_type), item)


def _strip(fields: FieldSet, status: bool = False) -> FieldSet:
    """Without the fields no manager owns: identity, server-set metadata, status (unless
    `status`: a write to the status subresource, whose fields its manager owns), and the
    `metadata` map itself (its labels, annotations, finalizers... stay)."""
    def kept(path: Path) -> bool:
        if not path or path in (("f:metadata",), ("f:status",)):
            return False
        if status and path[0] == "f:status":
            return True
        return not any(path[: len(s)] == s for s in _STRIPPED if s != ("f:metadata",))

    return {p for p in fields if kept(p)}


def applied_set(obj: dict[str, Any], schema: Schema) -> FieldSet:
    """The fields of an applied configuration (structured-merge-diff's ToFieldSet)."""
    out: FieldSet = set()

    def walk(value: Any, path: Path) -> None:
        if isinstance(value, dict):
            if schema.atomic_map(path) or (not value and path):
                out.add(path)
                return
            for key, child in value.items():
                child_path = (*path, f"f:{key}")
                walk(child, child_path)
                if not schema.declared(path, key):
                    out.add(child_path)
        elif isinstance(value, list):
            list_type = schema.list_type(path, value)
            if list_type is None:
                out.add(path)
                return
            for item in value:
                element = schema.element(path, value, item)
                item_path = (*path, str(element))
                out.add(item_path)
                if isinstance(item, dict):
                    walk(item, item_path)
        else:
            out.add(path)

    walk(obj, ())
    return _strip(out)


@dataclass
class Changes:
    added: FieldSet = field(default_factory=set)
    modified: FieldSet = field(default_factory=set)
    removed: FieldSet = field(default_factory=set)

    @property
    def touched(self) -> FieldSet:
        return self.added | self.modified


def compare(old: Any, new: Any, schema: Schema, status: bool = False) -> Changes:
    """What changed from `old` to `new` (structured-merge-diff's Compare): leaves added,
    modified or removed, and the maps, lists and list items that appeared or went. A key
    present with a null value counts as present. `status`: a write to the status
    subresource, whose changes under `status` count."""
    out = Changes()

    def leaf(left: Any, right: Any, path: Path) -> None:
        if left is _MISSING:
            out.added.add(path)
        elif right is _MISSING:
            out.removed.add(path)
        elif left != right or type(left) is not type(right):
            out.modified.add(path)

    def node(left: Any, right: Any, path: Path) -> None:
        if left is _MISSING:
            out.added.add(path)
        elif right is _MISSING:
            out.removed.add(path)

    def walk(left: Any, right: Any, path: Path) -> None:
        sample = right if right is not _MISSING else left
        if isinstance(sample, dict) or (isinstance(left, dict) and right in (None, _MISSING)):
            lmap = left if isinstance(left, dict) else None
            rmap = right if isinstance(right, dict) else None
            if (left not in (None, _MISSING) and lmap is None) or (
                    right not in (None, _MISSING) and rmap is None):
                leaf(left, right, path)  # a type change
                return
            if schema.atomic_map(path) or (not lmap and not rmap):
                leaf(left, right, path)
                return
            for key in [*(lmap or {}), *(k for k in rmap or {} if k not in (lmap or {}))]:
                walk((lmap or {}).get(key, _MISSING), (rmap or {}).get(key, _MISSING),
                     (*path, f"f:{key}"))
            node(left, right, path)
        elif isinstance(sample, list) or (isinstance(left, list) and right in (None, _MISSING)):
            llist = left if isinstance(left, list) else None
            rlist = right if isinstance(right, list) else None
            if (left not in (None, _MISSING) and llist is None) or (
                    right not in (None, _MISSING) and rlist is None):
                leaf(left, right, path)
                return
            items = (rlist or []) + (llist or [])
            if schema.list_type(path, items) is None or (not llist and not rlist):
                leaf(left, right, path)
                return
            lindex = {schema.element(path, items, i): i for i in llist or []}
            rindex = {schema.element(path, items, i): i for i in rlist or []}
            for element in [*lindex, *(e for e in rindex if e not in lindex)]:
                walk(lindex.get(element, _MISSING), rindex.get(element, _MISSING),
                     (*path, str(element)))
            node(left, right, path)
        else:
            leaf(left, right, path)

    walk(old, new, ())
    return Changes(_strip(out.added, status), _strip(out.modified, status),
                   _strip(out.removed, status))


def value_at(obj: Any, path: Path, schema: Schema) -> Any:
    current = obj
    for index, element in enumerate(path):
        if element.startswith("f:"):
            if not isinstance(current, dict) or element[2:] not in current:
                return _MISSING
            current = current[element[2:]]
        elif isinstance(current, list):
            current = _find_item(current, path[:index], element, schema)
            if current is _MISSING:
                return _MISSING
        else:
            return _MISSING
    return current


def _find_item(items: list[Any], list_path: Path, element: str, schema: Schema) -> Any:
    for item in items:
        if schema.element(list_path, items, item) == element:
            return item
    return _MISSING


def remove_path(obj: dict[str, Any], path: Path, schema: Schema) -> None:
    """Remove the field or list item at `path`, and maps or lists left empty by it."""
    parents: list[tuple[Any, Any]] = []
    current: Any = obj
    for index, element in enumerate(path):
        if element.startswith("f:"):
            if not isinstance(current, dict) or element[2:] not in current:
                return
            parents.append((current, element[2:]))
            current = current[element[2:]]
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
    """Merge applied configuration into a live value: maps by key, keyed lists and sets by
    item (live order first, new items appended), everything else replaced."""
    if isinstance(live, dict) and isinstance(applied, dict) and not schema.atomic_map(path):
        out = dict(live)
        for key, value in applied.items():
            out[key] = merge(live.get(key, _MISSING), value, (*path, f"f:{key}"), schema)
        return out
    if isinstance(live, list) and isinstance(applied, list) and (live or applied):
        items = applied + live
        if schema.list_type(path, items) is not None:
            applied_by_element = {schema.element(path, items, item): item for item in applied}
            out_items = []
            for item in live:
                element = schema.element(path, items, item)
                if element in applied_by_element:
                    out_items.append(merge(item, applied_by_element.pop(element),
                                           (*path, str(element)), schema))
                else:
                    out_items.append(item)
            out_items.extend(applied_by_element.values())
            return out_items
    return applied


def to_fields_v1(fields: FieldSet) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in sorted(fields):
        node = tree
        for element in path:
            node = node.setdefault(element, {})
    for path in fields:
        node = tree
        for element in path:
            node = node[element]
        if node and "." not in node:
            node["."] = {}
    return _sorted_tree(tree)


def _sorted_tree(tree: dict[str, Any]) -> dict[str, Any]:
    return {key: _sorted_tree(tree[key]) for key in sorted(tree)}


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
