"""Rich terminal rendering of results: tables, a header, colored diffs."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from gitdeploy.diffing import masked_yaml
from gitdeploy.environments import Environment
from gitdeploy.render import RenderedSet
from gitdeploy.results import Action, ApplyReport, Outcome, Plan

ACTION_STYLE = {Action.CREATE: "green", Action.UPDATE: "yellow", Action.UNCHANGED: "dim"}
OUTCOME_STYLE = {Outcome.APPLIED: "green", Outcome.FAILED: "bold red",
                 Outcome.NOT_ATTEMPTED: "dim"}


def environments(console: Console, envs: list[Environment]) -> None:
    table = Table(title=None, box=None, header_style="bold")
    for column in ("ENVIRONMENT", "CONTEXT", "NAMESPACE", "SERVER", "CLUSTER UID", "FLAGS"):
        table.add_column(column, overflow="fold")
    for env in envs:
        s = env.settings
        flags = [name for name, on in (("protected", s.protected), ("prune", s.prune),
                                       ("suspended", s.suspend)) if on]
        table.add_row(env.name, s.context, s.namespace, s.cluster.server or "-",
                      s.cluster.uid or "-", ", ".join(flags) or "-")
    console.print(table)


def rendered_objects(console: Console, result: RenderedSet) -> None:
    """All rendered objects as one YAML stream, each with its source; Secrets masked."""
    parts = [f"# Source: {m.origin}\n{masked_yaml(m.body)}" for m in result.manifests]
    console.print("---\n".join(parts), end="", markup=False, highlight=False)


def header(console: Console, plan: Plan) -> None:
    t = plan.target
    rows = [("environment", plan.environment), ("context", t.context), ("server", t.server),
            ("cluster", t.cluster_uid), ("commit", plan.source.describe())]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for label, value in rows:
        grid.add_row(label, value)
    console.print(grid)
    console.print()


def _diff_text(diff: str) -> Text:
    text = Text()
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        else:
            style = ""
        text.append(line + "\n", style=style)
    return text


def plan(console: Console, plan: Plan) -> None:
    header(console, plan)
    for change in plan.pending:
        style = ACTION_STYLE[change.action]
        console.print(Text.assemble((f"{change.action.value} ", f"bold {style}"),
                                    (change.title(), "bold"),
                                    (f"  ({change.manifest.origin})", "dim")))
        if change.note:
            console.print(f"  [yellow]{escape(change.note)}[/yellow]", highlight=False)
        for drift in change.drift:
            console.print(f"  [magenta]drift:[/magenta] {escape(drift.field)} was changed in "
                          f"the cluster by {escape(drift.manager)}; apply takes it back",
                          highlight=False)
        console.print(_diff_text(change.diff), end="")
        console.print()
    summary(console, plan)


def summary(console: Console, plan: Plan) -> None:
    table = Table(box=None, header_style="bold")
    table.add_column("ACTION")
    table.add_column("OBJECTS", justify="right")
    for action in Action:
        table.add_row(Text(action.value, style=ACTION_STYLE[action]), str(plan.count(action)))
    console.print(table)
    pending = len(plan.pending)
    if pending:
        console.print(f"{pending} change(s) to {plan.environment}.", highlight=False)
    else:
        console.print(f"No changes: {plan.environment} matches git.", highlight=False)


def apply_report(console: Console, report: ApplyReport) -> None:
    table = Table(box=None, header_style="bold")
    for column in ("RESULT", "ACTION", "OBJECT", "ERROR"):
        table.add_column(column)
    for result in report.results:
        table.add_row(Text(result.outcome.value, style=OUTCOME_STYLE[result.outcome]),
                      result.change.action.value, result.change.title(), result.error or "")
    console.print(table)
    applied = report.count(Outcome.APPLIED)
    if report.succeeded:
        console.print(f"[green]Applied {applied} change(s) to {report.plan.environment}.[/green]",
                      highlight=False)
    else:
        console.print(
            f"[red]Apply to {report.plan.environment} stopped:[/red] {applied} applied, "
            f"{report.count(Outcome.FAILED)} failed, {report.count(Outcome.NOT_ATTEMPTED)} not "
            "attempted.", highlight=False)
