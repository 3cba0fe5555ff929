"""API versions that Kubernetes deprecated or removed, with what replaces them.

Source: the Kubernetes "Deprecated API Migration Guide"
(https://kubernetes.io/docs/reference/using-api/deprecation-guide/, "Removed APIs by
release"): the release that stops serving each version, and the version to migrate to with the
release it is available since (taken here as the release that deprecated the old one, as the
API server's deprecation warnings do). v1 Endpoints: deprecated in 1.33 in favour of
EndpointSlice (the 1.33 release notes, KEP-4974), not removed. Update the table with each
Kubernetes release, from the same guide.
"""

from __future__ import annotations

from dataclasses import dataclass

from gitdeploy.validate.builtin import minor


@dataclass(frozen=True)
class Lifecycle:
    api_version: str
    kind: str
    deprecated_in: str
    removed_in: str | None  # None: deprecated, still served
    replacement: str  # "apps/v1", or what to do instead when nothing replaces it

    def removed(self, version: str) -> bool:
        return self.removed_in is not None and _key(version) >= _key(self.removed_in)

    def deprecated(self, version: str) -> bool:
        return _key(version) >= _key(self.deprecated_in)

    def message(self, version: str) -> str:
        use = (f"use {self.replacement}" if "/" in self.replacement.split(" ")[0]
               else self.replacement)
        if self.removed(version):
            return (f"{self.kind} {self.api_version} was removed in Kubernetes "
                    f"{self.removed_in} (this environment runs {version}): {use}")
        until = (f", and is removed in {self.removed_in}" if self.removed_in
                 else ", still served")
        return (f"{self.kind} {self.api_version} is deprecated since Kubernetes "
                f"{self.deprecated_in}{until}: {use}")


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in minor(version).split("."))


def _rows(api_versions: tuple[str, ...], kinds: tuple[str, ...], deprecated: str,
          removed: str | None, replacement: str) -> list[Lifecycle]:
    return [Lifecycle(a, k, deprecated, removed, replacement)
            for a in api_versions for k in kinds]


_APPS = ("Deployment", "DaemonSet", "ReplicaSet", "StatefulSet")
_FLOW = ("FlowSchema", "PriorityLevelConfiguration")

TABLE: tuple[Lifecycle, ...] = (
    # removed in 1.16
    *_rows(("extensions/v1beta1", "apps/v1beta1", "apps/v1beta2"), _APPS, "1.9", "1.16",
           "apps/v1"),
    *_rows(("extensions/v1beta1",), ("NetworkPolicy",), "1.8", "1.16", "networking.k8s.io/v1"),
    *_rows(("extensions/v1beta1",), ("PodSecurityPolicy",), "1.10", "1.16", "policy/v1beta1"),
    # removed in 1.22
    *_rows(("admissionregistration.k8s.io/v1beta1",),
           ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"), "1.16", "1.22",
           "admissionregistration.k8s.io/v1"),
    *_rows(("apiextensions.k8s.io/v1beta1",), ("CustomResourceDefinition",), "1.16", "1.22",
           "apiextensions.k8s.io/v1"),
    *_rows(("apiregistration.k8s.io/v1beta1",), ("APIService",), "1.10", "1.22",
           "apiregistration.k8s.io/v1"),
    *_rows(("authentication.k8s.io/v1beta1",), ("TokenReview",), "1.6", "1.22",
           "authentication.k8s.io/v1"),
    *_rows(("authorization.k8s.io/v1beta1",),
           ("SubjectAccessReview", "LocalSubjectAccessReview", "SelfSubjectAccessReview"),
           "1.6", "1.22", "authorization.k8s.io/v1"),
    *_rows(("certificates.k8s.io/v1beta1",), ("CertificateSigningRequest",), "1.19", "1.22",
           "certificates.k8s.io/v1"),
    *_rows(("coordination.k8s.io/v1beta1",), ("Lease",), "1.14", "1.22", "coordination.k8s.io/v1"),
    *_rows(("extensions/v1beta1", "networking.k8s.io/v1beta1"), ("Ingress",), "1.19", "1.22",
           "networking.k8s.io/v1"),
    *_rows(("networking.k8s.io/v1beta1",), ("IngressClass",), "1.19", "1.22",
           "networking.k8s.io/v1"),
    *_rows(("rbac.authorization.k8s.io/v1beta1",),
           ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"), "1.8", "1.22",
           "rbac.authorization.k8s.io/v1"),
    *_rows(("scheduling.k8s.io/v1beta1",), ("PriorityClass",), "1.14", "1.22",
           "scheduling.k8s.io/v1"),
    *_rows(("storage.k8s.io/v1beta1",),
           ("CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"), "1.19", "1.22",
           "storage.k8s.io/v1"),
    # removed in 1.25
    *_rows(("batch/v1beta1",), ("CronJob",), "1.21", "1.25", "batch/v1"),
    *_rows(("discovery.k8s.io/v1beta1",), ("EndpointSlice",), "1.21", "1.25",
           "discovery.k8s.io/v1"),
    *_rows(("events.k8s.io/v1beta1",), ("Event",), "1.19", "1.25", "events.k8s.io/v1"),
    *_rows(("autoscaling/v2beta1",), ("HorizontalPodAutoscaler",), "1.22", "1.25",
           "autoscaling/v2"),
    *_rows(("policy/v1beta1",), ("PodDisruptionBudget",), "1.21", "1.25", "policy/v1"),
    *_rows(("policy/v1beta1",), ("PodSecurityPolicy",), "1.21", "1.25",
           "nothing replaces it: use Pod Security Admission (namespace labels "
           "pod-security.kubernetes.io/*)"),
    *_rows(("node.k8s.io/v1beta1",), ("RuntimeClass",), "1.20", "1.25", "node.k8s.io/v1"),
    # removed in 1.26
    *_rows(("flowcontrol.apiserver.k8s.io/v1beta1",), _FLOW, "1.23", "1.26",
           "flowcontrol.apiserver.k8s.io/v1"),
    *_rows(("autoscaling/v2beta2",), ("HorizontalPodAutoscaler",), "1.23", "1.26",
           "autoscaling/v2"),
    # removed in 1.27
    *_rows(("storage.k8s.io/v1beta1",), ("CSIStorageCapacity",), "1.24", "1.27",
           "storage.k8s.io/v1"),
    # removed in 1.29
    *_rows(("flowcontrol.apiserver.k8s.io/v1beta2",), _FLOW, "1.26", "1.29",
           "flowcontrol.apiserver.k8s.io/v1"),
    # removed in 1.32
    *_rows(("flowcontrol.apiserver.k8s.io/v1beta3",), _FLOW, "1.29", "1.32",
           "flowcontrol.apiserver.k8s.io/v1"),
    # deprecated, still served
    *_rows(("v1",), ("Endpoints",), "1.33", None, "discovery.k8s.io/v1 EndpointSlice"),
)

_BY_KEY = {(row.api_version, row.kind): row for row in TABLE}


def lifecycle(api_version: str, kind: str) -> Lifecycle | None:
    return _BY_KEY.get((api_version, kind))
