"""A prune whose DELETE lost its answer on the last attempt (`--retries 0`): the object is read
back, and the report and the record say what happened to it. Through the seeded fault proxy in
front of the test API server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.faults.lost import kubeconfig_through, lose
from tests.faults.proxy import FaultProxy, Request
from tests.kubeapi.server import TestApiServer

OLD = ("", "configmaps", "shop", "old")
OLD_PATH = "/api/v1/namespaces/shop/configmaps/old"



def make_dev(environment: MakeEnvironment, old: dict[str, Any]) -> ConfigRepo:
    return environment(namespace="shop", files={
        "ns.yaml": objects.namespace("shop"),
        "keep.yaml": objects.configmap("keep", {"k": "1"}),
        "old.yaml": old})


@pytest.fixture
def through_faults(api_server: TestApiServer, proxy: FaultProxy, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment's context (kind-dev) reaches the test server through the proxy."""
    path = kubeconfig_through(api_server, proxy, tmp_path / "kubeconfig-through-faults",
                              contexts=("kind-dev",))
    monkeypatch.setenv("KUBECONFIG", str(path))


def prune_old(repo: ConfigRepo, cli) -> tuple[int, dict[str, Any]]:
    """`old` removed from git, then `apply --prune --retries 0`: the exit code and the report."""
    first = cli("apply", "dev", "--yes")
    assert first.exit_code == 0, first.output
    (repo.root / "environments/dev/old.yaml").unlink()
    repo.commit("remove old")
    result = cli("apply", "dev", "--yes", "--prune", "-o", "json", "--retries", "0")
    report: dict[str, Any] = json.loads(result.stdout)
    return result.exit_code, report


def delete_old(request: Request) -> bool:
    return request.method == "DELETE" and request.path == OLD_PATH


def outcomes(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(r["name"], r["outcome"], r.get("error") or "") for r in report["results"]]


def deletes(api_server: TestApiServer) -> list[int]:
    return [r.status for r in api_server.requests
            if r.method == "DELETE" and r.path == OLD_PATH]


def test_a_prune_whose_answer_was_lost_is_reported_deleted(
        environment: MakeEnvironment, cli, api_server: TestApiServer, proxy: FaultProxy,
        through_faults: None) -> None:
    dev = make_dev(environment, objects.configmap("old", {"o": "1"}))
    fired = lose(proxy, delete_old)
    code, report = prune_old(dev, cli)
    assert len(fired) == 1 and deletes(api_server) == [200]
    assert code == 0, report
    assert outcomes(report) == [("old", "deleted", "")]
    assert OLD not in api_server.cluster.objects
    assert (report["record"]["outcome"], report["record"]["counts"]["deleted"]) == (
        "succeeded", 1)


def test_a_prune_left_terminating_is_reported_deleted(
        environment: MakeEnvironment, cli, api_server: TestApiServer, proxy: FaultProxy,
        through_faults: None) -> None:
    """A finalizer keeps the object until its controller lets it go: the DELETE took effect
    when the object is being deleted (a deletionTimestamp, the same uid)."""
    old = objects.configmap("old", {"o": "1"})
    old["metadata"]["finalizers"] = ["example.com/hold"]
    dev = make_dev(environment, old)
    lose(proxy, delete_old)
    code, report = prune_old(dev, cli)
    assert code == 0, report
    assert outcomes(report) == [("old", "deleted", "")]
    assert api_server.cluster.objects[OLD]["metadata"]["deletionTimestamp"]


def test_a_prune_that_never_reached_the_server_is_reported_failed(
        environment: MakeEnvironment, cli, api_server: TestApiServer, proxy: FaultProxy,
        through_faults: None) -> None:
    dev = make_dev(environment, objects.configmap("old", {"o": "1"}))
    lose(proxy, delete_old, "reset-before")
    code, report = prune_old(dev, cli)
    assert code == 1
    [(name, outcome, error)] = outcomes(report)
    assert (name, outcome) == ("old", "failed")
    assert error.startswith(f"cannot reach the API server at {proxy.url} (DELETE {OLD_PATH})")
    assert deletes(api_server) == []
    assert OLD in api_server.cluster.objects
    assert report["record"]["outcome"] == "failed"
