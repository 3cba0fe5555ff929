"""`gitdeploy compare SOURCE TARGET`: two environments' rendered objects, offline, with what is
meant to differ left out, and what the target lacks."""

from __future__ import annotations

import json

from gitdeploy.config.environments import load_environment
from gitdeploy.config.sources import WorkTree
from gitdeploy.promote.compare import chart_differences
from tests.conftest import ConfigRepo
from tests.promote import layouts


def test_plain_names_namespace_and_environment_specific_fields_are_left_out(repo: ConfigRepo,
                                                                             cli) -> None:
    layouts.plain(repo)
    result = cli("compare", "staging", "prod", "-o", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["kind"] == "EnvironmentComparison"
    states = {o["title"]: o["state"] for o in document["objects"]}
    # stg-web and web are one object; replicas (5 against 1) are environment-specific
    assert states == {"Deployment web": "differs", "ConfigMap web-config": "differs",
                      "Deployment worker": "only-in-source"}
    web = next(o for o in document["objects"] if o["title"] == "Deployment web")
    assert "replicas" not in web["diff"] and "namespace" not in web["diff"]
    assert '-      - image: ghcr.io/acme/web:1.4.2' in web["diff"]
    assert {(i["object"], i["source"], i["target"]) for i in document["images"]} == {
        ("Deployment web", "ghcr.io/acme/web:1.5.0", "ghcr.io/acme/web:1.4.2"),
        ("Deployment worker", "ghcr.io/acme/worker:2.0.0", None)}
    assert document["configKeys"] == [{"object": "ConfigMap web-config",
                                       "key": "FEATURE_SEARCH", "state": "missing"}]
    assert document["targetLacks"] is True


def test_text_names_what_prod_lacks_and_exit_code(repo: ConfigRepo, cli) -> None:
    layouts.plain(repo)
    result = cli("compare", "staging", "prod", "--exit-code")
    assert result.exit_code == 2, result.output
    assert "only in staging Deployment worker" in result.stdout
    assert "ghcr.io/acme/web:1.5.0" in result.stdout
    assert "FEATURE_SEARCH" in result.stdout and "missing in prod" in result.stdout
    same = cli("compare", "prod", "prod")
    assert same.exit_code == 1 and "itself" in same.stderr


def test_kustomize_generated_names_and_secret_values(repo: ConfigRepo, cli) -> None:
    for env, level, password in (("staging", "debug", "s3cr3t-staging"),
                                 ("prod", "info", "s3cr3t-prod")):
        repo.write(f"environments/{env}/gitdeploy.yaml", f"context: c\nnamespace: {env}\n")
        repo.write(f"environments/{env}/kustomization.yaml", f"""configMapGenerator:
  - name: app
    literals: [LEVEL={level}]
secretGenerator:
  - name: db
    literals: [PASSWORD={password}]
""")
    repo.commit()
    result = cli("compare", "staging", "prod", "-o", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    # kustomize's hash suffixes differ with the content: still one object each
    assert {o["title"]: o["state"] for o in document["objects"]} == {
        "ConfigMap app": "differs", "Secret db": "differs"}
    assert {(k["object"], k["key"], k["state"]) for k in document["configKeys"]} == {
        ("ConfigMap app", "LEVEL", "differs"), ("Secret db", "PASSWORD", "differs")}
    assert "s3cr3t" not in result.stdout
    assert "czNjcjN0" not in result.stdout  # nor base64 of it


def test_helm_chart_versions_and_values(repo: ConfigRepo, cli) -> None:
    layouts.helm(repo)
    result = cli("compare", "staging", "prod", "-o", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [(i["source"], i["target"]) for i in document["images"]] == [
        ("ghcr.io/acme/app:1.3.0", "ghcr.io/acme/app:1.2.0")]
    repo.write("environments/staging/gitdeploy.yaml", """context: kind-staging
namespace: shop-staging
charts:
  - release: podinfo
    chart: podinfo
    repo: https://charts.example.com
    version: 6.7.1
""")
    repo.write("environments/prod/gitdeploy.yaml", """context: prod
namespace: shop
charts:
  - release: podinfo
    chart: podinfo
    repo: https://charts.example.com
    version: 6.5.0
""")
    tree = WorkTree(repo.root)
    differences = chart_differences(load_environment(tree, "staging").settings.charts,
                                    load_environment(tree, "prod").settings.charts)
    assert [(d.release, d.source, d.target) for d in differences] == [
        ("podinfo", "6.7.1", "6.5.0")]
