"""Schemas from a live cluster: `validate --cluster` reads the environment's cluster (its
CRDs, version and namespaces), and `schemas pull` writes its CRDs' schemas into the cache
for offline runs. Against the local test API server, through a kubeconfig."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo
from tests.kubeapi.server import TestApiServer


def widget_crd() -> dict[str, Any]:
    crd = objects.crd("example.com", "Widget", "widgets")
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"] = {
        "type": "object", "properties": {"size": {"type": "integer", "minimum": 1}}}
    return crd


@pytest.fixture
def cluster_with_crd(api_server: TestApiServer, kubeconfig: Path) -> TestApiServer:
    cluster = api_server.cluster
    cluster.create(cluster.find_type("apiextensions.k8s.io", "v1", "customresourcedefinitions"),
                   "v1", "", widget_crd(), "kubectl", False)
    cluster.create_namespace("shop")
    return api_server


def widgets(repo: ConfigRepo, **settings: Any) -> None:
    repo.settings("dev", context="kind-dev", **settings)
    repo.write("environments/dev/widgets.yaml", [
        objects.custom("example.com", "Widget", "good", {"size": 2}, namespace="shop"),
        objects.custom("example.com", "Widget", "bad", {"size": 0, "extra": 1},
                       namespace="shop")])


def problems(cli: Any, *args: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    doc = json.loads(cli("validate", "-o", "json", *args).stdout)
    env = doc["environments"][0]
    return env, [(p["path"], p["message"]) for p in env["problems"]]


def test_validate_cluster_uses_its_crds_version_and_namespaces(repo: ConfigRepo, cli,
                                                               cluster_with_crd,
                                                               cache: Path) -> None:
    widgets(repo)
    env, offline = problems(cli)
    assert [path for path, _ in offline] == ["kind"]  # no schema without the cluster
    env, found = problems(cli, "--cluster")
    assert found == [("spec.size", "0 is less than the minimum of 1"),
                     ("spec.extra", 'unknown field "extra"')]
    assert (env["kubernetesVersion"], env["kubernetesVersionFrom"]) == ("1.36", "cluster")


def test_the_settings_version_wins_and_a_different_cluster_version_is_a_warning(
        repo: ConfigRepo, cli, cluster_with_crd, cache: Path) -> None:
    widgets(repo, kubernetesVersion="1.34")
    env, found = problems(cli, "--cluster")
    assert env["kubernetesVersion"] == "1.34"
    assert ("", "kubernetesVersion is 1.34, but the cluster "
                f"({cluster_with_crd.url}) runs 1.36: validating against 1.34") in [
        (path or "", message) for path, message in found]


def test_a_namespace_only_the_cluster_has(repo: ConfigRepo, cli, cluster_with_crd,
                                          cache: Path) -> None:
    repo.settings("dev", context="kind-dev")
    repo.write("environments/dev/app.yaml", objects.configmap("c", {}, "shop"))
    _, offline = problems(cli)
    assert [path for path, _ in offline] == ["metadata.namespace"]
    _, online = problems(cli, "--cluster")
    assert online == []


def test_schemas_pull_fills_the_cache_for_offline_validation(repo: ConfigRepo, cli,
                                                             cluster_with_crd,
                                                             cache: Path) -> None:
    widgets(repo)
    result = cli("schemas", "pull", "dev")
    assert result.exit_code == 0, result.output
    assert "example.com/widget_v1.json" in result.stdout
    written = json.loads((cache / "example.com/widget_v1.json").read_text())
    assert written["properties"]["spec"]["additionalProperties"] is False  # as catalogs have
    _, found = problems(cli)  # offline: from the cache
    assert found == [("spec.size", "0 is less than the minimum of 1"),
                     ("spec.extra", 'unknown field "extra"')]


def test_schemas_pull_into_a_folder_of_the_repository(repo: ConfigRepo, cli, cluster_with_crd,
                                                      tmp_path: Path, cache: Path) -> None:
    widgets(repo, validation={"schemaLocations": ["schemas"]})
    doc = json.loads(cli("schemas", "pull", "dev", "--to", str(repo.root / "schemas"),
                         "-o", "json").stdout)
    assert doc["kind"] == "PulledSchemas" and doc["files"] == ["example.com/widget_v1.json"]
    assert not cache.exists()
    _, found = problems(cli)
    assert [path for path, _ in found] == ["spec.size", "spec.extra"]


def test_the_wrong_cluster_guard_holds_for_validate_cluster(repo: ConfigRepo, cli,
                                                            cluster_with_crd,
                                                            cache: Path) -> None:
    widgets(repo, cluster={"server": "https://elsewhere.invalid:6443"})
    result = cli("validate", "--cluster")
    assert result.exit_code == 1
    assert "wrong API server" in result.stderr


def test_the_environments_own_namespace_must_exist_in_the_cluster(repo: ConfigRepo, cli,
                                                                  cluster_with_crd,
                                                                  cache: Path) -> None:
    repo.settings("dev", context="kind-dev", namespace="team")
    repo.write("environments/dev/app.yaml", objects.configmap("c", {}))
    _, offline = problems(cli)
    assert offline == []  # offline, the environment's default namespace is taken to exist
    _, online = problems(cli, "--cluster")
    assert [path for path, _ in online] == ["metadata.namespace"]
    assert "namespace 'team' (the environment's namespace setting)" in online[0][1]
    repo.settings("dev", context="kind-dev", namespace="team", createNamespace=True)
    _, created = problems(cli, "--cluster")
    assert created == []  # apply creates it
