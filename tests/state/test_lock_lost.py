"""A lock lost while held: a deploy whose renewals fail past the lease's expiry stops starting
writes and says so (exit 1, the report and the record tell what was and was not applied); a
deploy that takes over an expired lock plans again under it, whatever the lease's
resourceVersion says (the holder that lost it may have written since)."""

from __future__ import annotations

import json
import signal
import time
from typing import Any

import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import Fault, TestApiServer
from tests.state.test_lock import LEASE, holder, put_lease, start, wait_for

CM0 = ("", "configmaps", "default", "cm-0")


@pytest.fixture
def dev(environment: MakeEnvironment) -> ConfigRepo:
    return environment([objects.configmap(f"cm-{n}", {"n": str(n)}) for n in range(8)],
                       lock={"duration": 5})


def test_a_deploy_that_takes_over_an_expired_lock_plans_again(
        dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    assert cli("apply", "dev", "--yes").exit_code == 0
    put_lease(api_server, "ghost@elsewhere pid 9", renewed_ago=0, duration=5)
    version = api_server.cluster.objects[LEASE]["metadata"]["resourceVersion"]
    start_at = len(api_server.requests)
    waiting = start(dev.root, "apply", "dev", "--yes", "--lock-timeout", "1m", "-o", "json")
    # the lease is read before the plan, then again while waiting for it: it planned
    wait_for(lambda: sum(r.method == "GET" and r.path.endswith("/gitdeploy-lock-dev")
                         for r in api_server.requests[start_at:]) >= 2)
    # the holder's deploy writes, then stops renewing (it froze, or lost its network)
    other = objects.configmap("cm-0", {"n": "from the other deploy"}, "default")
    api_server.cluster.apply(api_server.cluster.types[("", "configmaps")], "v1", "default",
                             "cm-0", other, "gitdeploy", True, False)
    assert api_server.cluster.objects[LEASE]["metadata"]["resourceVersion"] == version
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, err
    assert "took over the expired lock of ghost@elsewhere pid 9" in err
    assert "the cluster changed since the plan above was made" in err
    assert api_server.cluster.objects[CM0]["data"] == {"n": "0"}  # the plan made under it
    assert json.loads(out)["succeeded"] is True


def test_renewals_failing_past_the_expiry_stop_the_writes(
        dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    api_server.inject(Fault("PATCH", "/configmaps/cm-", delay=1.5, dry_run=False))
    api_server.inject(Fault("PUT", "/leases/gitdeploy-lock-dev", status=503))
    result = cli("apply", "dev", "--yes", "--concurrency", "1", "--retries", "1", "-o", "json")
    assert result.exit_code == 1, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    outcomes = [r["outcome"] for r in report["results"]]
    assert "not-attempted" in outcomes and outcomes[0] == "applied"
    assert any("was lost while this deploy held it" in p for p in report["problems"])
    assert report["record"]["outcome"] != "succeeded"
    written = [r for r in api_server.requests if r.method == "PATCH" and r.is_write
               and "/configmaps/cm-" in r.path]
    assert len(written) < 8  # no write started once the lock was lost
    assert holder(api_server)  # the release failed too (503): it expires on its own


@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_record_is_written_is_held_until_it_is(
        dev: ConfigRepo, api_server: TestApiServer, sent: signal.Signals) -> None:
    """Once every write is done, Ctrl-C or SIGTERM waits for the record and the lock's release:
    the command ends with 130 or 143, with its report and its record."""
    api_server.inject(Fault("POST", "/configmaps$", delay=2.0))  # the record, slowly
    process = start(dev.root, "apply", "dev", "--yes", "-o", "json")
    wait_for(lambda: any(r.method == "PATCH" and r.is_write and r.path.endswith("/cm-7")
                         for r in list(api_server.requests)))
    wait_for(lambda: any((r.method == "GET" and "gitdeploy.io%2Frecord" in str(r.query)) or (
        r.method == "GET" and "gitdeploy.io/record" in str(r.query))
        for r in list(api_server.requests)))  # the record is being written
    time.sleep(0.5)
    process.send_signal(sent)
    out, err = process.communicate(timeout=60)
    assert process.returncode == (130 if sent == signal.SIGINT else 143), err
    report = json.loads(out)  # the report, not an Error document
    assert report["kind"] == "ApplyResult"
    # the signal came once the record was built: the deploy is complete and says so; the
    # command stops there, before waiting
    assert {r["outcome"] for r in report["results"]} == {"applied"}  # nothing was cut short
    assert report["record"]["outcome"] == "succeeded" and report["interrupted"] is None
    assert report["readiness"]["interrupted"] is True
    assert "stopped waiting for dev: the apply is done and recorded" in err
    assert holder(api_server) == ""  # and the lock is given back
