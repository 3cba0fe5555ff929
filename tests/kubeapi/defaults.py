"""Defaulting and validation, for the fields gitdeploy's tests rely on.

Defaults follow the real API server's (so that normalization is really exercised); validation
errors come back as the real server's 422 Status. Two stages, as in kube-apiserver:

- `set_defaults`: the defaulting functions run when a body is decoded (the `SetDefaults_*` of
  each API group). A create's or update's manager owns what they add.
- `prepare`: what the registry and the admission plugins add after field ownership is settled,
  owned by nobody: a Service's cluster IPs and node ports, a Job's generated selector and
  labels, a Namespace's finalizers, a claim's protection finalizer, a CRD's stored versions.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import random
import re
from typing import Any

from tests.kubeapi.errors import ApiError, invalid

Obj = dict[str, Any]

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN_TEXT = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
_LABEL_TEXT = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
_DNS_1035_TEXT = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
_NODE_PORTS = itertools.count()
_NODE_PORT_BASE, _NODE_PORT_RANGE = 30000, 2768
WORKLOADS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})
JOB_LABELS = ("batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name",
              "controller-uid", "job-name")
PVC_PROTECTION = "kubernetes.io/pvc-protection"
# Random name suffixes: five characters without vowels or look-alikes.
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


# ---- defaulting (owned by the writer of a create or update) ---------------------------------
def _probe_defaults(probe: Any) -> None:
    if not isinstance(probe, dict):
        return
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    if isinstance(probe.get("httpGet"), dict):
        probe["httpGet"].setdefault("scheme", "HTTP")
    if isinstance(probe.get("grpc"), dict):
        probe["grpc"].setdefault("service", "")


def _container_defaults(container: Obj) -> None:
    image = str(container.get("image", ""))
    tag = image.rsplit("/", 1)[-1].split("@", 1)[0]
    latest = "@" not in image and (":" not in tag or tag.endswith(":latest"))
    container.setdefault("resources", {})
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
    for port in container.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for env in container.get("env") or []:
        field_ref = ((env or {}).get("valueFrom") or {}).get("fieldRef") \
            if isinstance(env, dict) else None
        if isinstance(field_ref, dict):
            field_ref.setdefault("apiVersion", "v1")
    for name in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe_defaults(container.get(name))


def _volume_defaults(volume: Obj) -> None:
    sources = [k for k in volume if k != "name"]
    if not sources:
        volume["emptyDir"] = {}
    for name in ("secret", "configMap", "projected", "downwardAPI"):
        if isinstance(volume.get(name), dict):
            volume[name].setdefault("defaultMode", 420)
    for source in (volume.get("projected") or {}).get("sources") or []:
        for item in ((source or {}).get("downwardAPI") or {}).get("items") or []:
            if isinstance((item or {}).get("fieldRef"), dict):
                item["fieldRef"].setdefault("apiVersion", "v1")
        token = (source or {}).get("serviceAccountToken")
        if isinstance(token, dict):
            token.setdefault("expirationSeconds", 3600)


def pod_spec_defaults(spec: Obj) -> None:
    """SetDefaults_PodSpec and the defaults of what a pod spec holds."""
    for volume in spec.get("volumes") or []:
        if isinstance(volume, dict):
            _volume_defaults(volume)
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(field) or []:
            if isinstance(container, dict):
                _container_defaults(container)
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")


def _template_defaults(template: Any) -> None:
    """A pod template: its metadata exists (`{}`), its pod spec is defaulted."""
    if not isinstance(template, dict):
        return
    if not isinstance(template.get("metadata"), dict):
        template["metadata"] = {}
    if isinstance(template.get("spec"), dict):
        pod_spec_defaults(template["spec"])


def _service_defaults(spec: Obj) -> None:
    spec.setdefault("type", "ClusterIP")
    kind = spec["type"]
    spec.setdefault("sessionAffinity", "None")
    if spec["sessionAffinity"] == "ClientIP":
        config = spec.setdefault("sessionAffinityConfig", {}).setdefault("clientIP", {})
        config.setdefault("timeoutSeconds", 10800)
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
    if kind in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if kind == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    if kind != "ExternalName":
        spec.setdefault("internalTrafficPolicy", "Cluster")


def _workload_defaults(kind: str, spec: Obj) -> None:
    if kind == "Deployment":
        spec.setdefault("replicas", 1)
        strategy = spec.setdefault("strategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxUnavailable", "25%")
            rolling.setdefault("maxSurge", "25%")
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
    elif kind == "StatefulSet":
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        strategy = spec.setdefault("updateStrategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
        spec.setdefault("revisionHistoryLimit", 10)
        policy = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
        policy.setdefault("whenDeleted", "Retain")
        policy.setdefault("whenScaled", "Retain")
        for claim in spec.get("volumeClaimTemplates") or []:
            if isinstance(claim, dict):
                claim.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
                claim.setdefault("status", {"phase": "Pending"})
    elif kind == "DaemonSet":
        strategy = spec.setdefault("updateStrategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxUnavailable", 1)
            rolling.setdefault("maxSurge", 0)
        spec.setdefault("revisionHistoryLimit", 10)
    elif kind == "ReplicaSet":
        spec.setdefault("replicas", 1)
    _template_defaults(spec.get("template"))


def _job_defaults(spec: Obj) -> None:
    """SetDefaults_Job: parallelism and completions 1 (for a job without either), a backoff
    limit of 6, a non-indexed, running job whose failed pods are replaced once gone."""
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    if (spec.get("podFailurePolicy") or {}).get("rules"):
        spec.setdefault("podReplacementPolicy", "Failed")
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    _template_defaults(spec.get("template"))


def _cronjob_defaults(spec: Obj) -> None:
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    template = spec.get("jobTemplate")
    if isinstance(template, dict):
        if not isinstance(template.get("metadata"), dict):
            template["metadata"] = {}
        if isinstance(template.get("spec"), dict):
            _template_defaults(template["spec"].get("template"))


def _crd_defaults(spec: Obj) -> None:
    names = spec.get("names")
    if isinstance(names, dict) and names.get("kind"):
        names.setdefault("singular", str(names["kind"]).lower())
        names.setdefault("listKind", f"{names['kind']}List")
    conversion = spec.setdefault("conversion", {})
    if isinstance(conversion, dict):
        conversion.setdefault("strategy", "None")
        webhook = conversion.get("webhook")
        service = ((webhook or {}).get("clientConfig") or {}).get("service") \
            if isinstance(webhook, dict) else None
        if isinstance(service, dict):
            service.setdefault("port", 443)


def _network_policy_defaults(spec: Obj) -> None:
    if "policyTypes" not in spec:
        spec["policyTypes"] = ["Ingress", *(["Egress"] if spec.get("egress") else [])]
    for rule in [*(spec.get("ingress") or []), *(spec.get("egress") or [])]:
        for port in (rule or {}).get("ports") or [] if isinstance(rule, dict) else []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")


def set_defaults(group: str, kind: str, obj: Obj) -> None:
    """The defaults the server fills in when it decodes a request. An Update manager owns
    those its write added (ssa-unknown-field.jsonl#11: `type` of a created Secret); an Apply
    manager does not."""
    _drop_empty(obj)
    spec = obj.get("spec")
    metadata = obj.setdefault("metadata", {})
    if group == "apps" and kind in WORKLOADS and isinstance(spec, dict):
        _workload_defaults(kind, spec)
    elif (group, kind) == ("batch", "Job") and isinstance(spec, dict):
        _job_defaults(spec)
    elif (group, kind) == ("batch", "CronJob") and isinstance(spec, dict):
        _cronjob_defaults(spec)
    elif (group, kind) == ("", "Service") and isinstance(spec, dict):
        _service_defaults(spec)
    elif (group, kind) == ("", "Secret"):
        obj.setdefault("type", "Opaque")
        string_data = obj.pop("stringData", None)
        if isinstance(string_data, dict):
            data = obj.setdefault("data", {})
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode()).decode()
    elif (group, kind) == ("", "Namespace"):
        labels = metadata.setdefault("labels", {})
        labels["kubernetes.io/metadata.name"] = metadata.get("name")
    elif (group, kind) == ("", "PersistentVolumeClaim") and isinstance(spec, dict):
        spec.setdefault("volumeMode", "Filesystem")
    elif (group, kind) in {("", "Pod"), ("", "PodTemplate"), ("", "ReplicationController")}:
        if kind == "Pod" and isinstance(spec, dict):
            pod_spec_defaults(spec)
            spec.setdefault("enableServiceLinks", True)
        elif kind == "PodTemplate":
            _template_defaults(obj.get("template"))
        elif isinstance(spec, dict):
            spec.setdefault("replicas", 1)
            _template_defaults(spec.get("template"))
    elif (group, kind) == ("apiextensions.k8s.io", "CustomResourceDefinition") \
            and isinstance(spec, dict):
        _crd_defaults(spec)
    elif (group, kind) == ("networking.k8s.io", "NetworkPolicy") and isinstance(spec, dict):
        _network_policy_defaults(spec)
    elif (group, kind) == ("events.k8s.io", "Event"):
        # Fields Go writes even when empty: a struct, and times that are null
        # (unschedulable-workload.jsonl#9).
        obj.setdefault("deprecatedSource", {})
        obj.setdefault("deprecatedFirstTimestamp", None)
        obj.setdefault("deprecatedLastTimestamp", None)
    elif (group, kind) == ("", "Event"):
        obj.setdefault("involvedObject", {})
        obj.setdefault("source", {})
        obj.setdefault("firstTimestamp", None)
        obj.setdefault("lastTimestamp", None)
        obj.setdefault("eventTime", None)
        obj.setdefault("reportingComponent", "")
        obj.setdefault("reportingInstance", "")


def _drop_empty(obj: Obj) -> None:
    """Empty maps and lists of fields declared `omitempty` do not survive decoding."""
    metadata = obj.get("metadata")
    for container, names in ((metadata, ("labels", "annotations", "finalizers",
                                         "ownerReferences")),
                             (obj, ("data", "binaryData", "stringData"))):
        if isinstance(container, dict):
            for name in names:
                if name in container and container[name] in ({}, [], None):
                    del container[name]


# ---- the registry's own additions (owned by nobody) -----------------------------------------
def _node_port(used: set[int]) -> int:
    while True:
        port = _NODE_PORT_BASE + next(_NODE_PORTS) % _NODE_PORT_RANGE
        if port not in used:
            return port


def _prepare_service(spec: Obj, old: Obj | None, allocate_ip: Any) -> None:
    """Cluster IPs allocated once (kept when the configuration drops them, gone for an
    ExternalName), node ports for NodePort and LoadBalancer services."""
    ip_fields = ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy")
    old_spec = (old or {}).get("spec") or {}
    _drop_type_dependent(spec, old_spec)
    if spec.get("type") == "ExternalName":
        for name in (*ip_fields, "internalTrafficPolicy"):
            spec.pop(name, None)
        return
    if old_spec.get("type") == "ExternalName":
        old_spec = {}
    for name in ip_fields:
        if name not in spec and name in old_spec:
            spec[name] = copy.deepcopy(old_spec[name])
    if "clusterIP" not in spec:
        spec["clusterIP"] = (spec.get("clusterIPs") or [None])[0] or allocate_ip()
    spec.setdefault("clusterIPs", [spec["clusterIP"]])
    if spec["clusterIP"] == "None":
        spec.setdefault("ipFamilyPolicy", "RequireDualStack")
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    if spec.get("type") not in ("NodePort", "LoadBalancer") or (
            spec.get("type") == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts")
            is False):
        return
    old_ports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
                 for p in old_spec.get("ports") or [] if isinstance(p, dict)}
    used = {p.get("nodePort") for p in spec.get("ports") or [] if isinstance(p, dict)}
    for port in spec.get("ports") or []:
        if isinstance(port, dict) and not port.get("nodePort"):
            kept = old_ports.get((port.get("port"), port.get("protocol", "TCP")))
            port["nodePort"] = kept or _node_port({u for u in used if isinstance(u, int)})
            used.add(port["nodePort"])


def _drop_type_dependent(spec: Obj, old_spec: Obj) -> None:
    """A Service that is no longer a NodePort or LoadBalancer loses what the old type had
    given it and the client did not ask for again: node ports, the external traffic policy."""
    kind, old_kind = spec.get("type"), old_spec.get("type")
    external = ("NodePort", "LoadBalancer")
    if old_kind not in external or kind in external:
        return
    old_ports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
                 for p in old_spec.get("ports") or [] if isinstance(p, dict)}
    for port in spec.get("ports") or []:
        if isinstance(port, dict) and port.get("nodePort") is not None and port["nodePort"] \
                == old_ports.get((port.get("port"), port.get("protocol", "TCP"))):
            del port["nodePort"]
    if spec.get("externalTrafficPolicy") == old_spec.get("externalTrafficPolicy"):
        spec.pop("externalTrafficPolicy", None)
    if kind != "LoadBalancer":
        spec.pop("allocateLoadBalancerNodePorts", None)


def _prepare_job(obj: Obj, old: Obj | None) -> None:
    """The job registry's generated selector (unless `manualSelector`), and the labels that go
    with it on the template and, when it has none, the job."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    if old is not None:
        old_spec = old.get("spec") or {}
        for name in ("selector", "manualSelector"):
            if name not in spec and name in old_spec:
                spec[name] = copy.deepcopy(old_spec[name])
        return
    metadata = obj["metadata"]
    template = spec.get("template")
    if not isinstance(template, dict):
        return
    template_meta = template.get("metadata")
    if not isinstance(template_meta, dict):
        template_meta = template["metadata"] = {}
    if spec.get("manualSelector") is not True:
        uid, name = metadata.get("uid", ""), metadata.get("name", "")
        generated = dict(zip(JOB_LABELS, (uid, name, uid, name), strict=True))
        template_meta["labels"] = {**(template_meta.get("labels") or {}), **generated}
        spec["selector"] = {"matchLabels": {JOB_LABELS[0]: uid}}
        spec["manualSelector"] = False
    if not metadata.get("labels") and template_meta.get("labels"):
        metadata["labels"] = dict(template_meta["labels"])


def prepare(group: str, kind: str, obj: Obj, old: Obj | None, allocate_ip: Any) -> None:
    """What the registry sets on a write, after field ownership is settled (nobody owns it):
    a Service's cluster IPs and node ports, a Job's selector, a Namespace's finalizers and
    phase, a claim's protection finalizer, a CRD's stored versions."""
    spec = obj.get("spec")
    metadata = obj.setdefault("metadata", {})
    if kind == "Service" and group == "" and isinstance(spec, dict):
        _prepare_service(spec, old, allocate_ip)
    elif (group, kind) == ("batch", "Job"):
        _prepare_job(obj, old)
    elif kind == "Namespace" and group == "":
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj["status"] = (old or {}).get("status") or {"phase": "Active"}
    elif (group, kind) == ("", "PersistentVolumeClaim") and old is None:
        finalizers = metadata.setdefault("finalizers", [])
        if PVC_PROTECTION not in finalizers:
            finalizers.append(PVC_PROTECTION)
    elif (group, kind) == ("", "Pod") and old is None and isinstance(spec, dict):
        _admit_pod(spec)


def _admit_pod(spec: Obj) -> None:
    """What the admission plugins add to a new pod (unschedulable-workload.jsonl#4): the
    service account and its token volume, the default tolerations, the priority."""
    account = spec.setdefault("serviceAccountName", "default")
    spec.setdefault("serviceAccount", account)
    if spec.get("automountServiceAccountToken") is not False:
        name = "kube-api-access-" + "".join(random.choice(NAME_ALPHABET) for _ in range(5))
        spec.setdefault("volumes", []).append({"name": name, "projected": {"sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt",
                           "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
            {"configMap": {"name": "openshift-service-ca.crt",
                           "items": [{"key": "service-ca.crt", "path": "service-ca.crt"}]}},
        ], "defaultMode": 420}})
        for field in ("initContainers", "containers"):
            for container in spec.get(field) or []:
                if isinstance(container, dict):
                    container.setdefault("volumeMounts", []).append({
                        "name": name, "readOnly": True,
                        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"})
    tolerations = spec.setdefault("tolerations", [])
    for taint in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any(isinstance(t, dict) and t.get("key") == taint for t in tolerations):
            tolerations.append({"key": taint, "operator": "Exists", "effect": "NoExecute",
                                "tolerationSeconds": 300})
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")


def qos_class(spec: Obj) -> str:
    """The pod's quality of service: requests and limits of its containers."""
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    resources = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    guaranteed = all(
        set(r.get("limits") or {}) >= {"cpu", "memory"}
        and all((r.get("requests") or r.get("limits") or {}).get(k) == v
                for k, v in (r.get("limits") or {}).items())
        for r in resources)
    return "Guaranteed" if guaranteed else "Burstable"


def zero_object(group: str, kind: str, builtin: bool = True) -> Obj:
    """The zero value of a kind as the server sees it before a create: non-pointer structs
    exist (empty), lists without omitempty exist (null). A create's Update manager owns the
    maps and lists it adds with a `.` marker, not these."""
    if not builtin:
        return {}
    template = {"metadata": {"creationTimestamp": None}, "spec": {"containers": None}}
    obj: Obj = {"metadata": {"creationTimestamp": None}}
    if kind in {"ConfigMap", "Secret", "ServiceAccount", "Endpoints", "Role", "ClusterRole",
                "ControllerRevision"}:
        return obj
    if kind == "Event" and group == "":
        return {**obj, "involvedObject": {}, "source": {}, "firstTimestamp": None,
                "lastTimestamp": None, "eventTime": None, "reportingComponent": "",
                "reportingInstance": ""}
    if kind == "Event" and group == "events.k8s.io":
        return {**obj, "eventTime": None, "deprecatedSource": {},
                "deprecatedFirstTimestamp": None, "deprecatedLastTimestamp": None}
    if kind in {"RoleBinding", "ClusterRoleBinding"}:
        return {**obj, "roleRef": {"apiGroup": "", "kind": "", "name": ""}}
    spec: Obj = {}
    if kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}:
        spec["template"] = template
    if kind in {"StatefulSet", "DaemonSet"}:
        spec["updateStrategy"] = {}
    if kind == "Deployment":
        spec["strategy"] = {}
    if kind == "CronJob":
        spec["jobTemplate"] = {"metadata": {"creationTimestamp": None},
                               "spec": {"template": template}}
    if kind == "Pod":
        spec["containers"] = None
    if kind == "CustomResourceDefinition":
        spec.update({"group": "", "names": {"plural": "", "kind": ""}, "scope": "",
                     "versions": None})
    return {**obj, "spec": spec, "status": {}}


# ---- validation -----------------------------------------------------------------------------
def compact(value: Any) -> str:
    """A value as Go's encoding/json writes it in a validation message."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).replace(
        "<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _name_causes(group: str, kind: str, name: str) -> list[tuple[str, str]]:
    if (group, kind) == ("", "Service"):
        pattern, text, limit = _DNS_1035, _DNS_1035_TEXT, 63
    elif (group, kind) == ("", "Namespace"):
        pattern, text, limit = _DNS_LABEL, _LABEL_TEXT, 63
    else:
        pattern, text, limit = _DNS_SUBDOMAIN, _SUBDOMAIN_TEXT, 253
    causes = []
    if len(name) > limit:
        causes.append(("metadata.name", f'Invalid value: "{name}": must be no more than '
                       f"{limit} characters"))
    if not pattern.match(name):
        causes.append(("metadata.name", f'Invalid value: "{name}": {text}'))
    return causes


def _pod_spec_causes(pod_spec: Obj, prefix: str) -> list[tuple[str, str]]:
    causes: list[tuple[str, str]] = []
    containers = pod_spec.get("containers")
    if not containers:
        causes.append((f"{prefix}.containers", "Required value"))
    for index, container in enumerate(containers or []):
        where = f"{prefix}.containers[{index}]"
        if not isinstance(container, dict) or not container.get("name"):
            causes.append((f"{where}.name", "Required value"))
        if not isinstance(container, dict) or not container.get("image"):
            causes.append((f"{where}.image", "Required value"))
    return causes


def _workload_causes(kind: str, spec: Obj) -> list[tuple[str, str]]:
    """ValidateDeploymentSpec and its kin, in their order: replicas, selector, template."""
    causes: list[tuple[str, str]] = []
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas < 0:
        causes.append(("spec.replicas", f"Invalid value: {replicas}: must be greater than or "
                       "equal to 0"))
    selector = spec.get("selector")
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if not selector:
        causes.append(("spec.selector", "Required value"))
    elif not (selector.get("matchLabels") or selector.get("matchExpressions")):
        causes.append(("spec.selector", f"Invalid value: {compact(selector)}: empty selector "
                       "is invalid for deployment" if kind == "Deployment" else
                       f"Invalid value: {compact(selector)}: empty selector is not valid"))
    elif isinstance(selector.get("matchLabels"), dict) and any(
            labels.get(k) != v for k, v in selector["matchLabels"].items()):
        causes.append(("spec.template.metadata.labels", f"Invalid value: {compact(labels)}: "
                       "`selector` does not match template `labels`"))
    template = spec.get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        causes += _pod_spec_causes(template["spec"], "spec.template.spec")
    elif not isinstance(template, dict):
        causes.append(("spec.template", "Required value"))
    return causes


# The internal (unversioned) Go types a Job's immutable pod template is printed as: field names
# in declaration order, and the zero value of each field not set (immutable-fields.jsonl#11).
_NULL, _STR, _FALSE, _ZERO = None, "", False, 0
_GO_TYPES: dict[str, tuple[tuple[str, str, Any, str | None], ...]] = {
    # type: (Go field, JSON field, zero value, type of the value when it is set)
    "PodSpec": (
        ("Volumes", "volumes", _NULL, "[]Volume"),
        ("InitContainers", "initContainers", _NULL, "[]Container"),
        ("Containers", "containers", _NULL, "[]Container"),
        ("EphemeralContainers", "ephemeralContainers", _NULL, None),
        ("RestartPolicy", "restartPolicy", _STR, None),
        ("TerminationGracePeriodSeconds", "terminationGracePeriodSeconds", _NULL, None),
        ("ActiveDeadlineSeconds", "activeDeadlineSeconds", _NULL, None),
        ("DNSPolicy", "dnsPolicy", _STR, None),
        ("NodeSelector", "nodeSelector", _NULL, None),
        ("ServiceAccountName", "serviceAccountName", _STR, None),
        ("AutomountServiceAccountToken", "automountServiceAccountToken", _NULL, None),
        ("NodeName", "nodeName", _STR, None),
        ("SecurityContext", "securityContext", _NULL, "PodSecurityContext"),
        ("ImagePullSecrets", "imagePullSecrets", _NULL, None),
        ("Hostname", "hostname", _STR, None),
        ("Subdomain", "subdomain", _STR, None),
        ("SetHostnameAsFQDN", "setHostnameAsFQDN", _NULL, None),
        ("Affinity", "affinity", _NULL, None),
        ("SchedulerName", "schedulerName", _STR, None),
        ("Tolerations", "tolerations", _NULL, None),
        ("HostAliases", "hostAliases", _NULL, None),
        ("PriorityClassName", "priorityClassName", _STR, None),
        ("Priority", "priority", _NULL, None),
        ("PreemptionPolicy", "preemptionPolicy", _NULL, None),
        ("DNSConfig", "dnsConfig", _NULL, None),
        ("ReadinessGates", "readinessGates", _NULL, None),
        ("RuntimeClassName", "runtimeClassName", _NULL, None),
        ("Overhead", "overhead", _NULL, None),
        ("EnableServiceLinks", "enableServiceLinks", _NULL, None),
        ("TopologySpreadConstraints", "topologySpreadConstraints", _NULL, None),
        ("OS", "os", _NULL, None),
        ("SchedulingGates", "schedulingGates", _NULL, None),
        ("ResourceClaims", "resourceClaims", _NULL, None),
        ("Resources", "resources", _NULL, "ResourceRequirements"),
        ("HostnameOverride", "hostnameOverride", _NULL, None),
        ("SchedulingGroup", "schedulingGroup", _NULL, None),
    ),
    "Container": (
        ("Name", "name", _STR, None), ("Image", "image", _STR, None),
        ("Command", "command", _NULL, None), ("Args", "args", _NULL, None),
        ("WorkingDir", "workingDir", _STR, None),
        ("Ports", "ports", _NULL, "[]ContainerPort"),
        ("EnvFrom", "envFrom", _NULL, None), ("Env", "env", _NULL, "[]EnvVar"),
        ("Resources", "resources", {"Limits": None, "Requests": None, "Claims": None},
         "ResourceRequirements"),
        ("ResizePolicy", "resizePolicy", _NULL, None),
        ("RestartPolicy", "restartPolicy", _NULL, None),
        ("RestartPolicyRules", "restartPolicyRules", _NULL, None),
        ("VolumeMounts", "volumeMounts", _NULL, "[]VolumeMount"),
        ("VolumeDevices", "volumeDevices", _NULL, None),
        ("LivenessProbe", "livenessProbe", _NULL, None),
        ("ReadinessProbe", "readinessProbe", _NULL, None),
        ("StartupProbe", "startupProbe", _NULL, None),
        ("Lifecycle", "lifecycle", _NULL, None),
        ("TerminationMessagePath", "terminationMessagePath", _STR, None),
        ("TerminationMessagePolicy", "terminationMessagePolicy", _STR, None),
        ("ImagePullPolicy", "imagePullPolicy", _STR, None),
        ("SecurityContext", "securityContext", _NULL, None),
        ("Stdin", "stdin", _FALSE, None), ("StdinOnce", "stdinOnce", _FALSE, None),
        ("TTY", "tty", _FALSE, None),
    ),
    "PodSecurityContext": (
        ("HostNetwork", "hostNetwork", _FALSE, None), ("HostPID", "hostPID", _FALSE, None),
        ("HostIPC", "hostIPC", _FALSE, None),
        ("ShareProcessNamespace", "shareProcessNamespace", _NULL, None),
        ("HostUsers", "hostUsers", _NULL, None),
        ("SELinuxOptions", "seLinuxOptions", _NULL, None),
        ("WindowsOptions", "windowsOptions", _NULL, None),
        ("RunAsUser", "runAsUser", _NULL, None), ("RunAsGroup", "runAsGroup", _NULL, None),
        ("RunAsNonRoot", "runAsNonRoot", _NULL, None),
        ("SupplementalGroups", "supplementalGroups", _NULL, None),
        ("SupplementalGroupsPolicy", "supplementalGroupsPolicy", _NULL, None),
        ("FSGroup", "fsGroup", _NULL, None),
        ("FSGroupChangePolicy", "fsGroupChangePolicy", _NULL, None),
        ("Sysctls", "sysctls", _NULL, None), ("SeccompProfile", "seccompProfile", _NULL, None),
        ("AppArmorProfile", "appArmorProfile", _NULL, None),
        ("SELinuxChangePolicy", "seLinuxChangePolicy", _NULL, None),
    ),
    "ResourceRequirements": (
        ("Limits", "limits", _NULL, None), ("Requests", "requests", _NULL, None),
        ("Claims", "claims", _NULL, None),
    ),
    "ContainerPort": (
        ("Name", "name", _STR, None), ("HostPort", "hostPort", _ZERO, None),
        ("ContainerPort", "containerPort", _ZERO, None), ("Protocol", "protocol", _STR, None),
        ("HostIP", "hostIP", _STR, None),
    ),
    "EnvVar": (
        ("Name", "name", _STR, None), ("Value", "value", _STR, None),
        ("ValueFrom", "valueFrom", _NULL, None),
    ),
    "VolumeMount": (
        ("Name", "name", _STR, None), ("ReadOnly", "readOnly", _FALSE, None),
        ("RecursiveReadOnly", "recursiveReadOnly", _NULL, None),
        ("MountPath", "mountPath", _STR, None), ("SubPath", "subPath", _STR, None),
        ("MountPropagation", "mountPropagation", _NULL, None),
        ("SubPathExpr", "subPathExpr", _STR, None),
    ),
}


def _go_name(key: str) -> str:
    return key[:1].upper() + key[1:]


def _go_value(value: Any, type_name: str | None) -> Any:
    """`value` (the JSON of a versioned object) as the internal Go type prints in JSON."""
    if type_name and type_name.startswith("[]"):
        if not isinstance(value, list):
            return None
        return [_go_value(item, type_name[2:]) for item in value]
    fields = _GO_TYPES.get(type_name or "")
    if fields is None or not isinstance(value, dict):
        if isinstance(value, dict) and type_name is None:
            return {_go_name(k) if not _is_map_key(k) else k: _go_value(v, None)
                    for k, v in value.items()}
        if isinstance(value, list):
            return [_go_value(item, None) for item in value]
        return value
    return {go: _go_value(value[key], child) if key in value and value[key] is not None
            else copy.deepcopy(zero) for go, key, zero, child in fields}


def _is_map_key(key: str) -> bool:
    return "/" in key or "." in key or not key[:1].isalpha()


def go_pod_spec(spec: Obj) -> str:
    """A pod spec as the internal core.PodSpec prints in a validation message: the fields
    the versioned PodSpec keeps beside its security context are inside it."""
    security = dict(spec.get("securityContext") or {}) \
        if spec.get("securityContext") is not None else None
    if security is not None:
        for name in ("hostNetwork", "hostPID", "hostIPC", "shareProcessNamespace", "hostUsers"):
            if name in spec:
                security[name] = spec[name]
    return compact(_go_value({**spec, "securityContext": security}, "PodSpec"))


_MUTABLE_WHEN_SUSPENDED = ("nodeSelector", "tolerations", "affinity", "schedulingGates")


def _job_template_causes(old_spec: Obj, spec: Obj) -> list[tuple[str, str]]:
    """A Job's pod template may not change, but for the scheduling directives of a job that
    is suspended (immutable-fields.jsonl#11)."""
    old_pod = copy.deepcopy((old_spec.get("template") or {}).get("spec") or {})
    pod = (spec.get("template") or {}).get("spec") or {}
    if old_spec.get("suspend"):
        for name in _MUTABLE_WHEN_SUSPENDED:
            old_pod.pop(name, None)
            if name in pod:
                old_pod[name] = pod[name]
    if old_pod == pod:
        return []
    return [("spec.template.spec", f"Invalid value: {go_pod_spec(pod)}: field is immutable")]


def _immutable(group: str, kind: str, old: Obj, obj: Obj) -> list[tuple[str, str]]:
    """Fields an update may not change (immutable-fields.jsonl)."""
    causes: list[tuple[str, str]] = []
    spec, old_spec = obj.get("spec") or {}, old.get("spec") or {}
    if (group, kind) == ("", "Service") and spec.get("type") != "ExternalName":
        ip = spec.get("clusterIP")
        if old_spec.get("clusterIP") not in (None, "", "None") and ip != old_spec["clusterIP"]:
            causes.append(("spec.clusterIPs[0]", f"Invalid value: {compact([ip])}: may not "
                           "change once set"))
    if group == "apps" and kind in WORKLOADS and old_spec.get("selector") != spec.get("selector"):
        causes.append(("spec.selector", f"Invalid value: {compact(spec.get('selector'))}: "
                       "field is immutable"))
    if (group, kind) == ("apps", "StatefulSet"):
        allowed = {"replicas", "ordinals", "template", "updateStrategy",
                   "persistentVolumeClaimRetentionPolicy", "minReadySeconds"}
        if {k: v for k, v in old_spec.items() if k not in allowed} != {
                k: v for k, v in spec.items() if k not in allowed}:
            causes.append(("spec", "Forbidden: updates to statefulset spec for fields other "
                           "than 'replicas', 'ordinals', 'template', 'updateStrategy', "
                           "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
                           "forbidden"))
    if (group, kind) == ("batch", "Job"):
        if old_spec.get("selector") != spec.get("selector"):
            causes.append(("spec.selector", f"Invalid value: {compact(spec.get('selector'))}: "
                           "field is immutable"))
        causes += _job_template_causes(old_spec, spec)
    if (group, kind) in {("", "ConfigMap"), ("", "Secret")} and old.get("immutable"):
        if not obj.get("immutable"):
            causes.append(("immutable", "Forbidden: field is immutable when `immutable` is "
                           "set"))
        for name in ("data", "binaryData") if kind == "ConfigMap" else ("data",):
            if (old.get(name) or {}) != (obj.get(name) or {}):
                causes.append((name, "Forbidden: field is immutable when `immutable` is set"))
    if (group, kind) == ("", "Secret") and old.get("type") != obj.get("type"):
        causes.append(("type", f"Invalid value: {compact(obj.get('type'))}: field is "
                       "immutable"))
    return causes


def validate(group: str, kind: str, plural: str, obj: Obj, old: Obj | None = None) -> None:
    """Raise a 422 like the real server's for the problems tests exercise."""
    name = str(obj["metadata"].get("name", ""))
    causes: list[tuple[str, str]] = _name_causes(group, kind, name)
    if old is not None:
        causes = _immutable(group, kind, old, obj) + causes
    spec = obj.get("spec")
    if group == "apps" and kind in WORKLOADS:
        causes += _workload_causes(kind, spec if isinstance(spec, dict) else {})
    elif (group, kind) == ("", "Pod") and isinstance(spec, dict):
        causes += _pod_spec_causes(spec, "spec")
    elif (group, kind) == ("batch", "Job") and isinstance(spec, dict):
        template = spec.get("template") or {}
        causes += _pod_spec_causes(template.get("spec") or {}, "spec.template.spec")
    elif (group, kind) == ("", "Service") and isinstance(spec, dict):
        for index, port in enumerate(spec.get("ports") or []):
            number = port.get("port") if isinstance(port, dict) else None
            if not isinstance(number, int) or not 1 <= number <= 65535:
                causes.append((f"spec.ports[{index}].port",
                               f"Invalid value: {number}: must be between 1 and 65535, "
                               "inclusive"))
    if kind in {"ConfigMap", "Secret"} and group == "":
        size = sum(len(str(k)) + len(str(v)) for field in ("data", "binaryData")
                   for k, v in (obj.get(field) or {}).items())
        if size > 1024 * 1024:  # configmap-1mib.jsonl#2
            causes.append(("[]", "Too long: may not be more than 1048576 bytes"))
    if kind == "ConfigMap" and group == "":
        for key, value in (obj.get("data") or {}).items():
            if not isinstance(value, str):
                raise ApiError.bad_request(
                    f"ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: "
                    f"cannot unmarshal {type(value).__name__} into Go struct field "
                    f"ConfigMap.data of type string (key {key!r})")
    if causes:
        raise invalid(group, kind, name, causes)


def initial_status(group: str, kind: str, obj: Obj) -> Obj | None:
    """The status a new object is stored with: the registry drops what the client sent and
    sets its own (ssa-defaults.jsonl, the 201 answers); None: the kind has no status."""
    if group == "apps" and kind in {"Deployment", "DaemonSet", "ReplicaSet"}:
        return {}
    if group == "apps" and kind == "StatefulSet":
        return {"replicas": 0, "availableReplicas": 0}
    if group == "batch" and kind in {"Job", "CronJob"}:
        return {}
    if (group, kind) in {("", "Service"), ("networking.k8s.io", "Ingress")}:
        return {"loadBalancer": {}}
    if (group, kind) == ("", "PersistentVolumeClaim"):
        return {"phase": "Pending"}
    if (group, kind) == ("", "Pod"):
        return {"phase": "Pending", "qosClass": qos_class(obj.get("spec") or {})}
    if (group, kind) == ("", "Namespace"):
        return {"phase": "Active"}
    if (group, kind) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
        spec = obj.get("spec") or {}
        return {"conditions": None, "acceptedNames": {"plural": "", "kind": ""},
                "storedVersions": [v.get("name") for v in spec.get("versions") or []
                                   if isinstance(v, dict) and v.get("storage")]}
    return None
