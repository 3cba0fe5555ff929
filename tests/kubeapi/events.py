"""Events: one storage for the core v1 and the events.k8s.io/v1 API, and the two recorders
that write them.

kube-apiserver keeps one Event storage and serves it through both APIs: an Event written
through one is read through the other, converted (unschedulable-workload.jsonl#7: the
controllers' core v1 Events listed through events.k8s.io/v1; #9 and #10: an events.k8s.io/v1
Event read through core v1). Its managedFields stay as written, with the API version of the
writer. The test server stores every Event in the core v1 shape; `to_core` and `from_core` are
the API server's conversions (`message` is `note`, `involvedObject` is `regarding`, `source`,
`firstTimestamp`, `lastTimestamp` and `count` are the `deprecated...` fields).

The recorders are client-go's:

- `record_legacy` (tools/record, what kube-controller-manager uses): a core v1 Event with
  `source`, `firstTimestamp`, `lastTimestamp` and `count` (unschedulable-workload.jsonl#5); the
  same event again (same object whatever its resourceVersion, reason, message, source and
  type) is not a new Event but the old one with `count` + 1 and a new `lastTimestamp`.
- `record_series` (tools/events, what kube-scheduler uses): an events.k8s.io/v1 Event with
  `eventTime`, `reportingController`, `reportingInstance` and `action`; the same event again
  (same action, reason, reporting controller and regarding object, its resourceVersion
  included, as client-go keys it) is not a new Event but a `series` on the first one:
  `{count: 2, lastObservedTime}` on the second occurrence, counted on from there (client-go
  writes the later counts every 30 seconds; here at once).

Event names are client-go's: `<object name>.<UnixNano in hex>`.
"""

from __future__ import annotations

import copy
import datetime
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.kubeapi.cluster import Cluster
    from tests.kubeapi.resources import ResourceType

Obj = dict[str, Any]
EVENTS_API = ("events.k8s.io", "events")
CORE = ("", "events")
_REFERENCE = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")


def is_events_api(rtype: ResourceType) -> bool:
    return (rtype.group, rtype.plural) == EVENTS_API


def _reference(value: Any) -> Obj:
    """An ObjectReference in Go's field order, empty fields left out."""
    value = value if isinstance(value, dict) else {}
    return {k: value[k] for k in _REFERENCE if value.get(k) not in (None, "")}


def to_core(event: Obj) -> Obj:
    """An events.k8s.io/v1 Event as a core v1 Event (Convert_v1_Event_To_core_Event, then
    the core v1 encoding: fields in Go's order, `omitempty` ones left out when empty)."""
    out: Obj = {"apiVersion": "v1", "kind": "Event",
                "metadata": copy.deepcopy(event.get("metadata") or {}),
                "involvedObject": _reference(event.get("regarding"))}
    for key, value in (("reason", event.get("reason")), ("message", event.get("note"))):
        if value:
            out[key] = value
    out["source"] = copy.deepcopy(event.get("deprecatedSource") or {})
    out["firstTimestamp"] = event.get("deprecatedFirstTimestamp")
    out["lastTimestamp"] = event.get("deprecatedLastTimestamp")
    if event.get("deprecatedCount"):
        out["count"] = event["deprecatedCount"]
    if event.get("type"):
        out["type"] = event["type"]
    out["eventTime"] = event.get("eventTime")
    if event.get("series"):
        out["series"] = copy.deepcopy(event["series"])
    if event.get("action"):
        out["action"] = event["action"]
    if event.get("related"):
        out["related"] = _reference(event["related"])
    out["reportingComponent"] = event.get("reportingController") or ""
    out["reportingInstance"] = event.get("reportingInstance") or ""
    return out


def from_core(event: Obj) -> Obj:
    """A core v1 Event as an events.k8s.io/v1 Event (Convert_core_Event_To_v1_Event, then the
    events.k8s.io/v1 encoding)."""
    out: Obj = {"apiVersion": "events.k8s.io/v1", "kind": "Event",
                "metadata": copy.deepcopy(event.get("metadata") or {}),
                "eventTime": event.get("eventTime")}
    if event.get("series"):
        out["series"] = copy.deepcopy(event["series"])
    for key, value in (("reportingController", event.get("reportingComponent")),
                       ("reportingInstance", event.get("reportingInstance")),
                       ("action", event.get("action")), ("reason", event.get("reason"))):
        if value:
            out[key] = value
    out["regarding"] = _reference(event.get("involvedObject"))
    if event.get("related"):
        out["related"] = _reference(event["related"])
    if event.get("message"):
        out["note"] = event["message"]
    if event.get("type"):
        out["type"] = event["type"]
    out["deprecatedSource"] = copy.deepcopy(event.get("source") or {})
    out["deprecatedFirstTimestamp"] = event.get("firstTimestamp")
    out["deprecatedLastTimestamp"] = event.get("lastTimestamp")
    if event.get("count"):
        out["deprecatedCount"] = event["count"]
    return out


def stored_shape(rtype: ResourceType, obj: Obj) -> Obj:
    """`obj`, written through `rtype`'s API, as the storage keeps it."""
    return to_core(obj) if is_events_api(rtype) else obj


def served_shape(rtype: ResourceType, obj: Obj) -> Obj:
    """A stored object as `rtype`'s API serves it (a copy when converted)."""
    return from_core(obj) if is_events_api(rtype) else obj


def storage_of(group: str, plural: str) -> tuple[str, str]:
    """Where objects of a resource are kept: events.k8s.io Events with the core ones."""
    return CORE if (group, plural) == EVENTS_API else (group, plural)


# ---- naming and time ------------------------------------------------------------------------
def event_name(cluster: Cluster, namespace: str, about: str) -> str:
    """client-go's name for a new Event: `<name>.<UnixNano in hex>` (never one in use)."""
    stamp = time.time_ns()
    while True:
        name = f"{about}.{stamp:x}"
        if (*CORE, namespace, name) not in cluster.objects:
            return name
        stamp += 1


def micro_time() -> str:
    """A MicroTime as the API writes it (`eventTime`, `series.lastObservedTime`)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _seconds() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def reference(obj: Obj, api_version: str) -> Obj:
    """ref.GetReference of an object: what an Event says it is about."""
    metadata = obj["metadata"]
    return _reference({"kind": obj.get("kind"), "namespace": metadata.get("namespace"),
                       "name": metadata.get("name"), "uid": metadata.get("uid"),
                       "apiVersion": api_version,
                       "resourceVersion": metadata.get("resourceVersion")})


# ---- the recorders --------------------------------------------------------------------------
def record_legacy(cluster: Cluster, involved: Obj, reason: str, message: str, component: str,
                  type_: str = "Normal", manager: str = "kube-controller-manager",
                  now: str | None = None) -> Obj:
    """client-go's tools/record: a core v1 Event, or the count of the same one raised."""
    involved = _reference(involved)
    namespace = involved.get("namespace") or "default"
    # The EventCorrelator's key: the object without its resourceVersion, and what is said.
    about = tuple(sorted((k, v) for k, v in involved.items() if k != "resourceVersion"))
    key = (namespace, about, reason, message, component, type_)
    now = now or _seconds()
    rtype = cluster.types[CORE]
    known = cluster.legacy_events.get(key)
    old = cluster.objects.get((*CORE, namespace, known)) if known else None
    if old is not None:
        new = copy.deepcopy(old)
        new["count"] = int(old.get("count") or 1) + 1
        new["lastTimestamp"] = now
        return cluster._update_write(rtype, "v1", namespace, known or "", old, new, manager,
                                     False)
    name = event_name(cluster, namespace, str(involved.get("name")))
    body: Obj = {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": namespace},
        "involvedObject": involved, "reason": reason, "message": message,
        "source": {"component": component}, "firstTimestamp": now, "lastTimestamp": now,
        "count": 1, "type": type_, "eventTime": None, "reportingComponent": component,
        "reportingInstance": "",
    }
    cluster.legacy_events[key] = name
    return cluster._update_write(rtype, "v1", namespace, name, None, body, manager, False)


def record_series(cluster: Cluster, regarding: Obj, reason: str, action: str, note: str,
                  controller: str, instance: str, type_: str = "Normal",
                  manager: str = "kube-scheduler") -> Obj:
    """client-go's tools/events: an events.k8s.io/v1 Event, or a series on the same one."""
    namespace = regarding.get("namespace") or "default"
    key = (namespace, tuple(sorted(regarding.items())), reason, action, controller)
    rtype = cluster.types[EVENTS_API]
    known = cluster.event_series.get(key)
    stored = cluster.objects.get((*CORE, namespace, known)) if known else None
    if stored is not None:
        old = from_core(stored)
        new = copy.deepcopy(old)
        count = int((old.get("series") or {}).get("count") or 1) + 1
        new["series"] = {"count": count, "lastObservedTime": micro_time()}
        return cluster._update_write(rtype, "v1", namespace, known or "", old, new, manager,
                                     False)
    name = event_name(cluster, namespace, str(regarding.get("name")))
    body: Obj = {
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": name, "namespace": namespace},
        "eventTime": micro_time(), "reportingController": controller,
        "reportingInstance": instance, "action": action, "reason": reason,
        "regarding": regarding, "note": note, "type": type_,
    }
    cluster.event_series[key] = name
    return cluster._update_write(rtype, "v1", namespace, name, None, body, manager, False)
