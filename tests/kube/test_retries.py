"""Requests that fail in a way that passes are retried, within bounds, and shown with -v."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable

import pytest

from gitdeploy.errors import KubeError
from gitdeploy.kube.retries import (
    MAX_RETRY_AFTER,
    RetryPolicy,
    TransientError,
    retry_after_seconds,
    run_with_retries,
)
from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import Fault, TestApiServer

FAST = RetryPolicy(attempts=4, max_time=10, initial_wait=0.01, max_wait=0.02)


@pytest.fixture
def dev(environment: MakeEnvironment) -> ConfigRepo:
    return environment([objects.configmap("settings", {"a": "1"})])


def test_retry_after_in_seconds_and_as_a_date() -> None:
    now = datetime.datetime(2026, 12, 3, 12, 0, 0, tzinfo=datetime.UTC)
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("Thu, 03 Dec 2026 12:00:07 GMT", now) == 7.0
    assert retry_after_seconds("3600") == MAX_RETRY_AFTER
    assert retry_after_seconds("Thu, 03 Dec 2026 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def _flaky(failures: int, error: Exception) -> tuple[list[int], Callable[[], str]]:
    calls = [0]

    def attempt() -> str:
        calls[0] += 1
        if calls[0] <= failures:
            raise error
        return "done"
    return calls, attempt


def test_a_transient_failure_is_retried_and_shown() -> None:
    calls, attempt = _flaky(2, TransientError("503 ServiceUnavailable"))
    shown: list[str] = []
    assert run_with_retries(FAST, attempt, describe="GET /x", log=shown.append) == "done"
    assert calls[0] == 3
    assert [line.split(";")[1].split(" in ")[0] for line in shown] == [
        " attempt 2 of 4", " attempt 3 of 4"]
    assert all(line.startswith("GET /x: 503 ServiceUnavailable") for line in shown)


def test_attempts_are_bounded_and_the_last_failure_says_so() -> None:
    calls, attempt = _flaky(10, TransientError("503 ServiceUnavailable"))
    with pytest.raises(TransientError) as raised:
        run_with_retries(FAST, attempt, describe="GET /x", log=None)
    assert calls[0] == 4
    assert raised.value.details[0].startswith("still failing after 4 attempts over ")


def test_total_time_is_bounded() -> None:
    calls, attempt = _flaky(100, TransientError("429 TooManyRequests"))
    policy = RetryPolicy(attempts=100, max_time=0.3, initial_wait=0.05, max_wait=0.05)
    started = time.monotonic()
    with pytest.raises(TransientError):
        run_with_retries(policy, attempt, describe="GET /x", log=None)
    assert time.monotonic() - started < 1.0
    assert 2 <= calls[0] < 100


def test_the_servers_retry_after_is_honoured() -> None:
    error = TransientError("429 TooManyRequests")
    error.retry_after = 0.3
    _, attempt = _flaky(1, error)
    started = time.monotonic()
    assert run_with_retries(FAST, attempt, describe="GET /x", log=None) == "done"
    assert time.monotonic() - started >= 0.3


def test_other_failures_are_not_retried() -> None:
    calls, attempt = _flaky(1, KubeError("403 Forbidden"))
    with pytest.raises(KubeError):
        run_with_retries(FAST, attempt, describe="GET /x", log=None)
    assert calls[0] == 1


def test_an_interrupted_deploy_starts_no_further_attempt() -> None:
    import threading
    stopping = threading.Event()
    stopping.set()
    calls, attempt = _flaky(5, TransientError("503 ServiceUnavailable"))
    with pytest.raises(TransientError):
        run_with_retries(FAST, attempt, describe="GET /x", log=None, stopping=stopping)
    assert calls[0] == 1


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_apply_succeeds_through_transient_server_errors(dev: ConfigRepo, cli,
                                                        api_server: TestApiServer,
                                                        status: int) -> None:
    api_server.inject(Fault(method="PATCH", path="/configmaps/settings", status=status,
                            times=2, dry_run=False))
    api_server.inject(Fault(method="PATCH", path="/configmaps/settings", status=status,
                            times=1, dry_run=True))
    result = cli("apply", "dev", "--yes", "-v")
    assert result.exit_code == 0, result.output
    retried = [line for line in result.stderr.splitlines() if "attempt 2 of 5" in line]
    assert len(retried) == 2, result.stderr  # the dry run and the apply
    assert api_server.cluster.objects[("", "configmaps", "default", "settings")]["data"] == {
        "a": "1"}


def test_an_invalid_object_is_not_retried(dev: ConfigRepo, cli,
                                          api_server: TestApiServer) -> None:
    dev.write("environments/dev/bad.yaml",
              "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  typo: 1\n")
    dev.commit()
    result = cli("apply", "dev", "--yes", "-v")
    assert result.exit_code == 1
    dry_runs = [r for r in api_server.requests
                if r.method == "PATCH" and r.path.endswith("/configmaps/bad")]
    assert len(dry_runs) == 1
    assert "attempt 2" not in result.stderr


def test_retries_zero_turns_them_off(dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    api_server.inject(Fault(method="PATCH", path="/configmaps/settings", status=503, times=1,
                            dry_run=True))
    result = cli("diff", "dev", "--retries", "0")
    assert result.exit_code == 1
    assert "503" in result.stderr


def test_retries_from_the_settings(environment: MakeEnvironment, cli,
                                   api_server: TestApiServer) -> None:
    environment([objects.configmap("settings", {"a": "1"})], retries={"max": 0})
    api_server.inject(Fault(method="PATCH", path="/configmaps/settings", status=503, times=1,
                            dry_run=True))
    assert cli("diff", "dev").exit_code == 1
    api_server.inject(Fault(method="PATCH", path="/configmaps/settings", status=503, times=1,
                            dry_run=True))
    assert cli("diff", "dev", "--retries", "1").exit_code == 0
