"""Is an object ready? One rule per kind, read from the status the cluster reports.

Deployments, StatefulSets and DaemonSets are ready once rolled out (the controller has seen the
current generation and the updated, ready and available replicas reach the wanted count), Jobs
once complete, CRDs once established, PVCs once bound, Pods once ready or succeeded. Any other
object follows the kstatus conventions: an `observedGeneration` behind `generation` or a
`Reconciling` condition means in progress, `Stalled` means failed, a `Ready` condition decides,
and an object reporting none of these is ready. Kinds that never report a status are ready as
soon as they are applied, without a request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gitdeploy.objects.kinds import CRD_GROUP, CRD_KIND
from gitdeploy.results import State
from gitdeploy.results.apply import Readiness

Body = dict[str, Any]


# Kinds whose objects never report a status: ready when applied.
NO_STATUS: frozenset[tuple[str, str]] = frozenset({
    ("", "ConfigMap"), ("", "Secret"), ("", "ServiceAccount"), ("", "Endpoints"),
    ("", "LimitRange"), ("", "PodTemplate"), ("", "Event"),
    ("rbac.authorization.k8s.io", "Role"), ("rbac.authorization.k8s.io", "RoleBinding"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("networking.k8s.io", "NetworkPolicy"), ("networking.k8s.io", "IngressClass"),
    ("scheduling.k8s.io", "PriorityClass"), ("storage.k8s.io", "StorageClass"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("coordination.k8s.io", "Lease"), ("discovery.k8s.io", "EndpointSlice"),
    ("node.k8s.io", "RuntimeClass"),
})


def has_status(group: str, kind: str) -> bool:
    return (group, kind) not in NO_STATUS


def assess(group: str, kind: str, body: Body) -> Readiness:
    status = body.get("status") or {}
    conditions = _conditions(status)
    rule = _RULES.get((group, kind), _generic)
    state, message = rule(body, status, conditions)
    return Readiness(state, message, tuple(
        f"{c.get('type')}={c.get('status')}" + (f" ({c['reason']})" if c.get("reason") else "")
        + (f": {c['message']}" if c.get("message") else "") for c in conditions))


Conditions = list[dict[str, Any]]
Rule = Callable[[Body, Body, Conditions], tuple[State, str]]


def _conditions(status: Body) -> Conditions:
    found = status.get("conditions")
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


def _condition(conditions: Conditions, kind: str) -> dict[str, Any] | None:
    return next((c for c in conditions if c.get("type") == kind), None)


def _is(conditions: Conditions, kind: str, value: str = "True") -> bool:
    found = _condition(conditions, kind)
    return found is not None and found.get("status") == value


def _unobserved(body: Body, status: Body) -> str | None:
    generation = (body.get("metadata") or {}).get("generation")
    observed = status.get("observedGeneration")
    if generation is not None and (observed is None or observed < generation):
        return f"waiting for the controller to see generation {generation}"
    return None


def _deployment(body: Body, status: Body, conditions: Conditions) -> tuple[State, str]:
    if waiting := _unobserved(body, status):
        return State.PROGRESSING, waiting
    progressing = _condition(conditions, "Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        return State.FAILED, f"progress deadline exceeded: {progressing.get('message', '')}"
    spec = body.get("spec") or {}
    if spec.get("paused"):
        return State.READY, "paused (not rolled out while paused)"
    wanted = spec.get("replicas", 1)
    updated = status.get("updatedReplicas", 0)
    total = status.get("replicas", 0)
    available = status.get("availableReplicas", 0)
    if updated < wanted:
        return State.PROGRESSING, f"{updated}/{wanted} updated"
    if total > updated:
        return State.PROGRESSING, f"{total - updated} old replica(s) terminating"
    if available < updated:
        return State.PROGRESSING, f"{available}/{wanted} available"
    return State.READY, f"{available}/{wanted} ready"


def _statefulset(body: Body, status: Body, conditions: Conditions) -> tuple[State, str]:
    if waiting := _unobserved(body, status):
        return State.PROGRESSING, waiting
    spec = body.get("spec") or {}
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type") == "OnDelete":
        return State.READY, "OnDelete update strategy: pods change when deleted"
    wanted = spec.get("replicas", 1)
    ready = status.get("readyReplicas", 0)
    partition = (strategy.get("rollingUpdate") or {}).get("partition", 0)
    if ready < wanted:
        return State.PROGRESSING, f"{ready}/{wanted} ready"
    if partition:
        updated = status.get("updatedReplicas", 0)
        if updated < wanted - partition:
            return State.PROGRESSING, f"{updated}/{wanted - partition} updated (partition)"
    elif status.get("updateRevision") != status.get("currentRevision"):
        return State.PROGRESSING, f"rolling out revision {status.get('updateRevision')}"
    available = status.get("availableReplicas", ready)
    if available < wanted:
        return State.PROGRESSING, f"{available}/{wanted} available"
    return State.READY, f"{ready}/{wanted} ready"


def _daemonset(body: Body, status: Body, conditions: Conditions) -> tuple[State, str]:
    if waiting := _unobserved(body, status):
        return State.PROGRESSING, waiting
    if ((body.get("spec") or {}).get("updateStrategy") or {}).get("type") == "OnDelete":
        return State.READY, "OnDelete update strategy: pods change when deleted"
    wanted = status.get("desiredNumberScheduled", 0)
    updated = status.get("updatedNumberScheduled", 0)
    available = status.get("numberAvailable", 0)
    if updated < wanted:
        return State.PROGRESSING, f"{updated}/{wanted} updated"
    if available < wanted:
        return State.PROGRESSING, f"{available}/{wanted} available"
    return State.READY, f"{available}/{wanted} ready"


def _job(body: Body, status: Body, conditions: Conditions) -> tuple[State, str]:
    if _is(conditions, "Complete"):
        return State.READY, "complete"
    failed = _condition(conditions, "Failed")
    if failed and failed.get("status") == "True":
        return State.FAILED, f"failed: {failed.get('reason', '')} {failed.get('message', '')}"
    if _is(conditions, "Suspended"):
        return State.READY, "suspended"
    completions = (body.get("spec") or {}).get("completions", 1)
    return State.PROGRESSING, (f"running: {status.get('active', 0)} active, "
                               f"{status.get('succeeded', 0)}/{completions} succeeded")


def _crd(body: Body, status: Body, conditions: Conditions) -> tuple[State, str]:
    if _is(conditions, "Established"):
        return State.READY, "established"
    if _is(conditions, "NamesAccepted", "False"):
        names = _condition(conditions, "NamesAccepted") or {}
        return State.FAILED, f"names not accepted: {names.get('message', '')}"
    return State.PROGRESSING, "not established yet"


def _pvc(body: Body, status: Body, conditions: Conditions) -> tuple[State, str]:
    phase = status.get("phase") or "Pending"
    if phase == "Bound":
        return State.READY, "bound"
    if phase == "Lost":
        return State.FAILED, "lost its volume"
    return State.PROGRESSING, phase.lower()


def _pod(body: Body, status: Body, conditions: Conditions) -> tuple[State, str]:
    phase = status.get("phase") or "Pending"
    if phase == "Succeeded" or _is(conditions, "Ready"):
        return State.READY, phase.lower()
    if phase == "Failed":
        return State.FAILED, f"failed: {status.get('reason', '')} {status.get('message', '')}"
    return State.PROGRESSING, phase.lower()


def _generic(body: Body, status: Body, conditions: Conditions) -> tuple[State, str]:
    if "observedGeneration" in status and (waiting := _unobserved(body, status)):
        return State.PROGRESSING, waiting
    stalled = _condition(conditions, "Stalled")
    if stalled and stalled.get("status") == "True":
        return State.FAILED, f"stalled: {stalled.get('message') or stalled.get('reason', '')}"
    reconciling = _condition(conditions, "Reconciling")
    if reconciling and reconciling.get("status") == "True":
        return State.PROGRESSING, reconciling.get("message") or "reconciling"
    ready = _condition(conditions, "Ready")
    if ready is not None:
        if ready.get("status") == "True":
            return State.READY, "ready"
        return State.PROGRESSING, (f"not ready: {ready.get('reason', '')} "
                                   f"{ready.get('message', '')}").strip()
    return State.READY, "current"


_RULES: dict[tuple[str, str], Rule] = {
    ("apps", "Deployment"): _deployment,
    ("apps", "StatefulSet"): _statefulset,
    ("apps", "DaemonSet"): _daemonset,
    ("batch", "Job"): _job,
    (CRD_GROUP, CRD_KIND): _crd,
    ("", "PersistentVolumeClaim"): _pvc,
    ("", "Pod"): _pod,
}
