"""The three non-apply patch formats as kube-apiserver applies them to the stored object:

- JSON merge patch (RFC 7386, `application/merge-patch+json`): maps merged, `null` removes a
  key, anything else (lists too) replaced.
- Strategic merge patch (`application/strategic-merge-patch+json`, built-in kinds only): as a
  merge patch, except that lists the Kubernetes types declare `patchStrategy: merge` are merged
  item by item on their merge key (containers by name, container ports by containerPort, ...),
  with the `$patch`, `$setElementOrder/`, `$deleteFromPrimitiveList/` and `$retainKeys`
  directives (patch-types.jsonl#3, #5).
- JSON patch (RFC 6902, `application/json-patch+json`): a list of operations; any failing
  operation (a `test` that does not hold, a path that is not there) fails the whole patch
  with a 422 that says nothing more (lease-conflict.jsonl#13).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from tests.kubeapi.errors import ApiError

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
APPLY_CBOR = "application/apply-patch+cbor"

_DIRECTIVE = "$patch"
_RETAIN_KEYS = "$retainKeys"
_ORDER_PREFIX = "$setElementOrder/"
_DELETE_PRIMITIVES_PREFIX = "$deleteFromPrimitiveList/"

# Lists the built-in types merge by a key in a strategic merge patch (their `patchMergeKey`),
# by field name; `ports` depends on where it is (`_merge_key`).
_MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "imagePullSecrets": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "hostAliases": "ip",
    "conditions": "type",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "schedulingGates": "name",
    "ownerReferences": "uid",
    "secrets": "name",  # ServiceAccount.secrets
}
# Lists of scalars merged as sets.
_MERGED_SCALAR_LISTS = frozenset({"finalizers"})


def unsupported_media_type() -> ApiError:
    """The answer to a PATCH in a format the resource does not take (patch-types.jsonl#9)."""
    return ApiError(415, "UnsupportedMediaType", "415: Unsupported Media Type", {})


# ---- JSON merge patch -----------------------------------------------------------------------
def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: `patch` applied to `target` (neither is modified)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


# ---- strategic merge patch ------------------------------------------------------------------
def strategic_merge_patch(original: dict[str, Any], patch: dict[str, Any],
                          kind: str) -> dict[str, Any]:
    """`patch` applied to `original` (neither is modified) the way apimachinery's strategicpatch
    package does it for an object of `kind`."""
    return _merge_map(copy.deepcopy(original), copy.deepcopy(patch), (), kind)


def _bad_patch(message: str) -> ApiError:
    return ApiError.bad_request(message)


def _merge_key(path: tuple[str, ...], kind: str, items: list[Any]) -> str | None:
    """The merge key of the list at `path` (None: the list is replaced as a whole)."""
    name = path[-1] if path else ""
    if name == "ports":
        if len(path) >= 2 and path[-2] in ("containers", "initContainers",
                                           "ephemeralContainers"):
            return "containerPort"
        if kind == "Service" and path == ("spec", "ports"):
            return "port"
        if any(isinstance(i, dict) and "containerPort" in i for i in items):
            return "containerPort"
        return None
    if name == "secrets" and kind != "ServiceAccount":
        return None
    if name == "ownerReferences" and path != ("metadata", "ownerReferences"):
        return None
    return _MERGE_KEYS.get(name)


def _merges_scalars(path: tuple[str, ...]) -> bool:
    return path == ("metadata", "finalizers")


def _strip_directives(value: Any) -> Any:
    """A value the patch adds where nothing was: taken as it is, without nulls or
    directives."""
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items()
                if v is not None and not k.startswith("$")}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value
                if not (isinstance(v, dict) and v.get(_DIRECTIVE) in ("replace", "delete"))]
    return value


def _merge_map(original: dict[str, Any], patch: dict[str, Any], path: tuple[str, ...],
               kind: str) -> dict[str, Any]:
    directive = patch.pop(_DIRECTIVE, None)
    if directive == "replace":
        replaced: dict[str, Any] = _strip_directives(patch)
        return replaced
    if directive == "delete":
        return {}
    if directive not in (None, "merge"):
        raise _bad_patch(f"Unknown patch type: {directive} in map: {json.dumps(patch)}")
    retain = patch.pop(_RETAIN_KEYS, None)
    if retain is not None:
        if not isinstance(retain, list):
            raise _bad_patch("invalid patch: $retainKeys must be a list")
        original = {k: v for k, v in original.items() if k in retain}
    orders: dict[str, list[Any]] = {}
    for key in [k for k in patch if k.startswith(_ORDER_PREFIX)]:
        order = patch.pop(key)
        if not isinstance(order, list):
            raise _bad_patch(f"invalid patch: {key} must be a list")
        orders[key[len(_ORDER_PREFIX):]] = order
    for key in [k for k in patch if k.startswith(_DELETE_PRIMITIVES_PREFIX)]:
        gone = patch.pop(key)
        field = key[len(_DELETE_PRIMITIVES_PREFIX):]
        if not isinstance(gone, list):
            raise _bad_patch(f"invalid patch: {key} must be a list")
        if isinstance(original.get(field), list):
            original[field] = [v for v in original[field] if v not in gone]
    for key, value in patch.items():
        child = (*path, key)
        if value is None:
            original.pop(key, None)
        elif key not in original or original[key] is None:
            original[key] = _strip_directives(value)
            if isinstance(value, list) and key in orders:
                original[key] = _order_only(original[key], orders[key], child, kind)
        elif isinstance(value, dict) and isinstance(original[key], dict):
            original[key] = _merge_map(original[key], value, child, kind)
        elif isinstance(value, list) and isinstance(original[key], list):
            original[key] = _merge_list(original[key], value, child, kind, orders.get(key))
        else:
            original[key] = _strip_directives(value)
    for key, order in orders.items():
        if key not in patch and isinstance(original.get(key), list):
            original[key] = _order_only(original[key], order, (*path, key), kind)
    return original


def _item_id(item: Any, key: str | None) -> Any:
    if key is None:
        return json.dumps(item, sort_keys=True)
    return json.dumps(item.get(key) if isinstance(item, dict) else item, sort_keys=True)


def _merge_list(original: list[Any], patch: list[Any], path: tuple[str, ...], kind: str,
                order: list[Any] | None) -> list[Any]:
    scalars = all(not isinstance(i, dict) for i in original + patch)
    key = None if scalars else _merge_key(path, kind, original + patch)
    if not scalars and key is None and any(isinstance(i, dict) and _DIRECTIVE in i
                                           for i in patch):
        raise _bad_patch(f"cannot merge lists without merge key for {path[-1]}")
    if key is None and not (scalars and _merges_scalars(path)):
        replaced: list[Any] = _strip_directives(patch)
        return replaced
    if not scalars:
        if any(isinstance(i, dict) and i.get(_DIRECTIVE) == "replace" for i in patch):
            return [_strip_directives(i) for i in patch
                    if not (isinstance(i, dict) and i.get(_DIRECTIVE) == "replace")]
        merged = list(original)
        items: list[Any] = []
        for item in patch:
            if not isinstance(item, dict):
                raise _bad_patch(f"invalid patch: a list item of {path[-1]} is not a map")
            if item.get(_DIRECTIVE) == "delete":
                if key not in item:
                    raise _bad_patch(f"map: {json.dumps(item)} does not contain declared merge "
                                     f"key: {key}")
                merged = [m for m in merged if _item_id(m, key) != _item_id(item, key)]
                continue
            items.append(item)
        for item in items:
            if key not in item:
                raise _bad_patch(f"map: {json.dumps(item)} does not contain declared merge "
                                 f"key: {key}")
            for index, live in enumerate(merged):
                if isinstance(live, dict) and _item_id(live, key) == _item_id(item, key):
                    merged[index] = _merge_map(live, item, path, kind)
                    break
            else:
                merged.append(_strip_directives(item))
        patch_order = order if order is not None else items
    else:
        merged = list(original)
        for item in patch:
            if item not in merged:
                merged.append(item)
        patch_order = order if order is not None else patch
    return _normalise_order(merged, patch_order, original, key)


def _order_only(items: list[Any], order: list[Any], path: tuple[str, ...],
                kind: str) -> list[Any]:
    scalars = all(not isinstance(i, dict) for i in items)
    key = None if scalars else _merge_key(path, kind, items)
    if not scalars and key is None:
        return items
    return _normalise_order(items, order, items, key)


def _normalise_order(merged: list[Any], patch_order: list[Any], server_order: list[Any],
                     key: str | None) -> list[Any]:
    """The items named in the patch in the patch's order, with the server's other items put
    back among them where the live list had them (strategicpatch's normalizeElementOrder)."""
    wanted = [_item_id(i, key) for i in patch_order]
    live = [_item_id(i, key) for i in server_order]
    in_patch = [i for i in merged if _item_id(i, key) in wanted]
    server_only = [i for i in merged if _item_id(i, key) not in wanted]
    in_patch.sort(key=lambda i: wanted.index(_item_id(i, key)))
    server_only.sort(key=lambda i: live.index(_item_id(i, key))
                     if _item_id(i, key) in live else len(live))
    out: list[Any] = []
    left, right = 0, 0
    while left < len(server_only) or right < len(in_patch):
        if left >= len(server_only):
            out.append(in_patch[right])
            right += 1
        elif right >= len(in_patch):
            out.append(server_only[left])
            left += 1
        else:
            a, b = _item_id(server_only[left], key), _item_id(in_patch[right], key)
            if a in live and b in live and live.index(a) < live.index(b):
                out.append(server_only[left])
                left += 1
            else:
                out.append(in_patch[right])
                right += 1
    return out


# ---- JSON patch -----------------------------------------------------------------------------
class _Failed(Exception):
    pass


def _rejected() -> ApiError:
    """What any failing JSON patch operation gets (lease-conflict.jsonl#13)."""
    return ApiError(422, "Invalid", "the server rejected our request due to an error in our "
                    "request", {})


def decode_json_patch(raw: bytes) -> list[dict[str, Any]]:
    try:
        operations = json.loads(raw.decode() or "null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError.bad_request(f"invalid character in JSON patch: {exc}") from None
    if not isinstance(operations, list):
        kind = "object" if isinstance(operations, dict) else "value"
        raise ApiError.bad_request(f"json: cannot unmarshal {kind} into Go value of type "
                                   "jsonpatch.Patch")
    if not all(isinstance(op, dict) for op in operations):
        raise ApiError.bad_request("json: cannot unmarshal array into Go value of type "
                                   "jsonpatch.Operation")
    return operations


def json_patch(document: Any, operations: list[dict[str, Any]]) -> Any:
    """RFC 6902: the operations applied in order to a copy of `document`."""
    doc = copy.deepcopy(document)
    try:
        for op in operations:
            doc = _operation(doc, op)
    except _Failed:
        raise _rejected() from None
    return doc


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise _Failed
    if path == "":
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container: list[Any], token: str, adding: bool) -> int:
    if token == "-" and adding:
        return len(container)
    if not token.isdigit() or (token != "0" and token.startswith("0")):
        raise _Failed
    index = int(token)
    if index > len(container) or (index == len(container) and not adding):
        raise _Failed
    return index


def _parent(doc: Any, tokens: list[str]) -> Any:
    current = doc
    for token in tokens[:-1]:
        if isinstance(current, dict):
            if token not in current:
                raise _Failed
            current = current[token]
        elif isinstance(current, list):
            current = current[_index(current, token, False)]
        else:
            raise _Failed
    return current


def _get(doc: Any, tokens: list[str]) -> Any:
    if not tokens:
        return doc
    parent = _parent(doc, tokens)
    token = tokens[-1]
    if isinstance(parent, dict):
        if token not in parent:
            raise _Failed
        return parent[token]
    if isinstance(parent, list):
        return parent[_index(parent, token, False)]
    raise _Failed


def _add(doc: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent = _parent(doc, tokens)
    if isinstance(parent, dict):
        parent[tokens[-1]] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, tokens[-1], True), value)
    else:
        raise _Failed
    return doc


def _remove(doc: Any, tokens: list[str]) -> Any:
    if not tokens:
        raise _Failed
    parent = _parent(doc, tokens)
    if isinstance(parent, dict):
        if tokens[-1] not in parent:
            raise _Failed
        del parent[tokens[-1]]
    elif isinstance(parent, list):
        del parent[_index(parent, tokens[-1], False)]
    else:
        raise _Failed
    return doc


def _operation(doc: Any, op: dict[str, Any]) -> Any:
    kind = op.get("op")
    tokens = _pointer(op.get("path"))
    if kind == "add":
        if "value" not in op:
            raise _Failed
        return _add(doc, tokens, copy.deepcopy(op["value"]))
    if kind == "remove":
        return _remove(doc, tokens)
    if kind == "replace":
        if "value" not in op:
            raise _Failed
        _get(doc, tokens)
        if not tokens:
            return copy.deepcopy(op["value"])
        return _add(_remove(doc, tokens), tokens, copy.deepcopy(op["value"]))
    if kind in ("move", "copy"):
        source = _pointer(op.get("from"))
        value = copy.deepcopy(_get(doc, source))
        if kind == "move":
            if tokens[: len(source)] == source and len(tokens) > len(source):
                raise _Failed  # into itself
            doc = _remove(doc, source)
        return _add(doc, tokens, value)
    if kind == "test":
        try:
            found = _get(doc, tokens)
        except _Failed:
            found = None
        if not _equal(found, op.get("value")):
            raise _Failed
        return doc
    raise _Failed


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    return bool(left == right)
