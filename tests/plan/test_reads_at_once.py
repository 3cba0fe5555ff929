"""The reads a plan makes before its LISTs and dry runs go out together, not one after the
other: each costs a round trip to the API server, which on a distant cluster is the time that
counts. The test API server holds chosen requests for a while; a read sent only after a held
one had been answered would arrive at least that long after it."""

from __future__ import annotations

import json

from tests import manifests as objects
from tests.conftest import MakeEnvironment
from tests.kubeapi.server import Fault, RequestRecord, TestApiServer

HELD = 0.5  # seconds each chosen request is held by the server


def received(requests: list[RequestRecord], pattern: str) -> list[float]:
    return [r.received for r in requests if r.method == "GET" and pattern in r.path]


def test_applyset_parent_fingerprints_and_discovery_are_read_at_once(
        environment: MakeEnvironment, cli, api_server: TestApiServer) -> None:
    """Each of the three held: none waited for another's answer (the discovery cache is
    empty: a first run against this server)."""
    environment([objects.configmap("settings", {"LOG_LEVEL": "info"})])
    start = len(api_server.requests)
    api_server.inject(Fault(method="GET", delay=HELD, path=(
        r"/configmaps/gitdeploy-applyset-dev$|/configmaps/gitdeploy-synced-dev$|^/api/v1$")))
    result = cli("diff", "dev")
    assert result.exit_code == 0, result.output
    sent = api_server.requests[start:]
    [parent] = received(sent, "/configmaps/gitdeploy-applyset-dev")
    [fingerprints] = received(sent, "/configmaps/gitdeploy-synced-dev")
    [discovery] = [r.received for r in sent if r.method == "GET" and r.path == "/api/v1"]
    times = {"parent": parent, "fingerprints": fingerprints, "discovery": discovery}
    assert max(times.values()) - min(times.values()) < HELD, times


def test_every_namespace_is_read_at_once(environment: MakeEnvironment, cli,
                                         api_server: TestApiServer) -> None:
    """Namespaces in git (new here: their objects cannot be dry-run) and a namespace the
    objects need that is in neither git nor the cluster."""
    environment([objects.configmap("settings", {"v": "1"}, namespace)
                 for namespace in ("a", "b", "c", "elsewhere")],
                files={"namespaces.yaml": [objects.namespace(n) for n in ("a", "b", "c")]})
    start = len(api_server.requests)
    api_server.inject(Fault(method="GET", path=r"^/api/v1/namespaces/[^/]+$", delay=HELD))
    result = cli("diff", "dev", "-o", "json")
    assert result.exit_code == 0, result.output
    sent = [r for r in api_server.requests[start:] if r.path != "/api/v1/namespaces/kube-system"]
    reads = {r.path.rsplit("/", 1)[1]: r.received for r in sent
             if r.method == "GET" and r.path.count("/") == 4
             and r.path.startswith("/api/v1/namespaces/")}
    assert set(reads) == {"a", "b", "c", "elsewhere"}
    assert max(reads.values()) - min(reads.values()) < HELD, reads
    notes = {c["namespace"]: c["note"] for c in json.loads(result.stdout)["changes"]
             if c["kind"] == "ConfigMap"}
    assert notes == {
        "a": "not verified by the server: its namespace a is created by this plan",
        "b": "not verified by the server: its namespace b is created by this plan",
        "c": "not verified by the server: its namespace c is created by this plan",
        "elsewhere": "not verified by the server: its namespace elsewhere does not exist yet"}
