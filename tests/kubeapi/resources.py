"""The resource types the test API server serves, as discovery lists them."""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


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

    @property
    def singular(self) -> str:
        return self.kind.lower()

    def group_resource(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _r(group: str, versions: str, kind: str, plural: str, namespaced: bool = True,
       generation: bool = False, verbs: tuple[str, ...] = ALL_VERBS) -> ResourceType:
    return ResourceType(group, tuple(versions.split(",")), kind, plural, namespaced, verbs,
                        has_generation=generation)


BUILTIN_TYPES: tuple[ResourceType, ...] = (
    _r("", "v1", "Namespace", "namespaces", namespaced=False),
    _r("", "v1", "ConfigMap", "configmaps"),
    _r("", "v1", "Secret", "secrets"),
    _r("", "v1", "Service", "services"),
    _r("", "v1", "ServiceAccount", "serviceaccounts"),
    _r("", "v1", "Pod", "pods"),
    _r("", "v1", "Event", "events"),
    _r("", "v1", "Endpoints", "endpoints"),
    _r("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
    _r("", "v1", "PersistentVolume", "persistentvolumes", namespaced=False),
    _r("", "v1", "Node", "nodes", namespaced=False),
    _r("", "v1", "ReplicationController", "replicationcontrollers", generation=True),
    _r("", "v1", "LimitRange", "limitranges"),
    _r("", "v1", "ResourceQuota", "resourcequotas"),
    _r("apps", "v1", "Deployment", "deployments", generation=True),
    _r("apps", "v1", "StatefulSet", "statefulsets", generation=True),
    _r("apps", "v1", "DaemonSet", "daemonsets", generation=True),
    _r("apps", "v1", "ReplicaSet", "replicasets", generation=True),
    _r("apps", "v1", "ControllerRevision", "controllerrevisions"),
    _r("batch", "v1", "Job", "jobs", generation=True),
    _r("batch", "v1", "CronJob", "cronjobs", generation=True),
    _r("networking.k8s.io", "v1", "Ingress", "ingresses", generation=True),
    _r("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", generation=True),
    _r("networking.k8s.io", "v1", "IngressClass", "ingressclasses", namespaced=False),
    _r("rbac.authorization.k8s.io", "v1", "Role", "roles"),
    _r("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings"),
    _r("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", namespaced=False),
    _r("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings",
       namespaced=False),
    _r("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
       namespaced=False, generation=True),
    _r("apiregistration.k8s.io", "v1", "APIService", "apiservices", namespaced=False),
    _r("coordination.k8s.io", "v1", "Lease", "leases"),
    _r("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", generation=True),
    _r("autoscaling", "v2,v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
    _r("storage.k8s.io", "v1", "StorageClass", "storageclasses", namespaced=False),
    _r("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices"),
    _r("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", namespaced=False),
    _r("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration",
       "validatingwebhookconfigurations", namespaced=False, generation=True),
    _r("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration",
       "mutatingwebhookconfigurations", namespaced=False, generation=True),
    _r("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews",
       namespaced=False, verbs=("create",)),
)


def crd_types(crd: dict[str, object]) -> list[ResourceType]:
    """The resource type a CustomResourceDefinition serves."""
    spec = crd.get("spec") or {}
    assert isinstance(spec, dict)
    names = spec.get("names") or {}
    versions = tuple(v["name"] for v in spec.get("versions") or [] if v.get("served", True))
    if not versions:
        return []
    return [
        ResourceType(
            group=spec["group"],
            versions=versions,
            kind=names["kind"],
            plural=names["plural"],
            namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            short_names=tuple(names.get("shortNames") or ()),
            builtin=False,
            has_generation=True,
        )
    ]
