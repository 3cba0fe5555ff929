"""What `validate --cluster` and `schemas pull` read from a live cluster: its Kubernetes
version, its CustomResourceDefinitions and its namespaces. Reads only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gitdeploy.kube.client import ApiStatusError, KubeClient
from gitdeploy.kube.discovery_cache import remember_scopes
from gitdeploy.objects.kinds import CRD_API_VERSION, api_path


@dataclass(frozen=True)
class LiveCluster:
    server: str
    version: str  # "1.36"
    crds: tuple[dict[str, Any], ...]
    namespaces: frozenset[str]  # empty when they may not be listed


def server_version(client: KubeClient) -> str:
    answer = client.get("/version") or {}
    text = str(answer.get("gitVersion") or f"{answer.get('major')}.{answer.get('minor')}")
    match = re.match(r"v?(\d+)\.(\d+)", text)
    return f"{match.group(1)}.{match.group(2)}" if match else text


def read_cluster(client: KubeClient, server: str) -> LiveCluster:
    crds = (client.get(api_path(CRD_API_VERSION, "customresourcedefinitions")) or {}).get(
        "items") or []
    try:
        listed = (client.get(api_path("v1", "namespaces")) or {}).get("items") or []
    except ApiStatusError as error:
        if error.status != 403:
            raise
        listed = []
    names = frozenset(str(item["metadata"]["name"]) for item in listed
                      if isinstance(item, dict) and isinstance(item.get("metadata"), dict))
    # what render and the offline diff need to leave cluster-scoped custom resources alone
    remember_scopes({(str(spec.get("group")), str((spec.get("names") or {}).get("kind"))):
                     spec.get("scope") != "Cluster"
                     for crd in crds if isinstance(crd, dict)
                     and isinstance(spec := crd.get("spec"), dict)
                     and spec.get("group") and (spec.get("names") or {}).get("kind")})
    return LiveCluster(server=server, version=server_version(client),
                       crds=tuple(c for c in crds if isinstance(c, dict)), namespaces=names)
