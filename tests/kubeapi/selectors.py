"""Label selectors as the API server parses them (equality and set-based)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.kubeapi.errors import ApiError

Selector = Callable[[dict[str, str]], bool]
_TERM = re.compile(
    r"^\s*(!?)([\w./-]+)\s*(?:(==|=|!=)\s*([\w.-]*)|\s+(in|notin)\s*\(([^)]*)\))?\s*$"
)


def _split(text: str) -> list[str]:
    terms, depth, current = [], 0, ""
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    return [*terms, current] if current.strip() else terms


def parse_selector(text: str) -> Selector:
    checks: list[Selector] = []
    for term in _split(text):
        match = _TERM.match(term)
        if not match:
            raise ApiError.bad_request(f"unable to parse requirement: {term!r}")
        negate, key, op, value, set_op, values = match.groups()
        checks.append(_label_check(key, op or set_op or ("!" if negate else ""), value,
                                   {v.strip() for v in (values or "").split(",") if v.strip()}))
    return lambda labels: all(check(labels) for check in checks)


def _label_check(key: str, op: str, value: str, options: set[str]) -> Selector:
    def check(labels: dict[str, str]) -> bool:
        if op in ("=", "=="):
            return labels.get(key) == value
        if op == "!=":
            return labels.get(key) != value
        if op == "in":
            return labels.get(key) in options
        if op == "notin":
            return labels.get(key) not in options
        if op == "!":
            return key not in labels
        return key in labels

    return check


ObjectSelector = Callable[[dict[str, Any]], bool]
_EVENT_FIELDS = {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                 "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.fieldPath",
                 "involvedObject.resourceVersion", "reason", "reportingComponent", "source",
                 "type"}


def parse_field_selector(text: str, kind: str) -> ObjectSelector:
    """Field selectors: `metadata.name` and `metadata.namespace` for every kind, and the fields
    the real server indexes for Events; anything else is refused as the real server does."""
    allowed = {"metadata.name", "metadata.namespace"} | (_EVENT_FIELDS if kind == "Event"
                                                         else set())
    checks: list[ObjectSelector] = []
    for term in (t for t in text.split(",") if t.strip()):
        match = re.fullmatch(r"\s*([\w.]+)\s*(==|=|!=)\s*(.*?)\s*", term)
        if not match:
            raise ApiError.bad_request(f"invalid selector: '{text}'; can't understand '{term}'")
        field, op, value = match.groups()
        if field not in allowed:
            raise ApiError.bad_request(f'field label not supported: {field}')
        path = field.split(".")

        checks.append(_field_check(path, op == "!=", value))
    return lambda obj: all(check(obj) for check in checks)


def _field_check(path: list[str], negate: bool, value: str) -> ObjectSelector:
    def check(obj: dict[str, Any]) -> bool:
        current: object = obj
        for part in path:
            current = current.get(part, "") if isinstance(current, dict) else ""
        found = "" if current is None else str(current)
        return (found != value) if negate else (found == value)

    return check
