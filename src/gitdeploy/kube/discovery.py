"""Lazy API discovery: resolve (apiVersion, kind) to a REST resource, fetching only the group
versions that a plan uses, each once per run, and keeping them on disk between runs per API
server (kube/discovery_cache.py), as kubectl does. A kind the cached answer lacks is fetched
again before it is called unknown, so a CRD installed since is found."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from gitdeploy.kube.client import KubeClient
from gitdeploy.kube.discovery_cache import DiscoveryCache, remember_scopes
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
    def __init__(self, client: KubeClient, cache: DiscoveryCache | None = None) -> None:
        self._client = client
        self._cache = cache if cache is not None else DiscoveryCache.for_server(client.server,
                                                                                log=client.trace)
        self._lock = threading.Lock()
        self._group_versions: dict[str, dict[str, ResourceInfo] | None] = {}
        self._fresh: set[str] = set()  # group versions fetched from the server in this run
        self._preferred: dict[str, str] | None = None  # group -> preferred group version
        self._preferred_fresh = False

    def preferred_versions(self, *, refresh: bool = False) -> dict[str, str]:
        """group -> preferred group version, for every group the server serves ("" is core)."""
        with self._lock:
            if self._preferred is not None and not (refresh and not self._preferred_fresh):
                return self._preferred
        cached = None if refresh else self._cache.load("groups")
        fresh = cached is None
        groups = self._fetch_groups() if cached is None else cached
        found = {"": "v1"}
        for group in groups:
            preferred = (group.get("preferredVersion") or {}).get("groupVersion")
            if group.get("name") and preferred:
                found[group["name"]] = preferred
        with self._lock:
            self._preferred = found
            self._preferred_fresh = self._preferred_fresh or fresh
        return found

    def _fetch_groups(self) -> list[dict[str, Any]]:
        groups: list[dict[str, Any]] = (self._client.get("/apis") or {}).get("groups") or []
        self._cache.store("groups", groups)
        return groups

    def resolve_group_kind(self, group: str, kind: str) -> ResourceInfo | None:
        """The resource serving `kind` in `group` at its preferred version, or None."""
        api_version = self.preferred_versions().get(group)
        if api_version is None and group:  # a group installed since the cache was written?
            api_version = self.preferred_versions(refresh=True).get(group)
        return self.resolve(api_version, kind) if api_version else None

    def listable(self) -> list[ResourceInfo]:
        """Every resource of every group (preferred versions) that can be listed, read from
        the server (a scan of everything must not miss a kind installed since the cache)."""
        found: list[ResourceInfo] = []
        for api_version in sorted(self.preferred_versions(refresh=True).values()):
            found.extend(r for r in (self._resources(api_version, fetch=True) or {}).values()
                         if "list" in r.verbs)
        return found

    def resolve(self, api_version: str, kind: str) -> ResourceInfo | None:
        """The resource serving `kind` in `api_version`, or None if the server has none. With
        `kind` empty, the group version is only made known (a warm-up)."""
        resources = self._resources(api_version)
        if kind and (resources is None or kind not in resources):
            resources = self._resources(api_version, fetch=True)  # unknown to the cache
        return resources.get(kind) if resources else None

    def _resources(self, api_version: str, *, fetch: bool = False
                   ) -> dict[str, ResourceInfo] | None:
        with self._lock:
            if api_version in self._group_versions and (
                    not fetch or api_version in self._fresh):
                return self._group_versions[api_version]
        key = f"resources/{api_version}"
        data = None if fetch else self._cache.load(key)
        fetched = data is None
        if data is None:
            data = {"found": (answer := self._client.get(api_path(api_version))) is not None,
                    "resources": (answer or {}).get("resources") or []}
            self._cache.store(key, data)
            with self._lock:
                self._fresh.add(api_version)
        resources: dict[str, ResourceInfo] | None = None
        if fetched and data.get("found"):
            remember_scopes({(group_of(api_version), str(entry["kind"])):
                             bool(entry.get("namespaced"))
                             for entry in data.get("resources") or []
                             if "/" not in entry.get("name", "") and entry.get("kind")})
        if data.get("found"):
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
