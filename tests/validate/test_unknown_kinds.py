"""Kinds without a schema: one error per kind (not per object) that says how to get out, or,
when asked, skipped with a count, like kubeconform's -ignore-missing-schemas and -skip."""

from __future__ import annotations

import json

from tests import manifests as objects
from tests.conftest import ConfigRepo, Input


def monitors(repo: ConfigRepo, **settings: object) -> None:
    repo.settings("dev", context="x", **settings)
    repo.write("environments/dev/monitors.yaml", [
        objects.custom("monitoring.coreos.com", "ServiceMonitor", f"m{index}", {})
        for index in range(3)])
    repo.write("environments/dev/app.yaml", objects.deployment("web"))


def test_one_error_per_missing_kind_says_what_to_do(repo: ConfigRepo, cli) -> None:
    monitors(repo)
    result = cli("validate", "-o", "json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["environments"][0]["problems"]
    assert len(problems) == 1
    problem = problems[0]
    assert (problem["object"], problem["line"], problem["column"], problem["check"]) == (
        "ServiceMonitor default/m0", 2, 7, "missing-schema")
    assert "(and 2 more object(s) of this kind)" in problem["message"]
    for way_out in ("--ignore-missing-schemas", "validation.skipKinds", "schemas pull",
                    "validation.schemaLocations"):
        assert way_out in problem["message"]


def test_ignore_missing_schemas_reports_them_as_skipped_with_a_count(repo: ConfigRepo,
                                                                     cli) -> None:
    monitors(repo)
    result = cli("validate", "--ignore-missing-schemas", "-o", "json")
    assert result.exit_code == 0, result.stdout
    doc = json.loads(result.stdout)
    assert doc["summary"] == {"environments": 1, "documents": 4, "objects": 4, "errors": 0,
                              "warnings": 0, "skipped": 3,
                              "skippedKinds": {"ServiceMonitor (monitoring.coreos.com/v1)": 3}}
    text = cli("validate", "--ignore-missing-schemas").stdout
    assert "dev: 4 document(s), 4 object(s), Kubernetes 1.37, 3 skipped: ok" in text
    assert "Skipped (no schema check): ServiceMonitor (monitoring.coreos.com/v1) x3" in text


def test_the_setting_does_the_same(repo: ConfigRepo, cli) -> None:
    monitors(repo, validation={"ignoreMissingSchemas": True})
    assert cli("validate").exit_code == 0


def test_skip_kinds_by_kind_or_by_api_version_and_kind(repo: ConfigRepo, cli) -> None:
    monitors(repo, validation={"skipKinds": ["monitoring.coreos.com/v1/ServiceMonitor"]})
    doc = json.loads(cli("validate", "-o", "json").stdout)
    assert doc["valid"] and doc["summary"]["skippedKinds"] == {
        "ServiceMonitor (monitoring.coreos.com/v1)": 3}
    monitors(repo)
    assert cli("validate").exit_code == 1
    result = cli("validate", "--skip-kind", "ServiceMonitor", "--skip-kind", "Deployment")
    assert result.exit_code == 0
    assert "Deployment (apps/v1) x1, ServiceMonitor (monitoring.coreos.com/v1) x3" in (
        result.stdout)


def test_a_flux_repository_without_its_crds(repo: ConfigRepo, cli) -> None:
    """Flux's own kinds (HelmRelease, OCIRepository) come from CRDs installed by Flux, not
    kept in the repository: a choice, not a wall of errors."""
    Input("flux2-kustomize-helm-example", realworld=True).child(
        "infrastructure/controllers").copy(repo.root / "environments/infra")
    repo.settings("infra", context="x")
    doc = json.loads(cli("validate", "-o", "json").stdout)
    assert doc["problems"] == 2  # one per kind, not per object
    assert sorted(p["message"].split(":")[0] for p in doc["environments"][0]["problems"]) == [
        "no schema for HelmRelease in helm.toolkit.fluxcd.io/v2 (and 1 more object(s) of "
        "this kind)", "no schema for OCIRepository in source.toolkit.fluxcd.io/v1 (and 1 "
        "more object(s) of this kind)"]
    skipped = json.loads(cli("validate", "--ignore-missing-schemas", "-o", "json").stdout)
    assert skipped["valid"] and skipped["summary"]["skippedKinds"] == {
        "HelmRelease (helm.toolkit.fluxcd.io/v2)": 2,
        "OCIRepository (source.toolkit.fluxcd.io/v1)": 2}


def test_kube_prometheus_custom_resources_against_its_own_crds(repo: ConfigRepo, cli) -> None:
    Input("kube-prometheus", realworld=True).child("manifests").copy(
        repo.root / "environments/monitoring")
    repo.settings("monitoring", context="x")
    doc = json.loads(cli("validate", "-o", "json").stdout)
    assert doc["valid"] and doc["summary"]["skipped"] == 0
    monitor = repo.root / "environments/monitoring/alertmanager-serviceMonitor.yaml"
    monitor.write_text(monitor.read_text().replace("  endpoints:", "  endpointz: []\n"
                                                                   "  endpoints:"))
    problems = json.loads(cli("validate", "-o", "json").stdout)["environments"][0]["problems"]
    assert [(p["source"].split("/")[-1], p["path"], p["message"]) for p in problems] == [
        (f"alertmanager-serviceMonitor.yaml:{problems[0]['line']}:3", "spec.endpointz",
         'unknown field "endpointz"')]
