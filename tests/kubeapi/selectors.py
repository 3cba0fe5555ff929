"""Label selectors as the API server parses them (equality and set-based)."""

from __future__ import annotations

import re
from collections.abc import Callable

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
        if op in ("=", "=="):
            checks.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif op == "!=":
            checks.append(lambda labels, k=key, v=value: labels.get(k) != v)
        elif set_op:
            options = {v.strip() for v in values.split(",") if v.strip()}
            if set_op == "in":
                checks.append(lambda labels, k=key, o=options: labels.get(k) in o)
            else:
                checks.append(lambda labels, k=key, o=options: labels.get(k) not in o)
        elif negate:
            checks.append(lambda labels, k=key: k not in labels)
        else:
            checks.append(lambda labels, k=key: k in labels)
    return lambda labels: all(check(labels) for check in checks)
