"""The deploy lock (a Lease per environment) and the freeze switch, through the CLI."""

from __future__ import annotations

import datetime
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import Fault, TestApiServer

LEASE = ("coordination.k8s.io", "leases", "default", "gitdeploy-lock-dev")


@pytest.fixture
def dev(environment: MakeEnvironment) -> ConfigRepo:
    return environment([objects.configmap(f"cm-{n}", {"n": str(n)}) for n in range(4)],
                       lock={"duration": 5})


def slow_writes(api_server: TestApiServer, delay: float) -> None:
    api_server.inject(Fault("PATCH", "/configmaps/cm-", delay=delay, dry_run=False))


def start(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "gitdeploy", *args], cwd=root, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def holder(api_server: TestApiServer) -> str:
    lease = api_server.cluster.objects.get(LEASE)
    return ((lease or {}).get("spec") or {}).get("holderIdentity") or ""


def micro(at: datetime.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def shown(micro_time: str) -> str:
    """A Lease time as gitdeploy shows it: UTC, to the second."""
    at = datetime.datetime.strptime(micro_time, "%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{at:%Y-%m-%d %H:%M:%S} UTC"


def locked_error(who: str, since: str, duration: int) -> str:
    return (f"error: dev is locked by {who} since {since}\n"
            "  another deploy holds Lease default/gitdeploy-lock-dev\n"
            "  wait for it to finish, or pass --lock-timeout 10m to wait for it\n"
            f"  the lock expires {duration}s after its last renewal; if its holder is gone for "
            "good: gitdeploy unlock dev\n")


NO_DRIFT: dict[str, Any] = {"checked": True, "drifted": False, "note": None, "changes": []}
NOTHING_DEPLOYED: dict[str, Any] = {"checked": False, "drifted": None,
                                    "note": "nothing deployed yet", "changes": []}


def status(cli, *args: str) -> dict[str, Any]:
    result = cli("status", "dev", "-o", "json", *args)
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def put_lease(api_server: TestApiServer, who: str, renewed_ago: float, duration: int = 60
              ) -> None:
    renewed = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=renewed_ago)
    api_server.cluster.objects[LEASE] = {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": LEASE[3], "namespace": "default", "uid": "lease-uid",
                     "resourceVersion": "1", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"holderIdentity": who, "leaseDurationSeconds": duration,
                 "acquireTime": micro(renewed - datetime.timedelta(minutes=5)),
                 "renewTime": micro(renewed), "leaseTransitions": 3}}


def test_a_second_apply_is_refused_while_the_first_holds_the_lock(
        dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    slow_writes(api_server, 0.6)
    first = start(dev.root, "apply", "dev", "--yes")
    wait_for(lambda: bool(holder(api_server)))
    lease = api_server.cluster.objects[LEASE]
    assert lease["metadata"]["labels"]["gitdeploy.io/environment"] == "dev"
    who = holder(api_server)
    assert who.endswith(f" pid {first.pid}")
    since = shown(lease["spec"]["acquireTime"])
    writes_before = [r.path for r in api_server.writes()]
    second = cli("apply", "dev", "--yes")
    assert second.exit_code == 1
    assert second.stderr == locked_error(who, since, 5)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    # Every object was written once, all by the first apply.
    paths = [r.path for r in api_server.writes()]
    assert sorted(paths) == sorted(f"/api/v1/namespaces/default/configmaps/cm-{n}"
                                   for n in range(4))
    assert set(writes_before) <= set(paths)
    assert holder(api_server) == ""  # released at the end
    records = [k for k in api_server.cluster.objects if k[3].startswith("gitdeploy-record-")]
    assert len(records) == 1
    after = status(cli)
    assert (after["drift"], after["lock"], after["live"]["sequence"]) == (NO_DRIFT, None, 1)


def test_lock_timeout_waits_for_the_holder(dev: ConfigRepo, cli,
                                           api_server: TestApiServer) -> None:
    slow_writes(api_server, 0.5)
    first = start(dev.root, "apply", "dev", "--yes")
    wait_for(lambda: bool(holder(api_server)))
    who = holder(api_server)
    since = shown(api_server.cluster.objects[LEASE]["spec"]["acquireTime"])
    second = cli("apply", "dev", "--yes", "--lock-timeout", "1m")
    assert second.exit_code == 0, second.output
    assert second.stderr.splitlines()[0] == f"waiting for the lock held by {who} since {since}"
    first.communicate(timeout=60)
    assert first.returncode == 0
    history = json.loads(cli("history", "dev", "-o", "json").stdout)["records"]
    assert len(history) == 2
    after = status(cli)
    assert (after["drift"], after["lock"], after["live"]["sequence"]) == (NO_DRIFT, None, 2)


def test_the_lock_is_renewed_during_a_long_apply(dev: ConfigRepo, cli,
                                                 api_server: TestApiServer) -> None:
    slow_writes(api_server, 2.5)  # 4 objects, 8 at a time: one slow round longer than 5s/3
    api_server.inject(Fault("PATCH", "/configmaps/cm-0", delay=4.0, dry_run=False))
    first = start(dev.root, "apply", "dev", "--yes")
    wait_for(lambda: bool(holder(api_server)))
    renewed = api_server.cluster.objects[LEASE]["spec"]["renewTime"]
    wait_for(lambda: api_server.cluster.objects[LEASE]["spec"].get("renewTime", renewed)
             != renewed, timeout=20)
    spec = api_server.cluster.objects[LEASE]["spec"]
    assert spec["holderIdentity"] and spec["acquireTime"] != spec["renewTime"]
    first.communicate(timeout=60)
    assert first.returncode == 0


def test_an_expired_lease_is_taken_over(dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    put_lease(api_server, "ghost@gone pid 1", renewed_ago=120, duration=60)
    stale = api_server.cluster.objects[LEASE]["spec"]
    before = status(cli)
    assert (before["drift"], before["lock"]["holder"]) == (NOTHING_DEPLOYED, "ghost@gone pid 1")
    result = cli("apply", "dev", "--yes")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        f"took over the expired lock of ghost@gone pid 1 (held since "
        f"{shown(stale['acquireTime'])}, last renewed {shown(stale['renewTime'])})")
    spec = api_server.cluster.objects[LEASE]["spec"]
    assert spec["leaseTransitions"] == 4
    assert "holderIdentity" not in spec
    after = status(cli)
    assert (after["drift"], after["lock"]) == (NO_DRIFT, None)


def test_a_live_lease_of_someone_else_is_respected(dev: ConfigRepo, cli,
                                                   api_server: TestApiServer) -> None:
    put_lease(api_server, "alice@laptop pid 7", renewed_ago=5, duration=60)
    since = shown(api_server.cluster.objects[LEASE]["spec"]["acquireTime"])
    result = cli("apply", "dev", "--yes")
    assert result.exit_code == 1
    assert result.stderr == locked_error("alice@laptop pid 7", since, 60)
    assert api_server.writes() == []
    held = status(cli)
    assert held["drift"] == NOTHING_DEPLOYED  # the refused apply deployed nothing
    assert held["lock"]["holder"] == "alice@laptop pid 7"
    skipped = status(cli, "--no-diff")
    assert skipped["drift"] == {"checked": False, "drifted": None, "note": "nothing deployed yet",
                                "changes": []}
    assert skipped["lock"] == held["lock"]
    text = [line.rstrip() for line in cli("status", "dev", "--no-diff").stdout.splitlines()]
    assert text[-2:] == ["drift        nothing deployed yet",
                         f"lock         held by alice@laptop pid 7 since {since}"]


def test_unlock_clears_a_stuck_lock_after_confirmation(dev: ConfigRepo, cli,
                                                       api_server: TestApiServer) -> None:
    put_lease(api_server, "alice@laptop pid 7", renewed_ago=1, duration=3600)
    refused = cli("unlock", "dev")
    assert refused.exit_code == 1
    assert refused.stderr == ("error: not unlocking dev: no terminal to confirm on\n"
                              "  check that the holder is gone, then run again with --yes\n")
    assert holder(api_server) == "alice@laptop pid 7"
    result = cli("unlock", "dev", "--yes")
    assert result.exit_code == 0, result.output
    assert result.stderr == "Released the lock of dev held by alice@laptop pid 7.\n"
    assert holder(api_server) == ""
    assert status(cli)["drift"] == NOTHING_DEPLOYED  # unlocking deploys nothing
    again = cli("unlock", "dev", "--yes")
    assert (again.exit_code, again.stderr) == (0, "dev is not locked.\n")
    assert cli("apply", "dev", "--yes").exit_code == 0
    after = status(cli)
    assert (after["drift"], after["lock"]) == (NO_DRIFT, None)


def test_ctrl_c_releases_the_lock(dev: ConfigRepo, api_server: TestApiServer) -> None:
    slow_writes(api_server, 3)
    process = start(dev.root, "apply", "dev", "--yes")
    wait_for(lambda: bool(holder(api_server)))
    # the ApplySet parent is written just before the objects: once it is, the ConfigMap
    # writes are on their way (each held 3 s by the server)
    wait_for(lambda: any(r.method == "PATCH" and not r.dry_run
                         and r.path.endswith("/configmaps/gitdeploy-applyset-dev")
                         for r in list(api_server.requests)))
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted" in err
    assert holder(api_server) == ""


@pytest.mark.parametrize("setting, shown", [
    (True, "suspend is set in environments/dev/gitdeploy.yaml"),
    ("release freeze until Monday", "suspend is set in environments/dev/gitdeploy.yaml: "
                                    "release freeze until Monday"),
])
def test_suspend_refuses_apply_and_rollback_with_the_reason(
        dev: ConfigRepo, cli, api_server: TestApiServer, setting: object, shown: str) -> None:
    assert cli("apply", "dev", "--yes").exit_code == 0
    dev.settings("dev", context="kind-dev", namespace="default", suspend=setting)
    dev.commit("freeze")
    writes = len(api_server.writes(state=True))
    for args in (("apply", "dev", "--yes"), ("rollback", "dev", "--to", "1", "--yes")):
        result = cli(*args)
        assert result.exit_code == 1, result.output
        assert result.stderr == (
            f"error: {args[0]} to dev refused: deployments are suspended\n  {shown}\n"
            "  diff and status still work; lift the suspension in git to deploy again "
            "(docs/configuration.md)\n")
    assert len(api_server.writes(state=True)) == writes
    assert cli("diff", "dev").exit_code == 0
    assert cli("status", "dev").exit_code == 0


def test_freeze_file_stops_every_environment_even_for_an_older_ref(
        dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    dev.settings("beta", context="kind-dev", namespace="beta")
    dev.commit("beta")
    old = dev.commit("before the freeze")
    dev.write("environments/FREEZE", "incident 4711: no deploys\n")
    dev.commit("freeze everything")
    frozen = ("error: apply to {env} refused: deployments are suspended\n"
              "  environments/FREEZE exists in the work tree: incident 4711: no deploys\n"
              "  diff and status still work; lift the suspension in git to deploy again "
              "(docs/configuration.md)\n")
    for env in ("dev", "beta"):
        result = cli("apply", env, "--yes")
        assert result.exit_code == 1
        assert result.stderr == frozen.format(env=env)
    old_ref = cli("apply", "dev", "--yes", "--ref", old)
    assert old_ref.exit_code == 1
    assert old_ref.stderr == frozen.format(env="dev")
    assert api_server.writes(state=True) == []
    assert cli("diff", "dev").exit_code == 0
    (dev.root / "environments/FREEZE").unlink()
    dev.commit("thaw")
    assert cli("apply", "dev", "--yes").exit_code == 0


def test_a_bad_lock_timeout_is_an_error(dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    result = cli("apply", "dev", "--yes", "--lock-timeout", "soon")
    assert result.exit_code == 1
    assert result.stderr == ("error: --lock-timeout: 'soon' is not a duration (examples: 30s, "
                             "5m, 1h)\n")
    assert api_server.requests == []
