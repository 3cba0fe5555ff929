"""Environment settings: discovery of environments and every settings error."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ConfigRepo


def test_envs_lists_environments_and_skips_folders_without_settings(repo: ConfigRepo,
                                                                     cli) -> None:
    repo.settings("prod", context="prod-ctx", namespace="shop", protected=True,
                  cluster={"server": "https://prod:6443", "uid": "abc"})
    repo.settings("beta", context="beta-ctx")
    repo.write("environments/base/deployment.yaml", "kind: Deployment\n")
    result = cli("envs", "-o", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [e["name"] for e in doc["environments"]] == ["beta", "prod"]
    prod = doc["environments"][1]
    assert prod["context"] == "prod-ctx"
    assert prod["namespace"] == "shop"
    assert prod["protected"] is True
    assert prod["cluster"] == {"server": "https://prod:6443", "uid": "abc"}
    assert doc["environments"][0]["namespace"] == "default"


def test_envs_text_table(repo: ConfigRepo, cli) -> None:
    repo.settings("prod", context="prod-ctx", protected=True)
    result = cli("envs")
    assert result.exit_code == 0
    assert "prod-ctx" in result.stdout
    assert "protected" in result.stdout


def test_folder_without_settings_is_not_an_environment(repo: ConfigRepo, cli) -> None:
    repo.settings("prod", context="x")
    repo.write("environments/base/app.yaml", "apiVersion: v1\n")
    result = cli("render", "base")
    assert result.exit_code == 1
    assert "environments/base is not an environment" in result.stderr


def test_unknown_environment_names_the_known_ones(repo: ConfigRepo, cli) -> None:
    repo.settings("prod", context="x")
    result = cli("render", "staging")
    assert result.exit_code == 1
    assert "no environment 'staging' (environments: prod)" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("namespace: shop\n", "missing required key 'context'"),
        ("context: x\nreplicas: 3\n", "unknown key 'replicas'"),
        ("context: x\ncluster:\n  url: https://x\n", "unknown key 'cluster.url'"),
        ("context: 3\n", "'context' must be a non-empty string, got 3"),
        ("context: x\nprotected: 'yes'\n", "'protected' must be true or false"),
        ("context: x\nprune: 1\n", "'prune' must be true or false"),
        ("context: x\nsuspend: []\n", "'suspend' must be true, false, or the reason as text"),
        ("context: x\ncluster: https://x\n", "'cluster' must be a mapping"),
        ("context: x\ncluster:\n  uid: 7\n", "'cluster.uid' must be a non-empty string"),
        ("context: x\nexclude: templates\n", "'exclude' must be a list of path patterns"),
        ("context: x\nstate:\n  name: x\n", "unknown key 'state.name'"),
        ("context: x\nstate:\n  namespace: ''\n", "'state.namespace' must be a non-empty"),
        ("context: x\nhistory:\n  keep: 0\n", "'history.keep' must be a whole number from 1"),
        ("context: x\nhistory:\n  keep: true\n", "'history.keep' must be a whole number"),
        ("context: x\nlock:\n  duration: 2\n", "'lock.duration' must be a whole number of"),
        ("context: x\nlock: 60\n", "'lock' must be a mapping"),
        ("context: x\npruneSafety:\n  maxPercent: 120\n",
         "'pruneSafety.maxPercent' must be a whole number from 0 to 100"),
        ("context: x\npruneSafety:\n  crds: true\n", "unknown key 'pruneSafety.crds'"),
        ("context: x\norphans:\n  ignore: ConfigMap/x\n", "'orphans.ignore' must be a list"),
        ("context: x\nkustomize:\n  loadRestrictor: off\n",
         "'kustomize.loadRestrictor' must be rootOnly or none"),
        ("context: x\nkustomize:\n  helm: true\n", "unknown key 'kustomize.helm'"),
        ("context: x\ncharts: {release: web}\n", "'charts' must be a list of mappings"),
        ("context: x\ncharts:\n- chart: ./web\n", "'charts[0].release' is required"),
        ("context: x\ncharts:\n- {release: Web_1, chart: ./web}\n",
         "'charts[0].release' must be a release name"),
        ("context: x\ncharts:\n- {release: web, chart: ./web, valus: {}}\n",
         "unknown key 'charts[0].valus'"),
        ("context: x\ncharts:\n- {release: web, chart: ./web, version: 1.0.0}\n",
         "'charts[0].version' applies only to a chart from 'repo' or oci://"),
        ("context: x\ncharts:\n- {release: web, chart: oci://r/web}\n",
         "'charts[0].version' is required for a chart from a repository or registry"),
        ("context: x\ncharts:\n- {release: web, chart: ./a}\n- {release: web, chart: ./b}\n",
         "two charts with release 'web' in the same namespace"),
        ("context: x\ncharts:\n- {release: web, chart: ./web, hooks: run}\n",
         "'charts[0].hooks' must be skip or apply"),
        ("context: x\nwait:\n  timeout: soon\n", "'wait.timeout' must be a duration"),
        ("context: x\nwait:\n  timeout: 48h\n", "'wait.timeout' must be a duration"),
        ("context: x\nwait:\n  enabled: yes please\n", "'wait.enabled' must be true or false"),
        ("- context\n", "must be a mapping of settings"),
        ("context: [x\n", "gitdeploy.yaml:1: not valid YAML"),
    ],
)
def test_settings_errors_name_key_and_file(repo: ConfigRepo, cli, content: str,
                                           message: str) -> None:
    repo.write("environments/prod/gitdeploy.yaml", content)
    result = cli("render", "prod")
    assert result.exit_code == 1
    assert "environments/prod/gitdeploy.yaml" in result.stderr
    assert message in result.stderr


def test_no_environments_folder(tmp_path, cli) -> None:
    result = cli("envs", cwd=tmp_path)
    assert result.exit_code == 1
    assert "no 'environments/' folder" in result.stderr


def test_envs_lists_an_environment_with_broken_settings_and_exits_1(repo: ConfigRepo,
                                                                   cli) -> None:
    repo.settings("dev", context="kind-dev", namespace="shop")
    repo.settings("prod", context="prod", namspace="shop")  # misspelt
    repo.settings("staging", context="kind-staging", namespace="shop")
    result = cli("envs")
    assert result.exit_code == 1
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    assert set(rows) == {"dev", "prod", "staging"}  # the others are listed all the same
    assert rows["prod"][-2:] == ["broken", "settings"]
    assert rows["dev"][1:3] == ["kind-dev", "shop"]
    assert result.stderr.splitlines()[0] == "error: 1 environment(s) with broken settings: prod"
    assert "environments/prod/gitdeploy.yaml" in result.stderr and "namspace" in result.stderr
    as_json = cli("envs", "-o", "json")
    assert as_json.exit_code == 1
    docs = json.loads(as_json.stdout)  # one document: the list, not a second Error document
    broken = {env["name"]: (env["broken"], env["error"]) for env in docs["environments"]}
    assert broken["dev"] == (False, None) and broken["prod"][0] is True
    assert "namspace" in broken["prod"][1]


def test_piped_tables_are_never_wrapped(repo: ConfigRepo, cli) -> None:
    server = "https://" + "a-very-long-api-server-name." * 4 + "example.com:6443"
    repo.settings("dev", context="kind-dev", namespace="shop", cluster={"server": server})
    [header, row] = cli("envs").stdout.splitlines()
    assert len(row) > 120 and server in row.split()
    assert header.split() == ["ENVIRONMENT", "CONTEXT", "NAMESPACE", "SERVER", "CLUSTER", "UID",
                              "FLAGS"]
