"""A run over several environments (docs/fleet.md), rendered: the `FleetReport` JSON document
(one section per environment holding that environment's own document), the summary table, and
the terminal output. The table and the pull-request comments (output/fleet_markdown.py) are
made from the document, so that a report merged from the JSON of separate CI jobs
(`gitdeploy report merge`) renders exactly like one run's."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from gitdeploy import __version__
from gitdeploy.fleet_results import SEVERITY, EnvironmentRun, FleetReport, RunState
from gitdeploy.output import jsondoc, terminal
from gitdeploy.results import API_VERSION, Action
from gitdeploy.results.apply import ApplyReport
from gitdeploy.results.environment import RenderedObjects
from gitdeploy.results.plan import Plan
from gitdeploy.results.state import EnvironmentStatus

KIND = "FleetReport"
ACTIONS = tuple(action.value for action in Action)  # create update adopt unchanged delete
STATES = tuple(state.value for state in RunState)
STATE_STYLE = {"ok": "green", "changes": "yellow", "not-ready": "red", "failed": "bold red",
               "interrupted": "bold red", "skipped": "dim"}
_SUMMARY_KEYS = {"ok": "ok", "changes": "withChanges", "not-ready": "notReady",
                 "failed": "failed", "interrupted": "interrupted", "skipped": "skipped"}


# ---- the JSON document ------------------------------------------------------------------------

def document(report: FleetReport) -> dict[str, Any]:
    sections = [section(run) for run in report.runs]
    return build(report.command, sections, selection=report.selection, base=report.base,
                 interrupted=report.interrupted, notes=report.notes,
                 exit_code=report.exit_code)


def build(command: str, sections: list[dict[str, Any]], *, selection: str = "",
          base: str | None = None, interrupted: str = "", notes: list[str] | None = None,
          exit_code: int | None = None) -> dict[str, Any]:
    """The document around `sections`; the exit code is the worst of theirs unless given."""
    if exit_code is None:
        exit_code = worst_code(sections)
    return dict(
        apiVersion=API_VERSION, kind=KIND, gitdeployVersion=__version__, command=command,
        selection=selection or None, base=base,
        exitCode=exit_code, interrupted=interrupted or None, notes=list(notes or []),
        summary=summarize(sections), environments=sections)


def worst_code(sections: list[dict[str, Any]]) -> int:
    codes = [s["exitCode"] for s in sections if s.get("exitCode") is not None]

    def rank(code: int) -> int:
        return SEVERITY.index(code) if code in SEVERITY else SEVERITY.index(1)

    return max(codes, key=rank, default=0)


def section(run: EnvironmentRun) -> dict[str, Any]:
    plan = run.plan
    return {
        "name": run.environment,
        "state": run.state.value,
        "exitCode": None if run.skipped else run.exit_code,
        "wave": run.wave,
        "seconds": round(run.seconds, 1),
        "summary": jsondoc.summary(plan) if plan is not None else None,
        "error": None if run.error is None else {
            "type": run.error.type, "message": run.error.message,
            "details": list(run.error.details)},
        "skipped": run.skipped or None,
        "document": _environment_document(run),
    }


def _environment_document(run: EnvironmentRun) -> dict[str, Any] | None:
    result = run.result
    if isinstance(result, Plan):
        return jsondoc.plan(result, run.orphans)
    if isinstance(result, ApplyReport):
        return jsondoc.apply_report(result)
    if isinstance(result, EnvironmentStatus):
        return jsondoc.status(result)
    if isinstance(result, RenderedObjects):
        return jsondoc.rendered(result)
    return None


def summarize(sections: list[dict[str, Any]]) -> dict[str, int]:
    """Environments per state, and objects per action over all of them."""
    counts = {"environments": len(sections)}
    for state, key in _SUMMARY_KEYS.items():
        counts[key] = sum(1 for s in sections if s.get("state") == state)
    for action in (*ACTIONS, "changes"):
        counts[action] = sum((s.get("summary") or {}).get(action, 0) for s in sections)
    return counts


# ---- the summary table, from the document ------------------------------------------------------

@dataclass(frozen=True)
class Row:
    environment: str
    state: str
    counts: dict[str, int | None]  # per action; None when the environment has no plan
    detail: str


def rows(doc: dict[str, Any]) -> list[Row]:
    return [Row(s["name"], s["state"],
                {a: (s["summary"] or {}).get(a) if s.get("summary") else None
                 for a in ACTIONS}, detail(s))
            for s in doc["environments"]]


def detail(s: dict[str, Any]) -> str:
    """One line about an environment: its error, why it was skipped, or what it found."""
    if s.get("skipped"):
        return str(s["skipped"])
    if s.get("error"):
        return str(s["error"]["message"])
    inner = s.get("document") or {}
    kind = inner.get("kind")
    if kind == "Status":
        if inner.get("live") is None:
            return "never deployed"
        parts = [f"live {str(inner['live'].get('commit') or '')[:7]}"]
        behind, ahead = inner.get("commitsBehind"), inner.get("commitsAhead")
        if behind is None:
            parts.append("not in the local history")
        else:
            if behind:
                parts.append(f"{behind} behind")
            if ahead:
                parts.append(f"{ahead} ahead")
        drift = inner.get("drift") or {}
        if drift.get("drifted"):
            parts.append(f"drifted ({len(drift.get('changes') or [])} object(s))")
        elif drift.get("checked"):
            parts.append("no drift")
        if inner.get("lock"):
            parts.append(f"locked by {inner['lock']['holder']}")
        return ", ".join(parts)
    if kind == "ApplyResult":
        record = inner.get("record") or {}
        results = inner.get("results") or []
        done = sum(1 for r in results if r.get("outcome") in ("applied", "deleted"))
        text = f"{done} object(s) applied" if results else "nothing to apply"
        if record:
            text += f", record {record.get('sequence')}"
        readiness = inner.get("readiness")
        if readiness is not None:
            text += ", ready" if readiness.get("ready") else ", not ready"
        return text
    if kind == "RenderedObjects":
        return f"{len(inner.get('objects') or [])} object(s)"
    if kind == "Plan":
        changes = (s.get("summary") or {}).get("changes", 0)
        return f"{changes} change(s)" if changes else "no changes"
    return ""


def table(console: Console, doc: dict[str, Any]) -> None:
    """The summary table, then one line of totals."""
    grid = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("ENVIRONMENT", "RESULT", *(a.upper() for a in ACTIONS), "DETAIL"):
        grid.add_column(column, overflow="fold")
    for row in rows(doc):
        grid.add_row(Text(row.environment), Text(row.state, style=STATE_STYLE.get(row.state, "")),
                     *(Text("-" if row.counts[a] is None else str(row.counts[a]))
                       for a in ACTIONS), Text(row.detail))
    console.print(grid)
    console.print(Text(totals(doc)), highlight=False)


def totals(doc: dict[str, Any]) -> str:
    summary = doc["summary"]
    parts = [f"{summary[key]} {'with changes' if state == 'changes' else state}"
             for state, key in _SUMMARY_KEYS.items() if summary.get(key)]
    return (f"{summary['environments']} environment(s): {', '.join(parts) or 'none run'}; "
            f"exit code {doc['exitCode']}")


# ---- the terminal output of a run ----------------------------------------------------------------

def text(console: Console, report: FleetReport) -> None:
    """Each environment's own output, under a rule naming it, then the summary table."""
    for run in report.runs:
        if run.skipped:
            continue
        heading(console, run.environment)
        if run.result is not None:
            _result(console, run)
        if run.error is not None:
            console.print(Text.assemble(("error:", "bold red"), f" {run.error.message}"))
            for line in run.error.details:
                console.print(Text(f"  {line}"))
        console.print()
    heading(console, "summary")
    table(console, document(report))


def heading(console: Console, title: str) -> None:
    """A line naming the environment whose output follows (as wide in a pipe as on a
    terminal's 80 columns)."""
    console.print(Text(f"=== {title} " + "=" * max(3, 72 - len(title)), style="bold"))


def _result(console: Console, run: EnvironmentRun) -> None:
    result = run.result
    if isinstance(result, Plan):
        terminal.plan(console, result)
        if run.orphans is not None:
            console.print()
            terminal.orphans(console, run.orphans)
    elif isinstance(result, ApplyReport):
        terminal.apply_report(console, result)
    elif isinstance(result, EnvironmentStatus):
        terminal.status(console, result)
    elif isinstance(result, RenderedObjects):
        terminal.rendered_objects(console, result)


def rendered_stream(console: Console, report: FleetReport) -> None:
    """`render` of several environments: one YAML stream, each environment's objects after a
    comment naming it (the summary goes to standard error)."""
    first = True
    for run in report.runs:
        if not isinstance(run.result, RenderedObjects) or not run.result.manifests:
            continue
        if not first:
            console.print("---", markup=False, highlight=False)
        first = False
        console.print(f"# Environment: {run.environment}", markup=False, highlight=False)
        terminal.rendered_objects(console, run.result)


def matrix(names: list[str] | tuple[str, ...], style: str) -> str:
    """The environments as a CI matrix: GitHub Actions' `strategy.matrix` (JSON, for
    `fromJSON`), or GitLab's `parallel:matrix` (YAML, for a child pipeline or an include)."""
    if style == "gitlab":
        if not names:
            return "parallel:\n  matrix: []\n"
        listed = ", ".join(json.dumps(name) for name in names)
        return f"parallel:\n  matrix:\n    - ENVIRONMENT: [{listed}]\n"
    return json.dumps({"environment": list(names)}, separators=(",", ":")) + "\n"
