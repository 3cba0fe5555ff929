"""Cluster-scoped custom resources (ClusterIssuer, GatewayClass, ...) get no namespace in
`render` and the offline diff when their scope is known: from a CRD in the environment, or from
what a cluster has shown (discovery, `schemas pull`); an unknown scope is said, not guessed
silently."""

from __future__ import annotations

import json

from tests import manifests as objects
from tests.conftest import MakeEnvironment
from tests.kubeapi.server import TestApiServer

ISSUER = objects.custom("cert-manager.io", "ClusterIssuer", "letsencrypt", {"acme": {}})


def namespaces(cli) -> dict[str, str | None]:
    doc = json.loads(cli("render", "dev", "-o", "json").stdout)
    return {o["object"]["kind"]: o["object"]["metadata"].get("namespace")
            for o in doc["objects"]}


def test_an_unknown_scope_is_said(environment: MakeEnvironment, cli) -> None:
    environment([ISSUER, objects.configmap("settings", {})], namespace="shop")
    result = cli("render", "dev")
    assert result.exit_code == 0, result.output
    assert ("note: the scope of ClusterIssuer.cert-manager.io is unknown here (no CRD in the "
            "environment, and no cluster has shown it yet)") in result.stderr
    assert "ConfigMap" not in result.stderr.split("note:")[1]  # built-in kinds are known


def test_the_crd_in_the_environment_gives_the_scope(environment: MakeEnvironment,
                                                    cli) -> None:
    environment([objects.crd("cert-manager.io", "ClusterIssuer", "clusterissuers",
                             scope="Cluster"), ISSUER], namespace="shop")
    assert namespaces(cli)["ClusterIssuer"] is None
    assert "scope" not in cli("render", "dev").stderr


def test_a_scope_the_cluster_has_shown_is_kept_for_offline_commands(
        environment: MakeEnvironment, cli, api_server: TestApiServer) -> None:
    environment([objects.crd("cert-manager.io", "ClusterIssuer", "clusterissuers",
                             scope="Cluster")], name="crds")
    assert cli("apply", "crds", "--yes").exit_code == 0  # installed by another environment
    repo = environment([ISSUER], namespace="shop")
    assert namespaces(cli)["ClusterIssuer"] == "shop"  # not known yet: taken as namespaced
    assert cli("diff", "dev").exit_code == 0  # discovery shows the kind, and its scope
    assert namespaces(cli)["ClusterIssuer"] is None
    assert "scope" not in cli("render", "dev").stderr
    issuer = dict(ISSUER, spec={"acme": {"server": "https://acme.example.com"}})
    repo.write("environments/dev/app.yaml", [issuer])
    repo.commit("issuer changed")
    offline = json.loads(cli("diff", "dev", "--offline", "--base", "HEAD~1", "-o",
                             "json").stdout)
    [change] = [c for c in offline["changes"] if c["action"] != "unchanged"]
    assert (change["kind"], change["namespace"], change["action"]) == (
        "ClusterIssuer", "", "update")
