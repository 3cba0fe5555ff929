"""Wrong types in built-in kinds, as structured-merge-diff finds them when a server-side apply
is turned into a typed object: the fields' types come from the OpenAPI schemas of Kubernetes
v1.36 that the kubernetes-validate package ships (the recorded server's version). Only the two
messages the recording shows are produced (`expected numeric (int or float), got string`,
crd-establish-and-cr.jsonl; `expected string, got &value.valueUnstructured{...}`,
unknown-fields.jsonl); lists are not walked (their paths carry merge keys)."""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any

SCHEMAS = "v1.36.0-local"


@functools.cache
def _folder() -> Any:
    return resources.files("kubernetes_validate").joinpath("kubernetes-json-schema", SCHEMAS)


@functools.cache
def _definitions() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_folder().joinpath("_definitions.json").read_text())
    return data.get("$defs") or data.get("definitions") or {}


@functools.cache
def _schema(api_version: str, kind: str) -> dict[str, Any] | None:
    short = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = _folder().joinpath(f"{kind.lower()}-{short}.json")
    try:
        found: dict[str, Any] = json.loads(path.read_text())
    except (FileNotFoundError, OSError, ValueError):
        return None
    return found


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = _definitions().get(str(node["$ref"]).rsplit("/", 1)[-1], {})
    return node


def _types(node: dict[str, Any]) -> set[str]:
    declared = node.get("type")
    found = set(declared if isinstance(declared, list) else [declared] if declared else [])
    for choice in node.get("oneOf") or node.get("anyOf") or []:
        found |= _types(_resolve(choice))
    if node.get("format") == "int-or-string" or node.get("x-kubernetes-int-or-string"):
        found |= {"integer", "string"}
    return found - {"null"}


def type_name(value: Any) -> str:
    """A value's type as structured-merge-diff names it in its messages."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number" if isinstance(value, float) else "int"
    if isinstance(value, str):
        return "string"
    return "map" if isinstance(value, dict) else "list" if isinstance(value, list) else "null"


def type_errors(api_version: str, kind: str, obj: dict[str, Any], go_value: Any,
                skip: tuple[str, ...] = ()) -> list[str]:
    """`.spec.replicas: expected numeric (int or float), got string`, for each field of a
    built-in object whose value has another type than its schema's; `skip` names top-level
    fields checked elsewhere."""
    schema = _schema(api_version, kind)
    if schema is None:
        return []
    wrong: list[str] = []

    def walk(value: Any, node: dict[str, Any], dotted: str) -> None:
        node = _resolve(node)
        types = _types(node)
        if value is None or not types:
            return
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if types <= {"integer", "number"} and not numeric:
            wrong.append(f"{dotted}: expected numeric (int or float), got {type_name(value)}")
            return
        if types == {"string"} and not isinstance(value, str):
            wrong.append(f"{dotted}: expected string, got {go_value(value)}")
            return
        if isinstance(value, dict) and "object" in types:
            properties = node.get("properties") or {}
            extra = node.get("additionalProperties")
            for key, child in value.items():
                if not dotted and key in skip:
                    continue
                if key in properties:
                    walk(child, properties[key], f"{dotted}.{key}")
                elif isinstance(extra, dict):
                    walk(child, extra, f"{dotted}.{key}")

    walk(obj, schema, "")
    return wrong
