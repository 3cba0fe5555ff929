"""What gitdeploy owns: one ApplySet (KEP-3659) per environment, so that kubectl understands it.

The parent is a ConfigMap `gitdeploy-applyset-<env>` in the environment's state namespace. Its
label `applyset.kubernetes.io/id` holds the set's id; its annotations list the group-kinds and the
namespaces its members may be found in. Every object gitdeploy applies carries the label
`applyset.kubernetes.io/part-of=<id>`. docs/cluster-state.md explains it for users.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gitdeploy.errors import KubeError
from gitdeploy.kube.client import KubeClient
from gitdeploy.kube.concurrency import map_bounded
from gitdeploy.kube.discovery import Discovery, ResourceInfo
from gitdeploy.objects.applyset import (
    GROUP_KINDS_ANNOTATION,
    ID_LABEL,
    NAMESPACES_ANNOTATION,
    PART_OF_LABEL,
    TOOLING_ANNOTATION,
    TOOLING_NAME,
    Inventory,
    parent_name,
    parse_group_kind,
)


@dataclass
class Member:
    """A live object labelled part of the set."""

    resource: ResourceInfo
    body: dict[str, Any]

    @property
    def key(self) -> tuple[str, str, str, str]:
        metadata = self.body["metadata"]
        return (self.resource.group, self.resource.kind, metadata.get("namespace") or "",
                metadata["name"])


def read_inventory(client: KubeClient, environment: str, namespace: str) -> Inventory:
    inventory = Inventory(environment=environment, namespace=namespace,
                          name=parent_name(environment))
    parent = client.get(inventory.path)
    if parent is None:
        return inventory
    metadata = parent.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    labels = metadata.get("labels") or {}
    tooling = annotations.get(TOOLING_ANNOTATION, "")
    if tooling.rsplit("/", 1)[0] != TOOLING_NAME or labels.get(ID_LABEL) != inventory.id:
        raise KubeError(
            f"ConfigMap {namespace}/{inventory.name} exists but is not gitdeploy's ApplySet "
            f"parent (tooling {tooling or 'unset'!r}, id {labels.get(ID_LABEL) or 'unset'!r})",
            ["gitdeploy will not take over another tool's ApplySet; rename or remove it"])
    inventory.exists = True
    inventory.group_kinds = {parse_group_kind(text) for text in
                             (annotations.get(GROUP_KINDS_ANNOTATION) or "").split(",") if text}
    inventory.namespaces = {ns for ns in (annotations.get(NAMESPACES_ANNOTATION) or "")
                            .split(",") if ns}
    return inventory


def list_members(inventory: Inventory, client: KubeClient, discovery: Discovery,
                 concurrency: int, listed: Mapping[str, list[dict[str, Any]]] | None = None
                 ) -> list[Member]:
    """Every live object labelled part of the set, found by listing only the group-kinds and
    namespaces the parent records. `listed` holds the items of collections already listed
    whole (by the plan): their members are taken from there, not listed again."""
    if not inventory.exists:
        return []
    selector = {"labelSelector": f"{PART_OF_LABEL}={inventory.id}"}
    namespaces = sorted(inventory.namespaces | {inventory.namespace})
    collections: list[tuple[ResourceInfo, str]] = []
    for group, kind in sorted(inventory.group_kinds):
        resource = discovery.resolve_group_kind(group, kind)
        if resource is None:  # the kind is gone (its CRD was deleted), and its objects with it
            continue
        if resource.namespaced:
            collections.extend((resource, resource.collection_path(ns)) for ns in namespaces)
        else:
            collections.append((resource, resource.collection_path()))

    def fetch(entry: tuple[ResourceInfo, str]) -> list[Member]:
        resource, path = entry
        items = listed.get(path) if listed is not None else None
        if items is None:
            items = (client.get(path, query=selector) or {}).get("items") or []
        members = []
        for item in items:
            labels = (item.get("metadata") or {}).get("labels") or {}
            if labels.get(PART_OF_LABEL) != inventory.id:
                continue  # never trust a selector alone with deletions
            item.setdefault("apiVersion", resource.api_version)
            item.setdefault("kind", resource.kind)
            members.append(Member(resource, item))
        return members

    return [m for found in map_bounded(fetch, collections, concurrency) for m in found]
