"""Kubeconfig handling: find the file(s), check a context, build a client for it.

gitdeploy always names the context explicitly and never changes the kubeconfig's current context.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.config import kube_config as k8s_kube_config
from kubernetes.config.config_exception import ConfigException

from gitdeploy.errors import TargetError


@dataclass(frozen=True)
class ContextInfo:
    name: str
    server: str
    kubeconfig: str
    insecure: bool = False  # insecure-skip-tls-verify: the server's certificate is not checked


def kubeconfig_path(option: str | None) -> str:
    """`--kubeconfig`, else `$KUBECONFIG` (which may list several files), else ~/.kube/config."""
    if option:
        return option
    from_env = os.environ.get("KUBECONFIG", "")
    if from_env.strip():
        return from_env
    return str(Path.home() / ".kube" / "config")


def _files(kubeconfig: str) -> list[str]:
    return [part for part in kubeconfig.split(os.pathsep) if part]


def load_context(kubeconfig: str, context: str, *, timeout: float, pool_size: int
                 ) -> tuple[ContextInfo, k8s.ApiClient]:
    """Check that `context` exists and build an API client bound to it."""
    existing = [f for f in _files(kubeconfig) if Path(f).is_file()]
    if not existing:
        raise TargetError(f"no kubeconfig found at {kubeconfig}",
                          ["set KUBECONFIG or pass --kubeconfig"])
    joined = os.pathsep.join(existing)
    try:
        contexts, _ = k8s_config.list_kube_config_contexts(config_file=joined)
    except (ConfigException, OSError, ValueError) as exc:
        raise TargetError(f"cannot read kubeconfig {joined}: {exc}") from None
    names = [c["name"] for c in contexts or []]
    if context not in names:
        raise TargetError(
            f"context '{context}' is not in the kubeconfig ({joined})",
            [f"contexts there: {', '.join(names) or 'none'}"],
        )
    configuration = k8s.Configuration()
    try:
        k8s_config.load_kube_config(config_file=joined, context=context,
                                    client_configuration=configuration, persist_config=False)
    except (ConfigException, OSError, ValueError) as exc:
        raise TargetError(f"cannot use context '{context}' from {joined}: {exc}") from None
    # Failed requests are retried by gitdeploy's client (kube/retries.py), where the retry
    # is shown and bounded; urllib3 itself raises at once.
    configuration.retries = False
    configuration.connection_pool_maxsize = max(pool_size, 4)
    if not _expiring_credentials(joined, context, contexts):
        # The loader's hook re-applies the whole user entry before every request (a tenth of
        # a millisecond each, proxy settings read from the environment included), to renew
        # credentials that expire: only an exec plugin's or an auth provider's do.
        configuration.refresh_api_key_hook = None
    api_client = k8s.ApiClient(configuration)
    api_client.user_agent = "gitdeploy"
    insecure = configuration.host.startswith("https:") and not configuration.verify_ssl
    if insecure:
        # urllib3 warns on every request; the command says it once (Target.insecure).
        warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
    info = ContextInfo(name=context, server=configuration.host.rstrip("/"), kubeconfig=joined,
                       insecure=insecure)
    return info, api_client


def _expiring_credentials(kubeconfig: str, context: str, contexts: list[dict[str, Any]]
                          ) -> bool:
    """Whether the context's user gets credentials that expire and are renewed (an exec
    plugin, an auth provider); when in doubt, yes."""
    user = next((c.get("context", {}).get("user") for c in contexts if c["name"] == context),
                None)
    try:
        users = k8s_kube_config.KubeConfigMerger(kubeconfig).config["users"]
        entry = users.get_with_name(user)["user"]
    except (ConfigException, KeyError, TypeError, ValueError):
        return True
    return "exec" in entry or "auth-provider" in entry
