"""Field paths as server-side apply names them, found in an object's body.

Two spellings, both the API server's own:

- the field of a conflict (a 409's `details.causes[].field`): `.spec.replicas`,
  `.spec.template.spec.containers[name="web"].image`, `.metadata.labels.app.kubernetes.io/name`
  (keys are not escaped: a key with dots is told apart by the keys the body has);
- FieldsV1 elements of `metadata.managedFields` (`f:spec`, `k:{"name":"web"}`, `v:"a"`).

A path is turned into the steps (a key or a list index) that reach the field in a body, so
that a field can be read, removed, or copied with the list items' keys that name it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Sequence
from typing import Any

Step = str | int  # a key of a mapping, or an index in a list
MISSING = object()


# ---- conflict fields -------------------------------------------------------------------------
def _bracket(text: str) -> tuple[dict[str, Any] | None, Any, int | None, int]:
    """One `[...]` of a conflict field at the start of `text`: (key fields, value, index,
    length). `[name="web",port=80]` names an item by its keys, `[="a"]` by its value, `[3]`
    by its position."""
    decoder = json.JSONDecoder()
    position = 1
    if text[position] == "=":
        value, end = decoder.raw_decode(text, position + 1)
        return None, value, None, end + 1
    if text[position].isdigit():
        end = text.index("]", position)
        return None, MISSING, int(text[position:end]), end + 1
    keys: dict[str, Any] = {}
    while True:
        equals = text.index("=", position)
        name = text[position:equals]
        value, position = decoder.raw_decode(text, equals + 1)
        keys[name] = value
        if text[position] == "]":
            return keys, MISSING, None, position + 1
        position += 1  # ","


def _item_matches(item: Any, keys: dict[str, Any]) -> bool:
    """A list item named by its keys; a key the item leaves out was defaulted by the server
    (`protocol: TCP` of a port): it does not tell items apart."""
    return isinstance(item, dict) and all(item.get(k, v) == v for k, v in keys.items())


def conflict_steps(body: Any, field: str) -> list[Step] | None:
    """The steps that reach the conflict `field` in `body`, or None when it has no such
    field. Keys holding dots are matched against the keys the body has, longest first."""
    if not field:
        return []
    if field.startswith("."):
        if not isinstance(body, dict):
            return None
        rest = field[1:]
        for key in sorted((k for k in body if rest.startswith(k)), key=len, reverse=True):
            after = rest[len(key):]
            if after and after[0] not in ".[":
                continue
            found = conflict_steps(body[key], after)
            if found is not None:
                return [key, *found]
        return None
    if field.startswith("[") and isinstance(body, list):
        try:
            keys, value, index, length = _bracket(field)
        except ValueError:
            return None
        for position, item in enumerate(body):
            if (index is not None and position == index) or (
                    keys is not None and _item_matches(item, keys)) or (
                    value is not MISSING and item == value):
                found = conflict_steps(item, field[length:])
                if found is not None:
                    return [position, *found]
        return None
    return None


# ---- steps -----------------------------------------------------------------------------------
def read(body: Any, steps: list[Step]) -> Any:
    """The value at `steps`, or MISSING."""
    value = body
    for step in steps:
        if isinstance(step, int):
            if not isinstance(value, list) or not 0 <= step < len(value):
                return MISSING
        elif not isinstance(value, dict) or step not in value:
            return MISSING
        value = value[step]
    return value


def remove(body: Any, steps: list[Step]) -> bool:
    """Remove the field at `steps` from `body` (in place); False when it is not there."""
    if not steps:
        return False
    parent = read(body, steps[:-1])
    last = steps[-1]
    if isinstance(last, int) and isinstance(parent, list) and 0 <= last < len(parent):
        del parent[last]
        return True
    if isinstance(last, str) and isinstance(parent, dict) and last in parent:
        del parent[last]
        return True
    return False


def remove_all(body: Any, paths: list[list[Step]]) -> None:
    """Remove several fields: list items from the last to the first, so that removing one does
    not move the next."""
    for steps in sorted(paths, key=lambda s: [(0, p) if isinstance(p, int) else (1, p)
                                              for p in s], reverse=True):
        remove(body, steps)


def dotted(steps: Sequence[Step]) -> str:
    """How messages name a field: `spec.template.spec.containers[0].image`."""
    text = ""
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else f".{step}"
    return text.lstrip(".")


# ---- FieldsV1 --------------------------------------------------------------------------------
def element_matches(element: str, item: Any) -> bool:
    """A FieldsV1 list element (`k:{...}` or `v:...`) names this list item."""
    if element.startswith("k:") and isinstance(item, dict):
        return _item_matches(item, json.loads(element[2:]))
    if element.startswith("v:"):
        return bool(json.loads(element[2:]) == item)
    return False


def owned_leaves(fields: dict[str, Any], body: Any) -> Iterator[list[Step]]:
    """The steps, in `body`, of every field a FieldsV1 set owns (not the maps and list items
    whose mere existence it owns: `"."`)."""
    def walk(node: dict[str, Any], value: Any, steps: list[Step]) -> Iterator[list[Step]]:
        children = {e: c for e, c in node.items() if e != "."}
        if not children:
            if steps:
                yield steps
            return
        for element, child in children.items():
            if element.startswith("f:"):
                if isinstance(value, dict) and element[2:] in value:
                    yield from walk(child or {}, value[element[2:]], [*steps, element[2:]])
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    if element_matches(element, item):
                        yield from walk(child or {}, item, [*steps, index])
                        break
    yield from walk(fields, body, [])


def manager_fields(live: dict[str, Any], manager: str, operation: str = "Apply"
                   ) -> dict[str, Any]:
    """The FieldsV1 set `manager` holds in `live` through `operation` (not a subresource)."""
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") == manager and entry.get("operation") == operation and \
                not entry.get("subresource"):
            fields = entry.get("fieldsV1") or {}
            return fields if isinstance(fields, dict) else {}
    return {}


def owns(fields: dict[str, Any], body: Any, steps: list[Step]) -> list[str] | None:
    """The FieldsV1 elements through which `fields` owns the field at `steps` of `body`, or
    None when it does not own it."""
    node, value, elements = fields, body, []
    for step in steps:
        if isinstance(step, str):
            element = f"f:{step}"
            if element not in node or not isinstance(value, dict):
                return None
            value = value.get(step)
        else:
            if not isinstance(value, list) or not 0 <= step < len(value):
                return None
            item = value[step]
            element = next((e for e in node if e != "." and element_matches(e, item)), "")
            if not element:
                return None
            value = item
        elements.append(element)
        node = node[element] or {}
    return elements


def with_keys(live: Any, elements: list[str]) -> tuple[Any, dict[str, Any]] | None:
    """The live value the FieldsV1 `elements` reach, and a partial object holding it with the
    keys of every list item on the way (what an apply of that one field sends); None when
    `live` has no such field."""
    value: Any = live
    partial: dict[str, Any] = {}
    holder: Any = partial
    for position, element in enumerate(elements):
        last = position == len(elements) - 1
        if element.startswith("f:"):
            name = element[2:]
            if not isinstance(value, dict) or name not in value:
                return None
            value = value[name]
            child: Any = copy.deepcopy(value) if last else \
                ([] if isinstance(value, list) else {})
            holder[name] = child
        else:
            if not isinstance(value, list):
                return None
            item = next((i for i in value if element_matches(element, i)), MISSING)
            if item is MISSING:
                return None
            value = item
            if last or not element.startswith("k:"):
                child = copy.deepcopy(item)
            else:
                child = dict(json.loads(element[2:]))
            holder.append(child)
        holder = child
    return value, partial


def merge(into: dict[str, Any], part: dict[str, Any]) -> None:
    """Merge a partial object of `with_keys` into another (list items by equal keys)."""
    for key, value in part.items():
        mine = into.get(key)
        if isinstance(mine, dict) and isinstance(value, dict):
            merge(mine, value)
        elif isinstance(mine, list) and isinstance(value, list):
            for item in value:
                same = next((m for m in mine if isinstance(m, dict) and isinstance(item, dict)
                             and all(m.get(k) == item.get(k) for k in item
                                     if not isinstance(item.get(k), (dict, list)))), None)
                if same is None:
                    mine.append(item)
                else:
                    merge(same, item)
        else:
            into[key] = copy.deepcopy(value)
