"""Apply: order, concurrency within a phase, and what happens when an object fails."""

from __future__ import annotations

import json

from tests import manifests as objects
from tests.conftest import ConfigRepo
from tests.kubeapi.server import Fault, TestApiServer

CLUSTER_ROLE = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": "shop-reader"},
                "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}


def write_mixed(repo: ConfigRepo) -> None:
    repo.settings("dev", context="kind-dev", namespace="shop")
    # deliberately in the wrong order in the files
    repo.write("environments/dev/a-app.yaml", [
        objects.configmap("one", {"a": "1"}), objects.configmap("two", {"b": "2"}),
        objects.custom("example.com", "Widget", "gear", {"size": 1}),
        objects.deployment("web"),
    ])
    repo.write("environments/dev/b-rbac.yaml", CLUSTER_ROLE)
    repo.write("environments/dev/c-crd.yaml", objects.crd("example.com", "Widget", "widgets"))
    repo.write("environments/dev/d-ns.yaml", objects.namespace("shop"))
    repo.commit()


def applied_paths(api_server: TestApiServer) -> list[str]:
    return [r.path for r in api_server.writes()]


def test_apply_order_namespaces_crds_cluster_scoped_then_namespaced(
        repo: ConfigRepo, kubeconfig, cli, api_server: TestApiServer) -> None:
    write_mixed(repo)
    result = cli("apply", "dev", "--yes")
    assert result.exit_code == 0, result.output
    paths = applied_paths(api_server)
    phase = [
        0 if p.endswith("/namespaces/shop") else
        1 if "customresourcedefinitions" in p else
        2 if "clusterroles" in p else 3
        for p in paths
    ]
    assert phase == sorted(phase)
    assert phase.count(3) == 4
    assert "Applied 7 change(s) to dev." in result.stdout


def test_each_object_result_is_reported(repo: ConfigRepo, kubeconfig, cli) -> None:
    write_mixed(repo)
    result = cli("apply", "dev", "--yes", "-o", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["kind"] == "ApplyResult" and report["succeeded"] is True
    assert {r["outcome"] for r in report["results"]} == {"applied"}
    assert len(report["results"]) == 7
    assert "applied Namespace shop" in result.stderr  # live progress


def test_failure_stops_and_reports_applied_failed_not_attempted(
        repo: ConfigRepo, kubeconfig, cli, api_server: TestApiServer) -> None:
    write_mixed(repo)
    api_server.inject(Fault(method="PATCH", path="/clusterroles/", status=500, dry_run=False,
                            message="etcdserver: request timed out"))
    # A failure that does not pass: retrying it only takes longer (tests/kube/test_retries.py).
    result = cli("apply", "dev", "--yes", "-o", "json", "--retries", "0")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    outcomes = {f"{r['kind']}/{r['name']}": r["outcome"] for r in report["results"]}
    assert outcomes["Namespace/shop"] == "applied"
    assert outcomes["CustomResourceDefinition/widgets.example.com"] == "applied"
    assert outcomes["ClusterRole/shop-reader"] == "failed"
    assert {outcomes[k] for k in ("ConfigMap/one", "ConfigMap/two", "Widget/gear",
                                  "Deployment/web")} == {"not-attempted"}
    failed = next(r for r in report["results"] if r["outcome"] == "failed")
    assert "etcdserver: request timed out" in failed["error"]
    assert "apply to dev failed" in result.stderr
    assert not any("configmaps" in p for p in applied_paths(api_server))


def test_text_report_summarizes_a_failed_apply(repo: ConfigRepo, kubeconfig, cli,
                                               api_server: TestApiServer) -> None:
    write_mixed(repo)
    api_server.inject(Fault(method="PATCH", path="/clusterroles/", status=500, dry_run=False))
    result = cli("apply", "dev", "--yes", "--retries", "0")
    assert result.exit_code == 1
    assert "2 applied, 1 failed, 4 not attempted" in result.stdout


def test_nothing_to_apply(repo: ConfigRepo, kubeconfig, cli, api_server: TestApiServer) -> None:
    repo.settings("dev", context="kind-dev", namespace="default")
    repo.write("environments/dev/cm.yaml", objects.configmap("one", {"a": "1"}))
    repo.commit()
    assert cli("apply", "dev", "--yes").exit_code == 0
    writes = len(api_server.writes())
    again = cli("apply", "dev")  # no terminal and no --yes: fine, nothing to confirm
    assert again.exit_code == 0, again.output
    assert "No changes" in again.stdout
    assert len(api_server.writes()) == writes


def test_crd_is_established_before_its_resources_are_applied(
        repo: ConfigRepo, kubeconfig, cli, api_server: TestApiServer) -> None:
    write_mixed(repo)
    api_server.cluster.crd_establish_delay = 0.6
    result = cli("apply", "dev", "--yes")
    assert result.exit_code == 0, result.output
    crd_gets = [r for r in api_server.requests
                if r.method == "GET" and r.path.endswith("/widgets.example.com")]
    assert len(crd_gets) >= 2  # polled until Established
    assert ("example.com", "widgets", "shop", "gear") in api_server.cluster.objects


def test_suspended_environment_refuses_apply_but_diffs(repo: ConfigRepo, kubeconfig, cli,
                                                       api_server: TestApiServer) -> None:
    repo.settings("dev", context="kind-dev", namespace="default", suspend=True)
    repo.write("environments/dev/cm.yaml", objects.configmap("one", {"a": "1"}))
    repo.commit()
    result = cli("apply", "dev", "--yes")
    assert result.exit_code == 1
    assert "apply to dev refused: deployments are suspended" in result.stderr
    assert "suspend is set in environments/dev/gitdeploy.yaml" in result.stderr
    assert api_server.requests == []
    assert cli("diff", "dev").exit_code == 0
