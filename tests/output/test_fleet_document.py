"""The contract of the FleetReport document (docs/json-output.md#fleetreport)."""

from __future__ import annotations

from gitdeploy.errors import ExitCode, SettingsError
from gitdeploy.fleet.run import Outcome, RunOptions, run_environments
from gitdeploy.fleet_results import FleetReport, worst
from gitdeploy.output import fleet
from gitdeploy.results import API_VERSION
from gitdeploy.results.environment import RenderedObjects

TOP = ["apiVersion", "kind", "gitdeployVersion", "command", "selection", "base", "exitCode",
       "interrupted", "notes", "summary", "environments"]
SECTION = ["name", "state", "exitCode", "wave", "seconds", "summary", "error", "skipped",
           "document"]
SUMMARY = ["environments", "ok", "withChanges", "notReady", "failed", "interrupted",
           "skipped", "create", "update", "adopt", "unchanged", "delete", "changes"]


def test_the_document_fields() -> None:
    from contextlib import nullcontext

    def task(session: object, name: str) -> Outcome:
        if name == "bad":
            raise SettingsError("bad settings", ["line 1"])
        return Outcome(RenderedObjects(environment=name, manifests=[]))

    runs, interrupted = run_environments(
        ["bad", "good"], task, lambda name: nullcontext(None),  # type: ignore[arg-type]
        RunOptions(parallel=2))
    doc = fleet.document(FleetReport("render", runs, selection="--all",
                                     interrupted=interrupted))
    assert list(doc) == TOP
    assert (doc["apiVersion"], doc["kind"], doc["exitCode"]) == (API_VERSION, "FleetReport", 1)
    assert list(doc["summary"]) == SUMMARY
    assert all(list(section) == SECTION for section in doc["environments"])
    bad, good = doc["environments"]
    assert bad["error"] == {"type": "SettingsError", "message": "bad settings",
                            "details": ["line 1"]}
    assert (bad["state"], good["state"]) == ("failed", "ok")
    assert good["document"]["kind"] == "RenderedObjects"


def test_the_worst_exit_code() -> None:
    assert worst([]) == 0
    assert worst([0, 2]) == 2
    assert worst([2, 4]) == 4
    assert worst([4, 1, 2]) == 1
    assert worst([1, 3]) == 3
    assert worst([3, ExitCode.INTERRUPTED, 143]) == ExitCode.INTERRUPTED
