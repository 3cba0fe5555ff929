"""Which schema checks an object, in this order: the Kubernetes API schemas of the
environment's version (built-in kinds); the CRDs of the environment, then of the repository's
other environments; the CRDs of the live cluster (`--cluster`); the local cache (filled by
`gitdeploy schemas pull` and by earlier fetches), then the schema locations of the settings and
the command line. Each kind is looked up and compiled once per environment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from gitdeploy.validate.builtin import BASE_URI, DEFINITIONS_URI, BuiltinSchemas
from gitdeploy.validate.catalog import Catalogs
from gitdeploy.validate.crds import CustomKind
from gitdeploy.validate.engine import Validators


@dataclass(frozen=True)
class Resolved:
    """The compiled schema of one kind, where it came from, and the kind's scope when known
    (None: a catalog's schema says nothing about scope)."""

    validator: jsonschema_rs.Validator
    origin: str  # "kubernetes 1.34", "CRD at environments/x/crd.yaml:1", a catalog file or URL
    namespaced: bool | None


class SchemaLookup:
    """The schemas of one environment."""

    def __init__(self, validators: Validators, builtin: BuiltinSchemas,
                 custom: list[dict[tuple[str, str], CustomKind]], catalogs: Catalogs | None,
                 cluster_scoped: set[tuple[str, str]]) -> None:
        self.validators = validators
        self.builtin = builtin
        self.custom = custom  # in the order they are searched
        self.catalogs = catalogs
        self.cluster_scoped = cluster_scoped
        self._found: dict[tuple[str, str], Resolved | None] = {}

    def _registry(self) -> jsonschema_rs.Registry:
        version = self.builtin.version
        return self.validators.registry(
            ("definitions", version), [(DEFINITIONS_URI, self.builtin.definitions())])

    def find(self, api_version: str, kind: str) -> Resolved | None:
        key = (api_version, kind)
        if key not in self._found:
            self._found[key] = self._resolve(api_version, kind)
        return self._found[key]

    def _resolve(self, api_version: str, kind: str) -> Resolved | None:
        version = self.builtin.version
        group = api_version.rpartition("/")[0]
        schema = self.builtin.schema(api_version, kind)
        if schema is not None:
            validator = self.validators.compile(
                ("kubernetes", version, api_version, kind), schema,
                base_uri=f"{BASE_URI}{kind.lower()}.json", registry=self._registry(),
                secret=kind == "Secret" and api_version == "v1")
            return Resolved(validator, f"Kubernetes {version}",
                            (group, kind) not in self.cluster_scoped)
        for kinds in self.custom:
            custom = kinds.get((api_version, kind))
            if custom is not None:
                validator = self.validators.compile(
                    ("crd", version, custom.source, api_version, kind),
                    _with_object_meta(custom.schema, self.builtin),
                    base_uri=f"{BASE_URI}{custom.catalog_path}", registry=self._registry())
                return Resolved(validator, f"CRD at {custom.source}", custom.namespaced)
        if self.catalogs is not None:
            found = self.catalogs.find(api_version, kind, version)
            if found is not None:
                validator = self.validators.compile(("catalog", found.source), found.schema,
                                                    base_uri=_base(found.source))
                return Resolved(validator, found.source, None)
        return None


def _base(source: str) -> str:
    if "://" in source:
        return source
    return f"file://{source}" if source.startswith("/") else f"file:///{source}"


def _with_object_meta(schema: dict[str, Any], builtin: BuiltinSchemas) -> dict[str, Any]:
    """A custom resource's metadata is ObjectMeta, whatever its CRD says."""
    properties = dict(schema.get("properties") or {})
    properties["metadata"] = builtin.object_meta()
    return {**schema, "properties": properties}
