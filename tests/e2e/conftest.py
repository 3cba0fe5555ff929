"""The cluster the end-to-end scenarios run against.

Every scenario runs twice: against the in-process test API server, and against the cluster named
by GITDEPLOY_TEST_KUBECONFIG (context GITDEPLOY_TEST_CONTEXT, else the file's current context),
which is skipped when the variable is unset. Each scenario works in a namespace of its own and
removes what it created. No scenario needs a node: no pod ever has to run.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

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

    @property
    def server(self) -> str:
        """The API server URL of the kubeconfig context, as gitdeploy names it."""
        return str(self.api.configuration.host)

    @property
    def set_id(self) -> str:
        """The ApplySet id of the scenario environment `e2e`: its parent is the ConfigMap
        gitdeploy-applyset-e2e in the scenario's namespace (KEP-3659)."""
        digest = hashlib.sha256(
            f"gitdeploy-applyset-e2e.{self.namespace}.ConfigMap.".encode()).digest()
        return "applyset-" + base64.urlsafe_b64encode(digest).decode().rstrip("=") + "-v1"

    def raw(self, path: str, **query: str) -> dict[str, Any]:
        """GET `path` as the server answers it, without the client's models (which turn
        timestamps into datetimes and drop what they do not know)."""
        method, url, headers, body, _ = self.api.param_serialize(
            "GET", path, query_params=list(query.items()),
            header_params={"Accept": "application/json"}, auth_settings=["BearerToken"])
        response = self.api.call_api(method, url, headers, body, _request_timeout=30)
        data: bytes = response.read()  # type: ignore[no-untyped-call]  # unannotated
        assert response.status == 200, (path, response.status, data)
        doc: dict[str, Any] = json.loads(data)
        return doc

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


T = TypeVar("T")


def eventually(read: Callable[[], T | None], *, timeout: float = 120,
               interval: float = 0.5) -> T:
    """Poll `read` until it returns something other than None: what a cluster's controllers do
    after a write (a namespace finalized, a CRD's instances cleaned up) takes seconds on a real
    one and no time on the test API server."""
    deadline = time.monotonic() + timeout
    while True:
        found = read()
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"not done after {timeout}s"
        time.sleep(interval)


def condition_lines(body: dict[str, Any]) -> list[str]:
    """An object's status conditions as gitdeploy's readiness report writes them
    (docs/readiness.md): `Type=Status (Reason): message`, reason and message when set."""
    lines = []
    for condition in (body.get("status") or {}).get("conditions") or []:
        line = f"{condition['type']}={condition['status']}"
        if condition.get("reason"):
            line += f" ({condition['reason']})"
        if condition.get("message"):
            line += f": {condition['message']}"
        lines.append(line)
    return lines


def diff_lines(diff: str) -> list[str]:
    """A unified diff without its context lines: the file headers, the hunk headers and every
    line removed or added, in order. The context lines around a change are the server's own
    neighbouring fields, in the server's key order."""
    return [line for line in diff.splitlines() if line[:1] in "-+@"]


@dataclass(frozen=True)
class Sent:
    """One HTTP request as it left gitdeploy's process: what the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any  # parsed JSON (or the text, if not JSON); None without a body

    @property
    def dry_run_in_query(self) -> bool:
        return "All" in self.query.get("dryRun", [])

    @property
    def dry_run_in_body(self) -> bool:
        return isinstance(self.body, dict) and "All" in (self.body.get("dryRun") or [])


@dataclass
class Wire:
    """Every request the kubernetes client sends while `recording`: gitdeploy's own, since the
    CLI runs in this process (and the scenario's checks are kept outside the recording). It
    works the same against the test API server and a real cluster."""

    sent: list[Sent] = field(default_factory=list)
    active: bool = False

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[Sent]]:
        self.sent, self.active = [], True
        try:
            yield self.sent
        finally:
            self.active = False


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Wire:
    spy = Wire()
    original = k8s.ApiClient.call_api

    def call_api(self: k8s.ApiClient, method: str, url: str, header_params: Any = None,
                 body: Any = None, post_params: Any = None, _request_timeout: Any = None
                 ) -> Any:
        if spy.active:
            parts = urlsplit(url)
            parsed = body
            if isinstance(body, bytes | str):
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = body.decode() if isinstance(body, bytes) else body
            spy.sent.append(Sent(method.upper(), parts.path, parse_qs(parts.query), parsed))
        return original(self, method, url, header_params, body, post_params, _request_timeout)

    monkeypatch.setattr(k8s.ApiClient, "call_api", call_api)
    return spy


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
