"""The JSON documents are a contract (docs/json-output.md): these tests pin every field."""

from __future__ import annotations

import json
from typing import Any

from tests import manifests as objects
from tests.conftest import ConfigRepo

CHANGE_FIELDS: dict[str, type] = {
    "action": str, "apiVersion": str, "kind": str, "namespace": str, "name": str,
    "source": str, "verified": bool, "note": str, "drift": list, "diff": str,
    "kept": type(None), "conflicts": list, "ignored": list, "replace": type(None)}
SUMMARY = {"create", "update", "adopt", "unchanged", "delete", "kept", "changes"}


def check_header(doc: dict[str, Any], kind: str) -> None:
    assert doc["apiVersion"] == "gitdeploy.io/v1"
    assert doc["kind"] == kind
    assert isinstance(doc["gitdeployVersion"], str)
    assert doc["environment"] == "dev"
    assert set(doc["target"]) == {"context", "server", "clusterUID"}
    assert set(doc["source"]) == {"commit", "ref", "branch", "dirty", "dirtyFiles"}
    assert set(doc["summary"]) == SUMMARY


def check_change(change: dict[str, Any], extra: dict[str, type] | None = None) -> None:
    fields = {**CHANGE_FIELDS, **(extra or {})}
    assert set(change) == set(fields)
    for name, kind in fields.items():
        assert isinstance(change[name], kind), name
    assert change["action"] in {"create", "update", "adopt", "unchanged", "delete"}


def test_plan_document(repo: ConfigRepo, kubeconfig, cli) -> None:
    repo.settings("dev", context="kind-dev", namespace="default")
    repo.write("environments/dev/app.yaml", [objects.configmap("a", {"x": "1"}),
                                             objects.deployment("web")])
    commit = repo.commit()
    doc = json.loads(cli("diff", "dev", "-o", "json").stdout)
    assert set(doc) == {"apiVersion", "kind", "gitdeployVersion", "environment", "target",
                        "source", "base", "prune", "summary", "missingNamespaces", "changes"}
    assert doc["base"] is None
    check_header(doc, "Plan")
    assert doc["source"] == {"commit": commit, "ref": "main", "branch": "main", "dirty": False,
                             "dirtyFiles": []}
    assert doc["target"]["context"] == "kind-dev"
    assert doc["summary"] == {"create": 2, "update": 0, "adopt": 0, "unchanged": 0,
                              "delete": 0, "kept": 0, "changes": 2}
    assert doc["prune"] is False
    for change in doc["changes"]:
        check_change(change)
    assert doc["changes"][0]["source"] == "environments/dev/app.yaml:1"
    assert doc["changes"][0]["diff"].startswith("--- live/ConfigMap/default/a\n")


def test_apply_document(repo: ConfigRepo, kubeconfig, cli) -> None:
    repo.settings("dev", context="kind-dev", namespace="default")
    repo.write("environments/dev/app.yaml", [objects.configmap("a", {"x": "1"}),
                                             objects.deployment("web", replicas=2)])
    repo.commit()
    doc = json.loads(cli("apply", "dev", "--yes", "-o", "json").stdout)
    assert set(doc) == {"apiVersion", "kind", "gitdeployVersion", "environment", "target",
                        "source", "base", "summary", "succeeded", "interrupted", "problems",
                        "results", "record", "readiness"}
    check_header(doc, "ApplyResult")
    assert doc["succeeded"] is True
    assert doc["interrupted"] is None and doc["problems"] == []
    for result in doc["results"]:
        check_change(result, {"outcome": str, "error": str})
        assert result["outcome"] in {"applied", "deleted", "failed", "not-attempted"}
    readiness = doc["readiness"]
    assert set(readiness) == {"ready", "timedOut", "interrupted", "seconds", "timeoutSeconds",
                              "objects"}
    assert readiness["ready"] is True and readiness["timeoutSeconds"] == 300
    assert readiness["objects"][1] == {
        "kind": "Deployment", "namespace": "default", "name": "web", "state": "ready",
        "message": "2/2 ready", "conditions": [
            "Available=True (MinimumReplicasAvailable): Deployment has minimum availability.",
            "Progressing=True (NewReplicaSetAvailable)"], "warningEvents": []}
    no_wait = json.loads(cli("apply", "dev", "--yes", "--no-wait", "-o", "json").stdout)
    assert no_wait["readiness"] is None


def test_environment_and_render_documents(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="kind-dev")
    repo.write("environments/dev/app.yaml", [objects.configmap("a", {"x": "1"})])
    envs = json.loads(cli("envs", "-o", "json").stdout)
    assert envs["kind"] == "EnvironmentList"
    assert set(envs["environments"][0]) == {"name", "path", "context", "namespace", "cluster",
                                            "protected", "prune", "suspend", "suspendReason",
                                            "stateNamespace", "broken", "error"}
    rendered = json.loads(cli("render", "dev", "-o", "json").stdout)
    assert rendered["kind"] == "RenderedObjects"
    assert set(rendered["objects"][0]) == {"source", "object"}


RECORD_FIELDS: dict[str, type | tuple[type, ...]] = {
    "sequence": int, "environment": str, "kind": str, "commit": str, "ref": str,
    "subject": str, "author": str, "dirty": bool, "deployedAt": str,
    "deployedBy": dict, "gitdeployVersion": str, "outcome": str, "counts": dict,
    "digest": str, "applied": list, "failed": list, "rollbackOf": type(None),
    "name": (str, type(None))}


def check_record(record: dict[str, Any]) -> None:
    assert set(record) == set(RECORD_FIELDS)
    for name, kind in RECORD_FIELDS.items():
        assert isinstance(record[name], kind), name
    assert set(record["deployedBy"]) == {"localUser", "host", "kubeUser", "ci", "ciUrl"}
    assert set(record["counts"]) == {"create", "update", "adopt", "unchanged", "delete",
                                     "applied", "deleted", "failed", "not-attempted"}


def test_record_status_and_history_documents(repo: ConfigRepo, kubeconfig, cli) -> None:
    repo.settings("dev", context="kind-dev", namespace="default")
    repo.write("environments/dev/app.yaml", [objects.configmap("a", {"x": "1"})])
    repo.commit()
    applied = json.loads(cli("apply", "dev", "--yes", "-o", "json").stdout)
    check_record(applied["record"])
    status = json.loads(cli("status", "dev", "-o", "json").stdout)
    assert set(status) == {"apiVersion", "kind", "gitdeployVersion", "environment", "target",
                           "live", "comparedTo", "inLocalHistory", "commitsBehind",
                           "commitsAhead", "drift", "lock"}
    assert status["kind"] == "Status" and status["apiVersion"] == "gitdeploy.io/v1"
    check_record(status["live"])
    assert set(status["comparedTo"]) == {"commit", "ref", "branch", "dirty", "dirtyFiles"}
    assert set(status["drift"]) == {"checked", "drifted", "note", "changes"}
    history = json.loads(cli("history", "dev", "-o", "json").stdout)
    assert set(history) == {"apiVersion", "kind", "gitdeployVersion", "environment", "target",
                            "records"}
    assert history["kind"] == "History"
    for record in history["records"]:
        check_record(record)


def test_orphans_documents(repo: ConfigRepo, kubeconfig, cli, api_server) -> None:
    repo.settings("dev", context="kind-dev", namespace="default")
    repo.write("environments/dev/app.yaml", [objects.configmap("a", {"x": "1"})])
    repo.commit()
    cluster = api_server.cluster
    cluster.create(cluster.find_type("", "v1", "configmaps"), "v1", "default",
                   objects.configmap("stray", {"k": "v"}), "kubectl", False)
    doc = json.loads(cli("orphans", "dev", "-o", "json").stdout)
    assert set(doc) == {"apiVersion", "kind", "gitdeployVersion", "environment", "target",
                        "namespaces", "items", "unchecked"}
    assert doc["kind"] == "Orphans"
    assert doc["items"] == [{"apiVersion": "v1", "kind": "ConfigMap", "namespace": "default",
                             "name": "stray", "created": doc["items"][0]["created"],
                             "managers": ["kubectl"]}]
    plan = json.loads(cli("diff", "dev", "--orphans", "-o", "json").stdout)
    assert set(plan["orphans"]) == {"namespaces", "items", "unchecked"}


def test_validation_document(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="kind-dev")
    repo.write("environments/dev/app.yaml", [objects.configmap("a", {"x": "1"}),
                                             {"apiVersion": "v1", "kind": "ConfigMap",
                                              "metadata": {"name": "b"}, "bogus": 1}])
    doc = json.loads(cli("validate", "-o", "json").stdout)
    assert set(doc) == {"apiVersion", "kind", "gitdeployVersion", "valid", "problems",
                        "warnings", "summary", "environments"}
    assert doc["kind"] == "Validation" and doc["valid"] is False and doc["problems"] == 1
    assert doc["summary"] == {"environments": 1, "documents": 2, "objects": 2, "errors": 1,
                              "warnings": 0, "skipped": 0, "skippedKinds": {}}
    env = doc["environments"][0]
    assert set(env) == {"name", "kubernetesVersion", "kubernetesVersionFrom", "documents",
                        "objects", "skipped", "problems"}
    assert env["problems"] == [{"source": "environments/dev/app.yaml:12:1",
                                "file": "environments/dev/app.yaml", "line": 12, "column": 1,
                                "object": "ConfigMap default/b", "path": "bogus",
                                "message": 'unknown field "bogus"', "severity": "error",
                                "check": "schema", "renderedBy": None}]


def test_plan_file_document(repo: ConfigRepo, kubeconfig, cli, tmp_path) -> None:
    repo.settings("dev", context="kind-dev", namespace="default")
    repo.write("environments/dev/app.yaml", [objects.configmap("a", {"x": "1"})])
    repo.commit()
    path = tmp_path / "plan.json"
    assert cli("diff", "dev", "--out-plan", str(path)).exit_code == 0
    doc = json.loads(path.read_text())
    assert set(doc) == {"apiVersion", "kind", "gitdeployVersion", "environment", "target",
                        "source", "base", "prune", "summary", "missingNamespaces", "changes",
                        "objects", "planKey", "inventory"}
    assert doc["kind"] == "PlanFile"
    assert doc["planKey"] is None  # no Secret: no key (docs/secrets.md)
    assert doc["objects"] == {"/ConfigMap/default/a": {
        "action": "create", "resourceVersion": "", "live": "",
        "digest": doc["objects"]["/ConfigMap/default/a"]["digest"]}}
    assert doc["objects"]["/ConfigMap/default/a"]["digest"].startswith("sha256:")
