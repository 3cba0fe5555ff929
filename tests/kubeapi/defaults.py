"""Defaulting and validation, for the fields gitdeploy's tests rely on.

Defaults follow the real API server's (so that normalization is really exercised); validation
errors come back as the real server's 422 Status.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from tests.kubeapi.errors import ApiError, invalid

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _pod_spec_defaults(spec: dict[str, Any]) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for field in ("containers", "initContainers"):
        for container in spec.get(field) or []:
            if not isinstance(container, dict):
                continue
            image = str(container.get("image", ""))
            tag = image.rsplit("/", 1)[-1]
            latest = ":" not in tag or tag.endswith(":latest")
            container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
            container.setdefault("terminationMessagePath", "/dev/termination-log")
            container.setdefault("terminationMessagePolicy", "File")
            container.setdefault("resources", {})
            for port in container.get("ports") or []:
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")


def _template_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    template = (obj.get("spec") or {}).get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        return template["spec"]  # type: ignore[no-any-return]
    return None


def set_defaults(group: str, kind: str, obj: dict[str, Any]) -> None:
    """The defaults the server fills in when it decodes a request. An Update manager owns
    those its write added (ssa-unknown-field.jsonl#11: `type` of a created Secret); an Apply
    manager does not."""
    _drop_empty(obj)
    spec = obj.get("spec")
    if kind == "Deployment" and group == "apps" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = spec.setdefault("strategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxUnavailable", "25%")
            rolling.setdefault("maxSurge", "25%")
    elif kind == "StatefulSet" and group == "apps" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("updateStrategy", {"type": "RollingUpdate",
                                           "rollingUpdate": {"partition": 0}})
    elif kind == "DaemonSet" and group == "apps" and isinstance(spec, dict):
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {
            "maxUnavailable": 1, "maxSurge": 0}})
    elif kind == "Job" and group == "batch" and isinstance(spec, dict):
        spec.setdefault("backoffLimit", 6)
        spec.setdefault("completions", 1)
        spec.setdefault("parallelism", 1)
    elif kind == "Service" and group == "" and isinstance(spec, dict):
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        if spec["type"] != "ExternalName":
            spec.setdefault("internalTrafficPolicy", "Cluster")
        for port in spec.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
                port.setdefault("targetPort", port.get("port"))
    elif kind == "Secret" and group == "":
        obj.setdefault("type", "Opaque")
        string_data = obj.pop("stringData", None)
        if isinstance(string_data, dict):
            data = obj.setdefault("data", {})
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode()).decode()
    elif kind == "Namespace" and group == "":
        labels = obj["metadata"].setdefault("labels", {})
        labels["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
    pod_spec = _template_spec(obj)
    if pod_spec is not None:
        _pod_spec_defaults(pod_spec)
    if kind == "Pod" and group == "" and isinstance(spec, dict):
        _pod_spec_defaults(spec)


def _drop_empty(obj: dict[str, Any]) -> None:
    """Empty maps and lists of fields declared `omitempty` do not survive decoding."""
    metadata = obj.get("metadata")
    for container, names in ((metadata, ("labels", "annotations", "finalizers",
                                         "ownerReferences")),
                             (obj, ("data", "binaryData", "stringData"))):
        if isinstance(container, dict):
            for name in names:
                if name in container and container[name] in ({}, [], None):
                    del container[name]


def prepare(group: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None,
            allocate_ip: Any) -> None:
    """What the registry sets on a write, after field ownership is settled (nobody owns it):
    a Service's cluster IPs (allocated once, kept when the configuration drops them, gone for
    an ExternalName), a Namespace's finalizers and phase."""
    spec = obj.get("spec")
    if kind == "Service" and group == "" and isinstance(spec, dict):
        ip_fields = ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy")
        if spec.get("type") == "ExternalName":
            for name in (*ip_fields, "internalTrafficPolicy"):
                spec.pop(name, None)
            return
        old_spec = (old or {}).get("spec") or {}
        for name in ip_fields:
            if name not in spec and name in old_spec:
                spec[name] = old_spec[name]
        if "clusterIP" not in spec:
            spec["clusterIP"] = allocate_ip()
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
    elif kind == "Namespace" and group == "":
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj["status"] = (old or {}).get("status") or {"phase": "Active"}


def zero_object(group: str, kind: str, builtin: bool = True) -> dict[str, Any]:
    """The zero value of a kind as the server sees it before a create: non-pointer structs
    exist (empty), lists without omitempty exist (null). A create's Update manager owns the
    maps and lists it adds with a `.` marker, not these."""
    if not builtin:
        return {}
    template = {"metadata": {"creationTimestamp": None}, "spec": {"containers": None}}
    obj: dict[str, Any] = {"metadata": {"creationTimestamp": None}}
    if kind in {"ConfigMap", "Secret", "ServiceAccount", "Endpoints", "Role", "ClusterRole",
                "ControllerRevision"}:
        return obj
    if kind == "Event" and group == "":
        return {**obj, "involvedObject": {}, "source": {}, "firstTimestamp": None,
                "lastTimestamp": None, "eventTime": None}
    if kind in {"RoleBinding", "ClusterRoleBinding"}:
        return {**obj, "roleRef": {"apiGroup": "", "kind": "", "name": ""}}
    spec: dict[str, Any] = {}
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


def _go_map(value: Any) -> str:
    if isinstance(value, dict):
        inner = ", ".join(f'"{k}":"{v}"' for k, v in value.items())
        return "map[string]string{" + inner + "}"
    return repr(value)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _immutable(group: str, kind: str, old: dict[str, Any], obj: dict[str, Any]
               ) -> list[tuple[str, str]]:
    """Fields an update may not change (immutable-fields.jsonl)."""
    causes: list[tuple[str, str]] = []
    spec, old_spec = obj.get("spec") or {}, old.get("spec") or {}
    if (group, kind) == ("", "Service") and spec.get("type") != "ExternalName":
        ip = spec.get("clusterIP")
        if old_spec.get("clusterIP") not in (None, "", "None") and ip != old_spec["clusterIP"]:
            causes.append(("spec.clusterIPs[0]", f"Invalid value: {_compact([ip])}: may not "
                           "change once set"))
    if group == "apps" and kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"} \
            and old_spec.get("selector") != spec.get("selector"):
        causes.append(("spec.selector", f"Invalid value: {_compact(spec.get('selector'))}: "
                       "field is immutable"))
    if (group, kind) == ("", "ConfigMap") and old.get("immutable"):
        for name in ("data", "binaryData"):
            if old.get(name) != obj.get(name):
                causes.append((name, "Forbidden: field is immutable when `immutable` is set"))
    return causes


def validate(group: str, kind: str, plural: str, obj: dict[str, Any],
             old: dict[str, Any] | None = None) -> None:
    """Raise a 422 like the real server's for the problems tests exercise."""
    name = obj["metadata"].get("name", "")
    causes: list[tuple[str, str]] = _immutable(group, kind, old, obj) if old else []
    pattern = _DNS_LABEL if kind in {"Namespace", "Service"} and group == "" else _DNS_SUBDOMAIN
    if not pattern.match(name) or len(name) > 253:
        causes.append(("metadata.name", f'Invalid value: "{name}": a lowercase RFC 1123 '
                       "subdomain must consist of lower case alphanumeric characters, '-' or "
                       "'.', and must start and end with an alphanumeric character"))
    spec = obj.get("spec")
    if kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"} and group == "apps":
        spec = spec if isinstance(spec, dict) else {}
        selector = (spec.get("selector") or {}).get("matchLabels")
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if not spec.get("selector"):
            causes.append(("spec.selector", "Required value"))
        elif isinstance(selector, dict) and any(labels.get(k) != v for k, v in selector.items()):
            causes.append(("spec.template.metadata.labels",
                           f"Invalid value: {_go_map(labels)}: `selector` does not match "
                           "template `labels`"))
        if isinstance(spec.get("replicas"), int) and spec["replicas"] < 0:
            causes.append(("spec.replicas", f"Invalid value: {spec['replicas']}: must be "
                           "greater than or equal to 0"))
    pod_spec = _template_spec(obj) if kind != "Pod" else (spec if isinstance(spec, dict) else {})
    if pod_spec is not None and kind not in {"CronJob"}:
        prefix = "spec.template.spec" if kind != "Pod" else "spec"
        containers = pod_spec.get("containers")
        if not containers:
            causes.append((f"{prefix}.containers", "Required value"))
        for index, container in enumerate(containers or []):
            if not isinstance(container, dict) or not container.get("image"):
                causes.append((f"{prefix}.containers[{index}].image", "Required value"))
            if not isinstance(container, dict) or not container.get("name"):
                causes.append((f"{prefix}.containers[{index}].name", "Required value"))
    if kind == "Service" and group == "" and isinstance(spec, dict):
        for index, port in enumerate(spec.get("ports") or []):
            number = port.get("port") if isinstance(port, dict) else None
            if not isinstance(number, int) or not 1 <= number <= 65535:
                causes.append((f"spec.ports[{index}].port",
                               f"Invalid value: {number}: must be between 1 and 65535, "
                               "inclusive"))
    if kind in {"ConfigMap", "Secret"} and group == "":
        size = sum(len(str(k)) + len(str(v)) for name in ("data", "binaryData")
                   for k, v in (obj.get(name) or {}).items())
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


def initial_status(group: str, kind: str, obj: dict[str, Any]) -> dict[str, Any] | None:
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
    if (group, kind) == ("", "Namespace"):
        return {"phase": "Active"}
    if (group, kind) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
        spec = obj.get("spec") or {}
        return {"conditions": None, "acceptedNames": {"plural": "", "kind": ""},
                "storedVersions": [v.get("name") for v in spec.get("versions") or []
                                   if isinstance(v, dict) and v.get("storage")]}
    return None
