"""The Kubernetes API schemas of each Kubernetes version, as the kubernetes-validate package
ships them (strict: an unknown field is an error, as with kubectl's default
`--validate=strict`): which versions there are, and the schema of a built-in kind."""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from gitdeploy.errors import SettingsError

SCHEMA_PACKAGE = "kubernetes_validate"
SCHEMA_FOLDER = "kubernetes-json-schema"
# The schemas refer to their shared definitions as "/api/_definitions.json#/$defs/...": they
# are compiled under this base, with the definitions registered beside them.
BASE_URI = "https://schemas.gitdeploy.invalid/api/"
DEFINITIONS_URI = BASE_URI + "_definitions.json"


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def minor(version: str) -> str:
    """"1.34.2" or "v1.34" -> "1.34"."""
    return ".".join(version.lstrip("v").split(".")[:2])


@functools.cache
def _folders() -> dict[str, Traversable]:
    """"1.34" -> the folder of its strict schemas."""
    root = resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FOLDER)
    found: dict[str, Traversable] = {}
    for folder in root.iterdir():
        match = re.fullmatch(r"v(\d+\.\d+)\.\d+-local-strict", folder.name)
        if match:
            found[match.group(1)] = folder
    return found


def known_versions() -> list[str]:
    """The Kubernetes versions with schemas, oldest first ("1.25", ..., "1.37")."""
    return sorted(_folders(), key=_key)


def default_version() -> str:
    return known_versions()[-1]


def check_version(version: str, where: str) -> str:
    """The "major.minor" of `version`, or a SettingsError naming `where` (the settings key or
    the cluster) when the installed kubernetes-validate has no schemas for it."""
    wanted = minor(version)
    if wanted not in _folders():
        known = known_versions()
        raise SettingsError(
            f"{where}: Kubernetes {version} has no schemas in the installed kubernetes-validate",
            [f"known versions: {', '.join(known)}",
             "set kubernetesVersion to one of them, or upgrade kubernetes-validate "
             "(pip install -U kubernetes-validate) for a newer one"])
    return wanted


def _file_name(api_version: str, kind: str) -> str:
    """kubernetes-validate's file naming: "rbac.authorization.k8s.io/v1" Role ->
    "role-rbac-v1.json", "v1" Pod -> "pod-v1.json"."""
    short = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{short}.json"


class BuiltinSchemas:
    """The schemas of one Kubernetes version; each file read once."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.folder = _folders()[version]
        self._definitions: dict[str, Any] | None = None

    def schema(self, api_version: str, kind: str) -> dict[str, Any] | None:
        """The schema of a top-level kind of the Kubernetes API, None when the version has
        none (a custom resource, or an API version removed from Kubernetes)."""
        if not re.fullmatch(r"[A-Za-z0-9]+", kind) or not re.fullmatch(
                r"([a-z0-9.-]+/)?v[0-9a-z]+", api_version):
            return None
        path = self.folder.joinpath(_file_name(api_version, kind))
        try:
            schema: dict[str, Any] = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        properties = schema.get("properties") or {}
        # Only a kind of this very API version: a custom resource's "apps.example.com/v1"
        # has the file name of "apps/v1"; and definitions (Affinity) are no kinds.
        allowed = (properties.get("apiVersion") or {}).get("enum") or []
        kinds = (properties.get("kind") or {}).get("enum") or []
        if api_version not in allowed or kind not in kinds:
            return None
        return schema

    def definitions(self) -> dict[str, Any]:
        if self._definitions is None:
            self._definitions = json.loads(
                self.folder.joinpath("_definitions.json").read_bytes())
        return self._definitions

    def object_meta(self) -> dict[str, Any]:
        """A reference to ObjectMeta, for the metadata of custom resources."""
        return {"$ref": f"{DEFINITIONS_URI}#/$defs/"
                        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
