"""Secret values never leave gitdeploy: every renderer sees masked copies, and every text that
comes from outside (the API server's, kustomize's and Helm's messages) is masked for the values
it may quote (`SecretMasker`).

A masked value keeps its key, so a diff still shows which keys were added, removed or changed.
Besides the values of Secrets, two kinds of values are masked wherever they are: SOPS
ciphertext (`ENC[...]`, read when there are no keys to decrypt it), and the fields of any object
that hold values decrypted from SOPS files or substituted from encrypted variables (registered
for the run with `protect_fields`, so that the cluster's version of the object is masked at the
same places).
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import copy
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from gitdeploy.errors import GitdeployError

MASK = "<masked>"
MASK_BEFORE = "<masked: old value>"
MASK_AFTER = "<masked: new value>"
SECRET_FIELDS = ("data", "stringData")
# A value SOPS encrypted, as it stands in an encrypted file (docs/secrets.md).
ENCRYPTED_VALUE = re.compile(r"ENC\[AES256_GCM,data:[A-Za-z0-9+/=]*,iv:[A-Za-z0-9+/=]+,"
                             r"tag:[A-Za-z0-9+/=]+,type:[a-z]+\]")
_ENCRYPTED_MARK = "ENC[AES256_GCM,"
FieldPath = tuple[str | int, ...]


def is_secret(body: dict[str, Any] | None) -> bool:
    return bool(body) and body.get("kind") == "Secret" and body.get("apiVersion") == "v1"  # type: ignore[union-attr]


def holds_secrets(body: dict[str, Any] | None) -> bool:
    """A Secret, or an object with values from encrypted sources (or their ciphertext)."""
    return is_secret(body) or bool(body and _hidden_fields(body))


def mask(body: dict[str, Any]) -> dict[str, Any]:
    """A copy of `body` with every Secret value, every value from an encrypted source and
    every SOPS ciphertext replaced."""
    hidden = _hidden_fields(body)
    if not is_secret(body) and not hidden:
        return body
    masked = copy.deepcopy(body)
    if is_secret(body):
        for field in SECRET_FIELDS:
            if isinstance(masked.get(field), dict):
                masked[field] = dict.fromkeys(masked[field], MASK)
        _drop_last_applied(masked)
    for path in hidden:
        _replace(masked, path, MASK)
    return masked


def mask_pair(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Masked copies of two versions of an object; a changed value shows as changed."""
    hidden = sorted({*_hidden_fields(before), *_hidden_fields(after)}, key=repr)
    if not (is_secret(before) or is_secret(after) or hidden):
        return before, after
    old = mask(before) if before else None
    new = mask(after) if after else None
    if before and after and old and new:
        for field in SECRET_FIELDS if is_secret(before) or is_secret(after) else ():
            old_values, new_values = before.get(field), after.get(field)
            if not (isinstance(old_values, dict) and isinstance(new_values, dict)):
                continue
            for key in old_values.keys() & new_values.keys():
                if old_values[key] != new_values[key]:
                    old[field][key], new[field][key] = MASK_BEFORE, MASK_AFTER
        for path in hidden:
            old_value, new_value = _value_at(before, path), _value_at(after, path)
            if old_value is not _ABSENT and new_value is not _ABSENT and old_value != new_value:
                _replace(old, path, MASK_BEFORE)
                _replace(new, path, MASK_AFTER)
    return old, new


_ABSENT = object()


def _value_at(body: Any, path: FieldPath) -> Any:
    for part in path:
        if not _holds(body, part):
            return _ABSENT
        body = body[part]
    return body


def _holds(container: Any, part: str | int) -> bool:
    if isinstance(container, dict):
        return isinstance(part, str) and part in container
    return isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container)


def _replace(body: Any, path: FieldPath, text: str) -> None:
    """Set the value at `path` (when there is one) to `text`."""
    if not path:
        return
    parent = _value_at(body, path[:-1])
    last = path[-1]
    if _holds(parent, last):
        parent[last] = text


def _hidden_fields(body: dict[str, Any] | None) -> set[FieldPath]:
    """The places of `body` to mask besides a Secret's values: SOPS ciphertext, and the fields
    registered for this object as holding values from encrypted sources."""
    if not body:
        return set()
    found = set(_encrypted_leaves(body, ()))
    scope = _SCOPE.get()
    if scope is not None and scope.fields:
        found.update(scope.fields.get(_identity(body), ()))
    return found


def _encrypted_leaves(value: Any, path: FieldPath) -> Iterator[FieldPath]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _encrypted_leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _encrypted_leaves(item, (*path, index))
    elif isinstance(value, str) and _ENCRYPTED_MARK in value and ENCRYPTED_VALUE.search(value):
        yield path


def _identity(body: dict[str, Any]) -> tuple[str, str, str]:
    """An object's group, kind and name: the same for git's version and the cluster's (the
    namespace is left out, as the plan drops it for cluster-scoped kinds)."""
    api_version = str(body.get("apiVersion") or "")
    metadata = body.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    return group, str(body.get("kind") or ""), str(name or "")


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
        self.fields: dict[tuple[str, str, str], set[FieldPath]] = {}
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


def protect_fields(body: dict[str, Any], paths: Iterable[FieldPath]) -> None:
    """Mark fields of the object `body` names as holding values from encrypted sources: for
    the rest of the run (`masking_scope`), every version of that object, git's and the
    cluster's, is shown with those fields masked. Nothing outside `masking_scope`."""
    scope = _SCOPE.get()
    paths = set(paths)
    if scope is not None and paths:
        with scope.lock:
            scope.fields.setdefault(_identity(body), set()).update(paths)


def known_in_this_run() -> Callable[[], SecretMasker]:
    """`known`, for other threads: a thread of a pool does not see the run's context, so the
    run's scope is taken now and read when called."""
    scope = _SCOPE.get()
    return lambda: scope.masker if scope is not None else SecretMasker()


def known() -> SecretMasker:
    """Every Secret value the run has met so far (none outside `masking_scope`)."""
    scope = _SCOPE.get()
    return scope.masker if scope is not None else SecretMasker()
