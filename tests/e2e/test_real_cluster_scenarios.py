"""Real clusters (docs/real-clusters.md), the same on the test API server and a real cluster: a
first deploy into a namespace that does not exist, an autoscaler's replicas, a controller's
field under the conflict policy, an immutable field replaced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kubernetes import client as k8s

from tests import manifests as objects
from tests.conftest import ConfigRepo
from tests.e2e.conftest import Cluster

AUTOSCALER = "kube-controller-manager"  # the HPA controller's field manager


def plan(cli) -> dict[str, Any]:
    result = cli("diff", "e2e", "-o", "json")
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def change(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in doc["changes"] if c["kind"] == kind)


def hpa(name: str) -> dict[str, Any]:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                        "name": name}, "minReplicas": 1, "maxReplicas": 10}}


def test_first_deploy_into_a_new_namespace_autoscaler_and_conflicts(
        repo: ConfigRepo, cluster: Cluster, cli) -> None:
    ns = cluster.namespace
    # no Namespace object in git: the diff shows the first deploy, apply refuses without
    # createNamespace
    cluster.settings(repo)
    repo.write("environments/e2e/app.yaml", [
        objects.configmap("settings", {"mode": "git"}), objects.deployment("web", replicas=2),
        hpa("web")])
    repo.commit()
    first = plan(cli)
    assert first["missingNamespaces"] == [ns]
    assert {c["action"] for c in first["changes"]} == {"create"}
    refused = cli("apply", "e2e", "--yes")
    assert refused.exit_code == 1
    assert f"namespace(s) {ns} do not exist: nothing was written" in refused.stderr
    assert not cluster.namespace_exists()
    cluster.settings(repo, createNamespace=True)
    repo.commit()
    applied = cli("apply", "e2e", "--yes")
    assert applied.exit_code == 0, applied.output
    # the autoscaler scales through the scale subresource: its replicas are left to it
    cluster.apps().patch_namespaced_deployment_scale(
        "web", ns, {"spec": {"replicas": 4}}, field_manager=AUTOSCALER)
    doc = plan(cli)
    assert change(doc, "Deployment")["action"] == "unchanged"
    assert change(doc, "Deployment")["ignored"][0].startswith(
        f"spec.replicas is left to HorizontalPodAutoscaler {ns}/web")
    # an operator's field: refused by default, left with the object's annotation
    cluster.core().patch_namespaced_config_map(
        "settings", ns, {"data": {"mode": "operator"}}, field_manager="mode-operator")
    conflicts = change(plan(cli), "ConfigMap")["conflicts"]
    assert [(c["field"], c["manager"], c["resolution"]) for c in conflicts] == [
        ("data.mode", "mode-operator", "fail")]
    assert cli("apply", "e2e", "--yes").exit_code == 1
    left = objects.configmap("settings", {"mode": "git", "extra": "1"})
    left["metadata"]["annotations"] = {"gitdeploy.io/conflicts": "leave"}
    repo.write("environments/e2e/app.yaml", [
        left, objects.deployment("web", replicas=2, image="nginx:1.28"), hpa("web")])
    repo.commit()
    applied = cli("apply", "e2e", "--yes")
    assert applied.exit_code == 0, applied.output
    configmap = cluster.core().read_namespaced_config_map("settings", ns)
    assert configmap.data == {"mode": "operator", "extra": "1"}
    deployment = cluster.apps().read_namespaced_deployment("web", ns)
    assert deployment.spec.replicas == 4


def test_an_immutable_field_is_replaced_only_when_asked(repo: ConfigRepo, cluster: Cluster,
                                                        cli) -> None:
    ns = cluster.namespace
    cluster.settings(repo)
    repo.write("environments/e2e/namespace.yaml", objects.namespace(ns))
    repo.write("environments/e2e/app.yaml", [objects.deployment("web", replicas=0)])
    repo.commit()
    assert cli("apply", "e2e", "--yes").exit_code == 0
    moved = objects.deployment("web", replicas=0)
    moved["spec"]["selector"]["matchLabels"] = {"app": "web2"}
    moved["spec"]["template"]["metadata"]["labels"] = {"app": "web2"}
    repo.write("environments/e2e/app.yaml", [moved])
    repo.commit()
    replace = change(plan(cli), "Deployment")["replace"]
    assert replace == {"fields": ["spec.selector: field is immutable"], "allowed": False,
                       "by": None}
    assert cli("apply", "e2e", "--yes").exit_code == 1
    metadata = cluster.apps().read_namespaced_deployment("web", ns).metadata
    assert metadata is not None
    before = metadata.uid
    applied = cli("apply", "e2e", "--yes", "--replace")
    assert applied.exit_code == 0, applied.output
    after = cluster.apps().read_namespaced_deployment("web", ns)
    assert after.metadata is not None and after.metadata.uid != before
    assert after.spec.selector.match_labels == {"app": "web2"}


def test_generate_name_is_refused_and_skipped_objects_are_not_applied(
        repo: ConfigRepo, cluster: Cluster, cli) -> None:
    ns = cluster.namespace
    cluster.settings(repo)
    meta: dict[str, Any] = {"generateName": "migrate-"}
    hook = {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": "m", "image": "busybox:1.36"}]}}}}
    repo.write("environments/e2e/app.yaml", [objects.namespace(ns),
                                             objects.configmap("settings", {}), hook])
    repo.commit()
    refused = cli("apply", "e2e", "--yes")
    assert refused.exit_code == 1
    assert "Job has metadata.generateName 'migrate-' and no name" in refused.stderr
    assert not cluster.namespace_exists()  # nothing written
    meta["annotations"] = {"gitdeploy.io/skip": "true"}
    repo.write("environments/e2e/app.yaml", [objects.namespace(ns),
                                             objects.configmap("settings", {}), hook])
    repo.commit()
    applied = cli("apply", "e2e", "--yes")
    assert applied.exit_code == 0, applied.output
    jobs = cluster.raw(f"/apis/batch/v1/namespaces/{ns}/jobs")["items"]
    assert jobs == []
    assert {c["kind"] for c in plan(cli)["changes"]} == {"Namespace", "ConfigMap"}


def test_a_cluster_scoped_custom_resource_gets_no_namespace(repo: ConfigRepo,
                                                            cluster: Cluster, cli) -> None:
    ns = cluster.namespace
    group = f"{ns}.e2e.gitdeploy.io"
    crd = objects.crd(group, "Policy", "policies", scope="Cluster")
    cluster.crds.append(crd["metadata"]["name"])
    cluster.settings(repo)
    repo.write("environments/e2e/app.yaml", [objects.namespace(ns), crd])
    repo.commit()
    assert cli("apply", "e2e", "--yes").exit_code == 0
    # another environment's CRD: this one only has the custom resource
    repo.write("environments/e2e/app.yaml", [objects.namespace(ns), crd,
                                             objects.custom(group, "Policy", f"{ns}-p", {})])
    repo.commit()
    doc = plan(cli)  # online: discovery says the kind is cluster-scoped
    assert (change(doc, "Policy")["namespace"], change(doc, "Policy")["action"]) == (
        "", "create")
    rendered = json.loads(cli("render", "e2e", "-o", "json").stdout)
    policy = next(o["object"] for o in rendered["objects"] if o["object"]["kind"] == "Policy")
    assert "namespace" not in policy["metadata"]
    assert cli("apply", "e2e", "--yes").exit_code == 0
    cluster.raw(f"/apis/{group}/v1/policies/{ns}-p")  # at the cluster level
    k8s.CustomObjectsApi(cluster.api).delete_cluster_custom_object(group, "v1", "policies",
                                                                  f"{ns}-p")


def test_a_plan_file_survives_a_status_write_but_not_a_spec_change(
        repo: ConfigRepo, cluster: Cluster, cli, tmp_path: Path) -> None:
    ns = cluster.namespace
    cluster.settings(repo)
    repo.write("environments/e2e/app.yaml", [objects.namespace(ns),
                                             objects.deployment("web", replicas=1)])
    repo.commit()
    assert cli("apply", "e2e", "--yes").exit_code == 0
    repo.write("environments/e2e/app.yaml", [objects.namespace(ns),
                                             objects.deployment("web", replicas=2)])
    repo.commit()
    saved = tmp_path / "plan.json"
    assert cli("diff", "e2e", "--out-plan", str(saved)).exit_code == 0
    # a controller writes the status only (observedGeneration, conditions...)
    cluster.apps().patch_namespaced_deployment_status(
        "web", ns, {"status": {"observedGeneration": 1, "replicas": 0,
                               "conditions": [{"type": "Progressing", "status": "True",
                                               "reason": "NewReplicaSetCreated",
                                               "message": "status only"}]}})
    applied = cli("apply", "e2e", "--yes", "--plan", str(saved))
    assert applied.exit_code == 0, applied.output
    assert cli("diff", "e2e", "--out-plan", str(saved)).exit_code == 0
    cluster.apps().patch_namespaced_deployment(
        "web", ns, {"spec": {"minReadySeconds": 5}}, field_manager="operator")
    stale = cli("apply", "e2e", "--yes", "--plan", str(saved))
    assert stale.exit_code == 1
    assert "changed in the cluster since the plan" in stale.stderr
