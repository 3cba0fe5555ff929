"""Rich terminal rendering of results: tables, a header, colored diffs.

Every text that comes from outside (names, messages and conditions from the API server, records
and leases read from the cluster, names from the repository) is printed as it is: as a `Text`,
escaped, or with `markup=False`, never parsed as rich markup."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from gitdeploy.objects.yamldiff import masked_yaml
from gitdeploy.output.console import write
from gitdeploy.output.fieldnotes import change_notes, plan_notes
from gitdeploy.output.progress import STATE_STYLE
from gitdeploy.results import Action, Outcome

if TYPE_CHECKING:
    from gitdeploy.results.apply import ApplyReport, WaitReport
    from gitdeploy.results.environment import EnvironmentInfo, RenderedObjects
    from gitdeploy.results.plan import Change, Plan
    from gitdeploy.results.state import DeployRecord, EnvironmentStatus, History, OrphanReport
    from gitdeploy.results.validate import PulledSchemas, ValidationReport

ACTION_STYLE = {Action.CREATE: "green", Action.UPDATE: "yellow", Action.ADOPT: "cyan",
                Action.UNCHANGED: "dim", Action.DELETE: "red"}
OUTCOME_STYLE = {Outcome.APPLIED: "green", Outcome.DELETED: "green", Outcome.FAILED: "bold red",
                 Outcome.NOT_ATTEMPTED: "dim"}


def _cells(*values: str) -> list[Text]:
    """Table cells shown as they are (a plain `str` cell would be parsed as markup)."""
    return [Text(value) for value in values]


def _rows(console: Console, headers: tuple[str, ...], rows: list[list[Text]]) -> None:
    """A table of one row per object: laid out as rich lays out `Table(box=None)` (a space at
    each edge, two between columns, every cell as wide as its column's widest), but written as
    one text. rich's table measures every cell for every row it renders, about 2 ms a row: 2 s
    for the report of an apply of 1,000 objects. Rows that do not fit the console's width, or
    a cell of several lines, are left to rich's table, which folds them."""
    widths = [max([cell_len(header), *(row[i].cell_len for row in rows)])
              for i, header in enumerate(headers)]
    if sum(widths) + 2 * len(widths) > console.width or any(
            "\n" in cell.plain for row in rows for cell in row):
        table = Table(box=None, header_style="bold")
        for header in headers:
            table.add_column(header, overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    text = Text()
    for row in [[Text(header, style="bold") for header in headers], *rows]:
        text.append(" ")
        for i, (cell, width) in enumerate(zip(row, widths, strict=True)):
            text.append_text(cell)
            text.append(" " * (width - cell.cell_len) + (" " if i == len(widths) - 1 else "  "))
        text.append("\n")
    write(console, text, end="")


def environments(console: Console, envs: list[EnvironmentInfo]) -> None:
    rows: list[list[Text]] = []
    for env in envs:
        if env.broken:
            rows.append([*_cells(env.name, "-", "-", "-", "-"),
                         Text("broken settings", style="bold red")])
            continue
        flags = [name for name, on in (("protected", env.protected), ("prune", env.prune),
                                       ("suspended", env.suspend)) if on]
        rows.append(_cells(env.name, env.context, env.namespace, env.server or "-",
                           env.uid or "-", ", ".join(flags) or "-"))
    _rows(console, ("ENVIRONMENT", "CONTEXT", "NAMESPACE", "SERVER", "CLUSTER UID", "FLAGS"),
          rows)


def rendered_objects(console: Console, result: RenderedObjects) -> None:
    """All rendered objects as one YAML stream, each with its source; Secrets masked."""
    parts = [f"# Source: {m.origin}\n{masked_yaml(m.body)}" for m in result.manifests]
    console.print("---\n".join(parts), end="", markup=False, highlight=False)


def header(console: Console, plan: Plan) -> None:
    t = plan.target
    if plan.base is not None:
        rows = [("environment", plan.environment), ("mode", "offline: git only, no cluster"),
                ("base", plan.base.describe()), ("head", plan.source.describe())]
    else:
        rows = [("environment", plan.environment), ("context", t.context),
                ("server", t.server), ("cluster", t.cluster_uid),
                ("commit", plan.source.describe())]
    if plan.variables:  # names and where their values came from, never the values
        rows.append(("variables", ", ".join(plan.variables)))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for label, value in rows:
        grid.add_row(label, Text(value))
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
    for line in plan_notes(plan):
        console.print(Text(line, style="yellow"))
        console.print()
    for change in plan.pending:  # written as text: a plan may hold thousands of changes
        style = ACTION_STYLE[change.action]
        text = Text.assemble((f"{change.action.value} ", f"bold {style}"),
                             (change.title(), "bold"), (f"  {_source(change)}", "dim"), "\n")
        if change.note:
            text.append(f"  {change.note}\n", style="yellow")
        if change.action is Action.DELETE and plan.base is None:
            text.append("  removed from git: " + (
                "apply deletes it" if plan.prune else
                "apply leaves it in place (pruning is off; --prune deletes it)") + "\n",
                        style="yellow")
        for drift in change.drift:
            text.append_text(Text.assemble(
                ("  drift:", "magenta"), f" {drift.field} was changed in the cluster by "
                f"{drift.manager}; apply takes it back\n"))
        for label, note in change_notes(change):
            text.append_text(Text.assemble((f"  {label}:", "magenta"), f" {note}\n"))
        text.append_text(_diff_text(change.diff))
        write(console, text)
    summary(console, plan)


def _source(change: Change) -> str:
    """Where a change comes from, in parentheses: `(path:line)`, or `(not in git)` for a
    deletion, whose origin already says so in parentheses."""
    origin = str(change.manifest.origin)
    return origin if origin.startswith("(") and origin.endswith(")") else f"({origin})"


def summary(console: Console, plan: Plan) -> None:
    for change in plan.kept:
        console.print(Text.assemble(("keep ", "bold"), (change.title(), "bold"),
                                    (f"  removed from git, not pruned: {change.kept}", "dim")))
    table = Table(box=None, header_style="bold")
    table.add_column("ACTION")
    table.add_column("OBJECTS", justify="right")
    for action in Action:
        table.add_row(Text(action.value, style=ACTION_STYLE[action]), str(plan.count(action)))
    console.print(table)
    pending = len(plan.pending)
    if pending:
        console.print(f"{pending} change(s) to {plan.environment}.", highlight=False,
                      markup=False)
    else:
        console.print(f"No changes: {plan.environment} matches git.", highlight=False,
                      markup=False)


def apply_report(console: Console, report: ApplyReport) -> None:
    if report.results:
        _rows(console, ("RESULT", "ACTION", "OBJECT", "ERROR"), [
            [Text(result.outcome.value, style=OUTCOME_STYLE[result.outcome]),
             *_cells(result.change.action.value, result.change.title(), result.error or "")]
            for result in report.results])
    applied = report.count(Outcome.APPLIED)
    env = escape(report.plan.environment)
    if not report.results:
        console.print(f"Nothing to apply to {env}.", highlight=False)
    elif report.succeeded:
        console.print(f"[green]Applied {applied} change(s) to {env}.[/green]", highlight=False)
    else:
        console.print(
            f"[red]Apply to {env} stopped:[/red] {applied} applied, "
            f"{report.count(Outcome.FAILED)} failed, {report.count(Outcome.NOT_ATTEMPTED)} not "
            "attempted.", highlight=False)
    if report.record is not None:
        record = report.record
        console.print(f"Recorded as {escape(record.kind)} {record.sequence} of {env}: commit "
                      f"{escape(record.short)}{' (dirty)' if record.dirty else ''}, "
                      f"{escape(record.outcome)}.", highlight=False)
    if report.readiness is not None:
        readiness(console, report.plan.environment, report.readiness)


def readiness(console: Console, environment: str, report: WaitReport) -> None:
    env = escape(environment)
    total, waited = len(report.items), f"{report.seconds:.0f}s"
    if report.ready:
        console.print(f"[green]All {total} object(s) of {env} ready[/green] after {waited}.",
                      highlight=False)
        return
    if report.interrupted:
        console.print(f"[yellow]Stopped waiting[/yellow] after {waited}: "
                      f"{total - len(report.not_ready)}/{total} ready.", highlight=False)
        return
    why = (f"not ready after the {report.timeout:.0f}s timeout" if report.timed_out
           else "failed")
    console.print(f"[red]{len(report.not_ready)} of {total} object(s) of {env} {why}:[/red]",
                  highlight=False)
    for item in report.not_ready:
        console.print(Text.assemble((f"  {item.state.value}", STATE_STYLE[item.state]),
                                    f" {item.title}: {item.readiness.message}"))
        for condition in item.readiness.conditions:
            console.print(f"      condition {condition}", highlight=False, markup=False)
        for event in item.events:
            console.print(f"      event {event}", highlight=False, markup=False)


def orphans(console: Console, report: OrphanReport) -> None:
    where = ", ".join(report.namespaces)
    if not report.orphans:
        console.print(f"No orphans in {report.environment}'s namespaces ({where}).",
                      highlight=False, markup=False)
    else:
        table = Table(box=None, header_style="bold")
        for column in ("KIND", "NAMESPACE", "NAME", "CREATED", "WRITTEN BY"):
            table.add_column(column, overflow="fold")
        for orphan in report.orphans:
            kind = orphan.kind + (f".{orphan.api_version.split('/')[0]}"
                                  if "/" in orphan.api_version else "")
            table.add_row(*_cells(kind, orphan.namespace, orphan.name, orphan.created,
                                  ", ".join(orphan.managers) or "-"))
        console.print(table)
        console.print(f"{len(report.orphans)} orphan(s) in {report.environment}'s namespaces "
                      f"({where}): not in git, not in its inventory, not owned by another "
                      "object. gitdeploy never deletes them.", highlight=False, markup=False)
    for line in report.unchecked:
        console.print(f"[yellow]not checked:[/yellow] {escape(line)}", highlight=False)


def pulled_schemas(console: Console, result: PulledSchemas) -> None:
    for path in result.files:
        console.print(Text(f"  {path}"), highlight=False)
    console.print(Text(f"{len(result.files)} schema(s) from the CRDs of {result.server} "
                       f"({result.environment}) written into {result.folder}"), highlight=False)


def validation(console: Console, report: ValidationReport) -> None:
    """Each environment with its problems (file:line:column: object: field: message), then
    the summary: documents, objects, errors, warnings and skipped kinds."""
    for env in report.environments:
        errors, warnings = len(env.errors), len(env.warnings)
        mark = "[green]ok[/green]" if not errors else f"[red]{errors} error(s)[/red]"
        if warnings:
            mark += f", [yellow]{warnings} warning(s)[/yellow]"
        skipped = sum(env.skipped.values())
        console.print(f"{escape(env.name)}: {env.documents} document(s), {env.objects} "
                      f"object(s), Kubernetes {env.kubernetes_version or '?'}"
                      f"{f', {skipped} skipped' if skipped else ''}: {mark}", highlight=False)
        for problem in env.problems:
            label = "" if problem.severity == "error" else f"{problem.severity}: "
            console.print(Text(f"  {label}{problem}"), highlight=False)
    total, warned, skipped_kinds = report.problems, report.warnings, report.skipped
    count = len(report.environments)
    line = (f"{total} error(s) in {count} environment(s)." if total
            else f"All {count} environment(s) are valid.")
    line += (f" {report.documents} document(s), {report.objects} object(s), {total} "
             f"error(s), {warned} warning(s), {sum(skipped_kinds.values())} skipped.")
    console.print(Text(line), highlight=False)
    if skipped_kinds:
        console.print(Text("Skipped (no schema check): " + ", ".join(
            f"{kind} x{number}" for kind, number in skipped_kinds.items())), highlight=False)


def _who(record: DeployRecord) -> str:
    who = record.deployed_by
    return f"{who.local_user}@{who.host}" + (f" ({who.ci})" if who.ci else "")


def _when(record: DeployRecord) -> str:
    return record.deployed_at.replace("T", " ").removesuffix("Z")[:16]


def _counts(record: DeployRecord) -> str:
    """+created ~updated (and !failed), as in a diff stat."""
    counts = record.counts
    shown = [f"{sign}{counts[name]}" for sign, name in (("+", "create"), ("~", "update"),
                                                        ("!", "failed"))
             if counts.get(name)]
    return " ".join(shown) or "-"


def status(console: Console, result: EnvironmentStatus) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    t = result.target
    grid.add_row("environment", Text(result.environment))
    grid.add_row("context", Text(f"{t.context} ({t.server})"))
    live = result.live
    if live is None:
        grid.add_row("live", "nothing deployed by gitdeploy yet")
    else:
        subject = f" {live.subject}" if live.subject else ""
        grid.add_row("live commit", Text(f"{live.short}{subject}"))
        grid.add_row("deployed", Text(f"{_when(live)} UTC by {live.deployed_by.describe()}"))
        grid.add_row("record", Text(f"{live.kind} {live.sequence} from ref {live.ref or '-'}"))
        outcome = Text(live.outcome or "-", style="green" if live.succeeded else "bold red")
        if not live.succeeded:
            outcome.append(f": {len(live.applied)} applied before it stopped")
        grid.add_row("outcome", outcome)
        grid.add_row("dirty", "yes: deployed with uncommitted changes" if live.dirty else "no")
        grid.add_row("vs git", Text(_distance(result)))
    drifted = result.drifted
    if drifted is None:
        grid.add_row("drift", Text(result.drift_note or "not checked"))
    else:
        text = Text("yes", style="bold yellow") if drifted else Text("no", style="green")
        if drifted and result.drift is not None:
            text.append(f": {len(result.drift.pending)} object(s) differ from the live "
                        f"commit; {_drift_command(result)} shows them")
        if result.drift_note:
            text.append(f" ({result.drift_note})")
        grid.add_row("drift", text)
    lock = result.lock
    grid.add_row("lock", Text(f"held by {lock.holder} since {lock.since()}" if lock else "free"))
    console.print(grid)


def _drift_command(result: EnvironmentStatus) -> str:
    """The command that shows the drift: the diff of the live commit against the cluster."""
    ref = f" --ref {result.live.short}" if result.live is not None and result.live.commit else ""
    return f"gitdeploy diff {result.environment}{ref}"


def _distance(result: EnvironmentStatus) -> str:
    compared = result.compared_to
    name = compared.ref_name or "HEAD"
    head = f"{name} ({compared.short})"
    if result.live is None or not result.live.commit:
        return "unknown: not deployed from a commit"
    if not result.in_history or result.distance is None:
        return f"{result.live.short} is not in the local history (git fetch?)"
    behind, ahead = result.distance
    if not behind and not ahead:
        return f"up to date with {head}"
    if behind and ahead:
        return f"{behind} commit(s) behind and {ahead} ahead of {head} (diverged)"
    if behind:
        return f"{behind} commit(s) behind {head}"
    return f"{ahead} commit(s) ahead of {head}"


def history(console: Console, result: History) -> None:
    if not result.records:
        console.print(f"No deploys of {result.environment} recorded yet.", highlight=False)
        return
    table = Table(box=None, header_style="bold")
    for column in ("#", "WHEN (UTC)", "KIND", "COMMIT", "REF", "RESULT", "CHANGES"):
        table.add_column(column, no_wrap=True)
    for column in ("BY", "SUBJECT"):
        table.add_column(column, overflow="fold")
    for record in result.records:
        commit = record.short + (" (dirty)" if record.dirty else "")
        outcome = Text("ok", style="green") if record.succeeded else Text("FAILED",
                                                                            style="bold red")
        table.add_row(*_cells(str(record.sequence), _when(record), record.kind, commit,
                              record.ref or "-"), outcome,
                      *_cells(_counts(record), _who(record), record.subject))
    console.print(table)
