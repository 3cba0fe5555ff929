"""Secret values never leave gitdeploy: every renderer sees masked copies, and every text that
comes from outside (the API server's, kustomize's and Helm's messages) is masked for the values
it may quote (`SecretMasker`).

A masked value keeps its key, so a diff still shows which keys were added, removed or changed.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import copy
import json
import re
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from gitdeploy.errors import GitdeployError

MASK = "<masked>"
MASK_BEFORE = "<masked: old value>"
MASK_AFTER = "<masked: new value>"
SECRET_FIELDS = ("data", "stringData")


def is_secret(body: dict[str, Any] | None) -> bool:
    return bool(body) and body.get("kind") == "Secret" and body.get("apiVersion") == "v1"  # type: ignore[union-attr]


def mask(body: dict[str, Any]) -> dict[str, Any]:
    """A copy of `body` with every Secret value replaced."""
    if not is_secret(body):
        return body
    masked = copy.deepcopy(body)
    for field in SECRET_FIELDS:
        if isinstance(masked.get(field), dict):
            masked[field] = dict.fromkeys(masked[field], MASK)
    _drop_last_applied(masked)
    return masked


def mask_pair(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Masked copies of two versions of an object; a changed value shows as changed."""
    if not (is_secret(before) or is_secret(after)):
        return before, after
    old = mask(before) if before else None
    new = mask(after) if after else None
    if before and after and old and new:
        for field in SECRET_FIELDS:
            old_values, new_values = before.get(field), after.get(field)
            if not (isinstance(old_values, dict) and isinstance(new_values, dict)):
                continue
            for key in old_values.keys() & new_values.keys():
                if old_values[key] != new_values[key]:
                    old[field][key], new[field][key] = MASK_BEFORE, MASK_AFTER
    return old, new


def _drop_last_applied(body: dict[str, Any]) -> None:
    # kubectl's client-side apply keeps the whole object, values included, in this annotation.
    annotations = (body.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        annotations.pop("kubectl.kubernetes.io/last-applied-configuration", None)


# ---- masking texts that come from outside --------------------------------------------------
#
# The API server, kustomize and Helm may quote a value in an error message ("expected string,
# got &value.valueUnstructured{Value:...}", "invalid literal source ...", "'...' does not match
# pattern ..."). Such texts are passed through a `SecretMasker` of the run's Secret values
# before they enter a result, an error, a record or a summary.

MIN_MASKED_LENGTH = 4
"""Values shorter than this are not masked in texts: replacing every "1", "yes" or "abc" of a
message would make it unreadable, and a value that short protects nothing (docs/secrets.md)."""


class SecretMasker:
    """Replaces known secret values in texts with `<masked>`: the longest first, in one pass,
    so that a value inside another, or inside `<masked>`, is never half-replaced."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        kept = {value for value in values if len(value.strip()) >= MIN_MASKED_LENGTH}
        self.values: tuple[str, ...] = tuple(sorted(kept, key=lambda v: (-len(v), v)))
        # `<masked>` itself is one of the alternatives: what is already masked stays as it is
        alternatives = sorted({MASK, *self.values}, key=lambda v: (-len(v), v))
        self._pattern = (re.compile("|".join(map(re.escape, alternatives)))
                         if self.values else None)

    @classmethod
    def of_secrets(cls, bodies: Iterable[dict[str, Any] | None]) -> SecretMasker:
        """A masker for every value of the Secrets among `bodies`: `data` values as written
        (base64) and decoded, `stringData` values and their base64 form, each as it could be
        quoted (escaped, line by line); numbers and maps where a string belongs included."""
        values: list[str] = []
        for body in bodies:
            if not is_secret(body):
                continue
            assert body is not None
            for field in SECRET_FIELDS:
                entries = body.get(field)
                if isinstance(entries, dict):
                    for value in entries.values():
                        values.extend(secret_forms(value, encoded=field == "data"))
        return cls(values)

    @classmethod
    def of_values(cls, values: Iterable[Any]) -> SecretMasker:
        """A masker for plain values (strings, numbers, or maps and lists of them), each with
        its base64 form: the inputs of a generator or a chart before anything is rendered."""
        found: list[str] = []
        for value in values:
            found.extend(secret_forms(value, encoded=False))
        return cls(found)

    def __or__(self, other: SecretMasker) -> SecretMasker:
        return SecretMasker((*self.values, *other.values))

    def __bool__(self) -> bool:
        return bool(self.values)

    def mask_text(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)

    def mask_lines(self, lines: Iterable[str]) -> list[str]:
        return [self.mask_text(line) for line in lines]

    def mask_error(self, error: GitdeployError) -> GitdeployError:
        """The error itself, its message and details masked (its type and exit code kept)."""
        if self:
            error.message = self.mask_text(error.message)
            error.details = self.mask_lines(error.details)
            error.args = (error.message, *error.args[1:])
        return error


def _leaves(value: Any) -> Iterator[str]:
    """The scalar values inside `value` as text: a map or a list where a string belongs is
    quoted by the server value by value. Booleans and nulls are not secrets."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str):
        yield value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield str(value)


def secret_forms(value: Any, *, encoded: bool) -> list[str]:
    """Every form in which `value` may be quoted: itself, its base64 form (or, for an
    `encoded` value, its decoded form), escaped as in JSON or Go, and its lines."""
    forms: list[str] = []
    for text in _leaves(value):
        if encoded:
            plain, encoding = _decoded(text), text
        else:
            plain, encoding = text, base64.b64encode(text.encode()).decode()
        if plain is not None:
            forms.extend(_quoted(plain))
        forms.extend(_quoted(encoding))
        forms.append(encoding.rstrip("="))  # base64 without its padding
    return forms


def _decoded(text: str) -> str | None:
    try:
        return base64.b64decode("".join(text.split()), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def _quoted(text: str) -> list[str]:
    """The text, escaped as JSON and Go quote it, and each line of a multi-line text."""
    forms = [text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]]
    if "\n" in text:
        forms.extend(line.strip() for line in text.splitlines())
    return forms


# ---- the run's masker, for the error boundary -------------------------------------------------

class _Scope:
    def __init__(self) -> None:
        self.masker = SecretMasker()
        self.lock = threading.Lock()


_SCOPE: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("gitdeploy_secret_scope",
                                                                       default=None)


@contextlib.contextmanager
def masking_scope() -> Iterator[None]:
    """One command run: the Secret values `remember` learns meanwhile are masked by `known`
    (the error boundary's last line of defence)."""
    token = _SCOPE.set(_Scope())
    try:
        yield
    finally:
        _SCOPE.reset(token)


def remember(masker: SecretMasker) -> None:
    """Add the values of `masker` to the run's (nothing outside `masking_scope`)."""
    scope = _SCOPE.get()
    if scope is not None and masker:
        with scope.lock:
            scope.masker = scope.masker | masker


def known() -> SecretMasker:
    """Every Secret value the run has met so far (none outside `masking_scope`)."""
    scope = _SCOPE.get()
    return scope.masker if scope is not None else SecretMasker()
