"""Building a client from a kubeconfig context (kube/kubeconfig.py)."""

from __future__ import annotations

from pathlib import Path

import yaml

from gitdeploy.kube.kubeconfig import load_context
from tests.kubeapi.server import TestApiServer

EXEC = {"apiVersion": "client.authentication.k8s.io/v1", "command": "print-token",
        "interactiveMode": "Never"}


def _kubeconfig(path: Path, server: str) -> Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "static",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "contexts": [{"name": "static", "context": {"cluster": "c", "user": "token"}},
                     {"name": "plugin", "context": {"cluster": "c", "user": "exec"}}],
        "users": [{"name": "token", "user": {"token": "admin-token"}},
                  {"name": "exec", "user": {"exec": EXEC}}]}))
    return path


def test_a_static_token_is_not_reloaded_before_every_request(tmp_path: Path) -> None:
    with TestApiServer() as server:
        _, api = load_context(str(_kubeconfig(tmp_path / "config", server.url)), "static",
                              timeout=5, pool_size=4)
        assert api.configuration.refresh_api_key_hook is None
        assert api.configuration.api_key["BearerToken"] == "Bearer admin-token"
        response = api.call_api(*api.param_serialize(
            method="GET", resource_path="/api/v1/namespaces/default",
            header_params={"Accept": "application/json"}, auth_settings=["BearerToken"])[:4])
        assert response.status == 200


def test_credentials_that_expire_keep_the_clients_renewal(tmp_path: Path) -> None:
    kubeconfig = _kubeconfig(tmp_path / "config", "https://127.0.0.1:1")
    plugin = tmp_path / "print-token"
    plugin.write_text("#!/bin/sh\necho '{\"apiVersion\": \"client.authentication.k8s.io/v1\","
                      " \"kind\": \"ExecCredential\", \"status\": {\"token\": \"t\","
                      " \"expirationTimestamp\": \"2099-01-01T00:00:00Z\"}}'\n")
    plugin.chmod(0o755)
    data = yaml.safe_load(kubeconfig.read_text())
    data["users"][1]["user"]["exec"]["command"] = str(plugin)
    kubeconfig.write_text(yaml.safe_dump(data))
    _, api = load_context(str(kubeconfig), "plugin", timeout=5, pool_size=4)
    assert api.configuration.refresh_api_key_hook is not None
