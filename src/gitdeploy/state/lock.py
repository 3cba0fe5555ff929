"""One deploy per environment at a time: a `coordination.k8s.io/v1` Lease in the environment's
state namespace (docs/cluster-state.md).

The lease is taken before the first write and given back at the end, also on Ctrl-C. While it
is held, a thread renews it every third of its duration. A lease whose holder stopped renewing
it for longer than its duration has expired and may be taken over. Holders compare their own
clock with the renew time written by another machine, so clocks should be roughly in sync.

When the answer to a take or a release is lost, the lease is read back: a take succeeded when
the lease names this holder, a release when it names someone else or no one.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from gitdeploy.errors import GitdeployError, KubeError
from gitdeploy.kube.client import ApiStatusError, KubeClient
from gitdeploy.objects.kinds import NAMESPACE_KIND, api_path
from gitdeploy.objects.names import (
    ENVIRONMENT_LABEL,
    FIELD_MANAGER,
    MANAGED_BY,
    dns_label,
    lease_name,
)
from gitdeploy.results.state import LeaseState, show_time

Note = Callable[[str], None]


class LockedError(GitdeployError):
    """Another deploy holds the environment's lock."""


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _micro(at: datetime.datetime) -> str:
    """The MicroTime format the API server expects: RFC 3339 with exactly six decimals."""
    return at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: Any) -> datetime.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def lease_state(lease: dict[str, Any]) -> LeaseState:
    spec = lease.get("spec") or {}
    return LeaseState(holder=str(spec.get("holderIdentity") or ""),
                      acquired=_parse(spec.get("acquireTime")),
                      renewed=_parse(spec.get("renewTime")),
                      duration=int(spec.get("leaseDurationSeconds") or 0),
                      transitions=int(spec.get("leaseTransitions") or 0))


def _for_update(lease: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The lease as read, with a new spec, ready to PUT (managed fields left to the server)."""
    metadata = {k: v for k, v in lease["metadata"].items() if k != "managedFields"}
    return {**lease, "metadata": metadata, "spec": spec}


_HOLDER = re.compile(r"^[^@]*@(?P<host>[^ ]+) pid (?P<pid>\d+)(,|$)")


def stale_holder(holder: str) -> bool:
    """The holder is a gitdeploy process of this machine that no longer exists."""
    match = _HOLDER.match(holder)
    if match is None or match["host"] != socket.gethostname():
        return False
    try:
        os.kill(int(match["pid"]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


class EnvironmentLock:
    def __init__(self, client: KubeClient, *, namespace: str, environment: str, holder: str,
                 duration: int, note: Note, on_lost: Callable[[], None] | None = None) -> None:
        self.client = client
        self.on_lost = on_lost  # called once when the lock is lost while held
        self.namespace = namespace
        self.environment = environment
        self.holder = holder
        self.duration = duration
        self.note = note
        self.name = lease_name(environment)
        self.collection = api_path("coordination.k8s.io/v1", "leases", namespace=namespace)
        self.path = f"{self.collection}/{self.name}"
        self.lost = threading.Event()
        self.release_error = ""  # set when the lease could not be given back
        # The resourceVersion of the lease this deploy took ("" when it created it): when it
        # is not the one `version()` read before the plan, another deploy held the lock since.
        self.taken_from = ""
        # The lease named another holder when this deploy took it (it had expired): what that
        # deploy wrote may not be in the plan made before, whatever the resourceVersion says.
        self.took_over = False
        self.created_namespace = False  # the lock created the state namespace

    def describe(self) -> str:
        return f"Lease {self.namespace}/{self.name}"

    # ---- reading -----------------------------------------------------------------------
    def read(self) -> tuple[dict[str, Any] | None, LeaseState | None]:
        try:
            lease = self.client.get(self.path)
        except ApiStatusError as error:
            if error.status == 404:
                return None, None
            raise
        return lease, (lease_state(lease) if lease else None)

    def version(self) -> str:
        """The lease's resourceVersion now, "" when there is none. Every deploy changes it
        (taking and giving back the lock are writes)."""
        lease, _ = self.read()
        return str(((lease or {}).get("metadata") or {}).get("resourceVersion") or "")

    # ---- acquiring ---------------------------------------------------------------------
    def acquire(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        waiting_said = False
        while True:
            lease, state = self.read()
            now = _utcnow()
            if lease is None:
                if self._create(now):
                    return
                continue
            assert state is not None
            if state.holder == self.holder or state.expired(now):
                if self._take(lease, state, now):
                    if state.holder and state.holder != self.holder:
                        self.note(f"took over the expired lock of {state.holder} (held since "
                                  f"{state.since()}, last renewed "
                                  f"{show_time(state.renewed) if state.renewed else 'never'})")
                    return
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0 and stale_holder(state.holder):
                raise LockedError(
                    f"{self.environment} is locked by {state.holder} since {state.since()}, "
                    "a process of this machine that no longer runs: the lock is stale",
                    [f"it expires {state.duration}s after its last renewal "
                     f"({show_time(state.renewed) if state.renewed else 'never renewed'}); "
                     "pass --lock-timeout to wait for that",
                     f"or take it over now: gitdeploy unlock {self.environment}"])
            if remaining <= 0:
                raise LockedError(
                    f"{self.environment} is locked by {state.holder} since {state.since()}",
                    [f"another deploy holds {self.describe()}",
                     "wait for it to finish, or pass --lock-timeout 10m to wait for it",
                     f"the lock expires {state.duration}s after its last renewal; if its "
                     f"holder is gone for good: gitdeploy unlock {self.environment}"])
            if not waiting_said:
                self.note(f"waiting for the lock held by {state.holder} since {state.since()}")
                waiting_said = True
            time.sleep(min(1.0, remaining))

    def _spec(self, now: datetime.datetime, transitions: int) -> dict[str, Any]:
        return {"holderIdentity": self.holder, "leaseDurationSeconds": self.duration,
                "acquireTime": _micro(now), "renewTime": _micro(now),
                "leaseTransitions": transitions}

    def _create(self, now: datetime.datetime) -> bool:
        body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace,
                             "labels": {**MANAGED_BY,
                                        ENVIRONMENT_LABEL: dns_label(self.environment)}},
                "spec": self._spec(now, 0)}
        try:
            self.client.request("POST", self.collection, query={"fieldManager": FIELD_MANAGER},
                                body=body)
        except KubeError as error:
            if error.status == 409:  # someone else created it first: look again
                return False
            if error.status == 404:  # the state namespace does not exist yet
                self._create_namespace()
                return False
            if self.client.read_back(error, self._ours, what=self.describe()) is None:
                raise
        self.taken_from = ""
        return True

    def _create_namespace(self) -> None:
        self.note(f"creating namespace {self.namespace} for gitdeploy's records and lock")
        body = {"apiVersion": "v1", "kind": NAMESPACE_KIND, "metadata": {"name": self.namespace}}
        self.client.apply(api_path("v1", "namespaces", name=self.namespace), body, dry_run=False)
        self.created_namespace = True

    def _take(self, lease: dict[str, Any], state: LeaseState, now: datetime.datetime) -> bool:
        transitions = state.transitions + (1 if state.holder != self.holder else 0)
        body = _for_update(lease, self._spec(now, transitions))
        if state.holder == self.holder and state.acquired:
            body["spec"]["acquireTime"] = _micro(state.acquired)
        try:
            self.client.request("PUT", self.path, query={"fieldManager": FIELD_MANAGER},
                                body=body)
        except KubeError as error:
            if error.status in (404, 409):  # changed or deleted meanwhile
                return False
            if self.client.read_back(error, self._ours, what=self.describe()) is None:
                raise
        self.taken_from = str(lease["metadata"].get("resourceVersion") or "")
        self.took_over = bool(state.holder) and state.holder != self.holder
        return True

    def _ours(self) -> dict[str, Any] | None:
        """The lease, when it names this holder: a take whose answer was lost took it."""
        lease, state = self.read()
        return lease if state is not None and state.holder == self.holder else None

    # ---- holding -----------------------------------------------------------------------
    def renew(self, deadline: float | None = None) -> None:
        """Write a new renewTime. With `deadline` (time.monotonic()), no attempt or retry
        runs past it: the lease expires then for everyone else, and a renewal that lands later
        could hide that another deploy took it over."""
        client = self.client if deadline is None else _bounded(self.client, deadline)
        try:
            lease = client.get(self.path)
        except ApiStatusError as error:
            if error.status != 404:
                raise
            lease = None
        state = lease_state(lease) if lease else None
        if lease is None or state is None or state.holder != self.holder:
            self._lose()
            return
        body = _for_update(lease, {**lease["spec"], "renewTime": _micro(_utcnow())})
        client.request("PUT", self.path, query={"fieldManager": FIELD_MANAGER}, body=body)

    def _lose(self) -> None:
        if not self.lost.is_set():
            self.lost.set()
            if self.on_lost is not None:
                self.on_lost()

    def release(self) -> bool:
        """Give the lease back if we still hold it; True when it was released."""
        return self._clear(only_if=self.holder)

    def break_lock(self) -> LeaseState | None:
        """Clear whoever holds the lease (gitdeploy unlock). Returns the state it had."""
        _, state = self.read()
        if state is None or not state.holder:
            return state
        self._clear(only_if=state.holder)
        return state

    def _clear(self, *, only_if: str) -> bool:
        for _ in range(5):
            lease, state = self.read()
            if lease is None or state is None or state.holder != only_if:
                return False
            spec = {k: v for k, v in lease["spec"].items()
                    if k not in ("holderIdentity", "acquireTime", "renewTime")}
            try:
                self.client.request("PUT", self.path, query={"fieldManager": FIELD_MANAGER},
                                    body=_for_update(lease, spec))
            except KubeError as error:
                if error.status == 409:
                    continue
                if not self.client.read_back(error, lambda: self._given_back(only_if),
                                             what=self.describe()):
                    raise
            return True
        return False

    def _given_back(self, holder: str) -> bool:
        """`holder` no longer holds the lease (it is free, gone, or someone else's): a release
        whose answer was lost released it."""
        _, state = self.read()
        return state is None or state.holder != holder

    @contextmanager
    def held(self, timeout: float) -> Iterator[EnvironmentLock]:
        self.acquire(timeout)
        stop = threading.Event()

        def keep_renewing() -> None:
            renewed = time.monotonic()  # the lease runs until renewTime + duration
            while not stop.wait(self.duration / 3):
                expires = renewed + self.duration
                try:
                    self.renew(expires)
                except KubeError as error:
                    self.note(f"could not renew the lock: {error.message}")
                    if time.monotonic() >= expires:
                        self._lose()  # expired: another deploy may take it now
                else:
                    renewed = time.monotonic()
                if self.lost.is_set():
                    return

        renewer = threading.Thread(target=keep_renewing, name="lease-renewer", daemon=True)
        renewer.start()
        try:
            yield self
        finally:
            stop.set()
            renewer.join()
            try:
                self.release()
            except KubeError as error:
                self.release_error = (f"the lock could not be released ({error.message}); it "
                                      f"expires {self.duration}s after its last renewal, or: "
                                      f"gitdeploy unlock {self.environment}")
                self.note(self.release_error)


def _bounded(client: KubeClient, deadline: float) -> KubeClient:
    """`client`, with no attempt or retry running past `deadline` (time.monotonic())."""
    remaining = max(0.5, deadline - time.monotonic())
    bounded = copy.copy(client)
    bounded.retry = dataclasses.replace(client.retry, max_time=remaining)
    bounded.timeout = min(client.timeout, remaining)
    return bounded
