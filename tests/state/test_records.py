"""Deploy records: one whose POST lost its answer is read back, old ones are dropped without
putting the new one in doubt, and the record's digest says nothing of a Secret's values."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from gitdeploy.kube.client import KubeClient, UnreachableError
from gitdeploy.objects.manifests import Manifest
from gitdeploy.state.records import RecordStore, digest
from tests import builders
from tests import manifests as objects
from tests.faults.lost import client_through, lose
from tests.faults.proxy import FaultProxy, Request
from tests.kubeapi.server import TestApiServer

CONFIGMAPS = "/api/v1/namespaces/default/configmaps"



@pytest.fixture
def client(api_server: TestApiServer, proxy: FaultProxy, tmp_path: Path) -> KubeClient:
    return client_through(api_server, proxy, tmp_path)


@pytest.fixture
def store(client: KubeClient) -> RecordStore:
    return RecordStore(client, "default", "dev")


def post(request: Request) -> bool:
    return request.method == "POST" and request.path == CONFIGMAPS


def stored(store: RecordStore) -> list[tuple[int, str]]:
    return [(r.sequence, r.subject) for r in store.list()]


def test_a_record_whose_answer_was_lost_is_written(api_server: TestApiServer,
                                                   proxy: FaultProxy,
                                                   store: RecordStore) -> None:
    fired = lose(proxy, post)
    record = store.add(builders.record, keep=5)
    assert len(fired) == 1
    assert record.sequence == 1
    assert stored(store) == [(1, "deploy 1")]
    assert [r.status for r in api_server.requests if r.method == "POST"] == [201]


def test_a_record_that_never_reached_the_server_is_not_written(proxy: FaultProxy,
                                                               store: RecordStore) -> None:
    lose(proxy, post, "reset-before")
    with pytest.raises(UnreachableError):
        store.add(builders.record, keep=5)
    assert stored(store) == []


def test_a_lost_post_of_another_record_of_the_number_is_not_taken_for_ours(
        api_server: TestApiServer, proxy: FaultProxy, store: RecordStore) -> None:
    """Another deploy wrote record 1 between our LIST and our POST: the server refuses ours
    (409) and that answer is lost; what is there is not what we sent."""

    def theirs_first(request: Request) -> str | None:
        if not post(request):
            return None
        proxy.choose = None
        store.add(lambda sequence: dataclasses.replace(builders.record(sequence),
                                                       subject="another deploy"), keep=5)
        return "reset-after"

    proxy.choose = theirs_first
    with pytest.raises(UnreachableError):
        store.add(builders.record, keep=5)
    assert stored(store) == [(1, "another deploy")]
    assert [r.status for r in api_server.requests if r.method == "POST"] == [201, 409]


def test_the_record_is_written_when_old_ones_cannot_be_dropped(
        api_server: TestApiServer, proxy: FaultProxy, store: RecordStore) -> None:
    """Dropping records beyond `history.keep` is not part of writing one: a failed DELETE
    leaves the old record to the next deploy, which drops every record beyond `keep`."""
    for _ in range(2):
        store.add(builders.record, keep=2)
    proxy.choose = lambda request: "503" if request.method == "DELETE" else None
    assert store.add(builders.record, keep=2).sequence == 3
    assert [sequence for sequence, _ in stored(store)] == [3, 2, 1]
    proxy.choose = None
    store.add(builders.record, keep=2)
    assert [sequence for sequence, _ in stored(store)] == [4, 3]


# ---- the digest -----------------------------------------------------------------------------
VALUE = "correct-horse-battery-staple"


def manifests(password: str, *, keys: tuple[str, ...] = ("password",),
              setting: str = "1") -> list[Manifest]:
    secret = objects.secret("creds", dict.fromkeys(keys, password), namespace="shop")
    return [builders.manifest(objects.configmap("settings", {"v": setting}, namespace="shop")),
            builders.manifest(secret)]


def plain_sha256(bodies: list[dict[str, Any]]) -> str:
    """What the digest would be over the objects as written, values included."""
    hasher = hashlib.sha256()
    for body in bodies:
        hasher.update(json.dumps(body, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    return f"sha256:{hasher.hexdigest()}"


def test_the_record_digest_cannot_confirm_a_guessed_secret_value() -> None:
    guessed = manifests(VALUE)
    ordered = sorted(guessed, key=lambda m: str(m.key))
    assert digest(guessed) != plain_sha256([m.body for m in ordered])
    # nothing of the value is in it: any other value gives the same digest
    assert digest(manifests("another value")) == digest(guessed)
    assert digest(manifests(VALUE, keys=("token",))) != digest(guessed)  # keys count
    assert digest(manifests(VALUE, setting="2")) != digest(guessed)  # other objects count


def test_the_digest_of_objects_without_secrets_is_their_sha256() -> None:
    bodies = [objects.configmap(name, {"v": name}, namespace="shop") for name in ("b", "a")]
    found = [builders.manifest(body) for body in bodies]
    assert digest(found) == plain_sha256(sorted(bodies, key=lambda b: b["metadata"]["name"]))
