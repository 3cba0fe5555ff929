"""The wrong-cluster guard: connect to an environment's cluster only after checking that the kube
context, the API server URL and the cluster fingerprint all match its settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitdeploy.config.environments import Environment
from gitdeploy.errors import TargetError
from gitdeploy.kube.client import ApiStatusError, KubeClient, RequestLog
from gitdeploy.kube.kubeconfig import kubeconfig_path, load_context
from gitdeploy.kube.retries import RetryPolicy
from gitdeploy.objects.kinds import api_path
from gitdeploy.results.environment import UNKNOWN, Target


@dataclass(frozen=True)
class Connection:
    target: Target
    client: KubeClient


def _same_server(expected: str, actual: str) -> bool:
    return expected.rstrip("/").lower() == actual.rstrip("/").lower()


def connect(env: Environment, *, kubeconfig: str | None, context_override: str | None,
            timeout: float, concurrency: int, log: RequestLog | None,
            retries: int | None = None, retry_time: float | None = None,
            log_body: RequestLog | None = None) -> Connection:
    settings = env.settings
    guard = settings.cluster
    context = context_override or settings.context
    if context != settings.context and not (guard.server or guard.uid):
        raise TargetError(
            f"refusing --context {context}: environment '{env.name}' expects context "
            f"'{settings.context}' and sets no cluster guard",
            [f"set cluster.server and/or cluster.uid in {env.settings_path} so that gitdeploy "
             "can check that another context reaches the same cluster"],
        )
    info, api_client = load_context(kubeconfig_path(kubeconfig), context, timeout=timeout,
                                    pool_size=concurrency)
    if guard.server and not _same_server(guard.server, info.server):
        raise TargetError(
            f"refusing: context '{context}' points at the wrong API server for environment "
            f"'{env.name}'",
            [f"expected server: {guard.server} (cluster.server in {env.settings_path})",
             f"actual server:   {info.server} (context '{context}')"],
        )
    policy = RetryPolicy(
        attempts=1 + (settings.retries.retries if retries is None else retries),
        max_time=float(settings.retries.max_time if retry_time is None else retry_time))
    client = KubeClient(api_client, info.server, timeout=timeout, log=log, retry=policy,
                        log_body=log_body)
    uid = _cluster_uid(client, required=guard.uid is not None)
    if guard.uid and uid != guard.uid:
        raise TargetError(
            f"refusing: context '{context}' reaches a different cluster than environment "
            f"'{env.name}' expects",
            [f"expected cluster uid: {guard.uid} (cluster.uid in {env.settings_path})",
             f"actual cluster uid:   {uid} (kube-system namespace at {info.server})"],
        )
    return Connection(Target(context=context, server=info.server, cluster_uid=uid,
                             insecure=info.insecure), client)


def _cluster_uid(client: KubeClient, *, required: bool) -> str:
    try:
        namespace = client.get(api_path("v1", "namespaces", name="kube-system"))
    except ApiStatusError as error:
        if error.status == 403 and not required:
            return UNKNOWN
        raise
    if namespace is None or not isinstance(namespace.get("metadata"), dict):
        _check_kubernetes(client, namespace)
        if required:
            raise TargetError("the cluster has no kube-system namespace to check cluster.uid")
        return UNKNOWN
    return str(namespace["metadata"]["uid"])


def _check_kubernetes(client: KubeClient, namespace: dict[str, Any] | None) -> None:
    """Every Kubernetes cluster has kube-system; without it, make sure that the server is a
    Kubernetes API server at all (`GET /api` answers an APIVersions document) and, if it is
    not, say what answered instead of letting every object look like an unknown kind."""
    try:
        versions = client.get("/api")
    except ApiStatusError as error:
        found = f"GET /api answered {error.status}"
    else:
        if (versions or {}).get("kind") == "APIVersions":
            return
        found = ("GET /api answered 404" if versions is None
                 else f"GET /api answered something else: {_excerpt(versions)}")
    if namespace is not None:
        found += f"; GET /api/v1/namespaces/kube-system answered {_excerpt(namespace)}"
    raise TargetError(
        f"{client.server} is not a Kubernetes API server ({found})",
        ["check the server URL of the kube context (kubectl config view --minify): it may "
         "point at a web page, a proxy or a load balancer rather than the API server"])


def _excerpt(body: dict[str, Any]) -> str:
    text = " ".join(str(body.get("message") or body).split())
    return text if len(text) <= 120 else text[:117] + "..."
