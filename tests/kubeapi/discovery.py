"""Discovery as kube-apiserver v1.36.2 answers it: `/api`, `/apis`, `/api/v1`,
`/apis/<group>[/<version>]` (also aggregated, `application/json;g=apidiscovery.k8s.io;v=v2;
as=APIGroupDiscoveryList`), the root path list, and OpenAPI v2/v3 documents.

The built-in resources are a data table written from the recording: discovery.jsonl#9 and #10
(the aggregated documents: every group, version, resource and subresource, with their verbs,
short names and categories, in the server's order), the APIResourceLists of every group version
(which resources carry a `storageVersionHash`) and the APIGroupList (the order of the groups).
Custom resources are listed as the apiextensions server lists them (crd-establish-and-cr.jsonl,
cluster-scoped-cr.jsonl): verbs in its own order, `<plural>/status` then `<plural>/scale` after
each resource, their group after the built-in ones.

The server's OpenAPI documents are not in the recording (only their status, content type and
size): these are small documents of the same shape, enough for kubectl to find out that PATCH
takes `fieldValidation` for every kind (so `kubectl apply --server-side` and `kubectl diff`
validate on the server) and to find the schemas of custom resources.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tests.kubeapi.resources import ResourceType

Json = Any

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
STATUS_VERBS = ("get", "patch", "update")
# The apiextensions server's own order (customresource_discovery_controller.go).
CRD_VERBS = ("delete", "deletecollection", "get", "list", "patch", "create", "update", "watch")
CRD_TERMINATING_VERBS = ("delete", "deletecollection", "get", "list", "watch")
AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
SERVER_VERSION = "v1.36.2"


@dataclass(frozen=True)
class Subresource:
    name: str
    kind: str = ""  # "" is the parent resource's kind
    verbs: tuple[str, ...] = STATUS_VERBS
    group_version: str = ""  # of `kind`, when not the parent's: autoscaling/v1 for `scale`


@dataclass(frozen=True)
class Builtin:
    """One row of the table: a built-in resource of a group."""

    plural: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...]
    short_names: tuple[str, ...]
    categories: tuple[str, ...]
    subresources: tuple[Subresource, ...]
    storage: str | None  # the group version objects are stored as; None: not stored


def _res(plural: str, kind: str, *, cluster: bool = False, verbs: tuple[str, ...] = ALL_VERBS,
         short: tuple[str, ...] = (), categories: tuple[str, ...] = (),
         sub: tuple[Subresource, ...] = (), stored: bool = True, storage: str = "") -> Builtin:
    return Builtin(plural, kind, not cluster, verbs, short, categories, sub,
                   (storage or "") if stored else None)


def _sub(name: str, kind: str = "", verbs: tuple[str, ...] = STATUS_VERBS,
         group_version: str = "") -> Subresource:
    return Subresource(name, kind, verbs, group_version)


_STATUS = _sub("status")
_SCALE = _sub("scale", "Scale", group_version="autoscaling/v1")
_PROXY = ("create", "delete", "get", "patch", "update")
_CREATE = ("create",)
_ALL = ("all",)
_EXT = ("api-extensions",)

# (group, versions in the server's order, resources in the server's order). Groups in the order
# of the APIGroupList (discovery.jsonl#3); `storage` only where the stored version is not the
# group's first (events.k8s.io Events are stored as core v1 Events).
BUILTIN_GROUPS: tuple[tuple[str, tuple[str, ...], tuple[Builtin, ...]], ...] = (
    ("", ("v1",), (
        _res("bindings", "Binding", verbs=_CREATE, stored=False),
        _res("componentstatuses", "ComponentStatus", cluster=True, verbs=("get", "list"),
             short=("cs",), stored=False),
        _res("configmaps", "ConfigMap", short=("cm",)),
        _res("endpoints", "Endpoints", short=("ep",)),
        _res("events", "Event", short=("ev",)),
        _res("limitranges", "LimitRange", short=("limits",)),
        _res("namespaces", "Namespace", cluster=True,
             verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
             short=("ns",), sub=(_sub("finalize", verbs=("update",)), _STATUS)),
        _res("nodes", "Node", cluster=True, short=("no",),
             sub=(_sub("proxy", "NodeProxyOptions", _PROXY), _STATUS)),
        _res("persistentvolumeclaims", "PersistentVolumeClaim", short=("pvc",), sub=(_STATUS,)),
        _res("persistentvolumes", "PersistentVolume", cluster=True, short=("pv",),
             sub=(_STATUS,)),
        _res("pods", "Pod", short=("po",), categories=_ALL, sub=(
            _sub("attach", "PodAttachOptions", ("create", "get")),
            _sub("binding", "Binding", _CREATE),
            _sub("ephemeralcontainers"),
            _sub("eviction", "Eviction", _CREATE, "policy/v1"),
            _sub("exec", "PodExecOptions", ("create", "get")),
            _sub("log", verbs=("get",)),
            _sub("portforward", "PodPortForwardOptions", ("create", "get")),
            _sub("proxy", "PodProxyOptions", _PROXY),
            _sub("resize"),
            _STATUS)),
        _res("podtemplates", "PodTemplate"),
        _res("replicationcontrollers", "ReplicationController", short=("rc",), categories=_ALL,
             sub=(_SCALE, _STATUS)),
        _res("resourcequotas", "ResourceQuota", short=("quota",), sub=(_STATUS,)),
        _res("secrets", "Secret"),
        _res("serviceaccounts", "ServiceAccount", short=("sa",),
             sub=(_sub("token", "TokenRequest", _CREATE, "authentication.k8s.io/v1"),)),
        _res("services", "Service", short=("svc",), categories=_ALL,
             sub=(_sub("proxy", "ServiceProxyOptions", _PROXY), _STATUS)),
    )),
    ("apiregistration.k8s.io", ("v1",), (
        _res("apiservices", "APIService", cluster=True, categories=_EXT, sub=(_STATUS,)),
    )),
    ("apps", ("v1",), (
        _res("controllerrevisions", "ControllerRevision"),
        _res("daemonsets", "DaemonSet", short=("ds",), categories=_ALL, sub=(_STATUS,)),
        _res("deployments", "Deployment", short=("deploy",), categories=_ALL,
             sub=(_SCALE, _STATUS)),
        _res("replicasets", "ReplicaSet", short=("rs",), categories=_ALL, sub=(_SCALE, _STATUS)),
        _res("statefulsets", "StatefulSet", short=("sts",), categories=_ALL,
             sub=(_SCALE, _STATUS)),
    )),
    ("events.k8s.io", ("v1",), (
        _res("events", "Event", short=("ev",), storage="v1"),
    )),
    ("authentication.k8s.io", ("v1",), (
        _res("selfsubjectreviews", "SelfSubjectReview", cluster=True, verbs=_CREATE,
             stored=False),
        _res("tokenreviews", "TokenReview", cluster=True, verbs=_CREATE, stored=False),
    )),
    ("authorization.k8s.io", ("v1",), (
        _res("localsubjectaccessreviews", "LocalSubjectAccessReview", verbs=_CREATE,
             stored=False),
        _res("selfsubjectaccessreviews", "SelfSubjectAccessReview", cluster=True, verbs=_CREATE,
             stored=False),
        _res("selfsubjectrulesreviews", "SelfSubjectRulesReview", cluster=True, verbs=_CREATE,
             stored=False),
        _res("subjectaccessreviews", "SubjectAccessReview", cluster=True, verbs=_CREATE,
             stored=False),
    )),
    ("autoscaling", ("v2", "v1"), (
        _res("horizontalpodautoscalers", "HorizontalPodAutoscaler", short=("hpa",),
             categories=_ALL, sub=(_STATUS,)),
    )),
    ("batch", ("v1",), (
        _res("cronjobs", "CronJob", short=("cj",), categories=_ALL, sub=(_STATUS,)),
        _res("jobs", "Job", categories=_ALL, sub=(_STATUS,)),
    )),
    ("certificates.k8s.io", ("v1",), (
        _res("certificatesigningrequests", "CertificateSigningRequest", cluster=True,
             short=("csr",), sub=(_sub("approval"), _STATUS)),
    )),
    ("networking.k8s.io", ("v1",), (
        _res("ingressclasses", "IngressClass", cluster=True),
        _res("ingresses", "Ingress", short=("ing",), sub=(_STATUS,)),
        _res("ipaddresses", "IPAddress", cluster=True, short=("ip",)),
        _res("networkpolicies", "NetworkPolicy", short=("netpol",)),
        _res("servicecidrs", "ServiceCIDR", cluster=True, sub=(_STATUS,)),
    )),
    ("policy", ("v1",), (
        _res("poddisruptionbudgets", "PodDisruptionBudget", short=("pdb",), sub=(_STATUS,)),
    )),
    ("rbac.authorization.k8s.io", ("v1",), (
        _res("clusterrolebindings", "ClusterRoleBinding", cluster=True),
        _res("clusterroles", "ClusterRole", cluster=True),
        _res("rolebindings", "RoleBinding"),
        _res("roles", "Role"),
    )),
    ("storage.k8s.io", ("v1",), (
        _res("csidrivers", "CSIDriver", cluster=True),
        _res("csinodes", "CSINode", cluster=True),
        _res("csistoragecapacities", "CSIStorageCapacity"),
        _res("storageclasses", "StorageClass", cluster=True, short=("sc",)),
        _res("volumeattachments", "VolumeAttachment", cluster=True, sub=(_STATUS,)),
        _res("volumeattributesclasses", "VolumeAttributesClass", cluster=True, short=("vac",)),
    )),
    ("admissionregistration.k8s.io", ("v1",), (
        _res("mutatingadmissionpolicies", "MutatingAdmissionPolicy", cluster=True,
             categories=_EXT),
        _res("mutatingadmissionpolicybindings", "MutatingAdmissionPolicyBinding", cluster=True,
             categories=_EXT),
        _res("mutatingwebhookconfigurations", "MutatingWebhookConfiguration", cluster=True,
             categories=_EXT),
        _res("validatingadmissionpolicies", "ValidatingAdmissionPolicy", cluster=True,
             categories=_EXT, sub=(_STATUS,)),
        _res("validatingadmissionpolicybindings", "ValidatingAdmissionPolicyBinding",
             cluster=True, categories=_EXT),
        _res("validatingwebhookconfigurations", "ValidatingWebhookConfiguration", cluster=True,
             categories=_EXT),
    )),
    ("apiextensions.k8s.io", ("v1",), (
        _res("customresourcedefinitions", "CustomResourceDefinition", cluster=True,
             short=("crd", "crds"), categories=_EXT, sub=(_STATUS,)),
    )),
    ("scheduling.k8s.io", ("v1",), (
        _res("priorityclasses", "PriorityClass", cluster=True, short=("pc",)),
    )),
    ("coordination.k8s.io", ("v1",), (
        _res("leases", "Lease"),
    )),
    ("node.k8s.io", ("v1",), (
        _res("runtimeclasses", "RuntimeClass", cluster=True),
    )),
    ("discovery.k8s.io", ("v1",), (
        _res("endpointslices", "EndpointSlice"),
    )),
    ("resource.k8s.io", ("v1",), (
        _res("deviceclasses", "DeviceClass", cluster=True),
        _res("resourceclaims", "ResourceClaim", sub=(_STATUS,)),
        _res("resourceclaimtemplates", "ResourceClaimTemplate"),
        _res("resourceslices", "ResourceSlice", cluster=True),
    )),
    ("flowcontrol.apiserver.k8s.io", ("v1",), (
        _res("flowschemas", "FlowSchema", cluster=True, sub=(_STATUS,)),
        _res("prioritylevelconfigurations", "PriorityLevelConfiguration", cluster=True,
             sub=(_STATUS,)),
    )),
)
_BUILTIN_ORDER = {group: index for index, (group, _, _) in enumerate(BUILTIN_GROUPS)}

# The paths `GET /` lists besides those of the API groups (discovery.jsonl#16).
_HEALTH_CHECKS = (
    "autoregister-completion", "etcd", "log", "loopback-serving-certificate", "ping",
    *(f"poststarthook/{hook}" for hook in (
        "aggregator-reload-proxy-client-cert", "apiservice-discovery-controller",
        "apiservice-openapi-controller", "apiservice-openapiv3-controller",
        "apiservice-registration-controller", "apiservice-status-local-available-controller",
        "apiservice-status-remote-available-controller", "apiservice-wait-for-first-sync",
        "bootstrap-controller", "crd-informer-synced", "generic-apiserver-start-informers",
        "kube-apiserver-autoregistration", "peer-endpoint-reconciler-controller",
        "priority-and-fairness-config-consumer", "priority-and-fairness-config-producer",
        "priority-and-fairness-filter", "rbac/bootstrap-roles",
        "scheduling/bootstrap-system-priority-classes", "start-apiextensions-controllers",
        "start-apiextensions-informers", "start-apiserver-admission-initializer",
        "start-cluster-authentication-info-controller", "start-kube-aggregator-informers",
        "start-kube-apiserver-identity-lease-controller",
        "start-kube-apiserver-identity-lease-garbage-collector",
        "start-kubernetes-service-cidr-controller", "start-legacy-token-tracking-controller",
        "start-service-ip-repair-controllers", "start-system-namespaces-controller",
        "storage-object-count-tracker-hook", "storage-readiness")),
)
_READY_CHECKS = tuple(sorted(
    {c for c in _HEALTH_CHECKS if c not in ("etcd", "loopback-serving-certificate")}
    | {"informer-sync", "shutdown"}))
_OTHER_PATHS = (
    "/.well-known/openid-configuration", "/api", "/api/v1", "/apis", "/apis/", "/flagz",
    "/healthz", *(f"/healthz/{c}" for c in _HEALTH_CHECKS),
    "/livez", *(f"/livez/{c}" for c in _HEALTH_CHECKS),
    "/metrics", "/metrics/slis", "/openapi/v2", "/openapi/v3", "/openapi/v3/",
    "/openid/v1/jwks", "/readyz", *(f"/readyz/{c}" for c in _READY_CHECKS), "/statusz",
    "/version",
)


def storage_version_hash(group_version: str, kind: str) -> str:
    """What the server puts in `storageVersionHash`: the first 8 bytes of the SHA-256 of
    "<group>/<version>/<kind>" of the stored version, in base64 (`/v1/Pod` for the core
    group). The recording replaces it with `<hash>`."""
    group, _, version = group_version.rpartition("/")
    digest = hashlib.sha256(f"{group}/{version}/{kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Sort key of kube-aware version order: GA before beta before alpha, higher numbers
    first, other names last and alphabetically (how CRD versions are listed)."""
    match = _KUBE_VERSION.match(version)
    if not match:
        return (3, 0, 0, version)
    level = {None: 0, "beta": 1, "alpha": 2}[match.group(2)]
    return (level, -int(match.group(1)), -int(match.group(3) or 0), "")


def group_version_of(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


# ---- which group versions are served --------------------------------------------------------
def _ordered(types: Iterable[ResourceType]) -> list[ResourceType]:
    """Built-in resources in the table's order, then custom resources by CRD name."""
    builtin = [t for t in types if t.builtin]
    custom = sorted((t for t in types if not t.builtin), key=lambda t: t.group_resource())
    return builtin + custom


def served_groups(types: Iterable[ResourceType]) -> list[tuple[str, list[str]]]:
    """(group, versions, preferred first) of every named group, in the server's order: the
    built-in groups as the table has them, then the groups of CRDs by name."""
    versions: dict[str, set[str]] = {}
    for rtype in types:
        if rtype.group:
            versions.setdefault(rtype.group, set()).update(rtype.versions)
    builtin = {g: vs for g, vs, _ in BUILTIN_GROUPS}
    out = []
    for group in sorted(versions, key=lambda g: (_BUILTIN_ORDER.get(g, len(_BUILTIN_ORDER)), g)):
        order = builtin.get(group)
        if order is not None:
            out.append((group, [v for v in order if v in versions[group]]))
        else:
            out.append((group, sorted(versions[group], key=version_priority)))
    return out


def _in_version(types: Iterable[ResourceType], group: str, version: str) -> list[ResourceType]:
    return [t for t in _ordered(types) if t.group == group and version in t.versions]


# ---- the documents --------------------------------------------------------------------------
def api_versions(server_address: str) -> Json:
    """`GET /api` (discovery.jsonl#2)."""
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                            "serverAddress": server_address}]}


def _group_entry(group: str, versions: list[str]) -> Json:
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}


def group_list(types: Iterable[ResourceType]) -> Json:
    """`GET /apis` (discovery.jsonl#3)."""
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [_group_entry(g, vs) for g, vs in served_groups(types)]}


def api_group(group: str, types: Iterable[ResourceType]) -> Json | None:
    """`GET /apis/<group>` (discovery.jsonl#6); None when the group is not served."""
    for name, versions in served_groups(types):
        if name == group:
            return {"kind": "APIGroup", "apiVersion": "v1", **_group_entry(name, versions)}
    return None


def _legacy_entries(rtype: ResourceType, version: str) -> list[Json]:
    entry: Json = {"name": rtype.plural, "singularName": rtype.singular,
                   "namespaced": rtype.namespaced, "kind": rtype.kind,
                   "verbs": list(rtype.verbs)}
    if rtype.short_names:
        entry["shortNames"] = list(rtype.short_names)
    if rtype.categories:
        entry["categories"] = list(rtype.categories)
    if rtype.storage_version is not None:
        entry["storageVersionHash"] = storage_version_hash(
            rtype.storage_version or group_version_of(rtype.group, version), rtype.kind)
    entries = [entry]
    for sub in rtype.subresources_of(version):
        item: Json = {"name": f"{rtype.plural}/{sub.name}", "singularName": "",
                      "namespaced": rtype.namespaced}
        if sub.group_version:
            group, _, sub_version = sub.group_version.rpartition("/")
            item["group"], item["version"] = group, sub_version
        item["kind"] = sub.kind or rtype.kind
        item["verbs"] = list(sub.verbs)
        entries.append(item)
    return entries


def resource_list(group: str, version: str, types: Iterable[ResourceType]) -> Json | None:
    """`GET /api/v1` (discovery.jsonl#4: without `apiVersion`) and `GET /apis/<group>/<version>`
    (#5); None when nothing is served there."""
    served = _in_version(types, group, version)
    if not served:
        return None
    body: Json = {"kind": "APIResourceList"}
    if group:
        body["apiVersion"] = "v1"
    body["groupVersion"] = group_version_of(group, version)
    body["resources"] = [e for t in served for e in _legacy_entries(t, version)]
    return body


def _response_kind(rtype: ResourceType, version: str, kind: str = "",
                   group_version: str = "") -> Json:
    if group_version:
        group, _, other = group_version.rpartition("/")
        return {"group": group, "version": other, "kind": kind}
    if rtype.builtin:
        return {"group": "", "version": "", "kind": kind or rtype.kind}
    return {"group": rtype.group, "version": version, "kind": kind or rtype.kind}


def _aggregated_resource(rtype: ResourceType, version: str) -> Json:
    entry: Json = {"resource": rtype.plural, "responseKind": _response_kind(rtype, version),
                   "scope": "Namespaced" if rtype.namespaced else "Cluster",
                   "singularResource": rtype.singular, "verbs": list(rtype.verbs)}
    if rtype.short_names:
        entry["shortNames"] = list(rtype.short_names)
    if rtype.categories:
        entry["categories"] = list(rtype.categories)
    subresources = rtype.subresources_of(version)
    if subresources:
        entry["subresources"] = [
            {"subresource": s.name,
             "responseKind": _response_kind(rtype, version, s.kind, s.group_version),
             "verbs": list(s.verbs)}
            for s in subresources]
    return entry


def _aggregated_group(group: str, versions: list[str], types: list[ResourceType]) -> Json:
    return {
        "metadata": {"name": group} if group else {},
        "versions": [{"version": v,
                      "resources": [_aggregated_resource(t, v)
                                    for t in _in_version(types, group, v)],
                      "freshness": "Current"}
                     for v in versions],
    }


def aggregated(types: Iterable[ResourceType], core: bool) -> Json:
    """`GET /api` or `GET /apis` asking for `APIGroupDiscoveryList` (discovery.jsonl#9, #10)."""
    served = list(types)
    groups = [("", ["v1"])] if core else served_groups(served)
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {}, "items": [_aggregated_group(g, vs, served) for g, vs in groups]}


def wants_aggregated(accept: str) -> bool | None:
    """Whether the Accept header asks for aggregated discovery first (True), for the plain
    documents (False), or for nothing the server has (None: 406). Protobuf is answered as JSON,
    as the recording's proxy asked for it."""
    if not accept.strip():
        return False
    for media in accept.split(","):
        parts = [p.strip() for p in media.split(";")]
        kind = parts[0]
        params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        if params.get("g") == "apidiscovery.k8s.io":
            if params.get("v") == "v2" and params.get("as") == "APIGroupDiscoveryList":
                return True
            continue
        if params.get("as"):
            continue
        if kind in ("application/json", "application/*", "*/*",
                    "application/vnd.kubernetes.protobuf", "application/yaml"):
            return False
    return None


def root_paths(types: Iterable[ResourceType]) -> Json:
    """`GET /` (discovery.jsonl#16): every path the server serves, sorted."""
    paths = set(_OTHER_PATHS)
    for group, versions in served_groups(types):
        paths.add(f"/apis/{group}")
        paths.update(f"/apis/{group}/{v}" for v in versions)
    return {"paths": sorted(paths)}


# ---- OpenAPI --------------------------------------------------------------------------------
_META = "io.k8s.apimachinery.pkg.apis.meta.v1"
_SPECIAL_PACKAGES = {
    "": "io.k8s.api.core",
    "apiextensions.k8s.io": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions",
    "apiregistration.k8s.io": "io.k8s.kube-aggregator.pkg.apis.apiregistration",
}


def schema_name(group: str, version: str, kind: str, builtin: bool = True) -> str:
    """The name of a kind's schema in the server's OpenAPI documents: `io.k8s.api.apps.v1.
    Deployment`, or the reversed group for custom resources (`com.example.v1.Widget`)."""
    if group in _SPECIAL_PACKAGES:
        package = _SPECIAL_PACKAGES[group]
    elif builtin:
        package = "io.k8s.api." + group.split(".", maxsplit=1)[0]
    else:
        package = ".".join(reversed(group.split(".")))
    return f"{package}.{version}.{kind}"


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _camel(group: str, version: str) -> str:
    words = re.split(r"[.\-]", group.removesuffix(".k8s.io")) if group else ["core"]
    return "".join(w[:1].upper() + w[1:] for w in words) + version[:1].upper() + version[1:]


def _query(name: str, description: str, kind: str = "string") -> Json:
    return {"name": name, "in": "query", "description": description,
            "schema": {"type": kind, "uniqueItems": True}}


_DRY_RUN = _query("dryRun", "When present, indicates that modifications should not be "
                  "persisted. Valid values are: - All: all dry run stages will be processed")
_FIELD_MANAGER = _query("fieldManager", "fieldManager is a name associated with the actor or "
                        "entity that is making these changes.")
_FIELD_VALIDATION = _query(
    "fieldValidation", "fieldValidation instructs the server on how to handle objects in the "
    "request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: Ignore, "
    "Warn (the default), Strict.")
_FORCE = _query("force", "Force is going to \"force\" Apply requests. It means user will "
                "re-acquire conflicting fields owned by other people.", "boolean")
_LIST_PARAMETERS = [
    _query("continue", "The continue option should be set when retrieving more results from "
           "the server."),
    _query("fieldSelector", "A selector to restrict the list of returned objects by their "
           "fields."),
    _query("labelSelector", "A selector to restrict the list of returned objects by their "
           "labels."),
    _query("limit", "limit is a maximum number of responses to return for a list call.",
           "integer"),
    _query("resourceVersion", "resourceVersion sets a constraint on what resource versions a "
           "request may be served from."),
    _query("resourceVersionMatch", "resourceVersionMatch determines how resourceVersion is "
           "applied to list calls."),
    _query("timeoutSeconds", "Timeout for the list/watch call.", "integer"),
    _query("watch", "Watch for changes to the described resources.", "boolean"),
]
_DELETE_PARAMETERS = [
    _DRY_RUN,
    _query("gracePeriodSeconds", "The duration in seconds before the object should be "
           "deleted.", "integer"),
    _query("propagationPolicy", "Whether and how garbage collection will be performed. "
           "Acceptable values are: 'Orphan', 'Background', 'Foreground'."),
]


def _path_parameter(name: str) -> Json:
    return {"name": name, "in": "path", "description": f"{name} of the resource",
            "required": True, "schema": {"type": "string", "uniqueItems": True}}


def _content(schema: Json, builtin: bool) -> Json:
    types = ["application/json", "application/yaml"]
    if builtin:
        types.append("application/vnd.kubernetes.protobuf")
    return {t: {"schema": schema} for t in types}


def _operation(action: str, op_id: str, tag: str, gvk: Json, response: Json, builtin: bool,
               parameters: list[Json] | None = None, body: Json = None,
               patch: bool = False) -> Json:
    operation: Json = {"tags": [tag], "description": f"{action} {gvk['kind']}",
                       "operationId": op_id}
    if parameters:
        operation["parameters"] = parameters
    if patch:
        kinds = ["application/apply-patch+yaml", "application/json-patch+json",
                 "application/merge-patch+json"]
        if builtin:
            kinds.append("application/strategic-merge-patch+json")
        operation["requestBody"] = {"content": {k: {"schema": _ref(f"{_META}.Patch")}
                                                for k in kinds}, "required": True}
    elif body is not None:
        operation["requestBody"] = {"content": {"*/*": {"schema": body}}, "required": True}
    operation["responses"] = {"200": {"description": "OK", "content": _content(response,
                                                                             builtin)},
                              "401": {"description": "Unauthorized"}}
    operation["x-kubernetes-action"] = action
    operation["x-kubernetes-group-version-kind"] = gvk
    return operation


def _resource_paths(rtype: ResourceType, version: str, prefix: str, tag: str) -> Json:
    group, builtin, verbs = rtype.group, rtype.builtin, set(rtype.verbs)
    name = schema_name(group, version, rtype.kind, builtin)
    gvk = {"group": group, "version": version, "kind": rtype.kind}
    op = _camel(group, version) + ("Namespaced" if rtype.namespaced else "")
    scope = "/namespaces/{namespace}" if rtype.namespaced else ""
    collection = f"{prefix}{scope}/{rtype.plural}"
    scope_parameters = [_path_parameter("namespace")] if rtype.namespaced else []
    write = [_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION]
    paths: Json = {}
    item: Json = {}
    if "list" in verbs:
        item["get"] = _operation("list", f"list{op}{rtype.kind}", tag, gvk,
                                 _ref(f"{name}List"), builtin, _LIST_PARAMETERS)
    if "create" in verbs:
        item["post"] = _operation("post", f"create{op}{rtype.kind}", tag, gvk, _ref(name),
                                  builtin, write, body=_ref(name))
    if "deletecollection" in verbs:
        item["delete"] = _operation("deletecollection", f"deleteCollection{op}{rtype.kind}",
                                    tag, gvk, _ref(f"{_META}.Status"), builtin,
                                    _DELETE_PARAMETERS + _LIST_PARAMETERS)
    if item:
        paths[collection] = {**item, "parameters": scope_parameters}
    if rtype.namespaced and "list" in verbs:
        op_all = _camel(group, version)
        paths[f"{prefix}/{rtype.plural}"] = {"get": _operation(
            "list", f"list{op_all}{rtype.kind}ForAllNamespaces", tag, gvk, _ref(f"{name}List"),
            builtin, _LIST_PARAMETERS)}
    item = {}
    if "get" in verbs:
        item["get"] = _operation("get", f"read{op}{rtype.kind}", tag, gvk, _ref(name), builtin)
    if "update" in verbs:
        item["put"] = _operation("put", f"replace{op}{rtype.kind}", tag, gvk, _ref(name),
                                 builtin, write, body=_ref(name))
    if "patch" in verbs:
        item["patch"] = _operation("patch", f"patch{op}{rtype.kind}", tag, gvk, _ref(name),
                                   builtin, [*write, _FORCE], patch=True)
    if "delete" in verbs:
        item["delete"] = _operation("delete", f"delete{op}{rtype.kind}", tag, gvk,
                                    _ref(f"{_META}.Status"), builtin, _DELETE_PARAMETERS,
                                    body=_ref(f"{_META}.DeleteOptions"))
    item_parameters = [_path_parameter("name"), *scope_parameters]
    if item:
        paths[f"{collection}/{{name}}"] = {**item, "parameters": item_parameters}
    for sub in rtype.subresources_of(version):
        sub_group, _, sub_version = (sub.group_version or f"{group}/{version}").rpartition("/")
        sub_kind = sub.kind or rtype.kind
        sub_gvk = {"group": sub_group, "version": sub_version, "kind": sub_kind}
        connect = sub_kind.endswith("Options") or sub.name == "log"
        response = {"type": "string"} if connect else _ref(
            schema_name(sub_group, sub_version, sub_kind, builtin or bool(sub.group_version)))
        suffix = sub.name[:1].upper() + sub.name[1:]
        ops: Json = {}
        for verb, method, prefix_word, action in (
                ("get", "get", "read", "get"), ("create", "post", "create", "post"),
                ("update", "put", "replace", "put"), ("patch", "patch", "patch", "patch"),
                ("delete", "delete", "delete", "delete")):
            if verb not in sub.verbs:
                continue
            word = f"connect{method.capitalize()}" if connect else prefix_word
            ops[method] = _operation(
                "connect" if connect else action, f"{word}{op}{rtype.kind}{suffix}", tag,
                sub_gvk, response, builtin,
                [*write, _FORCE] if method == "patch" else write if method in (
                    "post", "put") and not connect else None,
                body=None if connect or method in ("get", "delete") else response,
                patch=method == "patch" and not connect)
        paths[f"{collection}/{{name}}/{sub.name}"] = {**ops, "parameters": item_parameters}
    return paths


def _meta_schemas() -> Json:
    string, strings = {"type": "string"}, {"type": "object",
                                           "additionalProperties": {"type": "string"}}
    owner = {"type": "object", "required": ["apiVersion", "kind", "name", "uid"],
             "properties": {k: {"type": "boolean"} if k in ("controller", "blockOwnerDeletion")
                            else string for k in ("apiVersion", "blockOwnerDeletion",
                                                  "controller", "kind", "name", "uid")},
             "x-kubernetes-map-type": "atomic"}
    return {
        f"{_META}.ObjectMeta": {
            "description": "ObjectMeta is metadata that all persisted resources must have.",
            "type": "object",
            "properties": {
                "annotations": strings, "creationTimestamp": {**string, "format": "date-time"},
                "deletionGracePeriodSeconds": {"type": "integer", "format": "int64"},
                "deletionTimestamp": {**string, "format": "date-time"},
                "finalizers": {"type": "array", "items": string,
                               "x-kubernetes-list-type": "set",
                               "x-kubernetes-patch-strategy": "merge"},
                "generateName": string, "generation": {"type": "integer", "format": "int64"},
                "labels": strings,
                "managedFields": {"type": "array", "items": {
                    "type": "object", "x-kubernetes-preserve-unknown-fields": True},
                    "x-kubernetes-list-type": "atomic"},
                "name": string, "namespace": string,
                "ownerReferences": {"type": "array", "items": owner,
                                    "x-kubernetes-list-map-keys": ["uid"],
                                    "x-kubernetes-list-type": "map",
                                    "x-kubernetes-patch-merge-key": "uid",
                                    "x-kubernetes-patch-strategy": "merge"},
                "resourceVersion": string, "selfLink": string, "uid": string,
            },
        },
        f"{_META}.ListMeta": {"type": "object", "properties": {
            "continue": string, "remainingItemCount": {"type": "integer", "format": "int64"},
            "resourceVersion": string, "selfLink": string}},
        f"{_META}.Status": {"type": "object", "properties": {
            "apiVersion": string, "code": {"type": "integer", "format": "int32"},
            "details": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "kind": string, "message": string,
            "metadata": {"allOf": [_ref(f"{_META}.ListMeta")], "default": {}},
            "reason": string, "status": string},
            "x-kubernetes-group-version-kind": [{"group": "", "kind": "Status",
                                                 "version": "v1"}]},
        f"{_META}.DeleteOptions": {"type": "object", "properties": {
            "apiVersion": string, "dryRun": {"type": "array", "items": string,
                                             "x-kubernetes-list-type": "atomic"},
            "gracePeriodSeconds": {"type": "integer", "format": "int64"}, "kind": string,
            "orphanDependents": {"type": "boolean"},
            "preconditions": {"type": "object", "properties": {"resourceVersion": string,
                                                               "uid": string}},
            "propagationPolicy": string}},
        f"{_META}.Patch": {"type": "object", "description": "Patch is provided to give a "
                           "concrete name and type to the Kubernetes PATCH request body."},
        f"{_META}.APIResourceList": {"type": "object", "required": ["groupVersion",
                                                                     "resources"],
                                     "properties": {"apiVersion": string,
                                                    "groupVersion": string, "kind": string,
                                                    "resources": {"type": "array", "items": {
                                                        "type": "object"}}}},
    }


def _kind_schemas(rtype: ResourceType, version: str, crd_schema: Json) -> Json:
    name = schema_name(rtype.group, version, rtype.kind, rtype.builtin)
    gvk = [{"group": rtype.group, "kind": rtype.kind, "version": version}]
    common = {
        "apiVersion": {"description": "APIVersion defines the versioned schema of this "
                       "representation of an object.", "type": "string"},
        "kind": {"description": "Kind is a string value representing the REST resource this "
                 "object represents.", "type": "string"},
    }
    if isinstance(crd_schema, dict):
        schema = json.loads(json.dumps(crd_schema))
        properties = schema.setdefault("properties", {})
        properties.update({k: v for k, v in common.items() if k not in properties})
        properties["metadata"] = {"allOf": [_ref(f"{_META}.ObjectMeta")], "default": {}}
        schema.setdefault("type", "object")
    else:
        # Only the fields every object has. Not tagged with its kind: kubectl computes a
        # strategic merge patch from a tagged schema and would miss the fields not described
        # here; untagged, it uses the schema it has built in.
        schema = {"description": f"{rtype.kind} of {group_version_of(rtype.group, version)}.",
                  "type": "object",
                  "properties": {**common, "metadata": {"allOf": [_ref(f"{_META}.ObjectMeta")],
                                                        "default": {}}}}
    listed: Json = {"description": f"{rtype.kind}List is a list of {rtype.kind}.",
                    "type": "object",
                    "required": ["items"],
                    "properties": {**common, "items": {"type": "array", "items": _ref(name)},
                                   "metadata": {"allOf": [_ref(f"{_META}.ListMeta")],
                                                "default": {}}}}
    if not rtype.builtin:
        schema["x-kubernetes-group-version-kind"] = gvk
        listed["x-kubernetes-group-version-kind"] = [{**gvk[0], "kind": f"{rtype.kind}List"}]
    return {name: schema, f"{name}List": listed}


def openapi_v3_paths(types: Iterable[ResourceType]) -> list[str]:
    """The documents `/openapi/v3` lists: one per group version, plus discovery's own."""
    served = list(types)
    paths = [".well-known/openid-configuration", "api", "api/v1", "apis", "logs",
             "openid/v1/jwks", "version"]
    for group, versions in served_groups(served):
        paths.append(f"apis/{group}")
        paths.extend(f"apis/{group}/{v}" for v in versions)
    return sorted(paths)


def openapi_v3_document(path: str, types: Iterable[ResourceType],
                        crd_schemas: dict[tuple[str, str, str], Json]) -> Json | None:
    """`GET /openapi/v3/<path>`: the OpenAPI 3 document of one group version (or a small
    one for the other paths); None when there is none. `crd_schemas` maps (group, version,
    kind) of custom resources to their `openAPIV3Schema`."""
    served = list(types)
    if path not in openapi_v3_paths(served):
        return None
    document: Json = {"openapi": "3.0.0",
                      "info": {"title": "Kubernetes", "version": SERVER_VERSION},
                      "paths": {}, "components": {"schemas": {}}}
    parts = path.split("/")
    if parts[0] == "api" and len(parts) == 2:
        group, version = "", parts[1]
    elif parts[0] == "apis" and len(parts) == 3:
        group, version = parts[1], parts[2]
    else:
        document["paths"][f"/{path}/"] = {"get": {
            "tags": [path.replace("/", "_")], "description": "get information",
            "operationId": "get" + "".join(p[:1].upper() + p[1:] for p in re.split(
                r"[/.\-]", path) if p),
            "responses": {"200": {"description": "OK"}, "401": {"description": "Unauthorized"}}}}
        return document
    prefix = f"/{path}"
    tag = (group.removesuffix(".k8s.io").replace(".", "_") or "core") + f"_{version}"
    schemas = _meta_schemas()
    document["paths"][f"{prefix}/"] = {"get": {
        "tags": [tag], "description": "get available resources",
        "operationId": f"get{_camel(group, version)}APIResources",
        "responses": {"200": {"description": "OK", "content": _content(
            _ref(f"{_META}.APIResourceList"), True)}, "401": {"description": "Unauthorized"}}}}
    for rtype in _in_version(served, group, version):
        document["paths"].update(_resource_paths(rtype, version, prefix, tag))
        crd_schema = None if rtype.builtin else crd_schemas.get((group, version, rtype.kind))
        schemas.update(_kind_schemas(rtype, version, crd_schema))
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    return document


def openapi_v3_root(types: Iterable[ResourceType],
                    crd_schemas: dict[tuple[str, str, str], Json]) -> str:
    """`GET /openapi/v3`: where each document is, with the hash of its content (the server
    answers it as text/plain, discovery of configmap-1mib.jsonl#7)."""
    served = list(types)
    paths = {}
    for path in openapi_v3_paths(served):
        text = json.dumps(openapi_v3_document(path, served, crd_schemas), sort_keys=True)
        digest = hashlib.sha512(text.encode()).hexdigest().upper()
        paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return json.dumps({"paths": paths}, separators=(",", ":"))


def openapi_v2_document() -> Json:
    """`GET /openapi/v2` as JSON: a Swagger 2.0 document without definitions (clients use
    the OpenAPI 3 documents)."""
    return {"swagger": "2.0", "info": {"title": "Kubernetes", "version": SERVER_VERSION},
            "paths": {}, "definitions": {}}


def _protobuf_field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (strings and messages)."""
    key, size, out = (number << 3) | 2, len(payload), b""
    out += bytes([key])
    while size >= 0x80:
        out += bytes([(size & 0x7F) | 0x80])
        size >>= 7
    return out + bytes([size]) + payload


def openapi_v2_protobuf() -> bytes:
    """The same document as gnostic's `openapi.v2.Document` message (what kubectl asks for):
    swagger = 1, info = 2 (title = 1, version = 2), paths = 8, definitions = 9."""
    info = _protobuf_field(1, b"Kubernetes") + _protobuf_field(2, SERVER_VERSION.encode())
    return (_protobuf_field(1, b"2.0") + _protobuf_field(2, info) + _protobuf_field(8, b"")
            + _protobuf_field(9, b""))
