"""The wrong-cluster guard: context, server and cluster fingerprint must all match, and a
refusal writes nothing."""

from __future__ import annotations

import pytest
import yaml

from tests import manifests as objects
from tests.conftest import ConfigRepo
from tests.kubeapi.server import TestApiServer


@pytest.fixture
def prod(repo: ConfigRepo, kubeconfig, api_server: TestApiServer) -> ConfigRepo:
    repo.write("environments/prod/app.yaml", [objects.namespace("shop"),
                                              objects.configmap("app", {"a": "1"})])
    repo.commit()
    return repo


def test_missing_context_is_refused(prod: ConfigRepo, cli, api_server: TestApiServer) -> None:
    prod.settings("prod", context="prod-eu", namespace="shop")
    prod.commit()
    result = cli("apply", "prod", "--yes")
    assert result.exit_code == 1
    assert "context 'prod-eu' is not in the kubeconfig" in result.stderr
    assert "contexts there: test, kind-dev, kind-staging, prod" in result.stderr
    assert api_server.requests == []


def test_wrong_server_is_refused_before_any_request(prod: ConfigRepo, cli,
                                                    api_server: TestApiServer) -> None:
    prod.settings("prod", context="prod", namespace="shop",
                  cluster={"server": "https://prod.example.com:6443"})
    prod.commit()
    result = cli("apply", "prod", "--yes")
    assert result.exit_code == 1
    assert "points at the wrong API server" in result.stderr
    assert "expected server: https://prod.example.com:6443" in result.stderr
    assert f"actual server:   {api_server.url}" in result.stderr
    assert api_server.requests == []


def test_wrong_cluster_uid_is_refused_with_nothing_written(prod: ConfigRepo, cli,
                                                           api_server: TestApiServer) -> None:
    prod.settings("prod", context="prod", namespace="shop",
                  cluster={"server": api_server.url, "uid": "1f7b0c2e-not-this-cluster"})
    prod.commit()
    result = cli("apply", "prod", "--yes")
    assert result.exit_code == 1
    assert "reaches a different cluster" in result.stderr
    assert "expected cluster uid: 1f7b0c2e-not-this-cluster" in result.stderr
    assert api_server.cluster.kube_system_uid() in result.stderr
    assert api_server.writes() == []
    assert [r.path for r in api_server.requests] == ["/api/v1/namespaces/kube-system"]


def test_matching_guards_pass_and_header_shows_the_target(prod: ConfigRepo, cli,
                                                          api_server: TestApiServer) -> None:
    uid = api_server.cluster.kube_system_uid()
    prod.settings("prod", context="prod", namespace="shop",
                  cluster={"server": api_server.url + "/", "uid": uid})
    commit = prod.commit()
    result = cli("diff", "prod")
    assert result.exit_code == 0, result.output
    for value in ("prod", api_server.url, uid, commit[:7]):
        assert value in result.stdout
    assert "(dirty)" not in result.stdout


def test_header_marks_a_dirty_tree(prod: ConfigRepo, cli) -> None:
    prod.settings("prod", context="prod", namespace="shop")
    prod.commit()
    prod.write("environments/prod/extra.yaml", objects.configmap("extra", {}))
    result = cli("diff", "prod")
    assert result.exit_code == 0, result.output
    assert "(dirty)" in result.stdout


def test_current_context_is_never_changed(prod: ConfigRepo, cli, kubeconfig) -> None:
    prod.settings("prod", context="prod", namespace="shop")
    prod.commit()
    before = kubeconfig.read_text()
    assert cli("apply", "prod", "--yes").exit_code == 0
    assert kubeconfig.read_text() == before
    assert yaml.safe_load(before)["current-context"] == "test"


def test_context_override_must_pass_the_guards(prod: ConfigRepo, cli, api_server: TestApiServer,
                                               tmp_path, monkeypatch) -> None:
    uid = api_server.cluster.kube_system_uid()
    prod.settings("prod", context="prod", namespace="shop", cluster={"uid": uid})
    prod.commit()
    with TestApiServer() as other:
        config = api_server.kubeconfig(tmp_path / "two", context="prod",
                                       extra_contexts={"other": other.url,
                                                       "same": api_server.url})
        monkeypatch.setenv("KUBECONFIG", str(config))
        refused = cli("apply", "prod", "--yes", "--context", "other")
        assert refused.exit_code == 1
        assert "reaches a different cluster" in refused.stderr
        assert other.writes() == []
    allowed = cli("diff", "prod", "--context", "same")
    assert allowed.exit_code == 0, allowed.output
    assert "same" in allowed.stdout


def test_context_override_without_guards_is_refused(prod: ConfigRepo, cli,
                                                    api_server: TestApiServer) -> None:
    prod.settings("prod", context="prod", namespace="shop")
    result = cli("diff", "prod", "--context", "test")
    assert result.exit_code == 1
    assert "sets no cluster guard" in result.stderr
    assert api_server.requests == []


def test_kubeconfig_option_and_missing_file(prod: ConfigRepo, cli, kubeconfig, tmp_path,
                                            monkeypatch) -> None:
    prod.settings("prod", context="prod", namespace="shop")
    monkeypatch.delenv("KUBECONFIG")
    missing = cli("diff", "prod")
    assert missing.exit_code == 1
    assert "no kubeconfig found" in missing.stderr
    assert cli("diff", "prod", "--kubeconfig", str(kubeconfig)).exit_code == 0
