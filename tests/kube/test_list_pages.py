"""LISTs read a page at a time (`limit`, then `continue`), as `kubectl get --chunk-size`
does: against the test API server over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitdeploy.kube.client import ApiStatusError, KubeClient
from gitdeploy.kube.kubeconfig import load_context
from tests import manifests as objects
from tests.kubeapi.server import Fault, TestApiServer

COLLECTION = "/api/v1/namespaces/pages/configmaps"
NAMES = [f"cm-{index}" for index in range(5)]
ROOT_CA = "kube-root-ca.crt"  # in every namespace, as on a real cluster


@pytest.fixture
def client(api_server: TestApiServer, tmp_path: Path) -> KubeClient:
    api_server.cluster.create_namespace("pages")
    configmaps = api_server.cluster.types[("", "configmaps")]
    for name in NAMES:
        api_server.cluster.create(configmaps, "v1", "pages", objects.configmap(name, {"v": name}),
                                  "kubectl", False)
    path = api_server.kubeconfig(tmp_path / "kubeconfig", context="test")
    info, api_client = load_context(str(path), "test", timeout=5, pool_size=2)
    return KubeClient(api_client, info.server, timeout=5)


def names(pages: list[list[dict[str, object]]]) -> list[list[str]]:
    return [[item["metadata"]["name"] for item in page] for page in pages]  # type: ignore[index]


def test_pages_of_limit_items_follow_the_continue_token(client: KubeClient,
                                                        api_server: TestApiServer) -> None:
    pages = list(client.list_pages(COLLECTION, limit=2))
    assert names(pages) == [["cm-0", "cm-1"], ["cm-2", "cm-3"], ["cm-4", ROOT_CA]]
    lists = [r for r in api_server.requests if r.method == "GET" and r.path == COLLECTION]
    assert [r.query.get("limit") for r in lists] == [["2"]] * 3
    assert [bool(r.query.get("continue")) for r in lists] == [False, True, True]


def test_the_query_is_kept_on_every_page(client: KubeClient) -> None:
    pages = list(client.list_pages(COLLECTION, query={"fieldSelector": "metadata.name!=cm-1"},
                                   limit=2))
    assert names(pages) == [["cm-0", "cm-2"], ["cm-3", "cm-4"], [ROOT_CA]]


def test_an_expired_token_starts_the_listing_again_once(client: KubeClient,
                                                        api_server: TestApiServer) -> None:
    restarts: list[int] = []
    pages = client.list_pages(COLLECTION, limit=2, restarted=lambda: restarts.append(1))
    first = next(pages)
    api_server.inject(Fault(method="GET", path=f"^{COLLECTION}$", status=410, times=1))
    rest = list(pages)
    assert names([first, *rest]) == [["cm-0", "cm-1"], ["cm-0", "cm-1"], ["cm-2", "cm-3"],
                                     ["cm-4", ROOT_CA]]
    assert restarts == [1]  # told once, before the first page came again


def test_a_second_expired_token_is_an_error(client: KubeClient,
                                            api_server: TestApiServer) -> None:
    pages = client.list_pages(COLLECTION, limit=2)
    next(pages)
    api_server.inject(Fault(method="GET", path=f"^{COLLECTION}$", status=410, times=1))
    next(pages)  # the first page again
    api_server.inject(Fault(method="GET", path=f"^{COLLECTION}$", status=410, times=1))
    with pytest.raises(ApiStatusError) as raised:
        list(pages)
    assert raised.value.status == 410
