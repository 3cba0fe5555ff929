"""Lazy API discovery: resolve (apiVersion, kind) to a REST resource, fetching only the group
versions that a plan uses, each once."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from gitdeploy.kube.client import KubeClient
from gitdeploy.objects.kinds import api_path
from gitdeploy.objects.manifests import group_of


@dataclass(frozen=True)
class ResourceInfo:
    api_version: str
    kind: str
    plural: str
    namespaced: bool
    verbs: tuple[str, ...] = ()

    @property
    def group(self) -> str:
        return group_of(self.api_version)

    def collection_path(self, namespace: str = "") -> str:
        return api_path(self.api_version, self.plural,
                        namespace=namespace if self.namespaced else "")

    def path(self, namespace: str, name: str) -> str:
        return f"{self.collection_path(namespace)}/{name}"


class Discovery:
    def __init__(self, client: KubeClient) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._group_versions: dict[str, dict[str, ResourceInfo] | None] = {}
        self._preferred: dict[str, str] | None = None  # group -> preferred group version

    def preferred_versions(self) -> dict[str, str]:
        """group -> preferred group version, for every group the server serves ("" is core)."""
        with self._lock:
            if self._preferred is not None:
                return self._preferred
        found = {"": "v1"}
        for group in (self._client.get("/apis") or {}).get("groups") or []:
            preferred = (group.get("preferredVersion") or {}).get("groupVersion")
            if group.get("name") and preferred:
                found[group["name"]] = preferred
        with self._lock:
            self._preferred = found
        return found

    def resolve_group_kind(self, group: str, kind: str) -> ResourceInfo | None:
        """The resource serving `kind` in `group` at its preferred version, or None."""
        api_version = self.preferred_versions().get(group)
        return self.resolve(api_version, kind) if api_version else None

    def listable(self) -> list[ResourceInfo]:
        """Every resource of every group (preferred versions) that can be listed."""
        found: list[ResourceInfo] = []
        for api_version in sorted(self.preferred_versions().values()):
            found.extend(r for r in (self._resources(api_version) or {}).values()
                         if "list" in r.verbs)
        return found

    def resolve(self, api_version: str, kind: str) -> ResourceInfo | None:
        """The resource serving `kind` in `api_version`, or None if the server has none."""
        resources = self._resources(api_version)
        return resources.get(kind) if resources else None

    def _resources(self, api_version: str) -> dict[str, ResourceInfo] | None:
        with self._lock:
            if api_version in self._group_versions:
                return self._group_versions[api_version]
        path = api_path(api_version)
        data = self._client.get(path)
        resources: dict[str, ResourceInfo] | None = None
        if data is not None:
            resources = {}
            for entry in data.get("resources") or []:
                if "/" in entry.get("name", ""):
                    continue  # subresource
                resources[entry["kind"]] = ResourceInfo(
                    api_version=api_version, kind=entry["kind"], plural=entry["name"],
                    namespaced=bool(entry.get("namespaced")), verbs=tuple(entry.get("verbs") or ()),
                )
        with self._lock:
            self._group_versions[api_version] = resources
        return resources
