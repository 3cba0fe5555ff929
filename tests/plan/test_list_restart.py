"""A LIST whose continue token has expired (410) starts over from its first page, and an
object that changed between the two readings is judged on the second: through the fault
proxy in front of the test API server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s

from gitdeploy.kube.client import LIST_PAGE
from tests import manifests as objects
from tests.conftest import MakeEnvironment
from tests.faults.lost import kubeconfig_through
from tests.faults.proxy import FaultProxy, Request
from tests.kubeapi.server import TestApiServer

COLLECTION = "/api/v1/namespaces/shop/configmaps"
APPLY_PATCH = "application/apply-patch+yaml"




def _applied(environment: MakeEnvironment, cli, api_server: TestApiServer, proxy: FaultProxy,
             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Two pages of ConfigMaps applied; the commands that follow go through the proxy."""
    names = [f"cm-{index:04d}" for index in range(LIST_PAGE + 10)]  # two pages
    environment([objects.configmap(name, {"v": "1"}) for name in names], namespace="shop",
                files={"ns.yaml": objects.namespace("shop")})
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig_through(
        api_server, proxy, tmp_path / "kubeconfig-through-faults", contexts=("kind-dev",))))
    applied = cli("apply", "dev", "--yes", "--no-wait")
    assert applied.exit_code == 0, applied.output
    return names


def _expire_second_page(proxy: FaultProxy, meanwhile: Callable[[], object]) -> list[int]:
    """The second page of the LIST is answered 410 after `meanwhile` ran; returns the LIST
    requests seen."""
    lists: list[int] = []

    def choose(request: Request) -> str | None:
        if request.method != "GET" or request.path != COLLECTION:
            return None
        lists.append(1)
        if len(lists) != 2:
            return None
        meanwhile()
        return "410"

    proxy.choose = choose
    return lists


def test_an_object_changed_before_the_list_starts_over_is_dry_run(
        environment: MakeEnvironment, cli, api_server: TestApiServer, proxy: FaultProxy,
        kube: k8s.ApiClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = _applied(environment, cli, api_server, proxy, tmp_path, monkeypatch)
    edited = names[0]  # on the first page: read unchanged, then changed by someone else
    lists = _expire_second_page(proxy, lambda: k8s.CoreV1Api(kube).patch_namespaced_config_map(
        edited, "shop", {"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": edited, "namespace": "shop"},
                         "data": {"v": "2"}},
        field_manager="kubectl", force=True, _content_type=APPLY_PATCH))
    start = len(api_server.requests)
    result = cli("diff", "dev", "-o", "json")
    assert result.exit_code == 0, result.output
    assert len(lists) == 4  # page 1, page 2 (410), then both again
    plan: dict[str, Any] = json.loads(result.stdout)
    found = {c["name"]: c for c in plan["changes"] if c["kind"] == "ConfigMap"}
    assert found[edited]["action"] == "update"
    assert found[edited]["drift"] == [{"field": "data.v", "manager": "kubectl"}]
    assert {c["action"] for name, c in found.items() if name != edited} == {"unchanged"}
    dry_runs = {r.path for r in api_server.requests[start:] if r.method == "PATCH" and r.dry_run}
    assert dry_runs == {f"{COLLECTION}/{edited}"}


def test_an_object_deleted_before_the_list_starts_over_is_created(
        environment: MakeEnvironment, cli, api_server: TestApiServer, proxy: FaultProxy,
        kube: k8s.ApiClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = _applied(environment, cli, api_server, proxy, tmp_path, monkeypatch)
    deleted = names[1]  # on the first page: read, then deleted by someone else
    lists = _expire_second_page(proxy, lambda: k8s.CoreV1Api(kube).delete_namespaced_config_map(
        deleted, "shop"))
    result = cli("diff", "dev", "-o", "json")
    assert result.exit_code == 0, result.output
    assert len(lists) == 4
    plan: dict[str, Any] = json.loads(result.stdout)
    found = {c["name"]: c for c in plan["changes"] if c["kind"] == "ConfigMap"}
    assert found[deleted]["action"] == "create"
    assert {c["action"] for name, c in found.items() if name != deleted} == {"unchanged"}
