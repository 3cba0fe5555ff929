"""Fields left to others: the `ignoreDifferences` rules of the settings, and the replicas of
objects that a HorizontalPodAutoscaler scales.

An ignored field is not sent by apply (so apply neither sets it nor, through the handover of
plan/fields.py, resets it), and it is left out of both sides of every comparison: the server
diff, drift, plan files and the offline diff. One rule names objects (group, kind, namespace,
name; `*` patterns) and fields: RFC 6901 JSON pointers (`/spec/replicas`), JSONPath expressions
(`$.spec.template.spec.containers[?name=="web"].image`), or the field managers whose fields
are left to them (like Argo CD's `managedFieldsManagers`).

The JSON pointer and JSONPath libraries are imported when a rule uses them: most environments
have no such rule, and `gitdeploy envs` starts without them (docs/performance.md).
"""

from __future__ import annotations

import copy
import fnmatch
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitdeploy.objects.fieldpaths import Step, manager_fields, owned_leaves, remove_all
from gitdeploy.objects.manifests import group_of

if TYPE_CHECKING:
    from jsonpath_ng import DatumInContext

HPA_KIND, HPA_GROUP = "HorizontalPodAutoscaler", "autoscaling"
REPLICAS = "/spec/replicas"


@dataclass(frozen=True)
class IgnoreRule:
    """Which objects (None: any) and which of their fields are left alone."""

    group: str | None = None
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None
    json_pointers: tuple[str, ...] = ()
    json_paths: tuple[str, ...] = ()
    managers: tuple[str, ...] = ()
    reason: str = ""  # how messages name the rule: "ignoreDifferences[0] of .../gitdeploy.yaml"

    def matches(self, group: str, kind: str, namespace: str, name: str) -> bool:
        return all(pattern is None or fnmatch.fnmatchcase(value, pattern) for pattern, value in (
            (self.group, group), (self.kind, kind), (self.namespace, namespace),
            (self.name, name)))


def check_pointer(text: str) -> str | None:
    """Why `text` is not a JSON pointer, or None."""
    import jsonpointer

    try:
        jsonpointer.JsonPointer(text)
    except jsonpointer.JsonPointerException as error:
        return str(error)
    return None if text.startswith("/") else "a JSON pointer starts with /"


def check_jsonpath(text: str) -> str | None:
    """Why `text` is not a JSONPath expression, or None."""
    from jsonpath_ng.exceptions import JsonPathParserError
    from jsonpath_ng.ext.parser import parse as parse_jsonpath

    try:
        parse_jsonpath(text)
    except (JsonPathParserError, Exception) as error:  # the parser raises plain Exceptions
        return str(error) or "not a JSONPath expression"
    return None


def _pointer_steps(body: Any, pointer: str) -> list[Step] | None:
    import jsonpointer

    try:
        parts = jsonpointer.JsonPointer(pointer).parts
    except jsonpointer.JsonPointerException:
        return None
    steps: list[Step] = []
    value = body
    for part in parts:
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            steps.append(int(part))
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            steps.append(part)
            value = value[part]
        else:
            return None
    return steps


def _datum_steps(match: DatumInContext) -> list[Step]:
    steps: list[Step] = []
    datum: DatumInContext | None = match
    while datum is not None and datum.context is not None:
        path = datum.path
        indices = getattr(path, "indices", None) or (getattr(path, "index", None),)
        fields = getattr(path, "fields", None)
        if isinstance(indices[0], int):
            steps.append(indices[0])
        elif fields:
            steps.append(str(fields[0]))
        datum = datum.context
    return list(reversed(steps))


def rule_paths(rule: IgnoreRule, body: Any, live: dict[str, Any] | None = None
               ) -> list[list[Step]]:
    """The fields of `body` the rule leaves alone; for `managers`, those they own in `live`."""
    from jsonpath_ng.ext.parser import parse as parse_jsonpath

    found: list[list[Step]] = []
    for pointer in rule.json_pointers:
        steps = _pointer_steps(body, pointer)
        if steps:
            found.append(steps)
    for expression in rule.json_paths:
        try:
            matches = parse_jsonpath(expression).find(body)
        except Exception:  # a failing filter on an odd object: nothing matched
            continue
        found.extend(steps for steps in (_datum_steps(m) for m in matches) if steps)
    if live is not None:
        for manager in rule.managers:
            for operation in ("Apply", "Update"):
                fields = manager_fields(live, manager, operation)
                found.extend(s for s in owned_leaves(fields, body) if s)
    return found


@dataclass(frozen=True)
class Ignored:
    """The rules that apply to one object, and what the plan says about them."""

    rules: tuple[IgnoreRule, ...]

    def __bool__(self) -> bool:
        return bool(self.rules)

    def paths(self, body: Any, live: dict[str, Any] | None = None) -> list[list[Step]]:
        return [steps for rule in self.rules for steps in rule_paths(rule, body, live)]

    def strip(self, body: dict[str, Any], live: dict[str, Any] | None = None
              ) -> dict[str, Any]:
        """A copy of `body` without the ignored fields."""
        result = copy.deepcopy(body)
        remove_all(result, self.paths(result, live))
        return result

    def reasons(self, body: Any, live: dict[str, Any] | None = None) -> list[str]:
        """Why fields of this object are left alone: the rules that find one in `body` or in
        the live object."""
        return [rule.reason for rule in self.rules if rule.reason and (
            rule_paths(rule, body, live) or (live is not None and rule_paths(rule, live, live)))]


def rules_for(rules: tuple[IgnoreRule, ...], body: dict[str, Any]) -> tuple[IgnoreRule, ...]:
    metadata = body.get("metadata") or {}
    group = group_of(str(body.get("apiVersion") or ""))
    return tuple(rule for rule in rules if rule.matches(
        group, str(body.get("kind") or ""), str(metadata.get("namespace") or ""),
        str(metadata.get("name") or "")))


def hpa_target(hpa: dict[str, Any]) -> tuple[str, str, str, str] | None:
    """(group, kind, namespace, name) of the object a HorizontalPodAutoscaler scales."""
    if hpa.get("kind") != HPA_KIND or group_of(str(hpa.get("apiVersion") or "")) != HPA_GROUP:
        return None
    target = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
    if not target.get("kind") or not target.get("name"):
        return None
    namespace = str((hpa.get("metadata") or {}).get("namespace") or "")
    return (group_of(str(target.get("apiVersion") or "")), str(target["kind"]), namespace,
            str(target["name"]))


def hpa_rule(hpa: dict[str, Any], where: str) -> IgnoreRule | None:
    """The rule that leaves the replicas of the HPA's target to it."""
    target = hpa_target(hpa)
    if target is None:
        return None
    group, kind, namespace, name = target
    hpa_name = (hpa.get("metadata") or {}).get("name")
    return IgnoreRule(group=group, kind=kind, namespace=namespace, name=name,
                      json_pointers=(REPLICAS,),
                      reason=f"spec.replicas is left to HorizontalPodAutoscaler "
                             f"{namespace}/{hpa_name} ({where})")
