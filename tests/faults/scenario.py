"""The fault scenarios and what is checked after each run; shared by test_faults.py (a few fixed
seeds) and soak.py (many).

A `Harness` holds one test API server, a `FaultProxy` in front of it, a config repository and
a kubeconfig with two contexts: `faulty` (through the proxy; the environment's own context) and
`direct` (the server itself, for the clean runs and for reading back). Every run of gitdeploy is
kept as a `Run` with the server's requests during it and the faults injected. The checks add
what they find to `Harness.violations`, by group (`GROUPS`), so that a test can assert each
group on its own.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from gitdeploy.cli.app import app
from tests import manifests as m
from tests.conftest import GIT_ENV, ConfigRepo, git
from tests.faults.lost import lose
from tests.faults.proxy import WRITE_METHODS, FaultConfig, FaultEvent, FaultProxy, Request
from tests.kubeapi.server import RequestRecord, TestApiServer

ENV = "dev"
NAMESPACE = "shop"
CANARY = "canary-5ecret-value"
CANARY_FORMS = (CANARY, base64.b64encode(CANARY.encode()).decode())
LEASE_KEY = ("coordination.k8s.io", "leases", NAMESPACE, f"gitdeploy-lock-{ENV}")
LOCK_DURATION = 5  # seconds: short, so that a killed apply's lock expires soon

# What is checked, each group a test of its own.
REPORT = "report"  # exit code and JSON report tell the truth
RECORD = "record"  # the deploy record (read without the proxy) matches the live state
LOCK = "lock"  # the lock is free after the run
CONVERGE = "converge"  # a clean re-run succeeds, then diff shows nothing
UNTOUCHED = "untouched"  # no write outside the plan and gitdeploy's own state
CANARY_GROUP = "canary"  # the Secret's value appears nowhere
SETUP = "scenario"  # the scenario did what it means to (a real race, a signal mid-apply)
GROUPS = (REPORT, RECORD, LOCK, CONVERGE, UNTOUCHED, CANARY_GROUP, SETUP)

Key = tuple[str, str, str, str]  # group, plural, namespace, name: the test server's keys
Obj = dict[str, Any]

_PLURALS = {"Namespace": ("", "namespaces"), "ConfigMap": ("", "configmaps"),
            "Secret": ("", "secrets"), "Service": ("", "services"),
            "Deployment": ("apps", "deployments")}


# ---- the environment ------------------------------------------------------------------------
def secret(version: str) -> Obj:
    return m.secret("app-credentials", {"password": CANARY,
                                        "user": "shop" if version == "v1" else f"shop-{version}"})


def objects(version: str) -> list[Obj]:
    """The environment at a version. v1: 60 objects (a Namespace, a Secret holding the canary,
    30 ConfigMaps, 14 Services, 14 Deployments). v2: half the ConfigMaps and six images
    changed, the Secret's user changed, 3 ConfigMaps added and 8 objects removed (pruned). v3:
    every ConfigMap changed, v2's additions gone and its removals back."""
    configmaps = range(25) if version == "v2" else range(30)
    services = range(12) if version == "v2" else range(14)
    deployments = range(13) if version == "v2" else range(14)
    items: list[Obj] = [m.namespace(NAMESPACE), secret(version)]
    for n in configmaps:
        changed = version == "v3" or (version == "v2" and n % 2 == 0)
        items.append(m.configmap(f"cm-{n:02d}", {"n": str(n),
                                                 "version": version if changed else "v1"}))
    if version == "v2":
        items += [m.configmap(f"cm-extra-{n}", {"added": "v2"}) for n in range(3)]
    items += [m.service(f"app-{n:02d}") for n in services]
    items += [m.deployment(f"app-{n:02d}", replicas=1,
                           image="nginx:1.28" if version == "v2" and n < 6 else "nginx:1.27")
              for n in deployments]
    return items


def key_of(obj: Obj) -> Key:
    group, plural = _PLURALS[obj["kind"]]
    namespace = "" if obj["kind"] == "Namespace" else obj["metadata"].get("namespace", NAMESPACE)
    return (group, plural, namespace, obj["metadata"]["name"])


def path_of(key: Key) -> str:
    group, plural, namespace, name = key
    base = f"/apis/{group}/v1" if group else "/api/v1"
    return f"{base}/namespaces/{namespace}/{plural}/{name}" if namespace else \
        f"{base}/{plural}/{name}"


def title_of(key: Key) -> str:
    kind = next(k for k, (g, p) in _PLURALS.items() if (g, p) == key[:2])
    return f"{kind} {key[2]}/{key[3]}" if key[2] else f"{kind} {key[3]}"


def _subset(want: Any, have: Any) -> bool:
    if isinstance(want, dict):
        return isinstance(have, dict) and all(_subset(v, have.get(k)) for k, v in want.items())
    if isinstance(want, list):
        return (isinstance(have, list) and len(want) == len(have)
                and all(_subset(w, h) for w, h in zip(want, have, strict=True)))
    return bool(want == have)


def matches(desired: Obj, live: Obj | None) -> bool:
    """The live object carries everything the desired one says (the server adds defaults)."""
    if live is None:
        return False
    if desired["kind"] == "Secret":
        # stringData is written into data; a key dropped from stringData stays in data
        # (server-side apply does not own data's keys through stringData)
        data = live.get("data") or {}
        return all(data.get(k) == base64.b64encode(v.encode()).decode()
                   for k, v in desired["stringData"].items())
    if desired["kind"] == "ConfigMap" and live.get("data") != desired.get("data"):
        return False  # exactly: a key the applier dropped is removed by server-side apply
    meta = desired.get("metadata") or {}
    live_meta = live.get("metadata") or {}
    for part in ("labels", "annotations"):
        if not _subset(meta.get(part) or {}, live_meta.get(part) or {}):
            return False
    return all(_subset(value, live.get(name)) for name, value in desired.items()
               if name not in ("metadata", "apiVersion", "kind"))


# ---- runs -----------------------------------------------------------------------------------
@dataclass
class Run:
    label: str
    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    requests: list[RequestRecord]
    faults: list[FaultEvent]
    seconds: float

    @property
    def document(self) -> Obj | None:
        try:
            doc = json.loads(self.stdout)
        except ValueError:
            return None
        return doc if isinstance(doc, dict) else None

    def writes(self) -> list[RequestRecord]:
        """Every write that was not a dry run, whatever its answer."""
        return [r for r in self.requests if r.method in WRITE_METHODS and not r.dry_run]

    def written(self) -> set[str]:
        """Paths of successful writes (the server changed something there)."""
        return {r.path for r in self.writes() if r.status < 400}

    def describe(self) -> str:
        return f"{self.label} (`gitdeploy {' '.join(self.args)}`: exit {self.exit_code})"


class Process:
    """A gitdeploy process whose output is read as it comes (a test may wait for a line)."""

    def __init__(self, popen: subprocess.Popen[str], args: tuple[str, ...]) -> None:
        self.popen = popen
        self.args = args
        self.pid = popen.pid
        self._out: list[str] = []
        self._err: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(stream, into), daemon=True)
                         for stream, into in ((popen.stdout, self._out),
                                              (popen.stderr, self._err))]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: Any, into: list[str]) -> None:
        for line in iter(stream.readline, ""):
            into.append(line)
        stream.close()

    def stderr(self) -> str:
        return "".join(list(self._err))

    def poll(self) -> int | None:
        return self.popen.poll()

    def send_signal(self, number: int) -> None:
        self.popen.send_signal(number)

    def wait(self, timeout: float) -> tuple[int, str, str]:
        try:
            code = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            code = self.popen.wait()
        for reader in self._readers:
            reader.join(10)
        return code, "".join(self._out), "".join(self._err)


@dataclass
class Step:
    """One deploy to check: what it should have made live."""

    label: str
    version: str
    commit: str
    kind: str  # deploy | rollback
    previous: str | None  # the version live before it (its objects may be pruned)
    prune: bool = True

    @property
    def desired(self) -> dict[Key, Obj]:
        return {key_of(o): o for o in objects(self.version)}

    @property
    def pruned(self) -> set[Key]:
        if not self.prune or self.previous is None:
            return set()
        return {key_of(o) for o in objects(self.previous)} - set(self.desired)


def state_write(record: RequestRecord) -> bool:
    """A write to gitdeploy's own state: its Lease, deploy records, ApplySet parent, sync
    fingerprints, who-am-I."""
    ns = f"/namespaces/{NAMESPACE}"
    allowed = (
        rf"/apis/coordination\.k8s\.io/v1{ns}/leases(/gitdeploy-lock-{ENV})?",
        rf"/api/v1{ns}/configmaps(/gitdeploy-record-{ENV}-\d+|/gitdeploy-applyset-{ENV}"
        rf"|/gitdeploy-synced-{ENV})?",
        r"/apis/authentication\.k8s\.io/v1/selfsubjectreviews",
    )
    if not any(re.fullmatch(pattern, record.path) for pattern in allowed):
        return False
    # A POST to a collection creates; only records and the lease are created that way.
    return record.method == "POST" or not record.path.endswith(("/configmaps", "/leases"))


@dataclass
class Harness:
    api: TestApiServer
    proxy: FaultProxy
    repo: ConfigRepo
    root: Path
    kubeconfig: Path
    summary: Path
    commits: dict[str, str] = field(default_factory=dict)  # version -> commit
    runs: list[Run] = field(default_factory=list)
    violations: dict[str, list[str]] = field(
        default_factory=lambda: collections.defaultdict(list))
    notes: list[str] = field(default_factory=list)
    bystanders: dict[Key, str] = field(default_factory=dict)  # key -> resourceVersion
    initial: set[Key] = field(default_factory=set)
    settings: dict[str, Any] = field(default_factory=dict)  # of the environment
    step: str = ""  # the step being checked: violations are counted per step too
    by_step: dict[str, collections.Counter[str]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter))
    messages: dict[str, dict[str, list[str]]] = field(  # step -> group -> violations
        default_factory=lambda: collections.defaultdict(lambda: collections.defaultdict(list)))
    exits: dict[str, list[int]] = field(  # step -> exit codes of its runs through the proxy
        default_factory=lambda: collections.defaultdict(list))
    converged: dict[str, bool] = field(default_factory=dict)  # step -> the clean re-run did
    step_faults: collections.Counter[str] = field(default_factory=collections.Counter)
    # steps in which a run through the proxy reported objects failed or not attempted
    partial: set[str] = field(default_factory=set)

    # ---- making one --------------------------------------------------------------------
    @classmethod
    @contextlib.contextmanager
    def open(cls, root: Path, config: FaultConfig, **settings: Any) -> Iterator[Harness]:
        """A test API server, the proxy in front of it, an empty config repository and a
        kubeconfig, in `root`; `settings` go to the environment's gitdeploy.yaml."""
        with TestApiServer() as api, FaultProxy(api.url, config) as proxy:
            repo_root = root / "config"
            repo_root.mkdir(parents=True)
            git(repo_root, "init", "-q", "-b", "main")
            kubeconfig = api.kubeconfig(root / "kubeconfig", context="direct",
                                        extra_contexts={"faulty": proxy.url})
            harness = cls(api, proxy, ConfigRepo(repo_root), root, kubeconfig,
                          root / "step-summary.md")
            harness.summary.write_text("")
            defaults: dict[str, Any] = {
                "prune": True, "wait": {"enabled": False}, "lock": {"duration": LOCK_DURATION},
                "retries": {"max": 4, "maxTime": "20s"},
                # --context direct (the clean runs) must reach the same cluster
                "cluster": {"uid": api.cluster.kube_system_uid()}}
            harness.settings = {**defaults, **settings}
            harness.initial = set(api.cluster.objects)
            yield harness

    def commit(self, version: str) -> str:
        self.repo.settings(ENV, context="faulty", namespace=NAMESPACE, **self.settings)
        self.repo.write(f"environments/{ENV}/app.yaml", objects(version))
        self.commits[version] = self.repo.commit(f"shop {version}")
        return self.commits[version]

    # ---- running gitdeploy -------------------------------------------------------------
    def environ(self) -> dict[str, str | None]:
        """What every run gets: this kubeconfig, a job summary file, no real home, no CI."""
        return {"KUBECONFIG": str(self.kubeconfig), "GITHUB_STEP_SUMMARY": str(self.summary),
                "HOME": str(self.root / "no-home-here"), "CI": None, "XDG_CONFIG_HOME": None,
                "NO_COLOR": "1", "COLUMNS": "200", **GIT_ENV}

    def cli(self, label: str, *args: str, direct: bool = False) -> Run:
        """gitdeploy in this process; through the proxy unless `direct`."""
        full = (*args, "--context", "direct") if direct else args
        requests_before, faults_before = len(self.api.requests), len(self.proxy.events)
        started = time.monotonic()
        old = Path.cwd()
        os.chdir(self.repo.root)
        try:
            result = CliRunner().invoke(app, list(full), env=self.environ(),
                                        catch_exceptions=False)
        finally:
            os.chdir(old)
        self.proxy.wait_idle()
        run = Run(label, full, result.exit_code, result.stdout, result.stderr,
                  list(self.api.requests[requests_before:]),
                  list(self.proxy.events[faults_before:]), time.monotonic() - started)
        self.runs.append(run)
        return run

    def start(self, *args: str) -> Process:
        """gitdeploy as a process of its own (for signals and races), through the proxy."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("KUBECONFIG", "CI", "GITHUB_STEP_SUMMARY", "XDG_CONFIG_HOME")}
        env.update({k: v for k, v in self.environ().items() if v is not None})
        return Process(subprocess.Popen(
            [sys.executable, "-m", "gitdeploy", *args], cwd=self.repo.root, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env), args)

    def finish(self, label: str, process: Process, requests_before: int,
               faults_before: int, started: float, timeout: float = 120) -> Run:
        code, stdout, stderr = process.wait(timeout)
        self.proxy.wait_idle()
        run = Run(label, process.args, code, stdout, stderr,
                  list(self.api.requests[requests_before:]),
                  list(self.proxy.events[faults_before:]), time.monotonic() - started)
        self.runs.append(run)
        return run

    # ---- reading the cluster, without the proxy ----------------------------------------
    def live(self, key: Key) -> Obj | None:
        return self.api.cluster.objects.get(key)

    def lock_holder(self) -> str:
        lease = self.live(LEASE_KEY) or {}
        return str((lease.get("spec") or {}).get("holderIdentity") or "")

    def history(self) -> list[Obj]:
        run = self.cli("history (read back)", "history", ENV, "-o", "json", direct=True)
        doc = run.document or {}
        if run.exit_code != 0 or doc.get("kind") != "History":
            self.fail(RECORD, f"history could not be read: exit {run.exit_code}: "
                              f"{run.stderr.strip()[-300:]}")
            return []
        return list(doc.get("records") or [])

    def fail(self, group: str, message: str) -> None:
        self.violations[group].append(message)
        self.by_step[self.step][group] += 1
        self.messages[self.step][group].append(message)

    def note(self, message: str) -> None:
        self.notes.append(message)

    # ---- bystanders: objects that are not gitdeploy's --------------------------------------
    def add_bystanders(self, namespaced_in: str = "default") -> None:
        """Objects another tool made (field manager kubectl), in `namespaced_in`; any change
        to them is a violation."""
        items = [m.configmap("bystander", {"owner": "someone else"}, namespace=namespaced_in),
                 m.secret("bystander-secret", {"token": "not-ours"}, namespace=namespaced_in),
                 m.deployment("bystander-app", replicas=1, namespace=namespaced_in)]
        host, port = self.api.url.removeprefix("http://").split(":")
        for item in items:
            key = key_of(item)
            connection = http.client.HTTPConnection(host, int(port), timeout=10)
            connection.request("PATCH", path_of(key) + "?fieldManager=kubectl&force=true",
                               body=json.dumps(item),
                               headers={"Authorization": "Bearer admin-token",
                                        "Content-Type": "application/apply-patch+yaml"})
            response = connection.getresponse()
            response.read()
            connection.close()
            assert response.status in (200, 201), response.status
            live = self.live(key)
            assert live is not None
            self.bystanders[key] = live["metadata"]["resourceVersion"]

    # ---- the checks ---------------------------------------------------------------------
    def check_state_matches(self, step: Step) -> list[str]:
        """What differs from the step's desired state: objects not live at its content, pruned
        objects still there."""
        problems = [f"{title_of(k)} is not live at {step.version}"
                    for k, obj in step.desired.items() if not matches(obj, self.live(k))]
        problems += [f"{title_of(k)} should have been pruned"
                     for k in sorted(step.pruned) if self.live(k) is not None]
        return problems

    def check_deploy(self, run: Run, step: Step, records_before: list[Obj]) -> None:
        """Everything after one apply or rollback through the proxy."""
        self._check_report(run, step)
        self._check_record(run, step, records_before)
        self.check_lock(run)
        self.check_untouched(run, step)
        self.check_canary(run)

    def _results(self, doc: Obj) -> dict[Key, Obj]:
        results: dict[Key, Obj] = {}
        for item in doc.get("results") or []:
            kind = item.get("kind")
            if kind not in _PLURALS:
                continue
            group, plural = _PLURALS[kind]
            results[(group, plural, item.get("namespace") or "", item["name"])] = item
        return results

    def _object_paths(self, step: Step) -> dict[str, Key]:
        return {path_of(k): k for k in (*step.desired, *step.pruned)}

    def _check_report(self, run: Run, step: Step) -> None:
        doc = run.document
        where = run.describe()
        written = {self._object_paths(step)[p] for p in run.written()
                   if p in self._object_paths(step)}
        if doc is None:
            self.fail(REPORT, f"{where}: stdout is not one JSON document: {run.stdout[:200]!r}")
            return
        if doc.get("kind") == "Error":
            error = doc.get("error") or {}
            if run.exit_code == 0 or error.get("exitCode") != run.exit_code:
                self.fail(REPORT, f"{where}: Error document with exitCode "
                                  f"{error.get('exitCode')} but exit {run.exit_code}")
            if written:
                self.fail(REPORT, f"{where}: ended with an Error document ({error.get('message')})"
                                  f" although it wrote {len(written)} object(s), e.g. "
                                  f"{title_of(sorted(written)[0])}: no report says what was "
                                  f"applied")
            return
        if doc.get("kind") != "ApplyResult":
            self.fail(REPORT, f"{where}: unexpected document {doc.get('kind')}")
            return
        results = self._results(doc)
        outcomes = collections.Counter(r.get("outcome") for r in results.values())
        all_done = all(r.get("outcome") in ("applied", "deleted") for r in results.values())
        if bool(doc.get("succeeded")) != all_done:
            self.fail(REPORT, f"{where}: succeeded={doc.get('succeeded')} but outcomes "
                              f"{dict(outcomes)}")
        if run.exit_code == 0 and not (doc.get("succeeded") and all_done):
            self.fail(REPORT, f"{where}: exit 0 but the report says outcomes {dict(outcomes)}")
        if not doc.get("succeeded") and run.exit_code == 0:
            self.fail(REPORT, f"{where}: not succeeded but exit 0")
        if run.exit_code == 0:
            for problem in self.check_state_matches(step):
                self.fail(REPORT, f"{where}: exit 0 but {problem}")
            if doc.get("record") is None:
                self.fail(REPORT, f"{where}: exit 0 but no record written")
        for key, item in results.items():
            outcome = item.get("outcome")
            live = self.live(key)
            if outcome == "applied" and not matches(step.desired.get(key, {}), live):
                self.fail(REPORT, f"{where}: {title_of(key)} reported applied but not live at "
                                  f"{step.version}")
            if outcome == "deleted" and live is not None:
                self.fail(REPORT, f"{where}: {title_of(key)} reported deleted but still live")
            if outcome == "failed" and not str(item.get("error") or "").strip():
                self.fail(REPORT, f"{where}: {title_of(key)} reported failed without a reason")
            done = (live is None if key in step.pruned
                    else matches(step.desired.get(key, {}), live))
            if (outcome == "failed" and key in written and done
                    and "unknown" not in str(item.get("error") or "")):
                self.fail(REPORT, f"{where}: {title_of(key)} reported failed "
                                  f"({str(item.get('error'))[:120]}), but the server did it "
                                  f"(the answer was lost) and the report does not say the "
                                  f"outcome is unknown")
            if outcome == "not-attempted" and key in written:
                self.fail(REPORT, f"{where}: {title_of(key)} reported not-attempted but the "
                                  f"server received a write for it")
        for key, obj in step.desired.items():
            if key not in results and not matches(obj, self.live(key)):
                self.fail(REPORT, f"{where}: {title_of(key)} left out of the report (planned "
                                  f"unchanged?) but not live at {step.version}")
        for key in written - set(results):
            self.fail(REPORT, f"{where}: {title_of(key)} was written but is not in the report")
        if doc.get("succeeded") is False and not any(
                r.get("outcome") in ("failed", "not-attempted") for r in results.values()):
            self.fail(REPORT, f"{where}: not succeeded, but no object is failed or "
                              f"not-attempted")

    def _check_record(self, run: Run, step: Step, records_before: list[Obj]) -> None:
        where = run.describe()
        doc = run.document or {}
        newest_before = max((int(r["sequence"]) for r in records_before), default=0)
        records = self.history()
        new = [r for r in records if int(r["sequence"]) > newest_before]
        object_paths = self._object_paths(step)
        wrote_objects = any(p in object_paths for p in run.written())
        if doc.get("kind") == "ApplyResult":
            reported = doc.get("record")
            if reported is None:
                if new:
                    self.fail(RECORD, f"{where}: the report says no record was written, but "
                                      f"record {new[0]['sequence']} was")
                if run.exit_code == 0:
                    self.fail(RECORD, f"{where}: no record, exit 0")
                if wrote_objects and not new:
                    self.fail(RECORD, f"{where}: objects were written but no record says so")
                return
            if len(new) != 1 or int(new[0]["sequence"]) != int(reported["sequence"]):
                self.fail(RECORD, f"{where}: the report names record {reported['sequence']}, "
                                  f"history has {[r['sequence'] for r in new]} new")
                return
        elif not new:
            if wrote_objects:
                self.fail(RECORD, f"{where}: objects were written but no record was")
            return
        if len(new) != 1:
            self.fail(RECORD, f"{where}: {len(new)} new records")
            return
        record = new[0]
        if record.get("commit") != step.commit or record.get("kind") != step.kind:
            self.fail(RECORD, f"{where}: record {record['sequence']} says {record.get('kind')} "
                              f"of {record.get('commit')}, not {step.kind} of {step.commit}")
        differs = self.check_state_matches(step)
        if (record.get("outcome") == "succeeded") != (not differs):
            self.fail(RECORD, f"{where}: record {record['sequence']} outcome "
                              f"{record.get('outcome')} but "
                              f"{'; '.join(differs[:3]) if differs else 'every object is live'}")
        applied = set(record.get("applied") or [])
        failed = {line.split(":", 1)[0] for line in record.get("failed") or []}
        if doc.get("kind") == "ApplyResult":
            results = self._results(doc)
            want_applied = {title_of(k) for k, r in results.items()
                            if r.get("outcome") == "applied"}
            want_failed = {title_of(k) for k, r in results.items()
                           if r.get("outcome") == "failed"}
            if applied != want_applied or failed != want_failed:
                self.fail(RECORD, f"{where}: record lists {len(applied)} applied / "
                                  f"{len(failed)} failed, the report {len(want_applied)} / "
                                  f"{len(want_failed)}")
        by_title = {title_of(k): k for k in step.desired}
        for title in sorted(applied):
            key = by_title.get(title)
            if key is None or not matches(step.desired[key], self.live(key)):
                self.fail(RECORD, f"{where}: record lists {title} applied, it is not live at "
                                  f"{step.version}")
        status = self.cli("status (read back)", "status", ENV, "--no-diff", "-o", "json",
                          direct=True)
        live_record = (status.document or {}).get("live") or {}
        if status.exit_code != 0 or live_record.get("sequence") != record.get("sequence"):
            self.fail(RECORD, f"{where}: status says live record {live_record.get('sequence')} "
                              f"(exit {status.exit_code}), history {record.get('sequence')}")

    def check_lock(self, run: Run) -> None:
        holder = self.lock_holder()
        if holder:
            self.fail(LOCK, f"{run.describe()}: the lock is still held by {holder}")
        elif re.search(r"lock could not be released|could not release the lock", run.stderr):
            self.fail(REPORT, f"{run.describe()}: says the lock could not be released, but "
                              f"it is free (the release's answer was lost)")

    def check_untouched(self, run: Run, step: Step | None, *,
                        allowed: set[Key] | None = None, deletable: set[Key] | None = None
                        ) -> None:
        """No write outside the step's objects (or `allowed`) and gitdeploy's own state; no
        delete but of what the step prunes (or `deletable`); bystanders as they were; no new
        object but the environment's and gitdeploy's."""
        if step is not None:
            allowed = (allowed or set()) | set(step.desired) | step.pruned
            deletable = (deletable or set()) | step.pruned
        paths = {path_of(k): k for k in allowed or set()}
        for record in run.writes():
            if record.path in paths or state_write(record):
                continue
            self.fail(UNTOUCHED, f"{run.describe()}: {record.method} {record.path} "
                                 f"({record.status}) is outside the plan and gitdeploy's state")
        for record in run.writes():
            key = paths.get(record.path)
            if record.method == "DELETE" and key is not None and key not in (deletable or set()):
                self.fail(UNTOUCHED, f"{run.describe()}: deleted {title_of(key)}, which "
                                     f"is in git")
        for key, version in self.bystanders.items():
            live = self.live(key)
            if live is None or live["metadata"]["resourceVersion"] != version:
                self.fail(UNTOUCHED, f"{run.describe()}: bystander {title_of(key)} changed")
        known = {key_of(o) for v in ("v1", "v2", "v3") for o in objects(v)}
        for key in set(self.api.cluster.objects) - self.initial - known - set(self.bystanders):
            obj = self.api.cluster.objects.get(key) or {}
            managers = {entry.get("manager") for entry in
                        (obj.get("metadata") or {}).get("managedFields") or []}
            if "gitdeploy" not in managers:
                continue  # made by the test server's controllers (ReplicaSets, pods, events)
            if key[2] == NAMESPACE and (
                    key[3].startswith((f"gitdeploy-record-{ENV}-", f"gitdeploy-lock-{ENV}"))
                    or key[3] in (f"gitdeploy-applyset-{ENV}", f"gitdeploy-synced-{ENV}")):
                continue
            self.fail(UNTOUCHED, f"{run.describe()}: unexpected object {key} exists")

    def check_canary(self, run: Run) -> None:
        texts = {"stdout": run.stdout, "stderr": run.stderr,
                 "job summary": self.summary.read_text()}
        for key, obj in self.api.cluster.objects.items():
            if key[1] != "secrets":
                texts[f"object {key}"] = json.dumps(obj)
        for where, text in texts.items():
            for form in CANARY_FORMS:
                if form in text:
                    self.fail(CANARY_GROUP, f"{run.describe()}: the Secret's value "
                                            f"({'base64' if form != CANARY else 'plain'}) is in "
                                            f"{where}")

    def faulted(self, run: Run, *, count_faults: bool = True) -> Run:
        """`run` went through the faults: its exit code counts for the step."""
        self.exits[self.step].append(run.exit_code)
        if "Traceback (most recent call last)" in run.stderr or run.exit_code == 3:
            self.fail(REPORT, f"{run.describe()}: crashed (an internal error, a traceback): "
                              f"{run.stderr.strip()[-600:]}")
        doc = run.document or {}
        if doc.get("kind") == "ApplyResult" and any(
                r.get("outcome") in ("failed", "not-attempted") for r in doc.get("results") or []):
            self.partial.add(self.step)
        if count_faults:
            self.step_faults[self.step] += len(run.faults)
        return run

    def sweep(self) -> None:
        """At the end: the canary in any run's output (the read-backs too), and the job
        summary was written at all (else its check meant nothing)."""
        for run in self.runs:
            for where, text in (("stdout", run.stdout), ("stderr", run.stderr)):
                if any(form in text for form in CANARY_FORMS):
                    self.fail(CANARY_GROUP, f"{run.describe()}: the Secret's value is in "
                                            f"{where}")
        if not self.summary.read_text().strip():
            self.fail(SETUP, "no job summary was written to GITHUB_STEP_SUMMARY")

    def converge(self, step: Step) -> None:
        """A clean run without faults finishes the step; then diff shows no change."""
        before = self.by_step[self.step][CONVERGE]
        try:
            self._converge(step)
        finally:
            self.converged[self.step] = self.by_step[self.step][CONVERGE] == before

    def _converge(self, step: Step) -> None:
        run = self.cli(f"{step.label}: clean re-run", "apply", ENV, "--ref", step.commit,
                       "--yes", "-o", "json", direct=True)
        doc = run.document or {}
        if run.exit_code != 0 or not doc.get("succeeded"):
            self.fail(CONVERGE, f"{run.describe()}: {run.stderr.strip()[-400:]}")
        self.check_untouched(run, step)
        self.check_canary(run)
        self.check_lock(run)
        diff = self.cli(f"{step.label}: diff after the re-run", "diff", ENV, "--ref",
                        step.commit, "--exit-code", direct=True)
        if diff.exit_code != 0:
            self.fail(CONVERGE, f"{diff.describe()}: changes remain: {diff.stdout[-400:]}")
        for problem in self.check_state_matches(step):
            self.fail(CONVERGE, f"{step.label}: after the clean re-run, {problem}")
        self.check_canary(diff)

    def faults_summary(self) -> dict[str, int]:
        return dict(collections.Counter(e.kind for run in self.runs for e in run.faults))


# ---- the scenarios --------------------------------------------------------------------------
def deploy_step(h: Harness, step: Step, *args: str) -> Run:
    h.step = step.label
    records_before = h.history()
    run = h.faulted(h.cli(step.label, *args))
    h.check_deploy(run, step, records_before)
    h.converge(step)
    return run


def main_scenario(h: Harness) -> None:
    """apply (v1), a change applied with prune (v2: faults on writes only and one retry, so
    that some writes fail for good, and must be reported as they are), a rollback (to v1), and
    unlock of a stuck lock; each through the proxy, each checked, each followed by a clean
    re-run."""
    v1 = h.commit("v1")
    h.add_bystanders()
    deploy_step(h, Step("apply v1", "v1", v1, "deploy", None), "apply", ENV, "--yes",
                "-o", "json")
    v2 = h.commit("v2")
    h.add_bystanders(NAMESPACE)  # objects in the environment's namespace that are not its own
    # Failures on writes only, one retry: the plan is made, and some writes fail for good.
    kinds = h.proxy.config.kinds
    h.proxy.configure(writes_only=True, kinds=tuple(k for k in kinds if k != "stall") or kinds)
    deploy_step(h, Step("apply v2 with prune", "v2", v2, "deploy", "v1"), "apply", ENV,
                "--yes", "--prune", "-o", "json", "--retries", "1")
    h.proxy.configure(writes_only=False, kinds=kinds)
    deploy_step(h, Step("rollback to v1", "v1", v1, "rollback", "v2"), "rollback", ENV,
                "--to", v1, "--yes", "--prune", "-o", "json")
    unlock_step(h)


def put_lease(h: Harness, holder: str, renewed_ago: float, duration: int) -> None:
    renewed = time.time() - renewed_ago
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(renewed)) + ".000000Z"
    lease = h.live(LEASE_KEY)
    metadata = dict(lease["metadata"]) if lease else {
        "name": LEASE_KEY[3], "namespace": NAMESPACE, "uid": "lease-uid",
        "creationTimestamp": "2026-01-01T00:00:00Z"}
    metadata["resourceVersion"] = str(int(time.time() * 1000))
    h.api.cluster.objects[LEASE_KEY] = {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata,
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": duration,
                 "acquireTime": stamp, "renewTime": stamp, "leaseTransitions": 1}}


def unlock_step(h: Harness) -> None:
    """A stuck lock of someone else, released with `unlock` through the proxy."""
    h.step = "unlock"
    put_lease(h, "ghost@elsewhere pid 4242", renewed_ago=1, duration=3600)
    run = h.faulted(h.cli("unlock", "unlock", ENV, "--yes", "--retries", "1"))
    holder = h.lock_holder()
    if run.exit_code == 0 and holder:
        h.fail(REPORT, f"{run.describe()}: exit 0 but the lock is held by {holder}")
    if run.exit_code != 0 and "error:" not in run.stderr:
        h.fail(REPORT, f"{run.describe()}: failed without saying why")
    if run.exit_code != 0 and not holder:
        h.note(f"{run.describe()}: failed, but the lock was released (the answer was lost)")
    h.check_untouched(run, None)
    h.check_canary(run)
    clean = h.cli("unlock: clean re-run", "unlock", ENV, "--yes", direct=True)
    h.converged[h.step] = clean.exit_code == 0 and not h.lock_holder()
    if not h.converged[h.step]:
        h.fail(CONVERGE, f"{clean.describe()}: {clean.stderr.strip()[-300:]}")
    h.check_lock(clean)


# ---- answers lost at the worst moment -------------------------------------------------------
LEASE_PATH = f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases/gitdeploy-lock-{ENV}"


def _holder_in(request: Request) -> bool:
    body = request.json() or {}
    return bool((body.get("spec") or {}).get("holderIdentity"))


# Where an answer is lost: the first request matching each of these is done by the server,
# and its client's connection reset (`reset-after`).
LOST_TARGETS: dict[str, Callable[[Request], bool]] = {
    "lease-take": lambda r: r.path == LEASE_PATH and r.method == "PUT" and _holder_in(r),
    "lease-release": lambda r: r.path == LEASE_PATH and r.method == "PUT" and not _holder_in(r),
    "parent": lambda r: r.method == "PATCH" and not r.dry_run
    and r.path.endswith(f"/configmaps/gitdeploy-applyset-{ENV}"),
    "object": lambda r: r.method == "PATCH" and not r.dry_run
    and r.path.endswith("/configmaps/cm-00"),
    "prune": lambda r: r.method == "DELETE" and r.path.endswith("/configmaps/cm-25"),
    "record": lambda r: r.method == "POST"
    and r.path == f"/api/v1/namespaces/{NAMESPACE}/configmaps",
}


def lost_answer_step(h: Harness, target: str, retries: int | None) -> None:
    """v1 live; then v2 applied through the proxy, where the first request of `target` is
    done by the server and its answer lost: with `retries` 0 the loss is the request's last
    word; with retries, the next attempt meets what the lost one did."""
    h.step = f"lost {target}"
    h.commit("v1")
    h.proxy.choose = None
    base = h.cli(f"{h.step}: v1 applied", "apply", ENV, "--yes", "-o", "json", direct=True)
    assert base.exit_code == 0, base.stderr
    v2 = h.commit("v2")
    fired = lose(h.proxy, LOST_TARGETS[target])
    try:
        deploy_step(h, Step(h.step, "v2", v2, "deploy", "v1"), "apply", ENV, "--yes", "--prune",
                    "-o", "json", *(("--retries", str(retries)) if retries is not None else ()))
    finally:
        h.proxy.choose = None
    if not fired:
        h.fail(SETUP, f"{h.step}: no request matched, no answer was lost")


# ---- two applies racing ---------------------------------------------------------------------
def wait_for(condition: Callable[[], bool], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@dataclass
class RaceOutcome:
    first: Run
    second: Run


def race_scenario(h: Harness) -> RaceOutcome:
    """v1 live; then `apply --ref v2` (adds 3 ConfigMaps, prunes 8 objects) slowed by the
    proxy, and while it holds the lock `apply --ref v3 --lock-timeout 60s` (no v2 additions).
    The second must plan once it holds the lock: then it prunes v2's additions."""
    h.step = "race"
    v1, v2, v3 = h.commit("v1"), h.commit("v2"), h.commit("v3")
    rate = h.proxy.config.rate
    h.proxy.configure(rate=0)
    base = h.cli("race: v1 applied", "apply", ENV, "--ref", v1, "--yes", "-o", "json",
                 direct=True)
    assert base.exit_code == 0, base.stderr
    h.proxy.configure(rate=rate)
    requests_before, faults_before = len(h.api.requests), len(h.proxy.events)
    started = time.monotonic()
    # The first apply's object writes wait in the proxy until the second waits for the lock.
    h.proxy.hold(rf"/namespaces/{NAMESPACE}/(configmaps/cm-|secrets/|services/|deployments/)")
    try:
        first = h.start("apply", ENV, "--ref", v2, "--yes", "-o", "json")
        if not wait_for(lambda: f"pid {first.pid}" in h.lock_holder() and h.proxy.held > 0,
                        timeout=60):
            h.fail(SETUP, "race: the first apply was never seen applying under the lock")
        second = h.start("apply", ENV, "--ref", v3, "--yes", "-o", "json", "--lock-timeout",
                         "60s")
        if not wait_for(lambda: "waiting for the lock" in second.stderr(), timeout=60):
            h.fail(SETUP, "race: the second apply did not wait for the lock")
    finally:
        h.proxy.release()
    first_run = h.finish("race: first (v2)", first, requests_before, faults_before, started)
    second_run = h.finish("race: second (v3)", second, requests_before, faults_before, started)
    h.faulted(first_run)
    h.faulted(second_run, count_faults=False)  # both runs hold the requests of both
    return RaceOutcome(first_run, second_run)


def check_race(h: Harness, race: RaceOutcome) -> None:
    v2, v3 = h.commits["v2"], h.commits["v3"]
    for run in (race.first, race.second):
        if run.exit_code != 0:
            h.fail(REPORT, f"{run.describe()}: {run.stderr.strip()[-400:]}")
        h.check_canary(run)
    final = Step("race: after both", "v3", v3, "deploy", "v2")
    for problem in h.check_state_matches(final):
        h.fail(RECORD, f"race: after both applies, {problem}")
    records = h.history()
    if len(records) < 3 or records[0].get("commit") != v3 or records[1].get("commit") != v2:
        h.fail(RECORD, f"race: newest records are "
                       f"{[(r.get('sequence'), (r.get('commit') or '')[:7]) for r in records[:3]]}"
                       f", expected v3 ({v3[:7]}) after v2 ({v2[:7]})")
    elif records[0].get("outcome") != "succeeded":
        h.fail(RECORD, f"race: the v3 record says {records[0].get('outcome')}")
    h.check_lock(race.second)
    diff = h.cli("race: diff after both", "diff", ENV, "--ref", v3, "--exit-code", direct=True)
    h.converged[h.step] = diff.exit_code == 0
    if diff.exit_code != 0:
        h.fail(CONVERGE, f"{diff.describe()}: changes remain after both: "
                         f"{diff.stdout[-400:]}")
    # Both runs see the requests of both: what either may write, what either may prune.
    versions = {v: {key_of(o) for o in objects(v)} for v in ("v1", "v2", "v3")}
    h.check_untouched(race.second, None, allowed=set().union(*versions.values()),
                      deletable=(versions["v1"] - versions["v2"])
                      | (versions["v2"] - versions["v3"]))


# ---- signals --------------------------------------------------------------------------------
SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}
EXPECTED_EXIT = {"SIGINT": 130, "SIGTERM": 143, "SIGKILL": -signal.SIGKILL}


@dataclass
class SignalOutcome:
    run: Run
    moment: float  # seconds after the lock was first seen held
    records_before: list[Obj]
    step: Step
    lock_after: str  # who held the lock right after the process ended


def signal_scenario(h: Harness, name: str, seed: int, window: float = 2.0) -> SignalOutcome:
    """v1 live; `apply` of v2 slowed by the proxy's stalls, `name` sent at a seeded moment
    within `window` seconds of the lock being taken."""
    h.step = name
    v1, v2 = h.commit("v1"), h.commit("v2")
    rate = h.proxy.config.rate
    h.proxy.configure(rate=0)
    base = h.cli("signal: v1 applied", "apply", ENV, "--ref", v1, "--yes", "-o", "json",
                 direct=True)
    assert base.exit_code == 0, base.stderr
    h.proxy.configure(rate=rate)
    records_before = h.history()
    step = Step(f"apply v2 stopped by {name}", "v2", v2, "deploy", "v1")
    moment = random.Random(f"signal|{name}|{seed}").uniform(0.0, window)
    requests_before, faults_before = len(h.api.requests), len(h.proxy.events)
    started = time.monotonic()
    process = h.start("apply", ENV, "--yes", "-o", "json")
    held = wait_for(lambda: f"pid {process.pid}" in h.lock_holder(), timeout=60)
    if held:
        time.sleep(moment)
    if process.poll() is None:
        process.send_signal(SIGNALS[name])
    else:
        h.fail(SETUP, f"{name}: the apply ended before the signal was sent")
    run = h.faulted(h.finish(step.label, process, requests_before, faults_before, started))
    return SignalOutcome(run, moment, records_before, step, h.lock_holder())


def check_signal(h: Harness, name: str, outcome: SignalOutcome) -> None:
    run, step = outcome.run, outcome.step
    where = f"{run.describe()} at +{outcome.moment:.2f}s"
    if run.exit_code == 0:
        h.fail(SETUP, f"{where}: the apply finished before the signal took effect")
        return
    if run.exit_code != EXPECTED_EXIT[name]:
        h.fail(REPORT, f"{where}: exit {run.exit_code}, expected {EXPECTED_EXIT[name]}: "
                       f"{run.stderr.strip()[-300:]}")
    h.check_canary(run)
    h.check_untouched(run, step)
    if name == "SIGKILL":
        lease = h.live(LEASE_KEY) or {}
        spec = lease.get("spec") or {}
        if outcome.lock_after and spec.get("leaseDurationSeconds") != LOCK_DURATION:
            h.fail(LOCK, f"{where}: the killed apply's lock lasts "
                         f"{spec.get('leaseDurationSeconds')}s, not lock.duration")
        if not outcome.lock_after:
            h.note(f"{where}: the lock was free right after SIGKILL")
        before = h.by_step[h.step][CONVERGE]
        rerun = h.cli(f"{name}: re-run once the lock expired", "apply", ENV, "--yes", "-o",
                      "json", "--lock-timeout", "30s", direct=True)
        if rerun.exit_code != 0:
            h.fail(CONVERGE, f"{rerun.describe()}: {rerun.stderr.strip()[-400:]}")
        if outcome.lock_after and "took over the expired lock" not in rerun.stderr:
            h.note(f"{rerun.describe()}: did not say it took over the expired lock")
        h.check_lock(rerun)
        for problem in h.check_state_matches(step):
            h.fail(CONVERGE, f"{where}: after the re-run, {problem}")
        diff = h.cli(f"{name}: diff", "diff", ENV, "--exit-code", direct=True)
        if diff.exit_code != 0:
            h.fail(CONVERGE, f"{diff.describe()}: changes remain")
        h.converged[h.step] = h.by_step[h.step][CONVERGE] == before
        return
    if outcome.lock_after:
        h.fail(LOCK, f"{where}: the lock is still held by {outcome.lock_after}")
    # What was applied, and the record of it.
    object_paths = {path_of(k): k for k in (*step.desired, *step.pruned)}
    written = {object_paths[p] for p in run.written() if p in object_paths}
    records = h.history()
    newest_before = max((int(r["sequence"]) for r in outcome.records_before), default=0)
    new = [r for r in records if int(r["sequence"]) > newest_before]
    if written and len(new) != 1:
        h.fail(RECORD, f"{where}: {len(written)} object(s) were written but "
                       f"{len(new)} record(s) were added")
    if new:
        record = new[0]
        if record.get("outcome") == "succeeded" and h.check_state_matches(step):
            h.fail(RECORD, f"{where}: the record says succeeded, but "
                           f"{h.check_state_matches(step)[0]}")
        applied = set(record.get("applied") or [])
        changed = {title_of(k) for k in written if k in step.desired}
        if applied != changed:
            h.fail(RECORD, f"{where}: the record lists {len(applied)} applied, the server "
                           f"received {len(changed)} writes: missing "
                           f"{sorted(changed - applied)[:3]}, extra "
                           f"{sorted(applied - changed)[:3]}")
    doc = run.document
    if doc is None or doc.get("kind") not in ("ApplyResult", "Error"):
        h.fail(REPORT, f"{where}: stdout holds no report: {run.stdout[:200]!r}")
    elif doc.get("kind") == "ApplyResult":
        if doc.get("succeeded"):
            h.fail(REPORT, f"{where}: an interrupted apply reported succeeded")
        for key, item in h._results(doc).items():
            if item.get("outcome") == "applied" and not matches(step.desired[key], h.live(key)):
                h.fail(REPORT, f"{where}: {title_of(key)} reported applied, not live")
    elif written:
        h.fail(REPORT, f"{where}: objects were written but the report is an Error document")
    h.converge(step)


def dump(h: Harness) -> str:
    """The runs and what went wrong, for a failed assertion."""
    lines = [f"faults: {h.faults_summary()}"]
    lines += [f"  {r.describe()} {r.seconds:.1f}s, {len(r.faults)} fault(s)" for r in h.runs]
    lines += [f"  note: {n}" for n in h.notes]
    return "\n".join(lines)
