"""End-to-end scenarios through the CLI, the same on the test API server and a real cluster."""

from __future__ import annotations

import json
from typing import Any

from tests import manifests as objects
from tests.conftest import ConfigRepo
from tests.e2e.conftest import Cluster, diff_lines


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


def actions_and_drift(doc: dict[str, Any]) -> dict[str, tuple[str, list[dict[str, str]]]]:
    return {c["kind"]: (c["action"], c["drift"]) for c in doc["changes"]}


NO_DRIFT: dict[str, Any] = {"checked": True, "drifted": False, "note": None, "changes": []}


ALL_UNCHANGED: dict[str, tuple[str, list[Any]]] = {kind: ("unchanged", []) for kind in
                 ("Namespace", "ConfigMap", "Secret", "Deployment", "Service")}
SUMMARY_NO_CHANGES = [" ACTION     OBJECTS", " create           0", " update           0",
                      " adopt            0", " unchanged        5", " delete           0",
                      "No changes: e2e matches git."]


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
    assert [line.rstrip() for line in again.stdout.splitlines()[-7:]] == SUMMARY_NO_CHANGES
    assert actions_and_drift(plan(cli)) == ALL_UNCHANGED
    deployment = cluster.apps().read_namespaced_deployment("web", cluster.namespace)
    assert deployment.spec.replicas == 2
    assert deployment.metadata is not None
    assert deployment.metadata.managed_fields is not None
    # gitdeploy is the only applier; controllers write status and annotations as updates
    assert [(m.manager, m.operation) for m in deployment.metadata.managed_fields
            if m.operation == "Apply"] == [("gitdeploy", "Apply")]


def test_drift_is_visible_and_taken_back(repo: ConfigRepo, cluster: Cluster, cli) -> None:
    write_env(repo, cluster)
    assert cli("apply", "e2e", "--yes").exit_code == 0
    ns = cluster.namespace
    assert actions_and_drift(plan(cli)) == ALL_UNCHANGED  # nothing drifted yet
    cluster.apps().patch_namespaced_deployment(
        "web", ns, {"spec": {"replicas": 0}}, field_manager="kubectl-edit")
    drifted = plan(cli)
    assert actions_and_drift(drifted) == {
        **ALL_UNCHANGED,
        "Deployment": ("update", [{"field": "spec.replicas", "manager": "kubectl-edit"}])}
    deployment = next(c for c in drifted["changes"] if c["kind"] == "Deployment")
    # kube-apiserver v1.36 (e2e-drift-is-visible-and-taken-back.jsonl#32, #36): the hunk's
    # context is "app: web", the part-of label, "spec:" / "selector:", "matchLabels:", "app: web"
    assert diff_lines(deployment["diff"]) == [
        f"--- live/Deployment/{ns}/web", f"+++ git/Deployment/{ns}/web", "@@ -7,7 +7,7 @@",
        "-  replicas: 0", "+  replicas: 2"]
    text = cli("diff", "e2e").stdout
    assert ("  drift: spec.replicas was changed in the cluster by kubectl-edit; apply takes it "
            "back") in text.splitlines()
    status = json.loads(cli("status", "e2e", "-o", "json").stdout)["drift"]
    assert (status["checked"], status["drifted"], status["note"]) == (True, True, None)
    assert status["changes"] == [deployment]
    applied = cli("apply", "e2e", "--yes", "-o", "json")
    assert applied.exit_code == 0, applied.output
    assert [(r["kind"], r["action"], r["outcome"]) for r in json.loads(applied.stdout)[
        "results"]] == [("Deployment", "update", "applied")]
    taken_back = cluster.apps().read_namespaced_deployment("web", ns)
    assert taken_back.spec.replicas == 2
    assert taken_back.metadata is not None and taken_back.metadata.managed_fields is not None
    # kubectl-edit owned only spec.replicas: no entry of it is left (#75 of the recording)
    assert [(m.manager, m.operation) for m in taken_back.metadata.managed_fields
            if m.subresource != "status"] == [("gitdeploy", "Apply")]
    assert actions_and_drift(plan(cli)) == ALL_UNCHANGED  # taken back: no drift left
    assert json.loads(cli("status", "e2e", "-o", "json").stdout)["drift"] == NO_DRIFT


def test_wrong_cluster_is_refused_and_nothing_written(repo: ConfigRepo, cluster: Cluster,
                                                      cli) -> None:
    write_env(repo, cluster, cluster={"uid": "00000000-0000-0000-0000-000000000000"})
    result = cli("apply", "e2e", "--yes")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: refusing: context '{cluster.context}' reaches a different cluster than "
        "environment 'e2e' expects\n"
        "  expected cluster uid: 00000000-0000-0000-0000-000000000000 (cluster.uid in "
        "environments/e2e/gitdeploy.yaml)\n"
        f"  actual cluster uid:   {cluster.kube_system_uid()} (kube-system namespace at "
        f"{cluster.server})\n")
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
