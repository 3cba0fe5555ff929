"""Custom resources: the JSON schema of each kind and version a CustomResourceDefinition
serves, made from its `openAPIV3Schema` the way the schema catalogs of the ecosystem make
them (kubeconform's and the public CRDs catalog's openapi2jsonschema): objects that list
their properties take no others, and `int-or-string` fields take either. The result is also
what `gitdeploy schemas pull` writes, so that a catalog and a pull agree."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gitdeploy.objects.kinds import CRD_GROUP, CRD_KIND

Schema = dict[str, Any]


@dataclass(frozen=True)
class CustomKind:
    """One kind and version a CRD serves, with its JSON schema."""

    group: str
    version: str
    kind: str
    namespaced: bool
    schema: Schema
    source: str  # where the CRD came from: a file:line, or "the cluster"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def catalog_path(self) -> str:
        """Where the kind lives in a schema catalog: `{group}/{kind}_{version}.json`."""
        return f"{self.group}/{self.kind.lower()}_{self.version}.json"


def is_crd_body(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    api_version = str(body.get("apiVersion", ""))
    return body.get("kind") == CRD_KIND and api_version.startswith(f"{CRD_GROUP}/")


def custom_kinds(crd: dict[str, Any], source: str) -> list[CustomKind]:
    """Every version of a CRD that has a schema (apiextensions.k8s.io/v1, and the top-level
    `validation` of the old v1beta1)."""
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return []
    names = spec.get("names") or {}
    kind, group = names.get("kind"), spec.get("group")
    if not isinstance(kind, str) or not isinstance(group, str) or not kind or not group:
        return []
    namespaced = spec.get("scope", "Namespaced") != "Cluster"
    shared = (spec.get("validation") or {}).get("openAPIV3Schema")
    found = []
    versions = spec.get("versions") or ([{"name": spec["version"]}] if spec.get("version")
                                        else [])
    for version in versions:
        if not isinstance(version, dict) or not isinstance(version.get("name"), str):
            continue
        schema = (version.get("schema") or {}).get("openAPIV3Schema") or shared
        if isinstance(schema, dict):
            found.append(CustomKind(group, version["name"], kind, namespaced,
                                    to_json_schema(schema), source))
    return found


def kinds_of(crds: Iterable[tuple[dict[str, Any], str]]) -> list[CustomKind]:
    return [found for crd, source in crds for found in custom_kinds(crd, source)]


def to_json_schema(openapi: Schema) -> Schema:
    """A CRD's openAPIV3Schema as a strict JSON schema (a copy)."""
    schema = copy.deepcopy(openapi)
    _convert(schema)
    properties = schema.setdefault("properties", {}) if isinstance(schema, dict) else {}
    # every object has these, whether or not the CRD lists them
    for name in ("apiVersion", "kind"):
        properties.setdefault(name, {"type": "string"})
    properties.setdefault("metadata", {"type": "object"})
    return schema


def _convert(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _convert(item)
        return
    if not isinstance(node, dict):
        return
    for value in node.values():
        _convert(value)
    if node.pop("x-kubernetes-int-or-string", False) or node.get("format") == "int-or-string":
        node.pop("format", None)
        node.pop("type", None)
        node["anyOf"] = [{"type": "integer"}, {"type": "string"}, *node.get("anyOf", [])]
    if node.get("nullable") is True and isinstance(node.get("type"), str):
        node["type"] = [node["type"], "null"]
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    typed_object = node.get("type") == "object" or (
        isinstance(node.get("type"), list) and "object" in node["type"])
    if typed_object and "properties" in node and "additionalProperties" not in node and (
            not preserve):
        node["additionalProperties"] = False
