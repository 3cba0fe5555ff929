"""What gitdeploy owns: one ApplySet (KEP-3659) per environment, so that kubectl understands it.

The parent is a ConfigMap `gitdeploy-applyset-<env>` in the environment's state namespace. Its
label `applyset.kubernetes.io/id` holds the set's id; its annotations list the group-kinds and the
namespaces its members may be found in. Every object gitdeploy applies carries the label
`applyset.kubernetes.io/part-of=<id>`. docs/cluster-state.md explains it for users.
"""

from __future__ import annotations

import base64
import copy
import hashlib
from dataclasses import dataclass, field
from typing import Any

from gitdeploy import __version__
from gitdeploy.errors import KubeError, LoadError
from gitdeploy.kube.client import KubeClient
from gitdeploy.kube.concurrency import map_bounded
from gitdeploy.kube.discovery import Discovery, ResourceInfo
from gitdeploy.objects.manifests import Manifest
from gitdeploy.objects.names import ENVIRONMENT_LABEL, MANAGED_BY, dns_label

ID_LABEL = "applyset.kubernetes.io/id"
PART_OF_LABEL = "applyset.kubernetes.io/part-of"
TOOLING_ANNOTATION = "applyset.kubernetes.io/tooling"
GROUP_KINDS_ANNOTATION = "applyset.kubernetes.io/contains-group-kinds"
NAMESPACES_ANNOTATION = "applyset.kubernetes.io/additional-namespaces"
TOOLING = f"gitdeploy/v{__version__}"
PARENT_KIND, PARENT_GROUP = "ConfigMap", ""

GroupKind = tuple[str, str]  # (group, kind)


def applyset_id(name: str, namespace: str, kind: str, group: str) -> str:
    """The KEP's id: base64url (no padding) of sha256("<name>.<namespace>.<kind>.<group>")."""
    digest = hashlib.sha256(f"{name}.{namespace}.{kind}.{group}".encode()).digest()
    return f"applyset-{base64.urlsafe_b64encode(digest).decode().rstrip('=')}-v1"


def format_group_kind(group_kind: GroupKind) -> str:
    group, kind = group_kind
    return f"{kind}.{group}" if group else kind


def parse_group_kind(text: str) -> GroupKind:
    kind, _, group = text.partition(".")
    return group, kind


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


@dataclass
class Inventory:
    environment: str
    namespace: str  # of the parent
    name: str
    exists: bool = False
    group_kinds: set[GroupKind] = field(default_factory=set)
    namespaces: set[str] = field(default_factory=set)  # additional ones, besides the parent's

    @property
    def id(self) -> str:
        return applyset_id(self.name, self.namespace, PARENT_KIND, PARENT_GROUP)

    @property
    def path(self) -> str:
        return f"/api/v1/namespaces/{self.namespace}/configmaps/{self.name}"

    def label(self, manifest: Manifest) -> Manifest:
        """A copy of `manifest` labelled part of this set."""
        labels = manifest.body.get("metadata", {}).get("labels") or {}
        if PART_OF_LABEL in labels and labels[PART_OF_LABEL] != self.id:
            raise LoadError(f"{manifest.origin}: {manifest.key} sets the label {PART_OF_LABEL}",
                            ["gitdeploy sets it to the environment's ApplySet; remove it from "
                             "the manifest"])
        body = copy.deepcopy(manifest.body)
        body["metadata"].setdefault("labels", {})
        if body["metadata"]["labels"] is None:
            body["metadata"]["labels"] = {}
        body["metadata"]["labels"][PART_OF_LABEL] = self.id
        return Manifest(body=body, origin=manifest.origin,
                        namespace_defaulted=manifest.namespace_defaulted)

    def parent(self, group_kinds: set[GroupKind], namespaces: set[str]) -> dict[str, Any]:
        additional = sorted(namespaces - {self.namespace, ""})
        return {
            "apiVersion": "v1",
            "kind": PARENT_KIND,
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": {ID_LABEL: self.id, **MANAGED_BY,
                           ENVIRONMENT_LABEL: dns_label(self.environment)},
                "annotations": {
                    TOOLING_ANNOTATION: TOOLING,
                    GROUP_KINDS_ANNOTATION: ",".join(sorted(format_group_kind(gk)
                                                            for gk in group_kinds)),
                    NAMESPACES_ANNOTATION: ",".join(additional),
                },
            },
        }


def parent_name(environment: str) -> str:
    return f"gitdeploy-applyset-{dns_label(environment)}"


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
    if tooling.rsplit("/", 1)[0] != "gitdeploy" or labels.get(ID_LABEL) != inventory.id:
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
                 concurrency: int) -> list[Member]:
    """Every live object labelled part of the set, found by listing only the group-kinds and
    namespaces the parent records."""
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
        answer = client.get(path, query=selector)
        members = []
        for item in (answer or {}).get("items") or []:
            labels = (item.get("metadata") or {}).get("labels") or {}
            if labels.get(PART_OF_LABEL) != inventory.id:
                continue  # never trust a selector alone with deletions
            item.setdefault("apiVersion", resource.api_version)
            item.setdefault("kind", resource.kind)
            members.append(Member(resource, item))
        return members

    return [m for found in map_bounded(fetch, collections, concurrency) for m in found]
