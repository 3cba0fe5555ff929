"""The registry client against a real registry on loopback: tag to digest through the manifest
HEAD request, anonymous and with Docker's credentials (basic auth)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from gitdeploy.objects.images import ImageRef
from gitdeploy.registry.client import RegistryClient, RegistryError, base_url
from gitdeploy.registry.credentials import Credentials, load_auths
from tests.registry.local import local_registry
from tests.registry.tokens import registry_config, token_service


def test_digest_of_a_pushed_tag(tmp_path: Path) -> None:
    with local_registry(tmp_path) as registry:
        pushed = registry.push("acme/web", "1.5.0")
        lines: list[str] = []
        client = RegistryClient({}, log=lines.append)
        assert client.digest(ImageRef.parse(f"{registry.host}/acme/web:1.5.0")) == pushed
        with pytest.raises(RegistryError, match="has no such tag"):
            client.digest(ImageRef.parse(f"{registry.host}/acme/web:9.9.9"))
    assert lines[0].startswith(f"HEAD http://{registry.host}/v2/acme/web/manifests/1.5.0 200")


def test_basic_auth_from_docker_config(tmp_path: Path, monkeypatch) -> None:
    with local_registry(tmp_path, user="robot", password="registry-pass-42") as registry:
        pushed = registry.push("acme/api", "2.0")
        config = tmp_path / "docker"
        config.mkdir()
        (config / "config.json").write_text(json.dumps({"auths": {registry.host: {
            "auth": base64.b64encode(b"robot:registry-pass-42").decode()}}}))
        monkeypatch.setenv("DOCKER_CONFIG", str(config))
        auths = load_auths()
        assert auths[registry.host] == Credentials("robot", "registry-pass-42")
        lines: list[str] = []
        image = ImageRef.parse(f"{registry.host}/acme/api:2.0")
        assert RegistryClient(auths, log=lines.append).digest(image) == pushed
        with pytest.raises(RegistryError, match="answered 401") as refused:
            RegistryClient({}, log=lines.append).digest(image)
        assert "docker login" in str(refused.value)
    assert not any("registry-pass-42" in line for line in lines)


def test_loopback_registries_over_http_others_over_https() -> None:
    assert base_url("127.0.0.1:5000") == "http://127.0.0.1:5000"
    assert base_url("localhost:5000") == "http://localhost:5000"
    assert base_url("ghcr.io") == "https://ghcr.io"
    assert base_url("docker.io") == "https://registry-1.docker.io"
    assert ImageRef.parse("redis:7").path == "library/redis"
    assert ImageRef.parse("ghcr.io/acme/web:1").registry == "ghcr.io"


def test_bearer_token_flow_with_docker_credentials(tmp_path: Path, monkeypatch) -> None:
    with token_service(tmp_path, "ci-bot", "token-pass-7") as tokens, local_registry(
            tmp_path, extra=registry_config(tokens, tmp_path)) as registry:
        registry.auth_header = {"Authorization": "Bearer " + tokens.token(
            "repository:acme/web:pull,push")}
        pushed = registry.push("acme/web", "3.1")
        config = tmp_path / "docker"
        config.mkdir()
        (config / "config.json").write_text(json.dumps({"auths": {f"http://{registry.host}": {
            "username": "ci-bot", "password": "token-pass-7"}}}))
        monkeypatch.setenv("DOCKER_CONFIG", str(config))
        lines: list[str] = []
        client = RegistryClient(load_auths(), log=lines.append)
        image = ImageRef.parse(f"{registry.host}/acme/web:3.1")
        assert client.digest(image) == pushed
        assert client.digest(image) == pushed  # the token is reused
        assert [r["query"] for r in tokens.requests] == [
            {"service": "local-registry", "scope": "repository:acme/web:pull"}]
        assert tokens.requests[0]["authorized"]
    assert [line.split(" ")[:3] for line in lines] == [
        ["HEAD", f"http://{registry.host}/v2/acme/web/manifests/3.1", "401"],
        ["GET", tokens.url, "200"],
        ["HEAD", f"http://{registry.host}/v2/acme/web/manifests/3.1", "200"],
        ["HEAD", f"http://{registry.host}/v2/acme/web/manifests/3.1", "200"]]
    assert not any("token-pass-7" in line for line in lines)


def test_credentials_from_a_credential_helper(tmp_path: Path, monkeypatch) -> None:
    """credHelpers and credsStore: the helper program Docker would run, run the same way
    (`docker-credential-NAME get`, the registry on standard input, JSON out)."""
    with local_registry(tmp_path, user="robot", password="helper-pass-77") as registry:
        pushed = registry.push("acme/api", "2.0")
        helpers = tmp_path / "bin"
        helpers.mkdir()
        asked = tmp_path / "asked"
        helper = helpers / "docker-credential-vault"
        helper.write_text("#!/bin/sh\n"
                          f"[ \"$1\" = get ] || exit 1\nread server\necho \"$server\" >> {asked}\n"
                          f"[ \"$server\" = \"{registry.host}\" ] || exit 1\n"
                          "echo '{\"ServerURL\": \"'$server'\", \"Username\": \"robot\", "
                          "\"Secret\": \"helper-pass-77\"}'\n")
        helper.chmod(0o755)
        monkeypatch.setenv("PATH", f"{helpers}:{os.environ['PATH']}")
        config = tmp_path / "docker"
        config.mkdir()
        for settings in ({"credHelpers": {registry.host: "vault"}}, {"credsStore": "vault"}):
            (config / "config.json").write_text(json.dumps(settings))
            monkeypatch.setenv("DOCKER_CONFIG", str(config))
            lines: list[str] = []
            client = RegistryClient(load_auths(), log=lines.append)
            image = ImageRef.parse(f"{registry.host}/acme/api:2.0")
            assert client.digest(image) == pushed
            assert client.digest(image) == pushed  # the helper is asked once per registry
            assert not any("helper-pass-77" in line for line in lines)
        assert asked.read_text().splitlines() == [registry.host, registry.host]
        (config / "config.json").write_text(json.dumps({"credsStore": "missing"}))
        with pytest.raises(RegistryError, match="answered 401"):  # no such helper: anonymous
            RegistryClient(load_auths(), log=lines.append).digest(
                ImageRef.parse(f"{registry.host}/acme/api:2.0"))
