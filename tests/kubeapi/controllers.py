"""The cluster's controllers: what kube-controller-manager, the scheduler and the API server's
own controllers write after a client's write.

They act at once after each write that is stored, in the order their work queue gives, and
write through the cluster like any client: the answer to the write that started them does not
show what they did, the next read does (ssa-defaults.jsonl#3 and #4). They run until nothing
is left to do:

- the deployment controller: a ReplicaSet per pod template (named by the template's hash),
  scaled as the rollout strategy allows, the Deployment's revision annotation and status;
- the replica set controller: pods, and the ReplicaSet's status;
- the CRD controllers: names accepted and the CRD established (`Cluster.crd_establish_delay`
  later, when it is set);
- the scheduler (`Cluster.scheduler`), as kube-scheduler does it: each new pod is tried once
  against the Nodes (`nodeName`, `nodeSelector`, required node affinity, taints,
  `spec.unschedulable`; resources are not counted). A pod that fits is bound to the node (the
  Binding API: `nodeName` and PodScheduled=True) with a `Scheduled` event; one that fits no
  node gets PodScheduled=False (Unschedulable) with the scheduler's message and one
  `FailedScheduling` Warning event, `0/1 nodes are available: 1 node(s) didn't match Pod's
  node affinity/selector. no new claims to deallocate, preemption: 0/1 nodes are available: 1
  Preemption is not helpful for scheduling.`. Events are written as the scheduler's recorder
  writes them: through events.k8s.io/v1, and an event the same as one before (same pod,
  reason, action) is a `series` on it, never a new Event (events.py). An unschedulable pod is
  tried again when a Node changes, or when a test calls `Cluster.reschedule()` (what
  kube-scheduler does with every unschedulable pod after five minutes); nothing else makes
  new FailedScheduling events: changing a workload makes new pods, and events about them.

The worlds:

- one node and a scheduler (the default: `Cluster.nodes` 1, `Cluster.scheduler` True): the
  node runs what is scheduled on it: a workload becomes ready `Cluster.rollout_delay` seconds
  after its spec last changed (its status computed when it is read), a Job completes, a claim
  binds; a workload whose pod template fits no node stays unavailable, its pods Pending with
  their FailedScheduling events;
- no nodes and no scheduler (`nodes = 0`, `scheduler = False`): the recorded cluster
  (../shared/apiserver-traces/README.md): pods stay Pending with no condition and no event
  from a scheduler, a Deployment of replicas > 0 never becomes available;
- a scheduler but no node (`nodes = 0`): pods fail to schedule with `no nodes available to
  schedule pods`.

Tests can replace any object's status with a script of their own (`Cluster.status_scripts`).
"""

from __future__ import annotations

import datetime
import json
import random
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.kubeapi import events, fields
from tests.kubeapi.defaults import NAME_ALPHABET
from tests.kubeapi.errors import ApiError
from tests.kubeapi.trees import clone

if TYPE_CHECKING:
    from tests.kubeapi.cluster import Cluster
    from tests.kubeapi.resources import ResourceType

Obj = dict[str, Any]
Key = tuple[str, str, str, str]  # group, plural, namespace, name
# (object as stored, seconds since its spec last changed) -> status, or None to keep it
StatusScript = Callable[[Obj, float], Obj | None]
CONTROLLED = {("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet"),
              ("batch", "Job"), ("", "PersistentVolumeClaim")}
MANAGER = "kube-controller-manager"
REVISION = "deployment.kubernetes.io/revision"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
HASH_LABEL = "pod-template-hash"
# Annotations of a Deployment its ReplicaSets do not get.
_NOT_COPIED = {REVISION, DESIRED, MAX_REPLICAS, "deployment.kubernetes.io/revision-history",
               "kubectl.kubernetes.io/last-applied-configuration",
               "deprecated.deployment.rollback.to"}
_PASSES = 200  # work items one write may cause, at most
_PAST_ANY_NAME = "\U0010ffff"  # sorts after every name (cluster.py)


class _Clock(threading.local):
    """The time controllers write while they act (per thread: each cluster acts under its
    lock, on the thread of the request that woke it)."""

    def __init__(self) -> None:
        self.times: list[str] = []


_CLOCK = _Clock()


def _now() -> str:
    """The time of the write that woke the controllers: they act at once, in its second."""
    if _CLOCK.times:
        return _CLOCK.times[-1]
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def runs(cluster: Cluster, obj: Obj) -> bool:
    """Whether the pods of a workload (`obj`, or a pod template's spec) can run: a scheduler
    places them on a node."""
    spec = obj.get("spec") or {}
    if "template" in spec:
        spec = (spec.get("template") or {}).get("spec") or {}
    return cluster.scheduler and fitting_node(cluster, spec)[0] is not None


# ---- the work queue -------------------------------------------------------------------------
@dataclass
class _Queue:
    keys: list[Key] = field(default_factory=list)
    running: bool = False
    retry: set[Key] = field(default_factory=set)  # unschedulable pods to try again


_QUEUES: weakref.WeakKeyDictionary[Any, _Queue] = weakref.WeakKeyDictionary()


def after_write(cluster: Cluster, rtype: ResourceType, key: Key, old: Obj | None) -> None:
    """A write was stored: the controllers that watch the object act, and those their writes
    wake up, until nothing is left to do."""
    queue = _QUEUES.setdefault(cluster, _Queue())
    new = cluster.objects.get(key)
    _enqueue(queue, key)
    if key[:2] == ("", "nodes") and new is not None and (old is None or _spec(old) != _spec(
            new) or old["metadata"].get("labels") != new["metadata"].get("labels")):
        for pod_key in _pending_pods(cluster):  # a node that changed may fit them now
            queue.retry.add(pod_key)
            _enqueue(queue, pod_key)
    if new is not None:
        for ref in new["metadata"].get("ownerReferences") or []:
            if ref.get("controller") and ref.get("kind") in ("ReplicaSet", "Deployment"):
                plural = "replicasets" if ref["kind"] == "ReplicaSet" else "deployments"
                _enqueue(queue, ("apps", plural, key[2], ref.get("name", "")))
    if queue.running:
        return
    queue.running = True
    _CLOCK.times.append(_now())
    try:
        for _ in range(_PASSES):
            if not queue.keys:
                break
            _sync(cluster, queue.keys.pop(0))
    finally:
        _CLOCK.times.pop()
        queue.running = False
        queue.keys.clear()
        queue.retry.clear()


def reschedule(cluster: Cluster) -> None:
    """Try every unschedulable pod again, as kube-scheduler does after five minutes: the
    same failure again is a series on its event."""
    queue = _QUEUES.setdefault(cluster, _Queue())
    pending = _pending_pods(cluster)
    if not pending:
        return
    queue.retry.update(pending)
    for key in pending[1:]:
        _enqueue(queue, key)
    after_write(cluster, cluster.types[("", "pods")], pending[0], cluster.objects[pending[0]])


def _enqueue(queue: _Queue, key: Key) -> None:
    if key not in queue.keys:
        queue.keys.append(key)


def _sync(cluster: Cluster, key: Key) -> None:
    group, plural = key[:2]
    try:
        if (group, plural) == ("apps", "deployments"):
            _sync_deployment(cluster, key)
        elif (group, plural) == ("apps", "replicasets"):
            _sync_replicaset(cluster, key)
        elif (group, plural) == ("apiextensions.k8s.io", "customresourcedefinitions"):
            _sync_crd(cluster, key)
        elif (group, plural) == ("", "pods"):
            queue = _QUEUES.setdefault(cluster, _Queue())
            _schedule_pod(cluster, key, retry=key in queue.retry)
            queue.retry.discard(key)
    except ApiError:
        pass  # a controller's write refused (a namespace terminating): it gives up


def _spec(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in {"metadata", "status"}}


# ---- writing as a controller ----------------------------------------------------------------
def write_status(cluster: Cluster, key: Key, status: Obj, manager: str = MANAGER,
                 annotations: dict[str, str] | None = None) -> bool:
    """Write `status` (and `annotations`) through the status subresource as `manager`, an
    Update manager who owns what it wrote there. False: nothing changed."""
    from tests.kubeapi import cluster as cluster_module

    obj = cluster.objects.get(key)
    if obj is None:
        return False
    new = clone(obj)
    new["status"] = status
    if annotations:
        new["metadata"]["annotations"] = {**(new["metadata"].get("annotations") or {}),
                                          **annotations}
    if new == obj:
        return False
    rtype = cluster.types[key[:2]]
    version = rtype.versions[0]
    schema = cluster.schema(rtype, version)
    changes = fields.compare(obj, new, schema, status=True)
    managers = cluster_module._managers(obj)
    for other in managers:
        other.fields -= changes.touched | changes.removed
    mine = next((m for m in managers if m.manager == manager and m.operation == "Update"
                 and m.subresource == "status"), None)
    api_version = f"{rtype.group}/{version}" if rtype.group else version
    if mine is None:
        mine = cluster_module.Manager(manager, "Update", api_version, set(), None, "status")
        managers.append(mine)
    mine.fields |= changes.touched
    mine.time = _now()
    cluster_module._set_managed(new, managers)
    new["metadata"]["resourceVersion"] = str(next(cluster._versions))
    cluster.objects[key] = new
    return True


def _create(cluster: Cluster, group: str, plural: str, body: Obj,
            manager: str = MANAGER) -> Obj:
    """A create as kube-controller-manager (an Update manager): defaults, validation,
    managedFields and the controllers it wakes, as for any client."""
    rtype = cluster.types[(group, plural)]
    metadata = body["metadata"]
    version = rtype.versions[0]
    return cluster._update_write(rtype, version, metadata.get("namespace", ""),
                                 metadata["name"], None, body, manager, False)


def _update(cluster: Cluster, key: Key, change: Callable[[Obj], None]) -> None:
    """An update of the main resource as kube-controller-manager (a ReplicaSet's replicas)."""
    old = cluster.objects.get(key)
    if old is None:
        return
    new = clone(old)
    change(new)
    if new == old:
        return
    rtype = cluster.types[key[:2]]
    cluster._update_write(rtype, rtype.versions[0], key[2], key[3], old, new, MANAGER, False)


def _event(cluster: Cluster, involved: Obj, api_version: str, reason: str, message: str,
           component: str, type_: str = "Normal") -> None:
    """An Event as client-go's recorder writes it (unschedulable-workload.jsonl#5)."""
    events.record_legacy(cluster, events.reference(involved, api_version), reason, message,
                         component, type_, now=_now())


# ---- the scheduler --------------------------------------------------------------------------
SCHEDULER = "default-scheduler"
SCHEDULER_INSTANCE = f"{SCHEDULER}-control-plane"  # `<controller>-<host name>`
NO_NODES = "no nodes available to schedule pods"


def _pending_pods(cluster: Cluster) -> list[Key]:
    """Pods the scheduler has tried and could not place."""
    return [key for key, pod in cluster.scan("", "pods")
            if not (pod.get("spec") or {}).get("nodeName")
            and not pod["metadata"].get("deletionTimestamp")
            and any(c.get("type") == "PodScheduled" and c.get("status") == "False"
                    for c in (pod.get("status") or {}).get("conditions") or [])]


def _selector_terms_match(labels: dict[str, str], name: str, terms: list[Any]) -> bool:
    """A required node affinity: any term whose expressions all hold."""
    def holds(expression: Any, value: str | None) -> bool:
        operator = expression.get("operator")
        values = [str(v) for v in expression.get("values") or []]
        if operator == "In":
            return value is not None and value in values
        if operator == "NotIn":
            return value is None or value not in values
        if operator == "Exists":
            return value is not None
        if operator == "DoesNotExist":
            return value is None
        if operator in ("Gt", "Lt") and value is not None and value.lstrip("-").isdigit() \
                and values and values[0].lstrip("-").isdigit():
            return int(value) > int(values[0]) if operator == "Gt" else \
                int(value) < int(values[0])
        return False

    for term in terms:
        if not isinstance(term, dict):
            continue
        expressions = term.get("matchExpressions") or []
        by_field = term.get("matchFields") or []
        if not expressions and not by_field:
            continue  # an empty term matches nothing
        if all(holds(e, labels.get(str(e.get("key")))) for e in expressions) and all(
                holds(f, name if f.get("key") == "metadata.name" else None) for f in by_field):
            return True
    return False


def _rejection(node: Obj, spec: Obj) -> str | None:
    """Why a node does not fit a pod (the scheduler's filter plugins' words), or None."""
    metadata = node["metadata"]
    labels = metadata.get("labels") or {}
    if spec.get("nodeName") and spec["nodeName"] != metadata["name"]:
        return "node(s) didn't match the requested node name"
    if (node.get("spec") or {}).get("unschedulable"):
        return "node(s) were unschedulable"
    selector = spec.get("nodeSelector") or {}
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms") if isinstance(required, dict) else None
    if any(labels.get(k) != v for k, v in selector.items()) or (
            terms is not None and not _selector_terms_match(labels, metadata["name"], terms)):
        return "node(s) didn't match Pod's node affinity/selector"
    tolerations = spec.get("tolerations") or []
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if not any(_tolerates(t, taint) for t in tolerations if isinstance(t, dict)):
            return "node(s) had untolerated taint(s)"
    return None


def _tolerates(toleration: Obj, taint: Obj) -> bool:
    if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
        return False
    if toleration.get("operator") == "Exists":
        return not toleration.get("key") or toleration["key"] == taint.get("key")
    return toleration.get("key") == taint.get("key") \
        and (toleration.get("value") or "") == (taint.get("value") or "")


def fitting_node(cluster: Cluster, spec: Obj) -> tuple[str | None, str]:
    """The first node (by name) a pod of `spec` fits, or None and the scheduler's message."""
    nodes = [obj for _, obj in cluster.scan("", "nodes")]
    if not nodes:
        return None, NO_NODES
    failures: dict[str, int] = {}
    for node in nodes:
        reason = _rejection(node, spec)
        if reason is None:
            return str(node["metadata"]["name"]), ""
        failures[reason] = failures.get(reason, 0) + 1
    total = len(nodes)
    reasons = ", ".join(sorted(f"{count} {reason}" for reason, count in failures.items()))
    return None, (f"0/{total} nodes are available: {reasons}. no new claims to deallocate, "
                  f"preemption: 0/{total} nodes are available: {total} Preemption is not "
                  "helpful for scheduling.")


def _schedule_pod(cluster: Cluster, key: Key, retry: bool) -> None:
    """One scheduling attempt of a pod: bound to a node it fits, or marked unschedulable
    with a FailedScheduling event. A pod is tried when it is new, and again only on `retry`
    (a node changed, or the periodic flush)."""
    pod = cluster.objects.get(key)
    if pod is None or not cluster.scheduler or pod["metadata"].get("deletionTimestamp"):
        return
    spec = pod.get("spec") or {}
    conditions = (pod.get("status") or {}).get("conditions") or []
    tried = any(c.get("type") == "PodScheduled" for c in conditions)
    if spec.get("nodeName") or spec.get("schedulingGates") or (tried and not retry) \
            or (spec.get("schedulerName") or SCHEDULER) != SCHEDULER:
        return
    regarding = events.reference(pod, "v1")
    node, message = fitting_node(cluster, spec)
    if node is not None:
        cluster.bind(key[2], key[3], {"kind": "Node", "name": node}, False, {})
        events.record_series(cluster, regarding, "Scheduled", "Binding",
                             f"Successfully assigned {key[2]}/{key[3]} to {node}", SCHEDULER,
                             SCHEDULER_INSTANCE)
        return
    events.record_series(cluster, regarding, "FailedScheduling", "Scheduling", message,
                         SCHEDULER, SCHEDULER_INSTANCE, "Warning")
    condition = {"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                 "lastTransitionTime": _now(), "reason": "Unschedulable", "message": message}
    before = next((c for c in conditions if c.get("type") == "PodScheduled"), None)
    if before is not None and {k: v for k, v in before.items() if k != "lastTransitionTime"} \
            == {k: v for k, v in condition.items() if k != "lastTransitionTime"}:
        return  # nothing new to say: the status stays as it is
    status = with_condition(pod.get("status") or {}, condition)
    write_status(cluster, key, status, manager="kube-scheduler")


def with_condition(status: Obj, condition: Obj) -> Obj:
    """A pod's status with `condition` in place of the one of its type (its transition time
    kept when its status does not change), `conditions` after `phase`."""
    conditions = [dict(c) for c in status.get("conditions") or []]
    before = next((c for c in conditions if c.get("type") == condition["type"]), None)
    if before is not None:
        if before.get("status") == condition["status"]:
            condition["lastTransitionTime"] = before.get("lastTransitionTime")
        conditions = [condition if c is before else c for c in conditions]
    else:
        conditions.append(condition)
    out: Obj = {}
    for name, value in status.items():
        if name != "conditions":
            out[name] = value
        if name == "phase":
            out["conditions"] = conditions
    out.setdefault("conditions", conditions)
    return out


# ---- the pod template hash ------------------------------------------------------------------
# The deployment controller names a ReplicaSet by a hash of its pod template: FNV-32a of the
# template as go-spew prints the Go value (`%#v`, map keys sorted, nil maps and slices as
# <nil>), written as decimal digits in the alphabet of generated names. Printing the Go value
# needs the layout of the Go types a template holds: their fields in declaration order, each
# with its JSON name ("" for an embedded struct, whose fields are inline in JSON) and Go type.
# Checked against every ReplicaSet name of the recording (ten pod templates).
_GO_TYPES: dict[str, tuple[tuple[str, str, str], ...]] = {}


def _go(name: str, *fields_: str) -> None:
    _GO_TYPES[name] = tuple((f.split()[0], f.split()[1] if f.split()[1] != "-" else "",
                             f.split()[2]) for f in fields_)


_go("v1.PodTemplateSpec", "ObjectMeta metadata v1.ObjectMeta", "Spec spec v1.PodSpec")
_go("v1.ObjectMeta", "Name name string", "GenerateName generateName string",
    "Namespace namespace string", "SelfLink selfLink string", "UID uid types.UID",
    "ResourceVersion resourceVersion string", "Generation generation int64",
    "CreationTimestamp creationTimestamp v1.Time", "DeletionTimestamp deletionTimestamp *v1.Time",
    "DeletionGracePeriodSeconds deletionGracePeriodSeconds *int64",
    "Labels labels map[string]string", "Annotations annotations map[string]string",
    "OwnerReferences ownerReferences []v1.OwnerReference", "Finalizers finalizers []string",
    "ManagedFields managedFields []v1.ManagedFieldsEntry")
_go("v1.Time", "Time - time.Time")
_go("time.Time", "wall - uint64", "ext - int64", "loc - *time.Location")
_go("v1.PodSpec", "Volumes volumes []v1.Volume", "InitContainers initContainers []v1.Container",
    "Containers containers []v1.Container",
    "EphemeralContainers ephemeralContainers []v1.EphemeralContainer",
    "RestartPolicy restartPolicy v1.RestartPolicy",
    "TerminationGracePeriodSeconds terminationGracePeriodSeconds *int64",
    "ActiveDeadlineSeconds activeDeadlineSeconds *int64", "DNSPolicy dnsPolicy v1.DNSPolicy",
    "NodeSelector nodeSelector map[string]string",
    "ServiceAccountName serviceAccountName string",
    "DeprecatedServiceAccount serviceAccount string",
    "AutomountServiceAccountToken automountServiceAccountToken *bool",
    "NodeName nodeName string", "HostNetwork hostNetwork bool", "HostPID hostPID bool",
    "HostIPC hostIPC bool", "ShareProcessNamespace shareProcessNamespace *bool",
    "SecurityContext securityContext *v1.PodSecurityContext",
    "ImagePullSecrets imagePullSecrets []v1.LocalObjectReference", "Hostname hostname string",
    "Subdomain subdomain string", "Affinity affinity *v1.Affinity",
    "SchedulerName schedulerName string", "Tolerations tolerations []v1.Toleration",
    "HostAliases hostAliases []v1.HostAlias", "PriorityClassName priorityClassName string",
    "Priority priority *int32", "DNSConfig dnsConfig *v1.PodDNSConfig",
    "ReadinessGates readinessGates []v1.PodReadinessGate",
    "RuntimeClassName runtimeClassName *string", "EnableServiceLinks enableServiceLinks *bool",
    "PreemptionPolicy preemptionPolicy *v1.PreemptionPolicy",
    "Overhead overhead v1.ResourceList",
    "TopologySpreadConstraints topologySpreadConstraints []v1.TopologySpreadConstraint",
    "SetHostnameAsFQDN setHostnameAsFQDN *bool", "OS os *v1.PodOS", "HostUsers hostUsers *bool",
    "SchedulingGates schedulingGates []v1.PodSchedulingGate",
    "ResourceClaims resourceClaims []v1.PodResourceClaim",
    "Resources resources *v1.ResourceRequirements", "HostnameOverride hostnameOverride *string",
    "SchedulingGroup schedulingGroup *v1.PodSchedulingGroup")
_go("v1.Container", "Name name string", "Image image string", "Command command []string",
    "Args args []string", "WorkingDir workingDir string", "Ports ports []v1.ContainerPort",
    "EnvFrom envFrom []v1.EnvFromSource", "Env env []v1.EnvVar",
    "Resources resources v1.ResourceRequirements",
    "ResizePolicy resizePolicy []v1.ContainerResizePolicy",
    "RestartPolicy restartPolicy *v1.ContainerRestartPolicy",
    "RestartPolicyRules restartPolicyRules []v1.ContainerRestartRule",
    "VolumeMounts volumeMounts []v1.VolumeMount", "VolumeDevices volumeDevices []v1.VolumeDevice",
    "LivenessProbe livenessProbe *v1.Probe", "ReadinessProbe readinessProbe *v1.Probe",
    "StartupProbe startupProbe *v1.Probe", "Lifecycle lifecycle *v1.Lifecycle",
    "TerminationMessagePath terminationMessagePath string",
    "TerminationMessagePolicy terminationMessagePolicy v1.TerminationMessagePolicy",
    "ImagePullPolicy imagePullPolicy v1.PullPolicy",
    "SecurityContext securityContext *v1.SecurityContext", "Stdin stdin bool",
    "StdinOnce stdinOnce bool", "TTY tty bool")
_go("v1.ContainerPort", "Name name string", "HostPort hostPort int32",
    "ContainerPort containerPort int32", "Protocol protocol v1.Protocol", "HostIP hostIP string")
_go("v1.ResourceRequirements", "Limits limits v1.ResourceList",
    "Requests requests v1.ResourceList", "Claims claims []v1.ResourceClaim")
_go("v1.ResourceClaim", "Name name string", "Request request string")
_go("v1.PodSecurityContext", "SELinuxOptions seLinuxOptions *v1.SELinuxOptions",
    "WindowsOptions windowsOptions *v1.WindowsSecurityContextOptions",
    "RunAsUser runAsUser *int64", "RunAsGroup runAsGroup *int64",
    "RunAsNonRoot runAsNonRoot *bool", "SupplementalGroups supplementalGroups []int64",
    "SupplementalGroupsPolicy supplementalGroupsPolicy *v1.SupplementalGroupsPolicy",
    "FSGroup fsGroup *int64", "Sysctls sysctls []v1.Sysctl",
    "FSGroupChangePolicy fsGroupChangePolicy *v1.PodFSGroupChangePolicy",
    "SeccompProfile seccompProfile *v1.SeccompProfile",
    "AppArmorProfile appArmorProfile *v1.AppArmorProfile",
    "SELinuxChangePolicy seLinuxChangePolicy *v1.PodSELinuxChangePolicy")
_go("v1.SecurityContext", "Capabilities capabilities *v1.Capabilities",
    "Privileged privileged *bool", "SELinuxOptions seLinuxOptions *v1.SELinuxOptions",
    "WindowsOptions windowsOptions *v1.WindowsSecurityContextOptions",
    "RunAsUser runAsUser *int64", "RunAsGroup runAsGroup *int64",
    "RunAsNonRoot runAsNonRoot *bool", "ReadOnlyRootFilesystem readOnlyRootFilesystem *bool",
    "AllowPrivilegeEscalation allowPrivilegeEscalation *bool",
    "ProcMount procMount *v1.ProcMountType", "SeccompProfile seccompProfile *v1.SeccompProfile",
    "AppArmorProfile appArmorProfile *v1.AppArmorProfile")
_go("v1.Capabilities", "Add add []v1.Capability", "Drop drop []v1.Capability")
_go("v1.SeccompProfile", "Type type v1.SeccompProfileType",
    "LocalhostProfile localhostProfile *string")
_go("v1.EnvVar", "Name name string", "Value value string",
    "ValueFrom valueFrom *v1.EnvVarSource")
_go("v1.EnvVarSource", "FieldRef fieldRef *v1.ObjectFieldSelector",
    "ResourceFieldRef resourceFieldRef *v1.ResourceFieldSelector",
    "ConfigMapKeyRef configMapKeyRef *v1.ConfigMapKeySelector",
    "SecretKeyRef secretKeyRef *v1.SecretKeySelector",
    "FileKeyRef fileKeyRef *v1.FileKeySelector")
_go("v1.ObjectFieldSelector", "APIVersion apiVersion string", "FieldPath fieldPath string")
_go("v1.ResourceFieldSelector", "ContainerName containerName string",
    "Resource resource string", "Divisor divisor resource.Quantity")
_go("v1.ConfigMapKeySelector", "LocalObjectReference - v1.LocalObjectReference",
    "Key key string", "Optional optional *bool")
_go("v1.SecretKeySelector", "LocalObjectReference - v1.LocalObjectReference",
    "Key key string", "Optional optional *bool")
_go("v1.LocalObjectReference", "Name name string")
_go("v1.EnvFromSource", "Prefix prefix string", "ConfigMapRef configMapRef *v1.ConfigMapEnvSource",
    "SecretRef secretRef *v1.SecretEnvSource")
_go("v1.ConfigMapEnvSource", "LocalObjectReference - v1.LocalObjectReference",
    "Optional optional *bool")
_go("v1.SecretEnvSource", "LocalObjectReference - v1.LocalObjectReference",
    "Optional optional *bool")
_go("v1.VolumeMount", "Name name string", "ReadOnly readOnly bool",
    "RecursiveReadOnly recursiveReadOnly *v1.RecursiveReadOnlyMode",
    "MountPath mountPath string", "SubPath subPath string",
    "MountPropagation mountPropagation *v1.MountPropagationMode",
    "SubPathExpr subPathExpr string")
_go("v1.Probe", "ProbeHandler - v1.ProbeHandler", "InitialDelaySeconds initialDelaySeconds int32",
    "TimeoutSeconds timeoutSeconds int32", "PeriodSeconds periodSeconds int32",
    "SuccessThreshold successThreshold int32", "FailureThreshold failureThreshold int32",
    "TerminationGracePeriodSeconds terminationGracePeriodSeconds *int64")
_go("v1.ProbeHandler", "Exec exec *v1.ExecAction", "HTTPGet httpGet *v1.HTTPGetAction",
    "TCPSocket tcpSocket *v1.TCPSocketAction", "GRPC grpc *v1.GRPCAction")
_go("v1.ExecAction", "Command command []string")
_go("v1.HTTPGetAction", "Path path string", "Port port intstr.IntOrString", "Host host string",
    "Scheme scheme v1.URIScheme", "HTTPHeaders httpHeaders []v1.HTTPHeader")
_go("v1.HTTPHeader", "Name name string", "Value value string")
_go("v1.TCPSocketAction", "Port port intstr.IntOrString", "Host host string")
_go("v1.GRPCAction", "Port port int32", "Service service *string")
_go("intstr.IntOrString", "Type - intstr.Type", "IntVal - int32", "StrVal - string")
_go("v1.Toleration", "Key key string", "Operator operator v1.TolerationOperator",
    "Value value string", "Effect effect v1.TaintEffect",
    "TolerationSeconds tolerationSeconds *int64")
_go("v1.Volume", "Name name string", "VolumeSource - v1.VolumeSource")
_go("v1.VolumeSource", *(f"{name} {key} *v1.{kind}" for name, key, kind in (
    ("HostPath", "hostPath", "HostPathVolumeSource"),
    ("EmptyDir", "emptyDir", "EmptyDirVolumeSource"),
    ("GCEPersistentDisk", "gcePersistentDisk", "GCEPersistentDiskVolumeSource"),
    ("AWSElasticBlockStore", "awsElasticBlockStore", "AWSElasticBlockStoreVolumeSource"),
    ("GitRepo", "gitRepo", "GitRepoVolumeSource"), ("Secret", "secret", "SecretVolumeSource"),
    ("NFS", "nfs", "NFSVolumeSource"), ("ISCSI", "iscsi", "ISCSIVolumeSource"),
    ("Glusterfs", "glusterfs", "GlusterfsVolumeSource"),
    ("PersistentVolumeClaim", "persistentVolumeClaim", "PersistentVolumeClaimVolumeSource"),
    ("RBD", "rbd", "RBDVolumeSource"), ("FlexVolume", "flexVolume", "FlexVolumeSource"),
    ("Cinder", "cinder", "CinderVolumeSource"), ("CephFS", "cephfs", "CephFSVolumeSource"),
    ("Flocker", "flocker", "FlockerVolumeSource"),
    ("DownwardAPI", "downwardAPI", "DownwardAPIVolumeSource"), ("FC", "fc", "FCVolumeSource"),
    ("AzureFile", "azureFile", "AzureFileVolumeSource"),
    ("ConfigMap", "configMap", "ConfigMapVolumeSource"),
    ("VsphereVolume", "vsphereVolume", "VsphereVirtualDiskVolumeSource"),
    ("Quobyte", "quobyte", "QuobyteVolumeSource"),
    ("AzureDisk", "azureDisk", "AzureDiskVolumeSource"),
    ("PhotonPersistentDisk", "photonPersistentDisk", "PhotonPersistentDiskVolumeSource"),
    ("Projected", "projected", "ProjectedVolumeSource"),
    ("PortworxVolume", "portworxVolume", "PortworxVolumeSource"),
    ("ScaleIO", "scaleIO", "ScaleIOVolumeSource"),
    ("StorageOS", "storageos", "StorageOSVolumeSource"), ("CSI", "csi", "CSIVolumeSource"),
    ("Ephemeral", "ephemeral", "EphemeralVolumeSource"),
    ("Image", "image", "ImageVolumeSource"))))
_go("v1.EmptyDirVolumeSource", "Medium medium v1.StorageMedium",
    "SizeLimit sizeLimit *resource.Quantity")
_go("v1.HostPathVolumeSource", "Path path string", "Type type *v1.HostPathType")
_go("v1.SecretVolumeSource", "SecretName secretName string", "Items items []v1.KeyToPath",
    "DefaultMode defaultMode *int32", "Optional optional *bool")
_go("v1.ConfigMapVolumeSource", "LocalObjectReference - v1.LocalObjectReference",
    "Items items []v1.KeyToPath", "DefaultMode defaultMode *int32", "Optional optional *bool")
_go("v1.KeyToPath", "Key key string", "Path path string", "Mode mode *int32")
_go("v1.PersistentVolumeClaimVolumeSource", "ClaimName claimName string",
    "ReadOnly readOnly bool")
_go("v1.DownwardAPIVolumeSource", "Items items []v1.DownwardAPIVolumeFile",
    "DefaultMode defaultMode *int32")
_go("v1.DownwardAPIVolumeFile", "Path path string", "FieldRef fieldRef *v1.ObjectFieldSelector",
    "ResourceFieldRef resourceFieldRef *v1.ResourceFieldSelector", "Mode mode *int32")
_go("resource.Quantity", "i - resource.int64Amount", "d - resource.infDecAmount",
    "s - string", "Format - resource.Format")
_go("resource.int64Amount", "value - int64", "scale - resource.Scale")
_go("resource.infDecAmount", "Dec - *inf.Dec")
_GO_MAPS = {"v1.ResourceList": ("v1.ResourceName", "resource.Quantity")}
_GO_INTS = {"int32", "int64", "uint64", "resource.Scale", "intstr.Type"}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15,
            "E": 18}
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}


def _quantity(text: str) -> Obj:
    """resource.ParseQuantity's result, as far as templates use it: a mantissa and a scale,
    the text kept when it is already canonical."""
    if text == "0":
        return {"i": {"value": 0, "scale": 0}, "d": {}, "s": "0", "Format": "DecimalSI"}
    number = text.rstrip("nmuKkMGTPEi")
    suffix = text[len(number):]
    whole, _, fraction = number.partition(".")
    if not (whole + fraction).isdigit() or (suffix not in _BINARY and suffix not in _DECIMAL):
        return {"i": {}, "d": {}, "s": text, "Format": "DecimalExponent"}  # not modelled
    if suffix in _BINARY and not fraction:
        cached = _BINARY[suffix] % 10 == 0 and int(whole) & 7 != 0
        return {"i": {"value": int(whole) << _BINARY[suffix], "scale": 0}, "d": {},
                "s": text if cached else "", "Format": "BinarySI"}
    shifted = whole + fraction
    scale = _DECIMAL.get(suffix, 0) - len(fraction)
    cached = scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0"
    return {"i": {"value": int(shifted), "scale": scale}, "d": {}, "s": text if cached else "",
            "Format": "DecimalSI"}


def _int_or_string(value: Any) -> Obj:
    if isinstance(value, int):
        return {"Type": 0, "IntVal": value, "StrVal": ""}
    return {"Type": 1, "IntVal": 0, "StrVal": str(value)}


def _spew(value: Any, go_type: str, typed: bool, out: list[str]) -> None:
    """go-spew's `%#v` of a Go value given by its JSON (`typed`: with its type in front)."""
    if go_type.startswith("*"):
        if value is None:
            out.append("<nil>" if not typed else f"({go_type})<nil>")
            return
        out.append(f"({go_type})" if typed else "<*>")
        _spew(value, go_type[1:], False, out)
        return
    if typed:
        out.append(f"({go_type})")
    if go_type.startswith("[]"):
        if value is None:
            out.append("<nil>")
            return
        out.append("[")
        for index, item in enumerate(value):
            out.append(" " if index else "")
            _spew(item, go_type[2:], False, out)
        out.append("]")
    elif go_type.startswith("map[") or go_type in _GO_MAPS:
        if value is None:
            out.append("<nil>")
            return
        key_type, value_type = _GO_MAPS.get(go_type) or (
            go_type[4:go_type.index("]")], go_type[go_type.index("]") + 1:])
        out.append("map[")
        for index, key in enumerate(sorted(value)):
            out.append(" " if index else "")
            _spew(key, key_type, False, out)
            out.append(":")
            _spew(value[key], value_type, False, out)
        out.append("]")
    elif go_type in _GO_TYPES:
        if go_type == "resource.Quantity" and not isinstance(value, dict):
            value = _quantity(str(value))
        elif go_type == "intstr.IntOrString" and not isinstance(value, dict):
            value = _int_or_string(value)
        value = value if isinstance(value, dict) else {}
        out.append("{")
        for index, (name, key, field_type) in enumerate(_GO_TYPES[go_type]):
            out.append((" " if index else "") + name + ":")
            if not key:  # embedded, inline in JSON; or an unexported field of a Go value
                child = value if go_type not in _RAW else value.get(name)
            else:
                child = value.get(key)
            _spew(child, field_type, True, out)
        out.append("}")
    elif go_type in _GO_INTS:
        out.append(str(int(value or 0)))
    elif go_type == "bool":
        out.append("true" if value else "false")
    elif isinstance(value, (dict, list)):
        # A struct whose layout is not listed above: printed as its JSON, the hash is not
        # the real one (but stable).
        out.append(json.dumps(value, sort_keys=True))
    else:  # a string, or a kind of string
        out.append("" if value is None else str(value))


# Go values whose fields the JSON does not name (unexported, or built from a JSON scalar).
_RAW = {"resource.Quantity", "resource.int64Amount", "resource.infDecAmount",
        "intstr.IntOrString", "v1.Time", "time.Time"}


def _fnv32a(data: bytes, seed: int = 0x811C9DC5) -> int:
    value = seed
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """k8s.io/apimachinery's rand.SafeEncodeString: each byte mapped onto the alphabet of
    generated names."""
    return "".join(NAME_ALPHABET[byte % len(NAME_ALPHABET)] for byte in text.encode())


def template_hash(template: Obj, collision_count: int | None = None) -> str:
    """The `pod-template-hash` of a pod template (controller.ComputeHash)."""
    out: list[str] = []
    _spew(template, "v1.PodTemplateSpec", True, out)
    value = _fnv32a("".join(out).encode())
    if collision_count is not None:
        value = _fnv32a(int(collision_count).to_bytes(4, "little") + bytes(4), value)
    return safe_encode(str(value))


# ---- the deployment controller --------------------------------------------------------------
def _scaled(value: Any, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent."""
    if isinstance(value, str) and value.endswith("%"):
        share = int(value[:-1]) * total / 100
        return int(-(-share // 1)) if round_up else int(share // 1)
    return int(value or 0)


def _fenceposts(deployment: Obj) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) of a rolling update; both 0 is read as 1 unavailable."""
    spec = deployment.get("spec") or {}
    strategy = spec.get("strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return 0, 0
    rolling = strategy.get("rollingUpdate") or {}
    replicas = int(spec.get("replicas", 1))
    surge = _scaled(rolling.get("maxSurge", "25%"), replicas, True)
    unavailable = _scaled(rolling.get("maxUnavailable", "25%"), replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _max_unavailable(deployment: Obj) -> int:
    replicas = int((deployment.get("spec") or {}).get("replicas", 1))
    strategy = ((deployment.get("spec") or {}).get("strategy") or {}).get("type")
    if strategy not in (None, "RollingUpdate") or replicas == 0:
        return 0
    return min(_fenceposts(deployment)[1], replicas)


def _owned(cluster: Cluster, group: str, plural: str, owner: Obj) -> list[tuple[Key, Obj]]:
    uid = owner["metadata"].get("uid")
    namespace = owner["metadata"].get("namespace", "")
    found = [(key, cluster.objects[key]) for key in cluster.objects.owned_by(str(uid))
             if key[:3] == (group, plural, namespace)]
    return [(key, obj) for key, obj in found
            if not obj["metadata"].get("deletionTimestamp")
            and any(ref.get("uid") == uid and ref.get("controller")
                    for ref in obj["metadata"].get("ownerReferences") or [])]


def _without_hash(template: Obj) -> Obj:
    out = clone(template)
    labels = (out.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return out


def _replicas(obj: Obj) -> int:
    return int((obj.get("spec") or {}).get("replicas", 1))


def _revision(rs: Obj) -> int:
    text = (rs["metadata"].get("annotations") or {}).get(REVISION, "0")
    return int(text) if str(text).isdigit() else 0


@dataclass
class _Rollout:
    """One pass of the deployment controller over a Deployment and its ReplicaSets."""

    cluster: Cluster
    key: Key
    deployment: Obj
    new: tuple[Key, Obj] | None = None
    old: list[tuple[Key, Obj]] = field(default_factory=list)
    created: str | None = None  # the name of a ReplicaSet this pass created

    def replica_sets(self) -> list[tuple[Key, Obj]]:
        return [*self.old, *([self.new] if self.new else [])]

    def refresh(self) -> None:
        owned = _owned(self.cluster, "apps", "replicasets", self.deployment)
        template = self.deployment["spec"].get("template") or {}
        self.new = next(((k, rs) for k, rs in owned
                         if _without_hash(rs["spec"].get("template") or {}) == template), None)
        self.old = [(k, rs) for k, rs in owned if self.new is None or k != self.new[0]]

    def scale(self, key: Key, replicas: int) -> None:
        rs = self.cluster.objects.get(key)
        if rs is None or _replicas(rs) == replicas:
            return
        before = _replicas(rs)
        surge, _ = _fenceposts(self.deployment)
        wanted = _replicas(self.deployment)

        def change(obj: Obj) -> None:
            obj["spec"]["replicas"] = replicas
            annotations = obj["metadata"].setdefault("annotations", {})
            annotations[DESIRED] = str(wanted)
            annotations[MAX_REPLICAS] = str(wanted + surge)

        _update(self.cluster, key, change)
        direction = "up" if replicas > before else "down"
        _event(self.cluster, self.deployment, "apps/v1", "ScalingReplicaSet",
               f"Scaled {direction} replica set {key[3]} from {before} to {replicas}",
               "deployment-controller")
        self.refresh()


def _sync_deployment(cluster: Cluster, key: Key) -> None:
    deployment = cluster.objects.get(key)
    if deployment is None or deployment["metadata"].get("deletionTimestamp"):
        return
    _adopt(cluster, deployment)
    rollout = _Rollout(cluster, key, deployment)
    rollout.refresh()
    spec = deployment.get("spec") or {}
    if rollout.new is None and not spec.get("paused"):
        _create_replica_set(rollout)
    elif rollout.new is not None:
        revisions = [_revision(rs) for _, rs in rollout.old]
        if revisions and _revision(rollout.new[1]) <= max(revisions):
            revision = str(max(revisions) + 1)
            _update(cluster, rollout.new[0], lambda rs: rs["metadata"].setdefault(
                "annotations", {}).__setitem__(REVISION, revision))
            rollout.refresh()
    if spec.get("paused") or _scaling_event(rollout):
        _scale(rollout)
    elif (spec.get("strategy") or {}).get("type") == "Recreate":
        _recreate(rollout)
    else:
        _rolling(rollout)
    _cleanup(rollout)
    _write_deployment_status(rollout)


def _adopt(cluster: Cluster, deployment: Obj) -> None:
    """ReplicaSets without a controller that the Deployment's selector matches become its own
    (left by a Deployment of the same name deleted with the Orphan policy)."""
    metadata = deployment["metadata"]
    wanted = ((deployment.get("spec") or {}).get("selector") or {})
    if not wanted.get("matchLabels") or wanted.get("matchExpressions"):
        return
    reference = {"apiVersion": "apps/v1", "kind": "Deployment", "name": metadata["name"],
                 "uid": metadata["uid"], "controller": True, "blockOwnerDeletion": True}
    namespace = metadata.get("namespace", "")
    # The ReplicaSets without a controller only (Store.uncontrolled): reading all of them for
    # each Deployment synced made a large apply quadratic.
    for key in cluster.objects.uncontrolled(("apps", "replicasets", namespace, ""),
                                            ("apps", "replicasets", namespace, _PAST_ANY_NAME)):
        labels = cluster.objects[key]["metadata"].get("labels") or {}
        if any(labels.get(k) != v for k, v in wanted["matchLabels"].items()):
            continue
        _update(cluster, key, lambda obj: obj["metadata"].setdefault(
            "ownerReferences", []).append(dict(reference)))


def _create_replica_set(rollout: _Rollout) -> None:
    deployment = rollout.deployment
    metadata, spec = deployment["metadata"], deployment["spec"]
    collision = (deployment.get("status") or {}).get("collisionCount")
    template = clone(spec.get("template") or {})
    digest = template_hash(template, collision)
    template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = digest
    selector = clone(spec.get("selector") or {})
    selector.setdefault("matchLabels", {})[HASH_LABEL] = digest
    revisions = [_revision(rs) for _, rs in rollout.old]
    surge, _ = _fenceposts(deployment)
    wanted = _replicas(deployment)
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items()
                   if k not in _NOT_COPIED}
    annotations.update({DESIRED: str(wanted), MAX_REPLICAS: str(wanted + surge),
                        REVISION: str(max(revisions, default=0) + 1)})
    name = f"{metadata['name']}-{digest}"
    replicas = _new_replicas(rollout, 0)
    body: Obj = {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": metadata["namespace"],
                     "labels": dict(template["metadata"]["labels"]),
                     "annotations": annotations,
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                          "name": metadata["name"], "uid": metadata["uid"],
                                          "controller": True, "blockOwnerDeletion": True}]},
        "spec": {"replicas": replicas,
                 **({"minReadySeconds": spec["minReadySeconds"]}
                    if spec.get("minReadySeconds") else {}),
                 "selector": selector, "template": template},
    }
    _create(rollout.cluster, "apps", "replicasets", body)
    rollout.created = name
    if replicas > 0:
        _event(rollout.cluster, deployment, "apps/v1", "ScalingReplicaSet",
               f"Scaled up replica set {name} from 0 to {replicas}", "deployment-controller")
    rollout.refresh()


def _new_replicas(rollout: _Rollout, current: int) -> int:
    """NewRSNewReplicas: how far the new ReplicaSet may grow now."""
    deployment = rollout.deployment
    wanted = _replicas(deployment)
    if ((deployment["spec"].get("strategy") or {}).get("type")) == "Recreate":
        return wanted
    surge, _ = _fenceposts(deployment)
    total = sum(_replicas(rs) for _, rs in rollout.replica_sets())
    if rollout.new is None:
        total += current
    if total >= wanted + surge:
        return current
    return current + min(wanted + surge - total, wanted - current)


def _active(rollout: _Rollout) -> list[tuple[Key, Obj]]:
    return [(k, rs) for k, rs in rollout.replica_sets() if _replicas(rs) > 0]


def _scaling_event(rollout: _Rollout) -> bool:
    wanted = str(_replicas(rollout.deployment))
    return any((rs["metadata"].get("annotations") or {}).get(DESIRED) != wanted
               for _, rs in _active(rollout))


def _scale(rollout: _Rollout) -> None:
    """A change of replicas only: the one active ReplicaSet (or the newest) takes it all; a
    saturated new one empties the old ones; else the new one grows."""
    active = _active(rollout)
    wanted = _replicas(rollout.deployment)
    if len(active) <= 1:
        target = active[0] if active else (rollout.new or (
            max(rollout.old, key=lambda item: _revision(item[1])) if rollout.old else None))
        if target is not None:
            rollout.scale(target[0], wanted)
        return
    if rollout.new is not None and _replicas(rollout.new[1]) == wanted:
        for key, _ in rollout.old:
            rollout.scale(key, 0)
        return
    if rollout.new is not None:
        rollout.scale(rollout.new[0], _new_replicas(rollout, _replicas(rollout.new[1])))


def _available(rs: Obj) -> int:
    return int((rs.get("status") or {}).get("availableReplicas", 0))


def _rolling(rollout: _Rollout) -> None:
    """rolloutRolling: grow the new ReplicaSet within maxSurge, shrink the old ones within
    maxUnavailable (unavailable pods of old ones first)."""
    if rollout.new is None:
        return
    new_key, new_rs = rollout.new
    rollout.scale(new_key, _new_replicas(rollout, _replicas(new_rs)))
    if rollout.new is None or not rollout.old:
        return
    deployment = rollout.deployment
    total = sum(_replicas(rs) for _, rs in rollout.replica_sets())
    minimum = _replicas(deployment) - _max_unavailable(deployment)
    new_rs = rollout.new[1]
    budget = total - minimum - (_replicas(new_rs) - _available(new_rs))
    if budget <= 0:
        return
    for key, rs in sorted(rollout.old, key=lambda item: _revision(item[1])):
        if budget <= 0:
            break
        unhealthy = _replicas(rs) - _available(rs)
        cut = min(budget, unhealthy)
        if cut > 0:
            rollout.scale(key, _replicas(rs) - cut)
            budget -= cut
    available = sum(_available(rs) for _, rs in rollout.replica_sets())
    budget = available - minimum
    for key, _ in sorted(rollout.old, key=lambda item: _revision(item[1])):
        current = rollout.cluster.objects.get(key)
        if budget <= 0 or current is None or _replicas(current) == 0:
            continue
        cut = min(_replicas(current), budget)
        rollout.scale(key, _replicas(current) - cut)
        budget -= cut


def _recreate(rollout: _Rollout) -> None:
    for key, rs in rollout.old:
        if _replicas(rs) > 0:
            rollout.scale(key, 0)
    if any(int((rs.get("status") or {}).get("replicas", 0)) for _, rs in rollout.old):
        return
    if rollout.new is not None:
        rollout.scale(rollout.new[0], _replicas(rollout.deployment))


def _cleanup(rollout: _Rollout) -> None:
    """Old ReplicaSets beyond revisionHistoryLimit go, emptiest and oldest first."""
    limit = int(rollout.deployment["spec"].get("revisionHistoryLimit", 10))
    idle = [(k, rs) for k, rs in rollout.old if _replicas(rs) == 0
            and not int((rs.get("status") or {}).get("replicas", 0))]
    idle.sort(key=lambda item: _revision(item[1]))
    for key, _ in idle[: max(len(idle) - limit, 0)]:
        rtype = rollout.cluster.types[("apps", "replicasets")]
        rollout.cluster._remove(rtype, key[2], key[3])
    if idle[: max(len(idle) - limit, 0)]:
        rollout.refresh()


def _condition(kind: str, status: bool, reason: str, message: str, now: str) -> Obj:
    return {"type": kind, "status": "True" if status else "False", "lastUpdateTime": now,
            "lastTransitionTime": now, "reason": reason, "message": message}


def _set_condition(conditions: list[Obj], condition: Obj) -> None:
    """SetDeploymentCondition: a condition that changes goes to the end, its transition time
    kept when its status stays."""
    current = next((c for c in conditions if c.get("type") == condition["type"]), None)
    if current is not None and current.get("status") == condition["status"] \
            and current.get("reason") == condition["reason"]:
        return
    if current is not None and current.get("status") == condition["status"]:
        condition["lastTransitionTime"] = current.get("lastTransitionTime")
    conditions[:] = [c for c in conditions if c.get("type") != condition["type"]]
    conditions.append(condition)


def _write_deployment_status(rollout: _Rollout) -> None:
    """syncRolloutStatus: counts from the ReplicaSets, Available from the availability the
    strategy requires, Progressing from what changed since the status last written."""
    deployment = rollout.cluster.objects.get(rollout.key) or rollout.deployment
    old_status = deployment.get("status") or {}
    sets = [rs for _, rs in rollout.replica_sets()]
    new_rs = rollout.new[1] if rollout.new else None
    now = _now()

    def count(name: str, items: list[Obj]) -> int:
        return sum(int((rs.get("status") or {}).get(name, 0)) for rs in items)

    available = count("availableReplicas", sets)
    unavailable = max(sum(_replicas(rs) for rs in sets) - available, 0)
    status: Obj = {"observedGeneration": deployment["metadata"].get("generation", 1)}
    for name, value in (("replicas", count("replicas", sets)),
                        ("updatedReplicas", count("replicas", [new_rs] if new_rs else [])),
                        ("readyReplicas", count("readyReplicas", sets)),
                        ("availableReplicas", available),
                        ("unavailableReplicas", unavailable)):
        if value:
            status[name] = value
    status["terminatingReplicas"] = 0
    if old_status.get("collisionCount") is not None:
        status["collisionCount"] = old_status["collisionCount"]
    conditions = clone(old_status.get("conditions") or [])
    spec = deployment["spec"]
    deadline = spec.get("progressDeadlineSeconds") is not None
    name = str(new_rs["metadata"]["name"]) if new_rs else ""
    if rollout.created and deadline:
        _set_condition(conditions, _condition(
            "Progressing", True, "NewReplicaSetCreated",
            f'Created new replica set "{rollout.created}"', now))
    elif new_rs is not None and deadline and not any(
            c.get("type") == "Progressing" for c in conditions):
        _set_condition(conditions, _condition("Progressing", True, "FoundNewReplicaSet",
                                              f'Found new replica set "{name}"', now))
    wanted = _replicas(deployment)
    if available >= wanted - _max_unavailable(deployment):
        _set_condition(conditions, _condition("Available", True, "MinimumReplicasAvailable",
                                              "Deployment has minimum availability.", now))
    else:
        _set_condition(conditions, _condition(
            "Available", False, "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.", now))
    current = next((c for c in conditions if c.get("type") == "Progressing"), None)
    complete = status.get("replicas", 0) == status.get("updatedReplicas", 0) \
        and current is not None and current.get("reason") == "NewReplicaSetAvailable"
    if deadline and not complete:
        done = (status.get("updatedReplicas", 0) == wanted
                and status.get("replicas", 0) == wanted
                and status.get("availableReplicas", 0) == wanted)
        old_other = old_status.get("replicas", 0) - old_status.get("updatedReplicas", 0)
        new_other = status.get("replicas", 0) - status.get("updatedReplicas", 0)
        progressed = (status.get("updatedReplicas", 0) > old_status.get("updatedReplicas", 0)
                      or new_other < old_other
                      or status.get("readyReplicas", 0) > old_status.get("readyReplicas", 0)
                      or status.get("availableReplicas", 0)
                      > old_status.get("availableReplicas", 0))
        if done:
            _set_condition(conditions, _condition(
                "Progressing", True, "NewReplicaSetAvailable",
                f'ReplicaSet "{name}" has successfully progressed.', now))
        elif progressed:
            condition = _condition("Progressing", True, "ReplicaSetUpdated",
                                   f'ReplicaSet "{name}" is progressing.', now)
            if current is not None:
                if current.get("status") == "True":
                    condition["lastTransitionTime"] = current.get("lastTransitionTime")
                conditions[:] = [c for c in conditions if c.get("type") != "Progressing"]
            _set_condition(conditions, condition)
    if conditions:
        status["conditions"] = conditions
    annotations = {REVISION: (new_rs["metadata"].get("annotations") or {}).get(REVISION, "1")} \
        if new_rs else None
    old_conditions = {c.get("type"): c for c in old_status.get("conditions") or []}
    for condition in conditions:
        before = old_conditions.get(condition["type"])
        if before is not None and {k: v for k, v in before.items() if k != "lastUpdateTime"} \
                == {k: v for k, v in condition.items() if k != "lastUpdateTime"}:
            condition["lastUpdateTime"] = before.get("lastUpdateTime")
    if write_status(rollout.cluster, rollout.key, status, annotations=annotations):
        _enqueue(_QUEUES.setdefault(rollout.cluster, _Queue()), rollout.key)


# ---- the replica set controller -------------------------------------------------------------
def _sync_replicaset(cluster: Cluster, key: Key) -> None:
    rs = cluster.objects.get(key)
    if rs is None or rs["metadata"].get("deletionTimestamp"):
        return
    pods = _owned(cluster, "", "pods", rs)
    wanted = _replicas(rs)
    for _ in range(wanted - len(pods)):
        _create_pod(cluster, rs)
    if len(pods) > wanted:
        rtype = cluster.types[("", "pods")]
        doomed = sorted(pods, key=lambda item: item[1]["metadata"].get(
            "creationTimestamp", ""), reverse=True)[: len(pods) - wanted]
        for pod_key, pod in doomed:
            cluster._remove(rtype, pod_key[2], pod_key[3])
            _event(cluster, rs, "apps/v1", "SuccessfulDelete",
                   f"Deleted pod: {pod['metadata']['name']}", "replicaset-controller")
    pods = _owned(cluster, "", "pods", rs)
    ready = len(pods) if runs(cluster, rs) else 0
    status: Obj = {"replicas": len(pods)}
    if pods:
        status["fullyLabeledReplicas"] = len(pods)
    if ready:
        status["readyReplicas"] = ready
        status["availableReplicas"] = ready
    status["terminatingReplicas"] = 0
    status["observedGeneration"] = rs["metadata"].get("generation", 1)
    if write_status(cluster, key, status):
        for ref in rs["metadata"].get("ownerReferences") or []:
            if ref.get("controller") and ref.get("kind") == "Deployment":
                _enqueue(_QUEUES.setdefault(cluster, _Queue()),
                         ("apps", "deployments", key[2], ref.get("name", "")))


def _create_pod(cluster: Cluster, rs: Obj) -> None:
    metadata = rs["metadata"]
    template = clone(rs["spec"].get("template") or {})
    prefix = f"{metadata['name']}-"
    while True:
        name = prefix + "".join(random.choice(NAME_ALPHABET) for _ in range(5))
        if ("", "pods", metadata["namespace"], name) not in cluster.objects:
            break
    cluster.generated_names[name] = prefix
    pod_metadata = template.get("metadata") or {}
    body: Obj = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "generateName": prefix, "namespace": metadata["namespace"],
                     **{k: v for k, v in pod_metadata.items()
                        if k in ("labels", "annotations")},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                          "name": metadata["name"], "uid": metadata["uid"],
                                          "controller": True, "blockOwnerDeletion": True}]},
        "spec": template.get("spec") or {},
    }
    _create(cluster, "", "pods", body)
    _event(cluster, rs, "apps/v1", "SuccessfulCreate", f"Created pod: {name}",
           "replicaset-controller")


# ---- the CRD controllers --------------------------------------------------------------------
def _crd_conditions(established: bool, now: str) -> list[Obj]:
    """NamesAccepted, and Established or still installing
    (e2e-namespaces-and-crds-are-pruned-only-when-allowed.jsonl#20 and #21)."""
    return [
        {"type": "NamesAccepted", "status": "True", "lastTransitionTime": now,
         "reason": "NoConflicts", "message": "no conflicts found"},
        {"type": "Established", "status": "True" if established else "False",
         "lastTransitionTime": now,
         "reason": "InitialNamesAccepted" if established else "Installing",
         "message": "the initial names have been accepted"},
    ]


def _sync_crd(cluster: Cluster, key: Key) -> None:
    """The naming and establishing controllers of the API server (manager kube-apiserver):
    the names accepted, the CRD established (crd-establish-and-cr.jsonl#6)."""
    crd = cluster.objects.get(key)
    if crd is None:
        return
    status = clone(crd.get("status") or {})
    names = clone((crd.get("spec") or {}).get("names") or {})
    established = cluster._established_at.get(key[3], float("inf")) <= time.monotonic()
    old = {c.get("type"): c for c in status.get("conditions") or []}
    now = _now()
    conditions = _crd_conditions(established, now)
    for condition in conditions:
        before = old.get(condition["type"])
        if before is not None and before.get("status") == condition["status"]:
            condition["lastTransitionTime"] = before.get("lastTransitionTime")
    conditions += [c for t, c in old.items() if t not in ("NamesAccepted", "Established")]
    status["conditions"] = conditions
    status["acceptedNames"] = names
    write_status(cluster, key, status, manager="kube-apiserver")


# ---- what a read shows ----------------------------------------------------------------------
def present(cluster: Cluster, rtype: ResourceType, obj: Obj, out: Obj) -> Obj:
    """The object as a read answers it: its stored status, or one computed for the time of
    the read (a script of the test, a rollout on the cluster's node, a CRD established
    since)."""
    metadata = obj["metadata"]
    if not metadata.get("uid"):
        return out
    key = (rtype.group, rtype.plural, metadata.get("namespace", ""), metadata["name"])
    script = cluster.status_scripts.get(key)
    elapsed = time.monotonic() - cluster._changed_at.get(key, time.monotonic())
    if script is not None:
        status = script(obj, elapsed)
        if status is not None:
            out["status"] = status
    elif cluster.nodes and cluster.scheduler and (rtype.group, rtype.kind) in CONTROLLED:
        out["status"] = simulated_status(rtype.group, rtype.kind, obj, elapsed,
                                         cluster.rollout_delay, blocked=not runs(cluster, obj))
    if rtype.kind == "CustomResourceDefinition":
        _present_crd(cluster, out)
    return out


def _present_crd(cluster: Cluster, out: Obj) -> None:
    status = out.setdefault("status", {})
    established = cluster._established_at.get(out["metadata"]["name"], float("inf")) \
        <= time.monotonic()
    conditions = status.get("conditions") or []
    for condition in conditions:
        if condition.get("type") == "Established" and established \
                and condition.get("status") != "True":
            condition.update(_crd_conditions(True, _now())[1])
    if out["metadata"].get("deletionTimestamp") and not any(
            c.get("type") == "Terminating" for c in conditions):
        conditions.append({
            "type": "Terminating", "status": "True", "lastTransitionTime": _now(),
            "reason": "InstanceDeletionPending",
            "message": "CustomResourceDefinition marked for deletion; CustomResource "
                       "deletion will begin soon"})
        status["conditions"] = conditions


def _simple_condition(kind: str, status: bool, reason: str, message: str = "") -> Obj:
    return {"type": kind, "status": "True" if status else "False", "reason": reason,
            "message": message}


def simulated_status(group: str, kind: str, obj: Obj, elapsed: float, delay: float,
                     blocked: bool = False) -> Obj:
    """The status of a workload on the cluster's node, `elapsed` seconds after its spec last
    changed: ready step by step over `delay` seconds, never when its pods fit no node
    (`blocked`)."""
    spec = obj.get("spec") or {}
    generation = obj["metadata"].get("generation", 1)
    share = 1.0 if delay <= 0 else min(1.0, elapsed / delay)
    if kind == "PersistentVolumeClaim":
        return {"phase": "Bound" if share >= 1 else "Pending"}
    if kind == "Job":
        completions = spec.get("completions", 1)
        if share >= 1 and not blocked:
            return {"succeeded": completions, "conditions": [
                _simple_condition("SuccessCriteriaMet", True, "CompletionsReached"),
                _simple_condition("Complete", True, "CompletionsReached")]}
        return {"active": 1, "ready": 0}
    wanted = spec.get("replicas", 1) if kind != "DaemonSet" else 1
    ready = 0 if blocked else int(wanted * share)
    if kind == "DaemonSet":
        return {"observedGeneration": generation, "desiredNumberScheduled": 1,
                "currentNumberScheduled": 1, "updatedNumberScheduled": 1,
                "numberReady": ready, "numberAvailable": ready,
                "numberUnavailable": 1 - ready}
    if kind == "StatefulSet":
        return {"observedGeneration": generation, "replicas": wanted, "readyReplicas": ready,
                "currentReplicas": wanted, "updatedReplicas": wanted,
                "availableReplicas": ready, "currentRevision": f"{obj['metadata']['name']}-1",
                "updateRevision": f"{obj['metadata']['name']}-1"}
    available = ready >= wanted
    return {
        "observedGeneration": generation, "replicas": wanted, "updatedReplicas": wanted,
        "readyReplicas": ready, "availableReplicas": ready,
        **({"unavailableReplicas": wanted - ready} if ready < wanted else {}),
        "conditions": [
            _simple_condition(
                "Available", available,
                "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                "Deployment has minimum availability." if available else
                "Deployment does not have minimum availability."),
            _simple_condition("Progressing", True,
                              "NewReplicaSetAvailable" if available else "ReplicaSetUpdated"),
        ],
    }
