"""What the server checks when it turns a request body into an object, before any rule of the
kind: fields the schema does not declare, values of the wrong type, Secret data that is not
base64. Server-side apply fails such a body with a 500 and no reason (ssa-unknown-field.jsonl,
secret-invalid-base64.jsonl, crd-establish-and-cr.jsonl#13-#15); a create or update drops
unknown fields with a warning, or refuses them with `fieldValidation=Strict`.

The built-in schemas are known here only as far as the recording exercises them: the fields of
ObjectMeta, the top-level fields of common kinds, the spec fields of workloads.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from tests.kubeapi import builtin_types, fields
from tests.kubeapi.errors import ApiError

_META_FIELDS = frozenset({
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
    "annotations", "ownerReferences", "finalizers", "managedFields",
})
_OBJECT = frozenset({"apiVersion", "kind", "metadata"})
_WITH_SPEC = _OBJECT | {"spec", "status"}
_TOP_FIELDS: dict[tuple[str, str], frozenset[str]] = {
    ("", "ConfigMap"): _OBJECT | {"data", "binaryData", "immutable"},
    ("", "Secret"): _OBJECT | {"data", "stringData", "type", "immutable"},
    ("", "ServiceAccount"): _OBJECT | {"secrets", "imagePullSecrets",
                                       "automountServiceAccountToken"},
    ("", "Namespace"): _WITH_SPEC,
    ("", "Service"): _WITH_SPEC,
    ("", "Pod"): _WITH_SPEC,
    ("", "PersistentVolumeClaim"): _WITH_SPEC,
    ("apps", "Deployment"): _WITH_SPEC,
    ("apps", "StatefulSet"): _WITH_SPEC,
    ("apps", "DaemonSet"): _WITH_SPEC,
    ("apps", "ReplicaSet"): _WITH_SPEC,
    ("batch", "Job"): _WITH_SPEC,
    ("batch", "CronJob"): _WITH_SPEC,
    ("networking.k8s.io", "Ingress"): _WITH_SPEC,
    ("coordination.k8s.io", "Lease"): _OBJECT | {"spec"},
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _WITH_SPEC,
}
_DEPLOYMENT_SPEC = frozenset({"replicas", "selector", "template", "strategy", "minReadySeconds",
                              "revisionHistoryLimit", "paused", "progressDeadlineSeconds"})
_SPEC_FIELDS: dict[tuple[str, str], frozenset[str]] = {
    ("apps", "Deployment"): _DEPLOYMENT_SPEC,
}
_STRING_MAPS = {("", "ConfigMap"): ("data",), ("", "Secret"): ("stringData",)}
_BASE64 = re.compile(r"[A-Za-z0-9+/]")


def _go_value(value: Any) -> str:
    text = "true" if value is True else "false" if value is False else str(value)
    return f"&value.valueUnstructured{{Value:{text}}}"


def problems(group: str, kind: str, builtin: bool, obj: dict[str, Any],
             schema: fields.Schema) -> tuple[list[str], list[str]]:
    """Paths of fields the schema does not declare (`spec.nonsense`), and type errors
    (`.data.on: expected string, got ...`), of `obj`."""
    unknown: list[str] = []
    wrong: list[str] = []
    if builtin:
        top = _TOP_FIELDS.get((group, kind))
        for key, value in obj.items():
            if top is not None and key not in top:
                unknown.append(key)
            elif key == "metadata" and isinstance(value, dict):
                unknown += [f"metadata.{k}" for k in value if k not in _META_FIELDS]
            elif key == "spec" and isinstance(value, dict) and (group, kind) in _SPEC_FIELDS:
                unknown += [f"spec.{k}" for k in value if k not in _SPEC_FIELDS[(group, kind)]]
        for name in _STRING_MAPS.get((group, kind), ()):
            for key, value in sorted((obj.get(name) or {}).items()):
                if not isinstance(value, str):
                    wrong.append(f".{name}.{key}: expected string, got {_go_value(value)}")
        wrong += builtin_types.type_errors(str(obj.get("apiVersion") or ""), kind, obj,
                                           _go_value, skip=("metadata", *_STRING_MAPS.get(
                                               (group, kind), ())))
        return unknown, wrong
    if schema.openapi is None:
        return unknown, wrong

    def walk(value: Any, path: fields.Path, dotted: str) -> None:
        node = schema.node(path)
        if node is None:
            return
        declared = node.get("type")
        if declared in ("integer", "number") and (isinstance(value, bool)
                                                  or not isinstance(value, (int, float))):
            wrong.append(f"{dotted}: expected numeric (int or float), got "
                         f"{builtin_types.type_name(value)}")
            return
        if declared == "string" and not isinstance(value, str):
            wrong.append(f"{dotted}: expected string, got {_go_value(value)}")
            return
        if isinstance(value, dict):
            properties = node.get("properties") or {}
            open_ended = node.get("x-kubernetes-preserve-unknown-fields") or isinstance(
                node.get("additionalProperties"), dict)
            for key, child in value.items():
                if not path and key in _OBJECT:
                    continue
                if key in properties:
                    walk(child, (*path, f"f:{key}"), f"{dotted}.{key}")
                elif not open_ended:
                    unknown.append(f"{dotted}.{key}".lstrip("."))

    walk(obj, (), "")
    return unknown, wrong


def _object_id(namespace: str, name: str) -> str:
    return f"{namespace}/{name}" if namespace else name


def check_applied(group: str, version: str, kind: str, builtin: bool, namespace: str,
                  name: str, applied: dict[str, Any], schema: fields.Schema) -> None:
    """A server-side apply's body as structured-merge-diff reads it: a 500 for anything the
    schema does not allow, whatever fieldValidation says."""
    gvk = f"{group}/{version}, Kind={kind}"
    unknown, wrong = problems(group, kind, builtin, applied, schema)
    errors = sorted([f".{path}: field not declared in schema" for path in unknown] + wrong)
    if errors:
        text = errors[0] if len(errors) == 1 else "errors:\n  " + "\n  ".join(errors)
        raise ApiError(500, "", f"failed to create typed patch object "
                       f"({_object_id(namespace, name)}; {gvk}): {text}")
    position = _bad_base64(applied) if (group, kind) == ("", "Secret") else None
    if position is not None:
        raise ApiError(500, "", f"failed to convert new object ({_object_id(namespace, name)}; "
                       f"{gvk}) to proper version: unable to convert unstructured object to "
                       f"{gvk}: error decoding from json: illegal base64 data at input byte "
                       f"{position}")


# The Go package of each built-in group's internal types, which a body is converted to.
_INTERNAL_PACKAGES = {"": "core", "events.k8s.io": "core",
                      "internal.apiserver.k8s.io": "apiserverinternal"}
# Served by kube-apiserver's own scheme (not the apiextensions or aggregator servers').
_LEGACY_SCHEME = 'scheme "pkg/api/legacyscheme/scheme.go:30"'


def _package(group: str) -> str:
    return _INTERNAL_PACKAGES.get(group, group.split(".", maxsplit=1)[0])


def _registered(group: str, version: str, kind: str) -> bool:
    """Whether kube-apiserver's scheme knows `kind` in `group/version`: a built-in kind, its
    list, or (in the core group) the generic `List`."""
    from tests.kubeapi.resources import BUILTIN_TYPES

    if (group, version, kind) == ("", "v1", "List"):
        return True
    return any(t.group == group and version in t.versions and kind in (t.kind, f"{t.kind}List")
               for t in BUILTIN_TYPES)


def check_kind(group: str, version: str, kind: str, body: dict[str, Any]) -> None:
    """A create's or update's body is decoded as the kind it says it is and converted to the
    resource's kind: another kind is a 400 (list-kind.jsonl#3: a `List` sent to configmaps),
    as kube-apiserver's codec words it. A body without kind or apiVersion takes the
    resource's."""
    sent = body.get("kind")
    if not isinstance(sent, str) or not sent:
        return
    api_version = body.get("apiVersion")
    sent_group, _, sent_version = (api_version if isinstance(api_version, str) and api_version
                                   else f"{group}/{version}").rpartition("/")
    package = _package(group)
    if sent == kind and _package(sent_group) == package:
        return  # the same internal type: converted (an events.k8s.io Event sent as v1)
    if group in ("apiextensions.k8s.io", "apiregistration.k8s.io"):
        return  # other servers, other schemes: not modelled
    where = f"{sent_group}/{sent_version}" if sent_group else sent_version
    if _registered(sent_group, sent_version, sent):
        cause = (f"converting ({sent_version}.{sent}) to ({package}.{kind}): unknown "
                 "conversion")
    else:
        cause = f'no kind "{sent}" is registered for version "{where}" in {_LEGACY_SCHEME}'
    raise ApiError.bad_request(f'{sent} in version "{sent_version}" cannot be handled as a '
                               f"{kind}: {cause}")


def decode(group: str, version: str, kind: str, builtin: bool, body: dict[str, Any],
           schema: fields.Schema, validation: str | None) -> list[str]:
    """A create's or update's body: unknown fields dropped, with a warning each unless
    `fieldValidation=Ignore`, or a 400 with `Strict`; bad base64 is a 400. Returns the
    Warning headers."""
    if (group, kind) == ("", "Secret"):
        position = _bad_base64(body)
        if position is not None:
            raise ApiError.bad_request(f'{kind} in version "{version}" cannot be handled as a '
                                       f"{kind}: illegal base64 data at input byte {position}")
    unknown, _ = problems(group, kind, builtin, body, schema)
    if unknown and validation == "Strict":
        listed = ", ".join(f'unknown field "{path}"' for path in unknown)
        raise ApiError.bad_request(f'{kind} in version "{version}" cannot be handled as a '
                                   f"{kind}: strict decoding error: {listed}")
    for path in unknown:
        _drop(body, path.split("."))
    if validation == "Ignore":
        return []
    return [f'299 - "unknown field \\"{path}\\""' for path in unknown]


def _drop(body: dict[str, Any], keys: list[str]) -> None:
    current: Any = body
    for key in keys[:-1]:
        current = current.get(key) if isinstance(current, dict) else None
    if isinstance(current, dict):
        current.pop(keys[-1], None)


def _bad_base64(secret: dict[str, Any]) -> int | None:
    """Where Go's base64 decoder fails on a value of `data`, as its error says: the first
    byte outside the alphabet, else the start of an incomplete last quantum."""
    for value in (secret.get("data") or {}).values():
        if not isinstance(value, str):
            continue
        text = value.rstrip("=")
        for index, char in enumerate(text):
            if not _BASE64.match(char):
                return index
        if len(value) % 4:
            return len(value) - len(value) % 4
    return None


def _duplicates(node: yaml.Node) -> list[str]:
    """`line N: key "k" already set in map` for each key repeated in a mapping, as Go's YAML
    decoder says it."""
    found: list[str] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                found.append(f"line {key.start_mark.line + 1}: key {json.dumps(name)} already "
                             "set in map")
            seen.add(name)
            found += _duplicates(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found += _duplicates(item)
    return found


def check_yaml(raw: bytes, content_type: str, validation: str | None) -> None:
    """A YAML apply body under `fieldValidation=Strict` may not repeat a key
    (ssa-unknown-field.jsonl#13: a 400 before anything else is looked at)."""
    if validation != "Strict" or content_type != "application/apply-patch+yaml":
        return
    try:
        node = yaml.compose(raw.decode())
    except (yaml.YAMLError, UnicodeDecodeError):
        return  # the body's own parse reports it
    duplicates = _duplicates(node) if node is not None else []
    if duplicates:
        raise ApiError.bad_request("error strict decoding YAML: error converting YAML to JSON: "
                                   "yaml: unmarshal errors:\n  " + "\n  ".join(duplicates))
