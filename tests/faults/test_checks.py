"""The checks of scenario.py have teeth: each one, given a run that breaks its rule, says so,
and given a clean run, says nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults import scenario as sc
from tests.faults.proxy import FaultConfig
from tests.faults.scenario import Harness, Run, Step, key_of, path_of
from tests.kubeapi.server import RequestRecord

pytestmark = pytest.mark.faults


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    """v1 applied cleanly, with bystanders."""
    with Harness.open(tmp_path, FaultConfig(rate=0.0)) as harness:
        harness.commit("v1")
        harness.add_bystanders()
        harness.step = "v1"
        run = harness.cli("apply v1", "apply", sc.ENV, "--yes", "-o", "json")
        assert run.exit_code == 0, run.stderr
        yield harness


def applied(h: Harness) -> Run:
    return next(run for run in h.runs if run.label == "apply v1")


def step(h: Harness) -> Step:
    return Step("apply v1", "v1", h.commits["v1"], "deploy", None)


def fake(stdout: str = "", stderr: str = "", exit_code: int = 0,
         requests: list[RequestRecord] | None = None) -> Run:
    return Run("fake", ("apply", sc.ENV), exit_code, stdout, stderr, requests or [], [], 0.0)


def write(method: str, path: str, status: int = 200) -> RequestRecord:
    return RequestRecord(method, path, {"fieldManager": ["gitdeploy"]}, status, "admin")


def report(h: Harness, succeeded: bool, outcomes: dict[str, tuple[str, str]]) -> str:
    """An ApplyResult with these results: title -> (outcome, error)."""
    results: list[dict[str, Any]] = []
    for obj in sc.objects("v1"):
        title = sc.title_of(key_of(obj))
        if title in outcomes:
            outcome, error = outcomes[title]
            results.append({"kind": obj["kind"], "namespace": key_of(obj)[2],
                            "name": obj["metadata"]["name"], "outcome": outcome,
                            "error": error})
    return json.dumps({"kind": "ApplyResult", "succeeded": succeeded, "results": results,
                       "record": None})


def test_the_clean_apply_breaks_no_rule(h: Harness) -> None:
    h.check_deploy(applied(h), step(h), [])
    assert not any(h.violations.values()), dict(h.violations)


@pytest.mark.parametrize("leak", [sc.CANARY, base64.b64encode(sc.CANARY.encode()).decode()])
def test_the_canary_is_found_in_output_and_in_stored_objects(h: Harness, leak: str) -> None:
    h.check_canary(fake(stderr=f"error: bad value {leak}"))
    assert len(h.violations[sc.CANARY_GROUP]) == 1
    h.api.cluster.objects[("", "configmaps", sc.NAMESPACE, "gitdeploy-record-dev-000009")] = {
        "data": {"failed": f"Secret shop/app-credentials: {leak}"}}
    h.summary.write_text(f"| Secret | {leak} |")
    h.check_canary(fake())
    assert len(h.violations[sc.CANARY_GROUP]) == 3


def test_writes_outside_the_plan_are_found(h: Harness) -> None:
    bystander = next(iter(h.bystanders))
    h.check_untouched(fake(requests=[
        write("PATCH", path_of(bystander)),
        write("DELETE", path_of(key_of(sc.objects("v1")[5]))),  # in git, not pruned
        write("PUT", f"/apis/coordination.k8s.io/v1/namespaces/{sc.NAMESPACE}/leases/"
                     f"gitdeploy-lock-{sc.ENV}"),  # its own lock: fine
        write("PATCH", f"/api/v1/namespaces/{sc.NAMESPACE}/configmaps/other-tool-state")]),
        step(h))
    found = h.violations[sc.UNTOUCHED]
    assert len(found) == 3, found
    assert "bystander" in found[0] and "which is in git" in found[2]


def test_a_changed_bystander_is_found(h: Harness) -> None:
    key = next(iter(h.bystanders))
    h.api.cluster.objects[key]["metadata"]["resourceVersion"] = "999999"
    h.check_untouched(fake(), step(h))
    assert "changed" in h.violations[sc.UNTOUCHED][0]


def test_a_held_lock_is_found(h: Harness) -> None:
    sc.put_lease(h, "someone@else pid 1", renewed_ago=0, duration=60)
    h.check_lock(fake())
    assert "someone@else pid 1" in h.violations[sc.LOCK][0]


def test_reports_that_lie_are_found(h: Harness) -> None:
    cm = key_of(sc.objects("v1")[3])
    h.api.cluster.objects[cm]["data"] = {"stale": "yes"}
    title = sc.title_of(cm)
    lies = [
        (fake(report(h, True, {title: ("applied", "")}), exit_code=0), "reported applied"),
        (fake(report(h, False, {title: ("failed", "")}), exit_code=1), "without a reason"),
        (fake(report(h, False, {title: ("failed", "503")}), exit_code=0), "exit 0"),
        (fake(report(h, True, {}), exit_code=0), "left out of the report"),
        (fake(json.dumps({"kind": "Error", "error": {"exitCode": 1, "message": "x"}}),
              exit_code=1, requests=[write("PATCH", path_of(cm))]), "Error document"),
        (fake("not json", exit_code=1), "not one JSON document"),
    ]
    for run, says in lies:
        h.violations.clear()
        h._check_report(run, step(h))
        assert any(says in v for v in h.violations[sc.REPORT]), (says, dict(h.violations))
    h.violations.clear()
    h._check_report(fake(report(h, False, {title: ("failed", "503 from the proxy")}),
                         exit_code=1), step(h))
    assert not h.violations[sc.REPORT]  # a failure reported as one


def test_a_record_that_does_not_match_the_live_state_is_found(h: Harness) -> None:
    cm = key_of(sc.objects("v1")[3])
    h.api.cluster.objects[cm]["data"] = {"stale": "yes"}
    h._check_record(applied(h), step(h), [])
    assert any("outcome succeeded" in v for v in h.violations[sc.RECORD]), dict(h.violations)
