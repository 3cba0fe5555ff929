"""Orphans: objects in an environment's namespaces that are neither rendered from git, nor in
an ApplySet (this environment's, another environment's sharing the namespace, or any other
tool's), nor owned by another object. Reported, never deleted (docs/pruning.md)."""

from __future__ import annotations

import fnmatch
from typing import Any

from gitdeploy.kube.client import ApiStatusError, KubeClient
from gitdeploy.kube.concurrency import map_bounded
from gitdeploy.kube.discovery import Discovery, ResourceInfo
from gitdeploy.objects.applyset import PART_OF_LABEL, parent_name
from gitdeploy.objects.names import MANAGED_BY
from gitdeploy.render.environment import RenderedSet
from gitdeploy.results.environment import Target
from gitdeploy.results.state import Orphan, OrphanReport

# Whole kinds that clusters fill by themselves, never listed.
IGNORED_KINDS = {
    ("", "Event"), ("events.k8s.io", "Event"), ("", "Endpoints"),
    ("discovery.k8s.io", "EndpointSlice"), ("coordination.k8s.io", "Lease"),
}
IGNORED_GROUPS = {"metrics.k8s.io"}  # live usage figures, not configuration
# Single objects that clusters create in every namespace: (group, kind, name)
IGNORED_OBJECTS = {("", "ServiceAccount", "default"), ("", "ConfigMap", "kube-root-ca.crt")}
SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"


def _builtin_ignored(resource: ResourceInfo, obj: dict[str, Any]) -> bool:
    metadata = obj.get("metadata") or {}
    if (resource.group, resource.kind, metadata.get("name")) in IGNORED_OBJECTS:
        return True
    if resource.kind == "Secret" and not resource.group and obj.get("type") == \
            SERVICE_ACCOUNT_TOKEN:
        return True
    labels = metadata.get("labels") or {}
    return all(labels.get(k) == v for k, v in MANAGED_BY.items())  # gitdeploy's own state


def _user_ignored(resource: ResourceInfo, namespace: str, name: str,
                  patterns: tuple[str, ...]) -> bool:
    kinds = [resource.kind] + ([f"{resource.kind}.{resource.group}"] if resource.group else [])
    candidates = [f"{kind}/{name}" for kind in kinds]
    candidates += [f"{kind}/{namespace}/{name}" for kind in kinds]
    return any(fnmatch.fnmatchcase(c, p) for c in candidates for p in patterns)


def find_orphans(rendered: RenderedSet, client: KubeClient, target: Target, *,
                 concurrency: int) -> OrphanReport:
    env = rendered.environment
    settings = env.settings
    namespaces = sorted({m.namespace for m in rendered.manifests if m.namespace}
                        | {settings.namespace})
    in_git = {(m.group, m.kind, m.namespace, m.name) for m in rendered.manifests}
    discovery = Discovery(client)
    resources = [r for r in discovery.listable() if r.namespaced
                 and (r.group, r.kind) not in IGNORED_KINDS and r.group not in IGNORED_GROUPS]
    report = OrphanReport(environment=env.name, target=target, namespaces=namespaces)

    def scan(entry: tuple[ResourceInfo, str]) -> list[Orphan] | str:
        resource, namespace = entry
        try:
            answer = client.get(resource.collection_path(namespace))
        except ApiStatusError as error:
            if error.status in (403, 405):
                return f"{resource.kind}.{resource.group or 'core'} in {namespace}: " \
                       f"{error.status} {error.reason or 'not listable'}"
            raise
        found = []
        for obj in (answer or {}).get("items") or []:
            metadata = obj.get("metadata") or {}
            name = metadata.get("name", "")
            if (resource.group, resource.kind, namespace, name) in in_git:
                continue
            if (metadata.get("labels") or {}).get(PART_OF_LABEL):
                continue  # in this environment's ApplySet, or in another's (its tool prunes it)
            if metadata.get("ownerReferences"):
                continue
            if resource.kind == "ConfigMap" and name == parent_name(env.name):
                continue
            if _builtin_ignored(resource, obj) or _user_ignored(
                    resource, namespace, name, settings.orphan_ignores):
                continue
            managers = tuple(sorted({m.get("manager", "?")
                                     for m in metadata.get("managedFields") or []}))
            found.append(Orphan(resource.api_version, resource.kind, namespace, name,
                                str(metadata.get("creationTimestamp") or ""), managers))
        return found

    entries = [(resource, namespace) for namespace in namespaces for resource in resources]
    for result in map_bounded(scan, entries, concurrency):
        if isinstance(result, str):
            report.unchecked.append(result)
        else:
            report.orphans.extend(result)
    report.orphans.sort(key=lambda o: (o.namespace, o.kind, o.name))
    return report
