"""The ApplySet (KEP-3659) vocabulary: the set's id, its parent's labels and annotations, and
the inventory as read from the cluster. `state/inventory.py` reads and lists it."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

from gitdeploy import __version__
from gitdeploy.errors import LoadError
from gitdeploy.objects.kinds import api_path
from gitdeploy.objects.manifests import Manifest
from gitdeploy.objects.names import ENVIRONMENT_LABEL, MANAGED_BY, dns_label

ID_LABEL = "applyset.kubernetes.io/id"
PART_OF_LABEL = "applyset.kubernetes.io/part-of"
TOOLING_ANNOTATION = "applyset.kubernetes.io/tooling"
GROUP_KINDS_ANNOTATION = "applyset.kubernetes.io/contains-group-kinds"
NAMESPACES_ANNOTATION = "applyset.kubernetes.io/additional-namespaces"
TOOLING_NAME = "gitdeploy"  # the tooling annotation: "gitdeploy/v<version>"
TOOLING = f"{TOOLING_NAME}/v{__version__}"
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
        return api_path("v1", "configmaps", namespace=self.namespace, name=self.name)

    def label(self, manifest: Manifest) -> Manifest:
        """`manifest` labelled part of this set: a new object with metadata and labels of its
        own, sharing the rest with `manifest` (a deep copy held every object of a plan twice).
        Whatever changes a labelled body in place may change only its metadata; every step
        that takes fields out of a body works on a copy."""
        labels = manifest.body.get("metadata", {}).get("labels") or {}
        if PART_OF_LABEL in labels and labels[PART_OF_LABEL] != self.id:
            raise LoadError(f"{manifest.origin}: {manifest.key} sets the label {PART_OF_LABEL}",
                            ["gitdeploy sets it to the environment's ApplySet; remove it from "
                             "the manifest"])
        metadata = manifest.body["metadata"]
        body = {**manifest.body, "metadata": {
            **metadata, "labels": {**(metadata.get("labels") or {}), PART_OF_LABEL: self.id}}}
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
