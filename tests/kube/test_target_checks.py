"""What the wrong-cluster guard finds at the other end: a server that is not a Kubernetes API
server is named as such, with what answered, rather than every object looking like an unknown
kind; a context that skips TLS verification is said once per command, not per request."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import yaml

from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import TestApiServer
from tests.local_http import serving
from tests.tls import HttpsFront, https_front


class _WebPage(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        body = b"<html><body>Welcome to the intranet</body></html>"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _NotFound(_WebPage):
    status = 404


@pytest.fixture(params=[_WebPage, _NotFound], ids=["web-page", "not-found"])
def web_server(request: pytest.FixtureRequest) -> Iterator[str]:
    with serving(request.param) as url:
        yield url


def kubeconfig(path: Path, server: str, **cluster: object) -> Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "kind-dev",
        "clusters": [{"name": "c", "cluster": {"server": server, **cluster}}],
        "contexts": [{"name": "kind-dev", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "admin-token"}}]}))
    return path


@pytest.fixture
def dev(environment: MakeEnvironment) -> ConfigRepo:
    return environment([objects.configmap("settings", {"v": "1"})])


def test_a_server_that_is_not_kubernetes_is_named(dev: ConfigRepo, cli, web_server: str,
                                                  tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "kubeconfig", web_server)))
    for args in (("diff", "dev"), ("apply", "dev", "--yes"), ("status", "dev")):
        result = cli(*args)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(f"error: {web_server} is not a Kubernetes API server "
                                        "(GET /api answered "), result.stderr
        assert "kubectl config view --minify" in result.stderr
        assert "unknown kind" not in result.stderr and "CustomResourceDefinition" not in (
            result.stderr)


@pytest.fixture
def front(api_server: TestApiServer) -> Iterator[HttpsFront]:
    """The test API server behind HTTPS, with a certificate of an authority made for the test."""
    with https_front(api_server.url) as front:
        yield front


def test_insecure_skip_tls_verify_is_said_once(dev: ConfigRepo, cli, front: HttpsFront,
                                              tmp_path: Path, monkeypatch) -> None:
    insecure = front.kubeconfig(tmp_path / "kubeconfig", context="kind-dev", verify=False)
    monkeypatch.setenv("KUBECONFIG", str(insecure))
    result = cli("diff", "dev")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "TLS" in line or "nsecure" in line]
    assert warnings == ["warning: context 'kind-dev' does not verify the API server's TLS "
                        "certificate (insecure-skip-tls-verify in the kubeconfig)"]
    verified = front.kubeconfig(tmp_path / "verified", context="kind-dev")
    monkeypatch.setenv("KUBECONFIG", str(verified))
    trusted = cli("diff", "dev")  # the authority in the kubeconfig: no warning
    assert trusted.exit_code == 0, trusted.output
    assert "TLS" not in trusted.stderr
    (tmp_path / "untrusted").write_text(verified.read_text().replace(
        "certificate-authority-data", "unused-data"))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "untrusted"))
    refused = cli("diff", "dev")  # an unknown authority is refused
    assert refused.exit_code == 1 and "certificate" in refused.stderr.lower()
