"""The resource types the test API server serves. The built-in ones are those of
kube-apiserver v1.36.2, from the table of discovery.py; all of them answer requests (the ones
the test server gives no behaviour of their own are stored as they are sent, so a list of a
kind nobody wrote is empty and a GET is a 404)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.kubeapi.discovery import (
    ALL_VERBS,
    BUILTIN_GROUPS,
    CRD_TERMINATING_VERBS,
    CRD_VERBS,
    STATUS_VERBS,
    Subresource,
    group_version_of,
)

__all__ = ["ALL_VERBS", "BUILTIN_TYPES", "ResourceType", "Subresource", "crd_types"]


@dataclass(frozen=True)
class ResourceType:
    group: str
    versions: tuple[str, ...]
    kind: str
    plural: str
    namespaced: bool
    verbs: tuple[str, ...] = ALL_VERBS
    short_names: tuple[str, ...] = field(default=())
    builtin: bool = True
    has_generation: bool = False
    singular_name: str = ""  # "" is the kind in lower case
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = ()
    # Custom resources: subresources per version, where they differ from `subresources`.
    version_subresources: tuple[tuple[str, tuple[Subresource, ...]], ...] = ()
    # The group version objects are stored as (its `storageVersionHash`); None: not stored.
    storage_version: str | None = None

    @property
    def singular(self) -> str:
        return self.singular_name or self.kind.lower()

    def group_resource(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def subresources_of(self, version: str) -> tuple[Subresource, ...]:
        return dict(self.version_subresources).get(version, self.subresources)


# Kinds whose objects carry metadata.generation (the recording shows it for Deployment, Job,
# CronJob, StatefulSet, ReplicaSet, Ingress, Pod and custom resources).
_GENERATION = {
    ("", "Pod"), ("", "ReplicationController"),
    ("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet"),
    ("apps", "ReplicaSet"), ("batch", "Job"), ("batch", "CronJob"),
    ("networking.k8s.io", "Ingress"), ("networking.k8s.io", "NetworkPolicy"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("policy", "PodDisruptionBudget"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
}

BUILTIN_TYPES: tuple[ResourceType, ...] = tuple(
    ResourceType(
        group=group, versions=versions, kind=row.kind, plural=row.plural,
        namespaced=row.namespaced, verbs=row.verbs, short_names=row.short_names,
        has_generation=(group, row.kind) in _GENERATION, categories=row.categories,
        subresources=row.subresources,
        storage_version=None if row.storage is None
        else row.storage or group_version_of(group, versions[0]),
    )
    for group, versions, rows in BUILTIN_GROUPS for row in rows
)


def _crd_subresources(version: dict[str, Any], spec: dict[str, Any]) -> tuple[Subresource, ...]:
    """`<plural>/status` then `<plural>/scale`, as the CRD asks for them (per version, or for
    the whole CRD in the v1beta1 style)."""
    asked = version.get("subresources") or spec.get("subresources") or {}
    out = []
    if isinstance(asked, dict) and asked.get("status") is not None:
        out.append(Subresource("status", verbs=STATUS_VERBS))
    if isinstance(asked, dict) and asked.get("scale") is not None:
        out.append(Subresource("scale", "Scale", STATUS_VERBS, "autoscaling/v1"))
    return tuple(out)


def crd_types(crd: dict[str, Any]) -> list[ResourceType]:
    """The resource type a CustomResourceDefinition serves."""
    spec = crd.get("spec") or {}
    assert isinstance(spec, dict)
    names = spec.get("names") or {}
    served = [v for v in spec.get("versions") or [] if v.get("served", True)]
    if not served:
        return []
    group = spec["group"]
    # A CRD being deleted serves what its instances' cleanup needs, no more (the apiextensions
    # discovery controller's verbs for a Terminating CRD).
    terminating = bool((crd.get("metadata") or {}).get("deletionTimestamp"))
    storage = next((v["name"] for v in spec.get("versions") or [] if v.get("storage")),
                   served[0]["name"])
    return [
        ResourceType(
            group=group,
            versions=tuple(v["name"] for v in served),
            kind=names["kind"],
            plural=names["plural"],
            namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            verbs=CRD_TERMINATING_VERBS if terminating else CRD_VERBS,
            short_names=tuple(names.get("shortNames") or ()),
            builtin=False,
            has_generation=True,
            singular_name=names.get("singular") or "",
            categories=tuple(names.get("categories") or ()),
            version_subresources=tuple((v["name"], _crd_subresources(v, spec)) for v in served),
            storage_version=f"{group}/{storage}",
        )
    ]
