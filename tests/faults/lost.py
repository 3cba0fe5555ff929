"""One answer lost on purpose: for the tests of what gitdeploy does when it never learns the
outcome of a request. `lose` picks the request; `client_through` and `kubeconfig_through`
reach the test API server through the fault proxy (tests/faults/proxy.py), over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gitdeploy.kube.client import KubeClient, RequestLog
from gitdeploy.kube.kubeconfig import load_context
from gitdeploy.kube.retries import RetryPolicy
from tests.faults.proxy import FaultProxy, Request
from tests.kubeapi.server import TestApiServer

CONTEXT = "through-faults"


def lose(proxy: FaultProxy, matches: Callable[[Request], bool], kind: str = "reset-after"
         ) -> list[Request]:
    """From now on, the first request that `matches` meets the fault `kind` (by default the
    server does the work and the client's connection is reset: its answer is lost); every
    other request passes. Returns the list that request is added to once it came."""
    fired: list[Request] = []

    def choose(request: Request) -> str | None:
        if not fired and matches(request):
            fired.append(request)
            return kind
        return None

    proxy.choose = choose
    return fired


def kubeconfig_through(api_server: TestApiServer, proxy: FaultProxy, path: Path,
                       contexts: tuple[str, ...] = (CONTEXT,)) -> Path:
    """A kubeconfig whose `contexts` reach `api_server` through `proxy` (its context `direct`
    reaches the server itself)."""
    return api_server.kubeconfig(path, context="direct",
                                 extra_contexts=dict.fromkeys(contexts, proxy.url))


def client_through(api_server: TestApiServer, proxy: FaultProxy, folder: Path, *,
                   attempts: int = 1, log: RequestLog | None = None) -> KubeClient:
    """gitdeploy's client through `proxy`; with one attempt (the default), a lost answer is
    the request's last word."""
    path = kubeconfig_through(api_server, proxy, folder / "kubeconfig-through-faults")
    info, api_client = load_context(str(path), CONTEXT, timeout=5, pool_size=4)
    return KubeClient(api_client, info.server, timeout=5, log=log,
                      retry=RetryPolicy(attempts=attempts, max_time=10, initial_wait=0.01,
                                        max_wait=0.02))
