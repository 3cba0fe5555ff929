"""Wait until what an apply wrote is ready: poll each object that reports a status (GET, a
few at a time) until all are ready, one has failed for good and the rest are ready, the
timeout passes, or the user presses Ctrl-C. Waiting only reads: it never writes to the cluster.

For what is not ready at the end, the report adds the latest Warning events of the object and of
the objects it owns by name (a Deployment's ReplicaSets and Pods are named after it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from gitdeploy.apply.readiness import Body, assess, has_status
from gitdeploy.errors import KubeError, signal_name
from gitdeploy.kube.client import KubeClient
from gitdeploy.kube.concurrency import map_bounded
from gitdeploy.objects.kinds import api_path
from gitdeploy.objects.secrets import SecretMasker
from gitdeploy.results import Action, State
from gitdeploy.results.apply import Readiness, WaitItem, WaitReport
from gitdeploy.results.plan import Change

FIRST_INTERVAL = 0.5  # seconds between the first rounds, growing to
MAX_INTERVAL = 2.0
EVENTS_SHOWN = 3


Update = Callable[[list[WaitItem], float], None]


def items_to_wait_for(changes: list[Change]) -> list[WaitItem]:
    """Every object of the environment that the apply kept or wrote (not the deletions)."""
    items = []
    for change in changes:
        if change.action is Action.DELETE:
            continue
        group = change.manifest.group
        if has_status(group, change.kind):
            readiness = Readiness(State.PROGRESSING, "not read yet")
        else:
            readiness = Readiness(State.READY, "applied")
        items.append(WaitItem(change.title(), change.kind, group, change.namespace,
                              change.name, change.path, readiness))
    return items


def wait_ready(client: KubeClient, items: list[WaitItem], *, timeout: float,
               concurrency: int, update: Update,
               masker: SecretMasker | None = None) -> WaitReport:
    """Poll until ready; every text that comes from the cluster (conditions, messages, events)
    is masked with `masker` before it reaches `update` or the report."""
    masker = masker or SecretMasker()
    started = time.monotonic()
    deadline = started + timeout
    current = list(items)
    timed_out = interrupted = False
    stopped_by = ""
    interval = FIRST_INTERVAL
    try:
        while True:
            pending = [i for i, item in enumerate(current) if item.state is State.PROGRESSING]
            if not pending:
                break
            read = map_bounded(lambda index: _masked(_read(client, current[index]), masker),
                               pending, concurrency)
            for index, item in zip(pending, read, strict=True):
                current[index] = item
            update(current, time.monotonic() - started)
            if all(item.state is not State.PROGRESSING for item in current):
                break
            if time.monotonic() >= deadline:
                timed_out = True
                break
            time.sleep(max(0.0, min(interval, deadline - time.monotonic())))
            interval = min(MAX_INTERVAL, interval * 1.5)
    except KeyboardInterrupt as interrupt:
        interrupted, stopped_by = True, signal_name(interrupt)
    seconds = time.monotonic() - started
    report = WaitReport(current, seconds, timeout, timed_out=timed_out, interrupted=interrupted,
                        stopped_by=stopped_by)
    if not report.ready and not interrupted:
        report = replace(report, items=[_masked(item, masker)
                                        for item in _with_events(client, current)])
    return report


def _masked(item: WaitItem, masker: SecretMasker) -> WaitItem:
    if not masker:
        return item
    readiness = item.readiness
    return replace(item, readiness=Readiness(
        readiness.state, masker.mask_text(readiness.message),
        tuple(masker.mask_lines(readiness.conditions))),
        events=tuple(masker.mask_lines(item.events)))


def _read(client: KubeClient, item: WaitItem) -> WaitItem:
    try:
        body = client.get(item.path)
    except KubeError as error:
        return replace(item, readiness=Readiness(State.PROGRESSING,
                                                 f"could not read it: {error.message}"))
    if body is None:
        return replace(item, readiness=Readiness(State.PROGRESSING, "not found (deleted?)"))
    return replace(item, readiness=assess(item.group, item.kind, body))


def _with_events(client: KubeClient, items: list[WaitItem]) -> list[WaitItem]:
    """Attach the latest Warning events about each item that is not ready, one LIST of
    Warning events per namespace."""
    namespaces = sorted({item.namespace for item in items if item.state is not State.READY})
    events: list[Body] = []
    for namespace in namespaces:
        path = api_path("v1", "events", namespace=namespace)
        try:
            found = client.get(path, query={"fieldSelector": "type=Warning"})
        except KubeError:
            continue  # events are a help, not a requirement (RBAC may forbid them)
        events.extend((found or {}).get("items") or [])
    events.sort(key=_event_time, reverse=True)
    result = []
    for item in items:
        if item.state is State.READY:
            result.append(item)
            continue
        mine = [event for event in events if _about(event, item)][:EVENTS_SHOWN]
        result.append(replace(item, events=tuple(_event_line(event) for event in mine)))
    return result


def _about(event: Body, item: WaitItem) -> bool:
    involved = event.get("involvedObject") or {}
    if (involved.get("namespace") or "") != item.namespace:
        return False
    name = str(involved.get("name") or "")
    if involved.get("kind") == item.kind and name == item.name:
        return True
    owned = {"Deployment": ("ReplicaSet", "Pod"), "StatefulSet": ("Pod",),
             "DaemonSet": ("Pod",), "Job": ("Pod",)}.get(item.kind, ())
    return involved.get("kind") in owned and name.startswith(f"{item.name}-")


def _event_time(event: Body) -> str:
    """When the event last happened: a series' last observation (events.k8s.io/v1, as the
    scheduler records repeats), else `lastTimestamp` (a core v1 event counted up), else the
    first occurrence."""
    series = event.get("series") or {}
    return str(series.get("lastObservedTime") or event.get("lastTimestamp")
               or event.get("eventTime")
               or (event.get("metadata") or {}).get("creationTimestamp") or "")


def event_count(event: Body) -> int:
    """How often it happened: `series.count` for a series (it has no `count`), else `count`."""
    series = event.get("series") or {}
    return int(series.get("count") or event.get("count") or 1)


def _event_line(event: Body) -> str:
    involved = event.get("involvedObject") or {}
    count = event_count(event)
    times = f" (x{count})" if count > 1 else ""
    return (f"{_event_time(event)} {involved.get('kind')}/{involved.get('name')}: "
            f"{event.get('reason', '')}: {event.get('message', '')}{times}").strip()
