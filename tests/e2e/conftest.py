"""The cluster the end-to-end scenarios run against.

Every scenario runs twice: against the in-process test API server, and against the cluster named
by GITDEPLOY_TEST_KUBECONFIG (context GITDEPLOY_TEST_CONTEXT, else the file's current context),
which is skipped when the variable is unset. Each scenario works in a namespace of its own and
removes what it created. No scenario needs a node: no pod ever has to run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from tests.kubeapi.server import TestApiServer

REAL_HOME = os.environ.get("HOME", "")  # exec credential plugins of real clusters need it


@dataclass
class Cluster:
    kubeconfig: Path
    context: str
    namespace: str  # unique to the scenario; created by the scenario's own plan
    api: k8s.ApiClient
    crds: list[str]

    def settings(self, repo: Any, **settings: Any) -> None:
        """The scenario environment `e2e`. No pod ever has to run, so scenarios do not wait
        for readiness unless they say so (`wait=...`)."""
        repo.settings("e2e", **{"context": self.context, "namespace": self.namespace,
                                "wait": {"enabled": False}, **settings})

    def core(self) -> k8s.CoreV1Api:
        return k8s.CoreV1Api(self.api)

    def apps(self) -> k8s.AppsV1Api:
        return k8s.AppsV1Api(self.api)

    def kube_system_uid(self) -> str:
        namespace = self.core().read_namespace("kube-system")
        assert namespace.metadata is not None
        return str(namespace.metadata.uid)

    def namespace_exists(self) -> bool:
        try:
            self.core().read_namespace(self.namespace)
        except k8s.ApiException as error:
            if error.status == 404:
                return False
            raise
        return True


def _cleanup(cluster: Cluster) -> None:
    extensions = k8s.ApiextensionsV1Api(cluster.api)
    for name in cluster.crds:
        try:
            extensions.delete_custom_resource_definition(name)
        except k8s.ApiException as error:
            if error.status != 404:
                raise
    try:
        cluster.core().delete_namespace(cluster.namespace)
    except k8s.ApiException as error:
        if error.status != 404:
            raise


@pytest.fixture(params=["test-api-server", "real-cluster"])
def cluster(request: pytest.FixtureRequest, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    namespace = f"gitdeploy-e2e-{uuid.uuid4().hex[:8]}"
    if request.param == "test-api-server":
        with TestApiServer() as server:
            path = server.kubeconfig(tmp_path / "kubeconfig", context="e2e")
            yield from _connect(path, "e2e", namespace, monkeypatch)
        return
    configured = os.environ.get("GITDEPLOY_TEST_KUBECONFIG")
    if not configured:
        pytest.skip("GITDEPLOY_TEST_KUBECONFIG is not set: no real cluster to run against")
    monkeypatch.setenv("HOME", REAL_HOME)
    path = Path(configured)
    context = os.environ.get("GITDEPLOY_TEST_CONTEXT") or yaml.safe_load(
        path.read_text())["current-context"]
    yield from _connect(path, context, namespace, monkeypatch)


def _connect(path: Path, context: str, namespace: str,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    monkeypatch.setenv("KUBECONFIG", str(path))
    # new_client_from_config is unannotated in the kubernetes client; it returns an ApiClient
    api: k8s.ApiClient = k8s_config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(path), context=context, persist_config=False)
    cluster = Cluster(kubeconfig=path, context=context, namespace=namespace, api=api, crds=[])
    try:
        yield cluster
    finally:
        _cleanup(cluster)
        api.close()  # type: ignore[no-untyped-call]  # unannotated in the client
