"""Kustomize overlays, Helm charts and readiness, end to end: the same on the test API server
and a real cluster. No pod has to run: workloads that must become ready have zero replicas, and
the one that must time out asks for a node that no cluster has."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo, Input
from tests.e2e.conftest import Cluster, condition_lines

WAIT = {"enabled": True, "timeout": "60s"}


def deployment_body(cluster: Cluster, name: str) -> dict[str, Any]:
    return cluster.raw(f"/apis/apps/v1/namespaces/{cluster.namespace}/deployments/{name}")


def states(readiness: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str]]:
    return {(o["kind"], o["name"]): (o["state"], o["message"]) for o in readiness["objects"]}


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
    assert (readiness["ready"], readiness["timedOut"]) == (True, False)
    # as kube-apiserver v1.36 answers (e2e-plain-yaml-and-a-kustomization-...jsonl#29-#32)
    assert states(readiness) == {
        ("CustomResourceDefinition", crd["metadata"]["name"]): ("ready", "established"),
        ("Namespace", ns): ("ready", "current"), ("ConfigMap", "settings"): ("ready", "applied"),
        ("Deployment", "web"): ("ready", "0/0 ready"), ("Widget", "gear"): ("ready", "current")}
    reported = {o["kind"]: o["conditions"] for o in readiness["objects"]}
    # the conditions as the server holds them, each with its reason and message
    assert reported["Deployment"] == condition_lines(deployment_body(cluster, "web"))
    assert reported["Deployment"][0] == ("Available=True (MinimumReplicasAvailable): "
                                         "Deployment has minimum availability.")
    assert reported["CustomResourceDefinition"] == condition_lines(cluster.raw(
        f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd['metadata']['name']}"))
    assert [line.split(":")[0] for line in reported["CustomResourceDefinition"]] == [
        "NamesAccepted=True (NoConflicts)", "Established=True (InitialNamesAccepted)"]
    assert reported["Namespace"] == reported["ConfigMap"] == reported["Widget"] == []
    assert all(o["warningEvents"] == [] for o in readiness["objects"])
    deployment = cluster.apps().read_namespaced_deployment("web", ns)
    assert deployment.metadata is not None
    assert deployment.metadata.labels is not None
    assert deployment.metadata.labels["team"] == "shop"
    again = cli("diff", "e2e", "--exit-code")
    assert again.exit_code == 0, again.output


PORTS = {"greeter": [("http", 80, "http")],
         "podinfo": [("http", 9898, "http"), ("grpc", 9999, "grpc")]}


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
    assert re.fullmatch(r"All 3 object\(s\) of e2e ready after \d+s\.",
                        result.stdout.splitlines()[-1]), result.stdout
    deployment = cluster.apps().read_namespaced_deployment(f"web-{name}", ns)
    assert deployment.spec.replicas == 0
    assert deployment.metadata is not None
    assert deployment.metadata.labels is not None
    assert deployment.metadata.labels["app.kubernetes.io/managed-by"] == "Helm"
    service = cluster.core().read_namespaced_service(f"web-{name}", ns)
    assert service.spec is not None
    assert service.spec.ports is not None
    assert [(p.name, p.port, p.target_port) for p in service.spec.ports] == PORTS[name]
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
    """A Deployment whose pods fit no node: the wait times out (exit 4) and the report names it
    with its conditions and the Warning events about its pods, exactly as the cluster holds
    them. Whether a scheduler writes a FailedScheduling event depends on the cluster (the
    recorded kube-apiserver v1.36 has none: e2e-a-workload-...-reasons.jsonl#34 lists no
    event), so the scenario writes one in the scheduler's shape itself."""
    ns = cluster.namespace
    web = objects.deployment("web", replicas=1)
    web["spec"]["template"]["spec"]["nodeSelector"] = {"gitdeploy.io/no-such-node": "true"}
    repo.write("environments/e2e/namespace.yaml", objects.namespace(ns))
    repo.write("environments/e2e/app.yaml", [web, objects.configmap("settings", {})])
    cluster.settings(repo, wait={"timeout": "15s"})
    repo.commit()
    first = cli("apply", "e2e", "--yes", "--no-wait")
    assert first.exit_code == 0, first.output
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    cluster.core().create_namespaced_event(ns, {  # type: ignore[arg-type]
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": "web-e2e-probe.1"},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "namespace": ns,
                           "name": "web-e2e-probe"},
        "reason": "FailedScheduling", "type": "Warning", "count": 1,
        "message": "0/0 nodes are available: no nodes available to schedule pods.",
        "firstTimestamp": now, "lastTimestamp": now,
        "source": {"component": "default-scheduler"}})
    result = cli("apply", "e2e", "--yes", "-o", "json")  # nothing to apply; it waits again
    assert result.exit_code == 4, result.output
    readiness = json.loads(result.stdout)["readiness"]
    assert (readiness["ready"], readiness["timedOut"], readiness["timeoutSeconds"]) == (
        False, True, 15.0)
    assert states(readiness) == {("Deployment", "web"): ("in progress", "0/1 available"),
                                 ("ConfigMap", "settings"): ("ready", "applied"),
                                 ("Namespace", ns): ("ready", "current")}
    [stuck] = [o for o in readiness["objects"] if o["state"] != "ready"]
    live = deployment_body(cluster, "web")
    assert stuck["conditions"] == condition_lines(live)
    assert stuck["conditions"][0] == ("Available=False (MinimumReplicasUnavailable): "
                                      "Deployment does not have minimum availability.")
    assert [c["type"] + "=" + c["status"] + " (" + c["reason"] + ")" for c in
            live["status"]["conditions"]] == ["Available=False (MinimumReplicasUnavailable)",
                                              "Progressing=True (ReplicaSetUpdated)"]
    assert stuck["warningEvents"] == warning_lines(cluster, "web")
    assert (f"{_event_time(cluster, 'web-e2e-probe.1')} Pod/web-e2e-probe: FailedScheduling: "
            "0/0 nodes are available: no nodes available to schedule pods."
            ) in stuck["warningEvents"]
    history = json.loads(cli("history", "e2e", "-o", "json").stdout)
    # applied and recorded, then readiness reported: both deploys succeeded
    assert [(r["sequence"], r["outcome"], r["counts"]["applied"]) for r in history["records"]] \
        == [(2, "succeeded", 0), (1, "succeeded", 3)]


def _event_time(cluster: Cluster, name: str) -> str:
    event = cluster.raw(f"/api/v1/namespaces/{cluster.namespace}/events/{name}")
    return str(event["lastTimestamp"])


def warning_lines(cluster: Cluster, workload: str) -> list[str]:
    """The Warning events of the namespace about a Deployment's ReplicaSets and Pods (named
    after it), newest first, at most 3, as the readiness report writes them
    (docs/readiness.md)."""
    listed = cluster.raw(f"/api/v1/namespaces/{cluster.namespace}/events",
                         fieldSelector="type=Warning")["items"]
    about = [e for e in listed if e["involvedObject"].get("kind") in ("ReplicaSet", "Pod")
             and e["involvedObject"].get("name", "").startswith(f"{workload}-")]

    def when(event: dict[str, Any]) -> str:
        return str((event.get("series") or {}).get("lastObservedTime")
                   or event.get("lastTimestamp") or event.get("eventTime")
                   or event["metadata"].get("creationTimestamp") or "")

    lines = []
    for event in sorted(about, key=when, reverse=True)[:3]:
        count = (event.get("series") or {}).get("count") or event.get("count") or 1
        lines.append(f"{when(event)} {event['involvedObject']['kind']}/"
                     f"{event['involvedObject']['name']}: {event['reason']}: "
                     f"{event['message']}" + (f" (x{count})" if count > 1 else ""))
    return lines
