"""Defaulting and validation, for the fields gitdeploy's tests rely on.

Defaults follow the real API server's (so that normalization is really exercised); validation
errors come back as the real server's 422 Status.
"""

from __future__ import annotations

import base64
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


def apply_defaults(group: str, kind: str, obj: dict[str, Any], allocate_ip: Any) -> None:
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
            if "clusterIP" not in spec:
                spec["clusterIP"] = allocate_ip()
            spec.setdefault("clusterIPs", [spec["clusterIP"]])
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
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
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        labels = obj["metadata"].setdefault("labels", {})
        labels["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
        obj["status"] = {"phase": "Active"}
    pod_spec = _template_spec(obj)
    if pod_spec is not None:
        _pod_spec_defaults(pod_spec)
    if kind == "Pod" and group == "" and isinstance(spec, dict):
        _pod_spec_defaults(spec)


def _go_map(value: Any) -> str:
    if isinstance(value, dict):
        inner = ", ".join(f'"{k}":"{v}"' for k, v in value.items())
        return "map[string]string{" + inner + "}"
    return repr(value)


def validate(group: str, kind: str, plural: str, obj: dict[str, Any]) -> None:
    """Raise a 422 like the real server's for the problems tests exercise."""
    name = obj["metadata"].get("name", "")
    causes: list[tuple[str, str]] = []
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
    if kind == "ConfigMap" and group == "":
        for key, value in (obj.get("data") or {}).items():
            if not isinstance(value, str):
                raise ApiError.bad_request(
                    f"ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: "
                    f"cannot unmarshal {type(value).__name__} into Go struct field "
                    f"ConfigMap.data of type string (key {key!r})")
    if causes:
        raise invalid(group, kind, name, causes)
