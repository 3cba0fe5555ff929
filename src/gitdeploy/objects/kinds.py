"""The Kubernetes vocabulary gitdeploy speaks, in one place: the kinds it treats specially
(Namespaces, CRDs), which kinds are cluster-scoped without asking a cluster, how an object is
named in messages, and the REST paths of the API.

Scopes are used offline (render) to decide which objects get the environment's default
namespace; against a cluster, discovery has the last word.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # manifests name objects with `title`: no import at run time
    from gitdeploy.objects.manifests import Manifest

NAMESPACE_KIND = "Namespace"
CRD_GROUP, CRD_KIND = "apiextensions.k8s.io", "CustomResourceDefinition"
CRD_API_VERSION = f"{CRD_GROUP}/v1"  # the version whose schema `validate` reads


def is_namespace(group: str, kind: str) -> bool:
    return kind == NAMESPACE_KIND and not group


def is_crd(group: str, kind: str) -> bool:
    return kind == CRD_KIND and group == CRD_GROUP


def title(kind: str, namespace: str, name: str) -> str:
    """How messages and tables name an object: "Deployment shop/web", "Namespace shop"."""
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def diff_label(kind: str, namespace: str, name: str) -> str:
    """How a diff's file header names an object: "Deployment/shop/web"."""
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def api_path(api_version: str, plural: str = "", *, namespace: str = "", name: str = "") -> str:
    """The REST path of a group version (no plural), a collection, or one object: "/api/v1",
    "/apis/apps/v1/namespaces/shop/deployments/web"."""
    path = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
    if not plural:
        return path
    if namespace:
        path += f"/namespaces/{namespace}"
    path += f"/{plural}"
    return f"{path}/{name}" if name else path

BUILTIN_CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset(
    {
        ("", NAMESPACE_KIND),
        ("", "Node"),
        ("", "PersistentVolume"),
        ("", "ComponentStatus"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        (CRD_GROUP, CRD_KIND),
        ("apiregistration.k8s.io", "APIService"),
        ("storage.k8s.io", "StorageClass"),
        ("storage.k8s.io", "CSIDriver"),
        ("storage.k8s.io", "CSINode"),
        ("storage.k8s.io", "VolumeAttachment"),
        ("storage.k8s.io", "VolumeAttributesClass"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("node.k8s.io", "RuntimeClass"),
        ("networking.k8s.io", "IngressClass"),
        ("networking.k8s.io", "IPAddress"),
        ("networking.k8s.io", "ServiceCIDR"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
        ("certificates.k8s.io", "CertificateSigningRequest"),
        ("certificates.k8s.io", "ClusterTrustBundle"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
        ("policy", "PodSecurityPolicy"),
        ("resource.k8s.io", "DeviceClass"),
        ("resource.k8s.io", "ResourceSlice"),
    }
)


# The API groups Kubernetes itself serves (kube-apiserver v1.36): every other group is a custom
# resource's, whose scope its CRD gives.
BUILTIN_GROUPS = frozenset({
    "", "apps", "batch", "autoscaling", "policy", "events.k8s.io", "networking.k8s.io",
    "rbac.authorization.k8s.io", "storage.k8s.io", "scheduling.k8s.io", "node.k8s.io",
    "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io",
    "certificates.k8s.io", "coordination.k8s.io", "discovery.k8s.io",
    "flowcontrol.apiserver.k8s.io", "resource.k8s.io", "authentication.k8s.io",
    "authorization.k8s.io", "internal.apiserver.k8s.io", "storagemigration.k8s.io",
})


def is_custom_group(group: str) -> bool:
    return group not in BUILTIN_GROUPS


def cluster_scoped_kinds(manifests: list[Manifest]) -> set[tuple[str, str]]:
    """Built-in cluster-scoped kinds plus those defined by CRDs among `manifests`."""
    kinds = set(BUILTIN_CLUSTER_SCOPED)
    for manifest in manifests:
        if is_crd(manifest.group, manifest.kind):
            spec = manifest.body.get("spec") or {}
            names = spec.get("names") or {}
            if spec.get("scope") == "Cluster" and names.get("kind") and spec.get("group"):
                kinds.add((str(spec["group"]), str(names["kind"])))
    return kinds
