"""The lock when the answer to its take or its release is lost on the last attempt: the Lease
is read back, and its holder says what happened. Through the seeded fault proxy in front of
the test API server, over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitdeploy.kube.client import UnreachableError
from gitdeploy.state.lock import EnvironmentLock
from tests.faults.lost import client_through, lose
from tests.faults.proxy import FaultProxy, Request
from tests.kubeapi.server import TestApiServer

LEASE = ("coordination.k8s.io", "leases", "default", "gitdeploy-lock-dev")
LEASES = "/apis/coordination.k8s.io/v1/namespaces/default/leases"
ME = "tester@ci-runner pid 1"
OTHER = "other@elsewhere pid 2"



@pytest.fixture
def notes() -> list[str]:
    return []


@pytest.fixture
def lock(api_server: TestApiServer, proxy: FaultProxy, tmp_path: Path, notes: list[str]
         ) -> EnvironmentLock:
    client = client_through(api_server, proxy, tmp_path)
    return EnvironmentLock(client, namespace="default", environment="dev", holder=ME,
                           duration=30, note=notes.append)


@pytest.fixture
def free(lock: EnvironmentLock) -> EnvironmentLock:
    """The lock taken and given back once, without faults: its Lease exists, with no holder."""
    lock.acquire(0)
    assert lock.release()
    return lock


def holder(api_server: TestApiServer) -> str:
    return str((api_server.cluster.objects[LEASE].get("spec") or {}).get("holderIdentity")
               or "")


def names(request: Request) -> str:
    return str(((request.json() or {}).get("spec") or {}).get("holderIdentity") or "")


def take(request: Request) -> bool:
    return request.method == "PUT" and request.path == f"{LEASES}/gitdeploy-lock-dev" \
        and names(request) == ME


def give_back(request: Request) -> bool:
    return request.method == "PUT" and request.path == f"{LEASES}/gitdeploy-lock-dev" \
        and not names(request)


def puts(api_server: TestApiServer) -> list[int]:
    return [r.status for r in api_server.requests if r.method == "PUT" and "/leases/" in r.path]


# ---- taking it ------------------------------------------------------------------------------

def another_takes_it_first(api_server: TestApiServer, matches: Callable[[Request], bool]
                           ) -> Callable[[Request], str | None]:
    """A chooser for the proxy: just before the request that `matches` reaches the server,
    another deploy takes the lease (a newer resourceVersion); that request's answer is lost."""

    def choose(request: Request) -> str | None:
        if not matches(request):
            return None
        lease: dict[str, Any] = api_server.cluster.objects[LEASE]
        lease["spec"]["holderIdentity"] = OTHER
        lease["metadata"]["resourceVersion"] = str(int(lease["metadata"]["resourceVersion"])
                                                   + 1000)
        return "reset-after"

    return choose

def test_a_take_whose_answer_was_lost_holds_the_lock(
        api_server: TestApiServer, proxy: FaultProxy, free: EnvironmentLock) -> None:
    before = api_server.cluster.objects[LEASE]["metadata"]["resourceVersion"]
    fired = lose(proxy, take)
    free.acquire(0)  # no error: the lease names this holder
    assert len(fired) == 1 and holder(api_server) == ME
    assert free.taken_from == before
    assert free.release() and holder(api_server) == ""


def test_a_create_of_the_lease_whose_answer_was_lost_holds_the_lock(
        api_server: TestApiServer, proxy: FaultProxy, lock: EnvironmentLock) -> None:
    fired = lose(proxy, lambda r: r.method == "POST" and r.path == LEASES)
    lock.acquire(0)
    assert len(fired) == 1 and holder(api_server) == ME
    assert [r.status for r in api_server.requests if r.method == "POST"] == [201]
    assert lock.taken_from == ""


def test_a_take_that_never_reached_the_server_fails(
        api_server: TestApiServer, proxy: FaultProxy, free: EnvironmentLock) -> None:
    lose(proxy, take, "reset-before")
    with pytest.raises(UnreachableError):
        free.acquire(0)
    assert holder(api_server) == ""


def test_a_lost_take_refused_by_the_server_is_not_taken_for_ours(
        api_server: TestApiServer, proxy: FaultProxy, free: EnvironmentLock) -> None:
    """Another deploy takes the lease while our take is on its way: the server refuses ours
    (409, its resourceVersion is stale) and that answer is lost; the lease names the other."""

    proxy.choose = another_takes_it_first(api_server, take)
    with pytest.raises(UnreachableError):
        free.acquire(0)
    assert holder(api_server) == OTHER
    assert puts(api_server)[-1] == 409


# ---- giving it back -------------------------------------------------------------------------
def test_a_release_whose_answer_was_lost_counts_as_released(
        api_server: TestApiServer, proxy: FaultProxy, lock: EnvironmentLock) -> None:
    lock.acquire(0)
    fired = lose(proxy, give_back)
    assert lock.release() is True
    assert len(fired) == 1 and holder(api_server) == ""


def test_a_lost_release_of_a_lock_taken_over_meanwhile_counts_as_released(
        api_server: TestApiServer, proxy: FaultProxy, lock: EnvironmentLock) -> None:
    """Ours expired and another deploy took it over while the release was on its way: this
    deploy holds it no longer, which is what the release was for."""
    lock.acquire(0)

    proxy.choose = another_takes_it_first(api_server, give_back)
    assert lock.release() is True
    assert holder(api_server) == OTHER  # not ours to clear


def test_a_release_that_never_reached_the_server_fails(
        api_server: TestApiServer, proxy: FaultProxy, lock: EnvironmentLock,
        notes: list[str]) -> None:
    with lock.held(0):
        lose(proxy, give_back, "reset-before")
    assert holder(api_server) == ME
    assert lock.release_error.startswith("the lock could not be released (cannot reach the "
                                         "API server")
    assert notes == [lock.release_error]
