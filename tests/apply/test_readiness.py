"""Waiting for readiness after apply, against the test API server whose simulated controllers
roll workloads out over time: ready, slow, failing and timed out; the live table on a terminal
and plain lines in CI; Ctrl-C; and the readiness rule of each kind."""

from __future__ import annotations

import json
import re
import signal
import time
from typing import Any

import pytest

from gitdeploy.apply.readiness import assess
from gitdeploy.results import State
from tests import manifests as objects
from tests.cli.test_confirm import run_in_terminal
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import TestApiServer
from tests.state.test_lock import start, wait_for


def job(name: str) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"backoffLimit": 0, "template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "main", "image": "busybox:1.36",
                                "command": ["sh", "-c", "echo migrate"]}]}}}}


def statefulset(name: str, replicas: int = 2) -> dict[str, Any]:
    body = objects.deployment(name, replicas=replicas)
    body["kind"] = "StatefulSet"
    body["spec"]["serviceName"] = name
    return body


def daemonset(name: str) -> dict[str, Any]:
    body = objects.deployment(name)
    body["kind"] = "DaemonSet"
    del body["spec"]["replicas"]
    return body


def pvc(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "1Gi"}}}}


def unschedulable(body: dict[str, Any]) -> dict[str, Any]:
    body["spec"]["template"]["spec"]["nodeSelector"] = {"gitdeploy.io/no-such-node": "true"}
    return body


@pytest.fixture
def dev(environment: MakeEnvironment) -> ConfigRepo:
    return environment()


def test_waits_until_every_kind_is_ready(dev: ConfigRepo, cli, api_server: TestApiServer
                                         ) -> None:
    api_server.cluster.rollout_delay = 3.0  # long enough to be seen in progress under load
    dev.write("environments/dev/app.yaml", [
        objects.crd("example.com", "Widget", "widgets"), objects.configmap("settings", {}),
        objects.deployment("web", replicas=3), statefulset("db"), daemonset("agent"),
        job("migrate"), pvc("data")])
    dev.commit()
    result = cli("apply", "dev", "--yes")
    assert result.exit_code == 0, result.output
    err = result.stderr
    # plain lines in CI, one per change of state; ready-at-once kinds are not listed
    assert "waiting for dev to be ready (timeout 300s)" in err
    # the simulated controller updates every replica at once: only availability lags
    assert re.search(r"in progress: Deployment default/web: [0-2]/3 available\n", err)
    assert "/3 updated" not in err
    assert "ready: Deployment default/web: 3/3 ready" in err
    assert "ready: StatefulSet default/db: 2/2 ready" in err
    assert "ready: DaemonSet default/agent: 1/1 ready" in err
    assert "ready: Job default/migrate: complete" in err
    assert "ready: PersistentVolumeClaim default/data: bound" in err
    assert "ConfigMap default/settings" not in err.split("waiting for dev")[1]
    assert "All 7 object(s) of dev ready after" in result.stdout


def test_slow_rollout_is_followed_to_the_end(dev: ConfigRepo, cli, api_server: TestApiServer
                                             ) -> None:
    api_server.cluster.rollout_delay = 4.0
    dev.write("environments/dev/app.yaml", [objects.deployment("web", replicas=4)])
    dev.commit()
    result = cli("apply", "dev", "--yes", "--wait-timeout", "30s")
    assert result.exit_code == 0, result.output
    progress = re.findall(r"in progress: Deployment default/web: (\d)/4 available",
                          result.stderr)
    assert len(set(progress)) >= 2, result.stderr  # it was seen moving, not only at the end
    assert "ready: Deployment default/web: 4/4 ready" in result.stderr


def test_a_failing_job_ends_the_wait_early_with_its_reason(dev: ConfigRepo, cli,
                                                           api_server: TestApiServer) -> None:
    def failed(obj: dict[str, Any], elapsed: float) -> dict[str, Any]:
        if elapsed < 0.5:
            return {"active": 1}
        return {"failed": 1, "conditions": [
            {"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded",
             "message": "Job has reached the specified backoff limit"},
            {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
             "message": "Job has reached the specified backoff limit"}]}

    api_server.cluster.status_scripts[("batch", "jobs", "default", "migrate")] = failed
    api_server.cluster.record_event("default", {"kind": "Pod", "name": "migrate-x7k2p"},
                                    "BackOff", "Back-off restarting failed container main")
    api_server.cluster.record_event("default", {"kind": "Pod", "name": "other-x7k2p"},
                                    "BackOff", "not about this job")
    dev.write("environments/dev/app.yaml", [job("migrate"), objects.deployment("web")])
    dev.commit()
    started = time.monotonic()
    result = cli("apply", "dev", "--yes")
    assert time.monotonic() - started < 30  # not the 300 s timeout
    assert result.exit_code == 4, result.output
    out = result.stdout
    assert "1 of 2 object(s) of dev failed:" in out
    assert "failed Job default/migrate: failed: BackoffLimitExceeded" in out
    assert "condition Failed=True (BackoffLimitExceeded): Job has reached the specified " \
           "backoff limit" in out
    assert "Pod/migrate-x7k2p: BackOff: Back-off restarting failed container main" in out
    assert "not about this job" not in out
    assert "error: dev was applied and recorded, but 1 object(s) failed to become ready" in (
        result.stderr)
    history = json.loads(cli("history", "dev", "-o", "json").stdout)
    assert history["records"][0]["outcome"] == "succeeded"


UNSCHEDULABLE = ("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. "
                 "no new claims to deallocate, preemption: 0/1 nodes are available: 1 "
                 "Preemption is not helpful for scheduling.")


@pytest.mark.parametrize("scheduler", [True, False], ids=["one-node-and-a-scheduler",
                                                          "no-nodes-no-scheduler"])
def test_timeout_exits_4_with_conditions_and_warning_events(dev: ConfigRepo, cli,
                                                           api_server: TestApiServer,
                                                           scheduler: bool) -> None:
    """A workload that fits no node, in the two worlds of the test API server
    (tests/kubeapi/controllers.py): with a scheduler, each pod has the one FailedScheduling
    event the scheduler wrote about it, and the report lists them; without one (the recorded
    kube-apiserver: unschedulable-workload.jsonl#6), there is no Warning event at all and the
    report has the conditions only."""
    if not scheduler:
        api_server.cluster.nodes = 0
        api_server.cluster.scheduler = False
    dev.write("environments/dev/app.yaml", [unschedulable(objects.deployment("web")),
                                            objects.configmap("settings", {})])
    dev.commit()
    result = cli("apply", "dev", "--yes", "--wait-timeout", "2s", "-o", "json")
    assert result.exit_code == 4, result.output
    readiness = json.loads(result.stdout)["readiness"]
    assert readiness["timedOut"] is True and readiness["ready"] is False
    web = next(o for o in readiness["objects"] if o["name"] == "web")
    assert web["state"] == "in progress" and web["message"] == "0/2 available"
    live = api_server.cluster.get(api_server.cluster.find_type("apps", "v1", "deployments"),
                                  "v1", "default", "web")
    assert web["conditions"] == [  # each condition as the server holds it, reason and message
        f"{c['type']}={c['status']} ({c['reason']})" + (f": {c['message']}" if c["message"]
                                                        else "")
        for c in live["status"]["conditions"]]
    assert web["conditions"][0] == ("Available=False (MinimumReplicasUnavailable): Deployment "
                                    "does not have minimum availability.")
    pods = sorted(name for (group, plural, namespace, name) in api_server.cluster.objects
                  if (group, plural, namespace) == ("", "pods", "default"))
    assert len(pods) == 2
    if scheduler:
        # one event per pod, in the scheduler's words, newest first
        assert len(web["warningEvents"]) == 2
        about = []
        for event in web["warningEvents"]:
            found = re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z Pod/(web-[a-z0-9]{10}-"
                                 r"[a-z0-9]{5}): FailedScheduling: (.*)", event)
            assert found, event
            assert found.group(2) == UNSCHEDULABLE
            about.append(found.group(1))
        assert sorted(about) == pods
        assert web["warningEvents"] == sorted(web["warningEvents"], reverse=True)
    else:
        assert web["warningEvents"] == []
    assert result.stderr.splitlines()[-2:] == [
        "error: dev was applied and recorded, but 1 object(s) not ready after 2s; see the "
        "report above", "  Deployment default/web: 0/2 available"]
    text = cli("apply", "dev", "--yes", "--wait-timeout", "1s")
    assert text.exit_code == 4
    lines = text.stdout.splitlines()
    start = lines.index("1 of 2 object(s) of dev not ready after the 1s timeout:")
    assert lines[start + 1:] == [
        "  in progress Deployment default/web: 0/2 available",
        *(f"      condition {condition}" for condition in web["conditions"]),
        *(f"      event {event}" for event in web["warningEvents"])]  # the wait adds none


def test_a_repeated_failed_scheduling_is_reported_with_its_count(dev: ConfigRepo, cli,
                                                                 api_server: TestApiServer
                                                                 ) -> None:
    dev.write("environments/dev/app.yaml", [unschedulable(objects.deployment("web",
                                                                             replicas=1))])
    dev.commit()
    assert cli("apply", "dev", "--yes", "--no-wait").exit_code == 0
    for _ in range(3):  # kube-scheduler tries an unschedulable pod again every five minutes
        api_server.cluster.reschedule()
    result = cli("apply", "dev", "--yes", "--wait-timeout", "1s", "-o", "json")
    assert result.exit_code == 4, result.output
    web = next(o for o in json.loads(result.stdout)["readiness"]["objects"]
               if o["name"] == "web")
    assert any(line.endswith(f"{UNSCHEDULABLE} (x3)") for line in web["warningEvents"]), web


def test_wait_can_be_turned_off_in_settings_and_back_on_per_run(dev: ConfigRepo, cli,
                                                               api_server: TestApiServer
                                                               ) -> None:
    dev.settings("dev", context="kind-dev", namespace="default",
                 wait={"enabled": False, "timeout": "1s"})
    dev.write("environments/dev/app.yaml", [unschedulable(objects.deployment("web"))])
    dev.commit()
    off = cli("apply", "dev", "--yes")
    assert off.exit_code == 0, off.output
    assert "waiting for" not in off.stderr
    on = cli("apply", "dev", "--yes", "--wait")
    assert on.exit_code == 4
    assert "1 of 1 object(s) of dev not ready after the 1s timeout:" in on.stdout.splitlines()


def test_ctrl_c_stops_waiting_without_writing(dev: ConfigRepo, api_server: TestApiServer
                                              ) -> None:
    dev.write("environments/dev/app.yaml", [unschedulable(objects.deployment("web"))])
    dev.commit()
    process = start(dev.root, "apply", "dev", "--yes", "--wait-timeout", "5m")
    def polled() -> bool:  # a GET of the Deployment after its apply: waiting has begun
        requests = list(api_server.requests)
        applied = [i for i, r in enumerate(requests) if r.method == "PATCH" and not r.dry_run
                   and r.path.endswith("/deployments/web")]
        return bool(applied) and any(r.method == "GET" and r.path.endswith("/deployments/web")
                                     for r in requests[applied[0]:])

    wait_for(polled)
    time.sleep(0.3)
    writes = len(api_server.writes(state=True))
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Stopped waiting after" in out
    assert "stopped waiting for dev: the apply is done and recorded" in err
    assert len(api_server.writes(state=True)) == writes


def test_live_table_on_a_terminal(dev: ConfigRepo, api_server: TestApiServer) -> None:
    api_server.cluster.rollout_delay = 2.0
    dev.write("environments/dev/app.yaml", [objects.deployment("web", replicas=2),
                                            job("migrate")])
    dev.commit()
    code, output = run_in_terminal(["apply", "dev", "--yes"], "", dev.root, prompt=b"STATE")
    assert code == 0, output
    assert "\x1b[" in output  # redrawn in place
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output)
    assert re.search(r"waiting for dev: \d/2 ready, \d+s of 300s", plain)
    assert re.search(r"STATE\s+OBJECT\s+STATUS", plain)
    assert re.search(r"in progress\s+Deployment default/web", plain)
    assert "All 2 object(s) of dev ready" in output


@pytest.mark.parametrize("group, kind, body, state, message", [
    ("apps", "Deployment", {"metadata": {"generation": 2}, "spec": {"replicas": 2},
                            "status": {"observedGeneration": 1}},
     State.PROGRESSING, "waiting for the controller to see generation 2"),
    ("apps", "Deployment", {"metadata": {"generation": 1}, "spec": {"replicas": 2}, "status": {
        "observedGeneration": 1, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2}},
     State.PROGRESSING, "1 old replica(s) terminating"),
    ("apps", "Deployment", {"metadata": {"generation": 1}, "spec": {}, "status": {
        "observedGeneration": 1, "conditions": [{"type": "Progressing", "status": "False",
                                                 "reason": "ProgressDeadlineExceeded",
                                                 "message": "ReplicaSet web-1 timed out"}]}},
     State.FAILED, "progress deadline exceeded: ReplicaSet web-1 timed out"),
    ("apps", "StatefulSet", {"metadata": {"generation": 1}, "spec": {
        "replicas": 3, "updateStrategy": {"rollingUpdate": {"partition": 2}}}, "status": {
        "observedGeneration": 1, "readyReplicas": 3, "updatedReplicas": 1,
        "availableReplicas": 3}}, State.READY, "3/3 ready"),
    ("apps", "StatefulSet", {"metadata": {"generation": 1}, "spec": {"replicas": 1}, "status": {
        "observedGeneration": 1, "readyReplicas": 1, "currentRevision": "db-1",
        "updateRevision": "db-2"}}, State.PROGRESSING, "rolling out revision db-2"),
    ("apps", "DaemonSet", {"metadata": {"generation": 1}, "status": {
        "observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3,
        "numberAvailable": 1}}, State.PROGRESSING, "1/3 available"),
    ("", "PersistentVolumeClaim", {"status": {"phase": "Lost"}}, State.FAILED,
     "lost its volume"),
    ("apiextensions.k8s.io", "CustomResourceDefinition", {"status": {"conditions": [
        {"type": "NamesAccepted", "status": "False", "message": "kind conflicts"}]}},
     State.FAILED, "names not accepted: kind conflicts"),
    ("example.com", "Database", {"metadata": {"generation": 3}, "status": {
        "observedGeneration": 3, "conditions": [{"type": "Ready", "status": "False",
                                                 "reason": "Provisioning"}]}},
     State.PROGRESSING, "not ready: Provisioning"),
    ("example.com", "Database", {"status": {"conditions": [
        {"type": "Stalled", "status": "True", "message": "quota exceeded"}]}},
     State.FAILED, "stalled: quota exceeded"),
    ("example.com", "Database", {"status": {"conditions": [
        {"type": "Ready", "status": "True"}]}}, State.READY, "ready"),
    ("example.com", "Database", {"metadata": {"generation": 1}}, State.READY, "current"),
])
def test_readiness_rules(group: str, kind: str, body: dict[str, Any], state: State,
                         message: str) -> None:
    found = assess(group, kind, body)
    assert (found.state, found.message) == (state, message)
