"""A create or a delete whose outcome is unknown (its answer lost, on the last attempt) is read
back: through the seeded fault proxy in front of the test API server, over real HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitdeploy.kube.client import KubeClient, TransientStatusError, UnreachableError
from tests import manifests as objects
from tests.faults.lost import client_through, lose
from tests.faults.proxy import FaultProxy, Request
from tests.kubeapi.server import TestApiServer

COLLECTION = "/api/v1/namespaces/default/configmaps"
PATH = f"{COLLECTION}/settings"
KEY = ("", "configmaps", "default", "settings")



@pytest.fixture
def log() -> list[str]:
    return []


@pytest.fixture
def client(api_server: TestApiServer, proxy: FaultProxy, tmp_path: Path, log: list[str]
           ) -> KubeClient:
    return client_through(api_server, proxy, tmp_path, log=log.append)


def settings(value: str, **metadata: Any) -> dict[str, Any]:
    body = objects.configmap("settings", {"v": value}, namespace="default")
    body["metadata"].update(metadata)
    return body


def post(request: Request) -> bool:
    return request.method == "POST" and request.path == COLLECTION


def delete(request: Request) -> bool:
    return request.method == "DELETE" and request.path == PATH


def sent(api_server: TestApiServer, method: str, path: str) -> list[int]:
    """The statuses of the requests the server received with `method` on `path`."""
    return [r.status for r in api_server.requests if r.method == method and r.path == path]


def read_back(log: list[str]) -> list[str]:
    return [line for line in log if "read back, it had taken effect" in line]


# ---- create ---------------------------------------------------------------------------------
def test_a_create_whose_answer_was_lost_is_read_back(api_server: TestApiServer,
                                                     proxy: FaultProxy, client: KubeClient,
                                                     log: list[str]) -> None:
    fired = lose(proxy, post)
    created = client.create(COLLECTION, settings("1"))
    assert len(fired) == 1
    live = api_server.cluster.objects[KEY]
    assert (created["data"], created["metadata"]["uid"]) == ({"v": "1"}, live["metadata"]["uid"])
    assert sent(api_server, "POST", COLLECTION) == [201]  # sent once, not repeated
    assert read_back(log) == [f"{PATH}: the request's outcome was unknown; read back, it had "
                              "taken effect"]


def test_a_create_that_never_reached_the_server_fails(api_server: TestApiServer,
                                                      proxy: FaultProxy, client: KubeClient,
                                                      log: list[str]) -> None:
    lose(proxy, post, "reset-before")
    with pytest.raises(UnreachableError):
        client.create(COLLECTION, settings("1"))
    assert KEY not in api_server.cluster.objects
    assert sent(api_server, "GET", PATH) == [404]  # read back: not there
    assert read_back(log) == []


def test_a_lost_create_refused_by_the_server_is_not_taken_for_the_object_there(
        api_server: TestApiServer, proxy: FaultProxy, client: KubeClient) -> None:
    client.create(COLLECTION, settings("someone else's"))
    lose(proxy, post)  # the server answers 409 AlreadyExists: the answer is lost
    with pytest.raises(UnreachableError):
        client.create(COLLECTION, settings("ours"))
    assert sent(api_server, "POST", COLLECTION) == [201, 409]
    assert api_server.cluster.objects[KEY]["data"] == {"v": "someone else's"}


def test_the_outcome_is_unknown_when_the_read_back_fails_too(
        api_server: TestApiServer, proxy: FaultProxy, client: KubeClient) -> None:
    # The POST is done and its answer lost; the GET that reads it back never arrives.
    proxy.choose = lambda request: {"POST": "reset-after", "GET": "reset-before"}.get(
        request.method)
    with pytest.raises(UnreachableError) as raised:
        client.create(COLLECTION, settings("1"))
    assert raised.value.details[0].startswith(
        f"its outcome is unknown: {PATH} could not be read back (cannot reach the API server")
    assert KEY in api_server.cluster.objects  # it was created: nobody could tell


def test_a_throttled_create_is_not_read_back(api_server: TestApiServer, proxy: FaultProxy,
                                             client: KubeClient) -> None:
    lose(proxy, post, "429")
    with pytest.raises(TransientStatusError) as raised:
        client.create(COLLECTION, settings("1"))
    assert (raised.value.status, raised.value.maybe_applied) == (429, False)
    assert api_server.requests == []  # neither the POST nor a read-back reached the server


def test_an_earlier_attempt_whose_answer_was_lost_counts_when_the_last_is_refused(
        api_server: TestApiServer, proxy: FaultProxy, tmp_path: Path) -> None:
    """With retries: the first POST is done and its answer lost, the second is throttled (and
    the last): the create is read back, because the first may have done it."""
    client = client_through(api_server, proxy, tmp_path, attempts=2)
    proxy.choose = lambda request: {1: "reset-after", 2: "429"}.get(request.occurrence) \
        if post(request) else None
    created = client.create(COLLECTION, settings("1"))
    assert created["metadata"]["uid"] == api_server.cluster.objects[KEY]["metadata"]["uid"]
    assert sent(api_server, "POST", COLLECTION) == [201]


# ---- delete ---------------------------------------------------------------------------------
def existing(client: KubeClient, **metadata: Any) -> str:
    """Create the ConfigMap (no fault); its uid."""
    return str(client.create(COLLECTION, settings("1", **metadata))["metadata"]["uid"])


def test_a_delete_whose_answer_was_lost_counts_as_deleted(
        api_server: TestApiServer, proxy: FaultProxy, client: KubeClient,
        log: list[str]) -> None:
    uid = existing(client)
    fired = lose(proxy, delete)
    assert client.delete(PATH, uid=uid) is True
    assert len(fired) == 1 and KEY not in api_server.cluster.objects
    assert sent(api_server, "DELETE", PATH) == [200]
    assert sent(api_server, "GET", PATH) == [404]
    assert len(read_back(log)) == 1


def test_a_delete_left_terminating_counts_as_deleted(
        api_server: TestApiServer, proxy: FaultProxy, client: KubeClient) -> None:
    uid = existing(client, finalizers=["example.com/hold"])
    lose(proxy, delete)
    assert client.delete(PATH, uid=uid) is True
    metadata = api_server.cluster.objects[KEY]["metadata"]
    assert metadata["uid"] == uid and metadata["deletionTimestamp"]


def test_a_delete_that_never_reached_the_server_fails(
        api_server: TestApiServer, proxy: FaultProxy, client: KubeClient,
        log: list[str]) -> None:
    uid = existing(client)
    lose(proxy, delete, "reset-before")
    with pytest.raises(UnreachableError):
        client.delete(PATH, uid=uid)
    assert api_server.cluster.objects[KEY]["metadata"]["uid"] == uid
    assert sent(api_server, "GET", PATH) == [200]  # read back: still there, not terminating
    assert read_back(log) == []
