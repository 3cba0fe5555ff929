"""End-to-end scenarios through the CLI, the same on the test API server and a real cluster."""

from __future__ import annotations

import json
from typing import Any

from tests import manifests as objects
from tests.conftest import ConfigRepo
from tests.e2e.conftest import Cluster


def write_env(repo: ConfigRepo, target: Cluster, **settings: object) -> None:
    ns = target.namespace
    target.settings(repo, **settings)
    repo.write("environments/e2e/namespace.yaml", objects.namespace(ns))
    repo.write("environments/e2e/app.yaml", [
        objects.configmap("settings", {"LOG_LEVEL": "info"}),
        objects.secret("credentials", {"password": "e2e-canary-value"}),
        objects.deployment("web", replicas=2),
        objects.service("web"),
    ])
    repo.commit()


def plan(cli) -> dict[str, Any]:
    result = cli("diff", "e2e", "-o", "json")
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def test_diff_apply_and_diff_shows_nothing(repo: ConfigRepo, cluster: Cluster, cli) -> None:
    write_env(repo, cluster)
    first = plan(cli)
    assert {c["kind"]: c["action"] for c in first["changes"]} == {
        "Namespace": "create", "ConfigMap": "create", "Secret": "create",
        "Deployment": "create", "Service": "create"}
    # the namespace is created by this same plan: its objects cannot be dry-run yet
    assert [c["verified"] for c in first["changes"] if c["kind"] != "Namespace"] == [False] * 4
    assert not cluster.namespace_exists()
    applied = cli("apply", "e2e", "--yes")
    assert applied.exit_code == 0, applied.output
    assert "e2e-canary-value" not in applied.output
    again = cli("diff", "e2e", "--exit-code")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.stdout
    deployment = cluster.apps().read_namespaced_deployment("web", cluster.namespace)
    assert deployment.spec.replicas == 2
    assert deployment.metadata is not None
    assert deployment.metadata.managed_fields is not None
    managers = {m.manager for m in deployment.metadata.managed_fields}
    assert "gitdeploy" in managers


def test_drift_is_visible_and_taken_back(repo: ConfigRepo, cluster: Cluster, cli) -> None:
    write_env(repo, cluster)
    assert cli("apply", "e2e", "--yes").exit_code == 0
    cluster.apps().patch_namespaced_deployment(
        "web", cluster.namespace, {"spec": {"replicas": 0}}, field_manager="kubectl-edit")
    changes = {c["kind"]: c for c in plan(cli)["changes"]}
    deployment = changes["Deployment"]
    assert deployment["action"] == "update"
    assert {"field": "spec.replicas", "manager": "kubectl-edit"} in deployment["drift"]
    assert "-  replicas: 0\n+  replicas: 2" in deployment["diff"]
    assert cli("apply", "e2e", "--yes").exit_code == 0
    assert cluster.apps().read_namespaced_deployment(
        "web", cluster.namespace).spec.replicas == 2


def test_wrong_cluster_is_refused_and_nothing_written(repo: ConfigRepo, cluster: Cluster,
                                                      cli) -> None:
    write_env(repo, cluster, cluster={"uid": "00000000-0000-0000-0000-000000000000"})
    result = cli("apply", "e2e", "--yes")
    assert result.exit_code == 1
    assert "reaches a different cluster" in result.stderr
    assert cluster.kube_system_uid() in result.stderr
    assert not cluster.namespace_exists()


def test_matching_cluster_uid_passes(repo: ConfigRepo, cluster: Cluster, cli) -> None:
    write_env(repo, cluster, cluster={"uid": cluster.kube_system_uid()})
    assert cli("apply", "e2e", "--yes").exit_code == 0
    assert cluster.namespace_exists()


def test_crd_and_custom_resource_in_one_plan(repo: ConfigRepo, cluster: Cluster, cli) -> None:
    group = f"{cluster.namespace}.e2e.gitdeploy.io"
    crd = objects.crd(group, "Widget", "widgets")
    cluster.crds.append(crd["metadata"]["name"])
    cluster.settings(repo)
    repo.write("environments/e2e/namespace.yaml", objects.namespace(cluster.namespace))
    repo.write("environments/e2e/crd.yaml", crd)
    repo.write("environments/e2e/widget.yaml",
               objects.custom(group, "Widget", "gear", {"size": 3}))
    repo.commit()
    widget = next(c for c in plan(cli)["changes"] if c["kind"] == "Widget")
    assert widget["action"] == "create" and widget["verified"] is False
    applied = cli("apply", "e2e", "--yes")
    assert applied.exit_code == 0, applied.output
    after = {c["kind"]: c["action"] for c in plan(cli)["changes"]}
    assert after == {"Namespace": "unchanged", "CustomResourceDefinition": "unchanged",
                     "Widget": "unchanged"}
