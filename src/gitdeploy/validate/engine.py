"""Schema checks with a compiled validator per schema: each kind and version is compiled once
(jsonschema-rs, a JSON-schema engine written in Rust) and then checks every object of that
kind; an object that passes costs microseconds. An object that does not gets every error,
each with the path of the offending field."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from gitdeploy.objects.fieldpaths import Step
from gitdeploy.objects.secrets import MASK, SECRET_FIELDS, is_secret


@dataclass(frozen=True)
class FieldError:
    """One schema error: the field's path, and what is wrong with it. `key` is true when the
    path ends at a key that should not be there (its position is the key's)."""

    path: tuple[Step, ...]
    message: str
    keyword: str
    key: bool = False


class Validators:
    """Compiled validators, one per schema key (Kubernetes version, apiVersion, kind)."""

    def __init__(self) -> None:
        self._compiled: dict[Hashable, jsonschema_rs.Validator] = {}
        self._registries: dict[Hashable, jsonschema_rs.Registry] = {}

    def registry(self, key: Hashable, resources: list[tuple[str, Any]]
                 ) -> jsonschema_rs.Registry:
        """A registry of shared definitions (a Kubernetes version's), built once."""
        if key not in self._registries:
            self._registries[key] = jsonschema_rs.Registry(resources)
        return self._registries[key]

    def get(self, key: Hashable) -> jsonschema_rs.Validator | None:
        return self._compiled.get(key)

    def compile(self, key: Hashable, schema: dict[str, Any], *, base_uri: str,
                registry: jsonschema_rs.Registry | None = None, secret: bool = False
                ) -> jsonschema_rs.Validator:
        """Compile `schema` once; a Secret's validator never puts values in its messages."""
        validator = self._compiled.get(key)
        if validator is None:
            if "$schema" not in schema:  # the drafts Kubernetes schemas are written for
                schema = {**schema, "$schema": "https://json-schema.org/draft/2020-12/schema"}
            validator = jsonschema_rs.validator_for(
                schema, registry=registry, base_uri=base_uri, mask=MASK if secret else None,
                validate_formats=False)
            self._compiled[key] = validator
        return validator


def check(validator: jsonschema_rs.Validator, body: dict[str, Any]) -> list[FieldError]:
    """Every schema error of `body`, in document order of the fields."""
    if validator.is_valid(body):
        return []
    secret = is_secret(body)
    errors: list[FieldError] = []
    for error in validator.iter_errors(body):
        path = tuple(error.instance_path)
        kind = error.kind
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
            errors.extend(FieldError((*path, name), f'unknown field "{name}"',
                                     "additionalProperties", key=True)
                          for name in kind.unexpected)
            continue
        message = error.message
        if secret and path and path[0] in SECRET_FIELDS:
            message = "invalid value (Secret values are not shown)"
        errors.append(FieldError(path, message, kind.name))
    return sorted(errors, key=lambda e: [(isinstance(s, int), s) for s in e.path])
