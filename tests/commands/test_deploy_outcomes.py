"""Whatever stops a deploy, it plans against the cluster as it is under the lock, and reports
and records the truth: signals, a record that cannot be written, a lock that cannot be given
back, a stale lock."""

from __future__ import annotations

import json
import signal
import socket
import subprocess

import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import Fault, TestApiServer
from tests.state.test_lock import LEASE, holder, put_lease, start, wait_for

CMS = [("", "configmaps", "default", f"cm-{n}") for n in range(4)]


@pytest.fixture
def dev(environment: MakeEnvironment) -> ConfigRepo:
    return environment([objects.configmap(f"cm-{n}", {"v": "0"}) for n in range(4)],
                       lock={"duration": 5})


def git(repo: ConfigRepo, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo.root, check=True, capture_output=True,
                          text=True).stdout.strip()


def values(api_server: TestApiServer) -> list[str]:
    return [api_server.cluster.objects[key]["data"]["v"] for key in CMS]


def records(api_server: TestApiServer) -> list[dict[str, str]]:
    found = [obj for key, obj in sorted(api_server.cluster.objects.items())
             if key[3].startswith("gitdeploy-record-")]
    return [obj["data"] for obj in found]


def test_a_deploy_that_waited_for_the_lock_plans_against_the_first_ones_result(
        dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    assert cli("apply", "dev", "--yes").exit_code == 0
    before = git(dev, "rev-parse", "HEAD")
    dev.write("environments/dev/app.yaml", [objects.configmap(f"cm-{n}", {"v": "1"})
                                            for n in range(4)])
    dev.commit("v1")
    api_server.inject(Fault("PATCH", "/configmaps/cm-", delay=0.5, dry_run=False))
    first = start(dev.root, "apply", "dev", "--yes")
    wait_for(lambda: bool(holder(api_server)))
    # The second deploys the earlier commit: planned before the first one's writes, it
    # would find nothing to do and record that commit as live over the first one's objects.
    second = cli("apply", "dev", "--yes", "--ref", before, "--lock-timeout", "1m")
    _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert second.exit_code == 0, second.output
    assert "waiting for the lock held by" in second.stderr
    assert "update ConfigMap default/cm-0" in second.stdout
    assert values(api_server) == ["0", "0", "0", "0"]
    newest = records(api_server)[-1]
    assert (newest["commit"], newest["outcome"]) == (before, "succeeded")


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_apply_which_reports_records_and_releases_the_lock(
        dev: ConfigRepo, api_server: TestApiServer, sig: signal.Signals, code: int) -> None:
    api_server.inject(Fault("PATCH", "/configmaps/cm-", delay=1.0, dry_run=False))
    apply = start(dev.root, "apply", "dev", "--yes", "--concurrency", "1", "-o", "json")
    wait_for(lambda: any(r.path.endswith("/cm-0") and not r.dry_run
                         for r in api_server.writes()))
    apply.send_signal(sig)
    out, err = apply.communicate(timeout=60)
    assert apply.returncode == code, err
    assert f"interrupted by {sig.name}" in err
    report = json.loads(out)
    outcomes = [r["outcome"] for r in report["results"]]
    assert outcomes[0] == "applied" and "not-attempted" in outcomes
    written = [r.path.rsplit("/", 1)[1] for r in api_server.writes()
               if "/configmaps/cm-" in r.path]
    assert len(written) == outcomes.count("applied")
    (record,) = records(api_server)
    assert record["outcome"] == "interrupted"
    assert record["applied"].splitlines() == [f"ConfigMap default/{name}" for name in written]
    assert holder(api_server) == ""


def test_a_record_that_cannot_be_written_is_reported(dev: ConfigRepo, cli,
                                                     api_server: TestApiServer) -> None:
    api_server.inject(Fault("POST", "/configmaps$", status=503))
    result = cli("apply", "dev", "--yes", "-o", "json", "--retries", "1")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert [r["outcome"] for r in report["results"]] == ["applied"] * 4
    assert "the objects were applied, but not everything after" in result.stderr
    assert "the deploy record could not be written" in result.stderr
    assert values(api_server) == ["0", "0", "0", "0"]
    assert records(api_server) == []
    assert holder(api_server) == ""


def test_a_lock_that_cannot_be_released_fails_the_apply(dev: ConfigRepo, cli,
                                                        api_server: TestApiServer) -> None:
    api_server.inject(Fault("PUT", "/leases/", status=503))
    result = cli("apply", "dev", "--yes", "--retries", "1")
    assert result.exit_code == 1
    assert "the lock could not be released" in result.stderr
    assert "gitdeploy unlock dev" in result.stderr
    assert records(api_server)[0]["outcome"] == "succeeded"


def test_a_lock_held_by_a_process_of_this_machine_that_is_gone_is_stale(
        dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    put_lease(api_server, f"someone@{socket.gethostname()} pid {gone.pid}", renewed_ago=1)
    result = cli("apply", "dev", "--yes")
    assert result.exit_code == 1
    assert "a process of this machine that no longer runs: the lock is stale" in result.stderr
    assert "gitdeploy unlock dev" in result.stderr
    assert api_server.writes() == []
    assert api_server.cluster.objects[LEASE]["spec"]["holderIdentity"].startswith("someone@")
