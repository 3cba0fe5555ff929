"""The JSON Schema of `gitdeploy.yaml`, for editors (docs/configuration.md#editor-support).

Made from the settings parser's own key tables (config/settings.py: each key with the check of
its value), so that a key added to the parser is in the schema too; the checks are mapped to
schema types here. The blocks whose keys the parser keeps inside a function (`validation`,
`promotion`, `notify`) and those of config/shared_fields.py are written out below; the tests
check that the schema accepts the bundled examples and refuses what the parser refuses.

The package ships the schema as `gitdeploy.schema.json` beside this module;
`gitdeploy schemas settings` prints it."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

from gitdeploy.config import settings as s
from gitdeploy.config.settings import SKIP_KIND
from gitdeploy.objects.managers import ConflictPolicy

SCHEMA_ID = "https://gitdeploy.io/schemas/gitdeploy.schema.json"
SHIPPED = "gitdeploy.schema.json"
_NON_EMPTY = {"type": "string", "minLength": 1, "pattern": r"\S"}
_DURATION = {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 86400},
                       {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h)?\s*$"}]}
_STRINGS = {"type": "array", "items": {"type": "string", "minLength": 1}}
_ENV_VAR = {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"}


def _rule(keys: tuple[str, ...]) -> dict[str, Any]:
    properties: dict[str, Any] = {key: _NON_EMPTY for key in ("group", "kind", "namespace",
                                                             "name") if key in keys}
    properties.update({key: _STRINGS for key in ("jsonPointers", "jsonPaths",
                                                 "managedFieldsManagers") if key in keys})
    return {"type": "object", "properties": properties, "additionalProperties": False}


_IGNORE_RULES = {"type": "array", "items": _rule(("group", "kind", "namespace", "name",
                                                  "jsonPointers", "jsonPaths",
                                                  "managedFieldsManagers"))}
# Blocks whose keys the parser keeps inside a function, or in config/shared_fields.py.
_WRITTEN_OUT: dict[str, dict[str, Any]] = {
    "validation": {"type": "object", "additionalProperties": False, "properties": {
        "ignoreMissingSchemas": {"type": "boolean"},
        "skipKinds": {"type": "array", "items": {"type": "string",
                                                  "pattern": f"^{SKIP_KIND.pattern}$"}},
        "schemaLocations": _STRINGS}},
    "promotion": {"type": "object", "additionalProperties": False, "properties": {
        "namePrefix": _NON_EMPTY, "nameSuffix": _NON_EMPTY,
        "environmentSpecific": {"type": "array", "items": _rule(
            ("group", "kind", "namespace", "name", "jsonPointers", "jsonPaths"))}}},
    "notify": {"type": "array", "items": {
        "type": "object", "additionalProperties": False, "required": ["type"], "properties": {
            "type": {"enum": list(s.NOTIFY_TYPES)}, "urlFrom": _ENV_VAR, "secretFrom": _ENV_VAR,
            "tokenFrom": _ENV_VAR,
            "repository": {"type": "string", "pattern": r"^[\w.-]+/[\w.-]+$"},
            "apiUrl": {"type": "string", "pattern": "^https?://"},
            "events": {"type": "array", "minItems": 1,
                       "items": {"enum": list(s.NOTIFY_EVENTS)}},
            "timeout": _DURATION}}},
    "ignoreDifferences": _IGNORE_RULES,
    "conflicts": {"type": "object", "additionalProperties": False, "properties": {
        "policy": {"enum": [policy.value for policy in ConflictPolicy]},
        "humanManagers": _STRINGS}},
    "substitute": {"type": "object", "propertyNames": {"pattern": r"^[_A-Za-z][_A-Za-z0-9]*$"},
                   "additionalProperties": {"type": ["string", "number", "boolean"]}},
    # substituteFrom: below, once _object is defined
}
# Blocks whose keys the parser lists in a module-level table.
_NESTED = {"cluster": "_CLUSTER_KEYS", "state": "_STATE_KEYS", "history": "_HISTORY_KEYS",
           "lock": "_LOCK_KEYS", "pruneSafety": "_PRUNE_SAFETY_KEYS", "orphans": "_ORPHANS_KEYS",
           "kustomize": "_KUSTOMIZE_KEYS", "wait": "_WAIT_KEYS", "retries": "_RETRIES_KEYS",
           "sops": "_SOPS_KEYS"}


def _value(check: Callable[[Any], Any], description: str) -> dict[str, Any]:
    """The schema of a value the parser checks with `check`."""
    closure = inspect.getclosurevars(check).nonlocals if inspect.isfunction(check) else {}
    known: dict[Any, dict[str, Any]] = {
        s._str: _NON_EMPTY, s._bool: {"type": "boolean"},
        s._suspend: {"oneOf": [{"type": "boolean"}, _NON_EMPTY]},
        s._version: {"type": "string", "pattern": r"^\s*1\.\d+(\.\d+)?\s*$"},
        s._mapping: {"type": "object"}, s._str_list: _STRINGS,
        s._mapping_list: {"type": "array", "items": {"type": "object"}},
        s._list: {"type": "array"},
        s._release_name: {"type": "string", "maxLength": 53,
                          "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
        s._duration: _DURATION,
        s._labels: {"type": "object",
                    "propertyNames": {"maxLength": 253, "pattern": f"^{s._LABEL_NAME.pattern}$"},
                    "additionalProperties": {"type": "string", "maxLength": 63,
                                             "pattern": f"^{s._LABEL_VALUE.pattern}$"}},
        s._environment_names: {"type": "array", "items": {"type": "string",
                                                          "pattern": r"^[^/\s]+$"}},
    }
    if check in known:
        schema = dict(known[check])
    elif "choices" in closure:
        schema = {"enum": list(closure["choices"])}
    elif "low" in closure and "high" in closure:
        schema = {"type": "integer", "minimum": closure["low"], "maximum": closure["high"]}
    else:
        schema = {}
    schema["description"] = f"Must be {description}."
    return schema


def _object(keys: dict[str, tuple[Callable[[Any], Any], str]], *,
            required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object", "additionalProperties": False,
        "properties": {key: _value(check, text) for key, (check, text) in keys.items()}}
    if required:
        schema["required"] = list(required)
    return schema


_WRITTEN_OUT["substituteFrom"] = {"type": "array", "items": {"oneOf": [
    _NON_EMPTY, _object(s._SUBSTITUTE_FROM_KEYS, required=("path",))]}}


def settings_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a settings file."""
    properties = {}
    for key, (check, text) in s._TOP_KEYS.items():
        if key in _WRITTEN_OUT:
            value = dict(_WRITTEN_OUT[key])
        elif key in _NESTED:
            value = _object(getattr(s, _NESTED[key]))
        elif key == "charts":
            value = {"type": "array", "items": _object(s._CHART_KEYS,
                                                       required=("release", "chart"))}
        else:
            value = _value(check, text)
        value.setdefault("description", f"Must be {text}.")
        value["markdownDescription"] = (f"{value['description']} See docs/configuration.md "
                                        f"(`{key}`).")
        properties[key] = value
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "gitdeploy environment settings (environments/<env>/gitdeploy.yaml)",
        "type": "object",
        "required": ["context"],
        "additionalProperties": False,
        "properties": properties,
    }


def dumps(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


def shipped() -> str:
    """The schema file the package ships (the same as `settings_schema()`, checked by the
    tests)."""
    return resources.files("gitdeploy.config").joinpath(SHIPPED).read_text(encoding="utf-8")
