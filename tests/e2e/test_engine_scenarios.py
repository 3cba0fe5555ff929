"""Kustomize overlays, Helm charts and readiness, end to end: the same on the test API server
and a real cluster. No pod has to run: workloads that must become ready have zero replicas, and
the one that must time out asks for a node that no cluster has."""

from __future__ import annotations

import json

import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo, Input
from tests.e2e.conftest import Cluster

WAIT = {"enabled": True, "timeout": "60s"}


def test_plain_yaml_and_a_kustomization_apply_wait_and_diff_clean(
        repo: ConfigRepo, cluster: Cluster, cli) -> None:
    ns = cluster.namespace
    group = f"{ns}.e2e.gitdeploy.io"
    crd = objects.crd(group, "Widget", "widgets")
    cluster.crds.append(crd["metadata"]["name"])
    repo.write("base/kustomization.yaml", {"resources": ["app.yaml"]})
    repo.write("base/app.yaml", [objects.configmap("settings", {"LOG_LEVEL": "info"}),
                                 objects.deployment("web", replicas=0),
                                 objects.custom(group, "Widget", "gear", {"size": 3})])
    repo.write("environments/e2e/namespace.yaml", objects.namespace(ns))
    repo.write("environments/e2e/crd.yaml", crd)
    repo.write("environments/e2e/app/kustomization.yaml", {
        "namespace": ns, "resources": ["../../../base"],
        "labels": [{"pairs": {"team": "shop"}, "includeSelectors": False}]})
    cluster.settings(repo, wait=WAIT)
    repo.commit()
    rendered = json.loads(cli("render", "e2e", "-o", "json").stdout)["objects"]
    assert [(o["object"]["kind"], o["source"]) for o in rendered] == [
        ("CustomResourceDefinition", "environments/e2e/crd.yaml:1"),
        ("Namespace", "environments/e2e/namespace.yaml:1"),
        ("ConfigMap", "environments/e2e/app/kustomization.yaml (kustomize)"),
        ("Deployment", "environments/e2e/app/kustomization.yaml (kustomize)"),
        ("Widget", "environments/e2e/app/kustomization.yaml (kustomize)")]
    result = cli("apply", "e2e", "--yes", "-o", "json")
    assert result.exit_code == 0, result.output
    readiness = json.loads(result.stdout)["readiness"]
    assert readiness["ready"] is True
    assert {(o["kind"], o["state"]) for o in readiness["objects"]} == {
        ("CustomResourceDefinition", "ready"), ("Namespace", "ready"), ("ConfigMap", "ready"),
        ("Deployment", "ready"), ("Widget", "ready")}
    deployment = cluster.apps().read_namespaced_deployment("web", ns)
    assert deployment.metadata is not None
    assert deployment.metadata.labels is not None
    assert deployment.metadata.labels["team"] == "shop"
    again = cli("diff", "e2e", "--exit-code")
    assert again.exit_code == 0, again.output


@pytest.mark.parametrize(("chart", "name"), [
    pytest.param(Input("charts/greeter"), "greeter", id="greeter"),
    pytest.param(Input("podinfo/charts/podinfo", realworld=True), "podinfo", id="podinfo"),
])
def test_helm_chart_applies_waits_and_diffs_clean(repo: ConfigRepo, cluster: Cluster, cli,
                                                  chart: Input, name: str) -> None:
    ns = cluster.namespace
    chart.copy(repo.root / "charts" / name)
    repo.write("environments/e2e/namespace.yaml", objects.namespace(ns))
    repo.write("environments/e2e/values.yaml", {"replicaCount": 0})
    cluster.settings(repo, wait=WAIT, charts=[{
        "release": "web", "chart": f"../../charts/{name}", "valuesFiles": ["values.yaml"]}])
    repo.commit()
    result = cli("apply", "e2e", "--yes")
    assert result.exit_code == 0, result.output
    assert "All 3 object(s) of e2e ready" in result.stdout
    deployment = cluster.apps().read_namespaced_deployment(f"web-{name}", ns)
    assert deployment.spec.replicas == 0
    assert deployment.metadata is not None
    assert deployment.metadata.labels is not None
    assert deployment.metadata.labels["app.kubernetes.io/managed-by"] == "Helm"
    service = cluster.core().read_namespaced_service(f"web-{name}", ns)
    assert service.spec is not None
    assert service.spec.ports
    secrets = []
    for secret in cluster.core().list_namespaced_secret(ns).items:
        assert secret.metadata is not None
        assert secret.metadata.name is not None
        secrets.append(secret.metadata.name)
    assert not [s for s in secrets if s.startswith("sh.helm.release")]
    again = cli("diff", "e2e", "--exit-code")
    assert again.exit_code == 0, again.output


def test_a_workload_that_cannot_be_scheduled_times_out_with_its_reasons(
        repo: ConfigRepo, cluster: Cluster, cli) -> None:
    ns = cluster.namespace
    web = objects.deployment("web", replicas=1)
    web["spec"]["template"]["spec"]["nodeSelector"] = {"gitdeploy.io/no-such-node": "true"}
    repo.write("environments/e2e/namespace.yaml", objects.namespace(ns))
    repo.write("environments/e2e/app.yaml", [web, objects.configmap("settings", {})])
    cluster.settings(repo, wait={"timeout": "15s"})
    repo.commit()
    result = cli("apply", "e2e", "--yes", "-o", "json")
    assert result.exit_code == 4, result.output
    readiness = json.loads(result.stdout)["readiness"]
    assert readiness["timedOut"] is True
    [stuck] = [o for o in readiness["objects"] if o["state"] != "ready"]
    assert (stuck["kind"], stuck["name"], stuck["state"]) == ("Deployment", "web",
                                                              "in progress")
    assert any(c.startswith("Available=False (MinimumReplicasUnavailable)")
               for c in stuck["conditions"])
    assert any("FailedScheduling" in event for event in stuck["warningEvents"])
    history = json.loads(cli("history", "e2e", "-o", "json").stdout)
    assert history["records"][0]["outcome"] == "succeeded"  # applied; readiness is reported
