"""The settings about fields shared with others (docs/real-clusters.md): `ignoreDifferences`,
the ignore rules, and `conflicts`, the policy for fields another manager holds. Checked as
strictly as every other setting: unknown keys and wrong types name the key and the file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitdeploy.errors import SettingsError
from gitdeploy.objects.ignore import IgnoreRule, check_jsonpath, check_pointer
from gitdeploy.objects.managers import DEFAULT_POLICY, ConflictPolicy

_RULE_KEYS = ("group", "kind", "namespace", "name", "jsonPointers", "jsonPaths",
              "managedFieldsManagers")
_CONFLICT_KEYS = ("policy", "humanManagers")


@dataclass(frozen=True)
class ConflictOptions:
    policy: ConflictPolicy = DEFAULT_POLICY
    human_managers: tuple[str, ...] = ()  # more managers whose edits are drift


def _strings(value: Any, name: str, path: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SettingsError(f"{path}: '{name}' must be a list of non-empty strings, "
                            f"got {value!r}")
    return tuple(value)


def _text(value: Any, name: str, path: Path) -> str:
    if not isinstance(value, str) or not value:
        raise SettingsError(f"{path}: '{name}' must be a non-empty string, got {value!r}")
    return value


def parse_ignore_rules(value: Any, path: Path) -> tuple[IgnoreRule, ...]:
    """`ignoreDifferences`: a list of rules, each naming objects and fields."""
    if not isinstance(value, list):
        raise SettingsError(f"{path}: 'ignoreDifferences' must be a list of rules, got "
                            f"{value!r}")
    rules = []
    for index, entry in enumerate(value):
        prefix = f"ignoreDifferences[{index}]."
        if not isinstance(entry, dict):
            raise SettingsError(f"{path}: 'ignoreDifferences[{index}]' must be a mapping")
        for key in entry:
            if key not in _RULE_KEYS:
                raise SettingsError(f"{path}: unknown key '{prefix}{key}' (known keys: "
                                    + ", ".join(prefix + k for k in _RULE_KEYS) + ")")
        selectors = {key: _text(entry[key], prefix + key, path)
                     for key in ("group", "kind", "namespace", "name") if key in entry}
        pointers = _strings(entry.get("jsonPointers", []), prefix + "jsonPointers", path)
        paths = _strings(entry.get("jsonPaths", []), prefix + "jsonPaths", path)
        managers = _strings(entry.get("managedFieldsManagers", []),
                            prefix + "managedFieldsManagers", path)
        for pointer in pointers:
            problem = check_pointer(pointer)
            if problem:
                raise SettingsError(f"{path}: '{prefix}jsonPointers': {pointer!r} is not a "
                                    f"JSON pointer ({problem})",
                                    ["write it like /spec/replicas (RFC 6901)"])
        for expression in paths:
            problem = check_jsonpath(expression)
            if problem:
                raise SettingsError(f"{path}: '{prefix}jsonPaths': {expression!r} is not a "
                                    f"JSONPath expression ({problem})",
                                    ['write it like $.spec.template.spec.containers'
                                     '[?name=="web"].image'])
        if not (pointers or paths or managers):
            raise SettingsError(f"{path}: 'ignoreDifferences[{index}]' names no field",
                                ["give jsonPointers, jsonPaths or managedFieldsManagers"])
        rules.append(IgnoreRule(
            group=selectors.get("group"), kind=selectors.get("kind"),
            namespace=selectors.get("namespace"), name=selectors.get("name"),
            json_pointers=pointers, json_paths=paths, managers=managers,
            reason=f"ignoreDifferences[{index}] of {path}"))
    return tuple(rules)


def parse_conflicts(value: Any, path: Path) -> ConflictOptions:
    """`conflicts`: the environment's policy for fields another manager holds."""
    if not isinstance(value, dict):
        raise SettingsError(f"{path}: 'conflicts' must be a mapping, got {value!r}")
    for key in value:
        if key not in _CONFLICT_KEYS:
            raise SettingsError(f"{path}: unknown key 'conflicts.{key}' (known keys: "
                                + ", ".join(f"conflicts.{k}" for k in _CONFLICT_KEYS) + ")")
    policy = value.get("policy", DEFAULT_POLICY.value)
    try:
        chosen = ConflictPolicy(policy)
    except ValueError:
        raise SettingsError(f"{path}: 'conflicts.policy' must be one of "
                            + ", ".join(p.value for p in ConflictPolicy)
                            + f", got {policy!r}") from None
    humans = _strings(value.get("humanManagers", []), "conflicts.humanManagers", path)
    return ConflictOptions(policy=chosen, human_managers=humans)
