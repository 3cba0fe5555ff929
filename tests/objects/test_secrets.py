"""A canary Secret value never appears in any output: render, diff, apply, JSON, -v, errors."""

from __future__ import annotations

import base64

import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import Fault, TestApiServer

CANARY = "canary-Zx81-do-not-print"
CANARY_B64 = base64.b64encode(CANARY.encode()).decode()
NEW_CANARY = "canary-Qy27-rotated-value"


def assert_clean(text: str) -> None:
    for value in (CANARY, CANARY_B64, NEW_CANARY, base64.b64encode(NEW_CANARY.encode()).decode()):
        assert value not in text


@pytest.fixture
def dev(environment: MakeEnvironment) -> ConfigRepo:
    return environment(files={"secrets.yaml": [
        objects.secret("plain", {"password": CANARY}),
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "encoded"},
         "data": {"token": CANARY_B64}},
    ]})


def test_canary_absent_from_every_output(dev: ConfigRepo, cli) -> None:
    runs = [
        ("render", "dev"), ("render", "dev", "-o", "json"),
        ("diff", "dev", "-v"), ("diff", "dev", "-o", "json"),
        ("apply", "dev", "--yes", "-v"),
        ("diff", "dev"),
    ]
    for args in runs:
        result = cli(*args)
        assert result.exit_code == 0, (args, result.output)
        assert_clean(result.output)
    dev.write("environments/dev/secrets.yaml", [
        objects.secret("plain", {"password": NEW_CANARY}),
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "encoded"},
         "data": {"token": CANARY_B64, "extra": CANARY_B64}},
    ])
    dev.commit()
    for args in (("diff", "dev"), ("diff", "dev", "-o", "json"),
                 ("apply", "dev", "--yes", "-o", "json")):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.output)
        assert_clean(result.output)


def test_a_changed_value_shows_as_changed(dev: ConfigRepo, cli) -> None:
    assert cli("apply", "dev", "--yes").exit_code == 0
    dev.write("environments/dev/secrets.yaml", [
        objects.secret("plain", {"password": NEW_CANARY}),
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "encoded"},
         "data": {"token": CANARY_B64}},
    ])
    result = cli("diff", "dev")
    assert "-  password: '<masked: old value>'" in result.stdout
    assert "+  password: '<masked: new value>'" in result.stdout
    assert "update Secret default/plain" in result.stdout
    assert "Secret default/encoded" not in result.stdout  # unchanged


def test_canary_absent_from_errors(dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    api_server.inject(Fault(method="PATCH", path="/secrets/", status=500, dry_run=False))
    result = cli("apply", "dev", "--yes", "-v", "--retries", "1")
    assert result.exit_code == 1
    assert_clean(result.output)
