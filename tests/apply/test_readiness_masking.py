"""What the cluster says while gitdeploy waits (conditions, messages, Warning events) may quote a
Secret's value, e.g. a container whose command line holds it; every such text is masked before
it reaches the live lines, the report, JSON or the CI summary."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests import manifests as objects
from tests.apply.test_readiness import job
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import TestApiServer

CANARY = "canary-7f3a9c-db-password"


@pytest.fixture
def dev(environment: MakeEnvironment) -> ConfigRepo:
    return environment()


def test_readiness_text_from_the_cluster_is_masked(dev: ConfigRepo, cli,
                                                    api_server: TestApiServer,
                                                    tmp_path: Path, monkeypatch) -> None:
    quoted = f"psql --password={CANARY} exited with 2"
    encoded = base64.b64encode(CANARY.encode()).decode()

    def failed(obj: dict[str, Any], elapsed: float) -> dict[str, Any]:
        return {"failed": 1, "conditions": [
            {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
             "message": f"Job has reached the specified backoff limit: {quoted}"}]}

    api_server.cluster.status_scripts[("batch", "jobs", "default", "migrate")] = failed
    api_server.cluster.record_event("default", {"kind": "Pod", "name": "migrate-x7k2p"},
                                    "BackOff", f"Back-off restarting failed container: {quoted}"
                                    f" ({encoded})")
    dev.write("environments/dev/app.yaml", [job("migrate"),
                                            objects.secret("db", {"password": CANARY})])
    dev.commit()
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    text = cli("apply", "dev", "--yes")
    assert text.exit_code == 4, text.output
    assert "condition Failed=True (BackoffLimitExceeded): Job has reached the specified " \
           "backoff limit: psql --password=" in text.stdout  # the message is there, masked
    assert "BackOff: Back-off restarting failed container: psql --password=" in text.stdout
    as_json = cli("apply", "dev", "--yes", "-o", "json")
    assert as_json.exit_code == 4, as_json.output
    [migrate] = [o for o in json.loads(as_json.stdout)["readiness"]["objects"]
                 if o["name"] == "migrate"]
    assert migrate["conditions"] and migrate["warningEvents"]
    for output in (text.stdout, text.stderr, as_json.stdout, as_json.stderr,
                   summary.read_text() if summary.exists() else ""):
        assert CANARY not in output and encoded not in output
