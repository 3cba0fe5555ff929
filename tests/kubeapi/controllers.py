"""Status as the cluster's controllers would write it, computed when an object is read.

The test cluster has one node, with no labels anyone would select, and images that start at
once: a Deployment, StatefulSet or DaemonSet becomes ready step by step over
`Cluster.rollout_delay` seconds after its spec last changed, a Job completes, a
PersistentVolumeClaim binds. A pod template with a `nodeSelector` cannot be scheduled: the
workload stays unavailable and a FailedScheduling warning is recorded on its pod, as the
scheduler would. Tests can replace any object's status with a script of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
# (object as stored, seconds since its spec last changed) -> status, or None to keep it
StatusScript = Callable[[Obj, float], Obj | None]
CONTROLLED = {("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet"),
              ("batch", "Job"), ("", "PersistentVolumeClaim")}
UNSCHEDULABLE = "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."


def unschedulable(obj: Obj) -> bool:
    template = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    return bool(template.get("nodeSelector"))


def _condition(kind: str, status: bool, reason: str, message: str = "") -> Obj:
    return {"type": kind, "status": "True" if status else "False", "reason": reason,
            "message": message}


def simulated_status(group: str, kind: str, obj: Obj, elapsed: float, delay: float) -> Obj:
    spec = obj.get("spec") or {}
    generation = obj["metadata"].get("generation", 1)
    share = 1.0 if delay <= 0 else min(1.0, elapsed / delay)
    blocked = unschedulable(obj)
    if kind == "PersistentVolumeClaim":
        return {"phase": "Bound" if share >= 1 else "Pending"}
    if kind == "Job":
        completions = spec.get("completions", 1)
        if share >= 1 and not blocked:
            return {"succeeded": completions, "conditions": [
                _condition("SuccessCriteriaMet", True, "CompletionsReached"),
                _condition("Complete", True, "CompletionsReached")]}
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
            _condition("Available", available,
                       "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                       "Deployment has minimum availability." if available else
                       "Deployment does not have minimum availability."),
            _condition("Progressing", True,
                       "NewReplicaSetAvailable" if available else "ReplicaSetUpdated"),
        ],
    }
