"""Several environments in one command (docs/fleet.md): the selection options (`ENV...` names
and patterns, `--all`, `-l`, `--changed --base REF`, `--matrix`), the run options
(`--parallel`, `--fail-fast/--keep-going`), and what `diff`, `apply`, `status` and `render` do
when more than one environment is selected. One environment named alone runs as before."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gitdeploy.cli.options import Group, complete_environment
from gitdeploy.errors import ExitCode, RefusedError, SettingsError

if TYPE_CHECKING:
    from rich.console import Console

    from gitdeploy.commands.deploy import DeployOptions
    from gitdeploy.commands.session import ClusterOptions, Session, WaitUpdate
    from gitdeploy.fleet.changed import Changes
    from gitdeploy.fleet.run import Task
    from gitdeploy.fleet_results import EnvironmentRun, FleetReport
    from gitdeploy.output.console import UI
    from gitdeploy.results.apply import ObjectResult
    from gitdeploy.results.plan import Plan

EnvNames = Annotated[list[str] | None, typer.Argument(
    metavar="ENV", help="Environments: names, or shell patterns such as 'prod-*' (quoted); "
    "with several, each runs on its own and a summary table ends the output (docs/fleet.md).",
    show_default=False, autocompletion=complete_environment)]

MATRIX_STYLES = ("github", "gitlab")


def _parameter(name: str, annotation: Any, default: Any) -> Any:
    import inspect

    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                             default=default)


@dataclass(frozen=True)
class Fleet:
    """How the environments are selected and run."""

    everything: bool = False
    selectors: tuple[str, ...] = ()
    changed: bool = False
    base: str | None = None
    matrix: str | None = None
    parallel: int = 4
    fail_fast: bool | None = None  # None: the command's default (apply: fail fast)

    def several(self, names: list[str]) -> bool:
        """Whether this is a fleet run rather than the one environment of old."""
        from gitdeploy.fleet.selection import is_pattern

        if not names and not (self.everything or self.selectors or self.changed):
            raise typer.BadParameter("name one or more environments or patterns ('prod-*'), "
                                     "or pass --all, -l SELECTOR or --changed --base REF",
                                     param_hint="'ENV...'")
        return (self.everything or bool(self.selectors) or self.changed
                or self.matrix is not None or len(names) != 1 or is_pattern(names[0]))

    def described(self, names: list[str], base: str | None) -> str:
        parts = [*names, *(["--all"] if self.everything else []),
                 *(f"-l {text}" for text in self.selectors)]
        if self.changed:
            parts.append(f"--changed --base {base}")
        return " ".join(parts)


def _select_build(everything: bool, selector: list[str] | None, changed: bool,
                  base: str | None = None, matrix: str | None = None) -> Fleet:
    if matrix is not None and matrix not in MATRIX_STYLES:
        raise typer.BadParameter(f"--matrix {matrix}: give github or gitlab")
    return Fleet(everything=everything, selectors=tuple(selector or ()), changed=changed,
                 base=base, matrix=matrix)


_ALL = _parameter("everything", Annotated[bool, typer.Option(
    "--all", help="Every environment of the repository.")], False)
_SELECTOR = _parameter("selector", Annotated[list[str] | None, typer.Option(
    "--selector", "-l", help="Environments whose settings' labels match, as kubectl selects: "
    "tier=prod, tier!=prod, 'tier in (a,b)', tier, !tier; commas join requirements "
    "(repeatable).", show_default=False)], None)
_CHANGED = _parameter("changed", Annotated[bool, typer.Option(
    "--changed", help="Only the environments whose rendered objects differ between --base and "
    "the target commit (offline, no cluster).")], False)
_BASE = _parameter("base", Annotated[str | None, typer.Option(
    "--base", help="With --changed: the ref to compare against (e.g. origin/main).",
    show_default=False)], None)
_MATRIX = _parameter("matrix", Annotated[str | None, typer.Option(
    "--matrix", help="Print the selected environments as a CI matrix and exit: github "
    "(strategy.matrix JSON) or gitlab (parallel:matrix).", show_default=False)], None)

SELECT = Group((_ALL, _SELECTOR, _CHANGED, _BASE, _MATRIX), _select_build)
# diff has a --base of its own (the offline diff's), which --changed uses too.
SELECT_DIFF = Group((_ALL, _SELECTOR, _CHANGED, _MATRIX), _select_build)


@dataclass(frozen=True)
class Run:
    parallel: int
    fail_fast: bool | None


RUN = Group((
    _parameter("parallel", Annotated[int, typer.Option(
        "--parallel", min=1, max=32, help="Environments run at once, each with its own "
        "connection, lock and record.")], 4),
    _parameter("fail_fast", Annotated[bool | None, typer.Option(
        "--fail-fast/--keep-going", help="After an environment fails, start no more (default "
        "for apply) / run all the others (default otherwise).", show_default=False)], None),
), Run)


def combine(select: Fleet, run: Run) -> Fleet:
    import dataclasses

    return dataclasses.replace(select, parallel=run.parallel, fail_fast=run.fail_fast)


# ---- events: each environment's messages prefixed with its name --------------------------------

@dataclass
class _Shared:
    """What the environments of one run share: the console lock and the plans confirmed."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    confirmed: dict[str, Plan] = field(default_factory=dict)


class FleetEvents:
    """`Events` for one environment of a fleet run. Notes and warnings carry the environment's
    name; the plan is shown once; a confirmation of a plan the person already confirmed for
    this environment (in the one confirmation of the run) passes, any other is asked."""

    def __init__(self, ui: UI, name: str, shared: _Shared, plan_to: Console) -> None:
        self.ui, self.name, self.shared, self.plan_to = ui, name, shared, plan_to

    def _prefix(self, text: str) -> str:
        return f"[{self.name}] {text}" if self.name else text

    def note(self, text: str) -> None:
        self.ui.note(self._prefix(text))

    def warning(self, text: str) -> None:
        from rich.text import Text

        self.ui.note(Text.assemble(("warning:", "yellow"), f" {self._prefix(text)}"))

    def log(self, line: str) -> None:
        self.ui.log(self._prefix(line))

    def planned(self, plan: Plan) -> None:
        from gitdeploy.output import terminal
        from gitdeploy.plan import planfile

        confirmed = self.shared.confirmed.get(plan.environment)
        if confirmed is not None and not planfile.differences(planfile.snapshot(confirmed),
                                                              plan):
            return  # shown before the confirmation
        with self.shared.lock:
            heading(self.plan_to, plan.environment)
            terminal.plan(self.plan_to, plan)

    def confirm_apply(self, plan: Plan) -> None:
        from gitdeploy.cli import prompts
        from gitdeploy.plan import planfile

        confirmed = self.shared.confirmed.get(plan.environment)
        if confirmed is not None and not planfile.differences(planfile.snapshot(confirmed),
                                                              plan):
            return
        with self.shared.lock:
            prompts.confirm_apply(plan, self.ui)

    def confirm_unlock(self, environment: str, holder: str, since: str) -> None:
        raise RefusedError(f"not unlocking {environment} in a run over several environments")

    def applied(self, result: ObjectResult) -> None:
        from rich.text import Text

        from gitdeploy.results import Outcome

        style = "red" if result.outcome is Outcome.FAILED else "green"
        self.ui.note(Text.assemble(f"[{self.name}] ", (result.outcome.value, style),
                                   f" {result.change.title()}"))

    @contextmanager
    def waiting(self, environment: str, timeout: float) -> Iterator[WaitUpdate]:
        """No live table (several environments wait at once): a line when waiting starts; the
        readiness is in each environment's report."""
        self.note(f"waiting up to {timeout:.0f}s for the objects to be ready")
        yield lambda items, seconds: None


def _opener(ui: UI, repo: Path | None, shared: _Shared, plan_to: Console
            ) -> Any:
    from gitdeploy.commands.session import Session

    def open_session(name: str) -> AbstractContextManager[Session]:
        return Session.open(FleetEvents(ui, name, shared, plan_to), repo)

    return open_session


# ---- selection -----------------------------------------------------------------------------

def select(ui: UI, fleet: Fleet, names: list[str], repo: Path | None, *, base: str | None,
           ref: str | None) -> tuple[tuple[str, ...], str]:
    """The environments selected (sorted), and how they were, for the report."""
    chosen, described, _ = select_changes(ui, fleet, names, repo, base=base, ref=ref)
    return chosen, described


def select_changes(ui: UI, fleet: Fleet, names: list[str], repo: Path | None, *,
                   base: str | None, ref: str | None
                   ) -> tuple[tuple[str, ...], str, Changes | None]:
    """`select`, and what --changed found and rendered."""
    from gitdeploy.fleet.changed import changed_environments
    from gitdeploy.fleet.selection import select as select_names

    if not names and not (fleet.everything or fleet.selectors or fleet.changed):
        raise SettingsError("no environment given",
                            ["name one or more environments or patterns ('prod-*'), or pass "
                             "--all, -l SELECTOR or --changed --base REF"])
    if fleet.changed and base is None:
        raise SettingsError("--changed needs --base REF: the commit to compare with (e.g. "
                            "origin/main)")
    shared = _Shared()
    open_session = _opener(ui, repo, shared, ui.err)
    with open_session("") as session:
        tree = session.source(ref if not fleet.changed else (ref or "HEAD")).tree \
            if (ref or fleet.changed) else session.work_tree
        selection = select_names(tree, names, everything=fleet.everything,
                                 selectors=fleet.selectors)
    chosen = selection.names
    changes = None
    if fleet.changed:
        assert base is not None
        changes = changed_environments(open_session, chosen, base=base, head=ref or "HEAD",
                                       parallel=fleet.parallel)
        for env in changes.changed:
            ui.note(f"changed: {env.name} ({env.why})")
        ui.note(f"--changed: {len(changes.changed)} of {len(chosen)} environment(s) render "
                f"differently at {ref or 'HEAD'} than at {base} ({changes.changed_files} "
                f"file(s) changed)")
        chosen = changes.names
    return chosen, fleet.described(names, base), changes


def heading(console: Console, name: str) -> None:
    from gitdeploy.output.fleet import heading as show_heading

    show_heading(console, name)


def print_matrix(ui: UI, names: tuple[str, ...], style: str) -> int:
    from gitdeploy.output.fleet import matrix

    ui.out.file.write(matrix(names, style))
    ui.result_written = True
    return ExitCode.OK


# ---- running and showing -------------------------------------------------------------------

def _run(ui: UI, command: str, names: tuple[str, ...], described: str, task: Task,
         fleet: Fleet, repo: Path | None, *, base: str | None = None,
         shared: _Shared | None = None, plan_to: Console | None = None,
         ordered: bool = False) -> FleetReport:
    from gitdeploy.fleet.run import RunOptions, run_environments
    from gitdeploy.fleet.selection import waves
    from gitdeploy.fleet_results import FleetReport

    shared = shared or _Shared()
    open_session = _opener(ui, repo, shared, plan_to or ui.err)
    wave_of: dict[str, int] = {}
    depends: dict[str, tuple[str, ...]] = {}
    if ordered:
        with open_session("") as session:
            from gitdeploy.config.environments import Environment, scan_environments

            wave_of = waves(session.work_tree, names)
            depends = {env.name: env.settings.depends_on
                       for env in scan_environments(session.work_tree)
                       if isinstance(env, Environment)}
    fail_fast = fleet.fail_fast if fleet.fail_fast is not None else command == "apply"
    runs, interrupted = run_environments(
        names, task, open_session, RunOptions(parallel=fleet.parallel, fail_fast=fail_fast),
        waves=wave_of, depends_on=depends)
    return FleetReport(command=command, runs=runs, selection=described, base=base,
                       interrupted=interrupted)


def _show(ui: UI, report: FleetReport, output: str, *, markdown_key: str = "") -> int:
    from gitdeploy.cli.show import json_document, markdown, step_summary
    from gitdeploy.output import fleet as fleet_output
    from gitdeploy.output.fleet_markdown import comments

    doc = fleet_output.document(report)
    parts = comments(doc, key=markdown_key or report.command)
    if output in ("json", "yaml"):
        json_document(ui, doc)
    elif output == "markdown":
        markdown(ui, "\n".join(parts))
    elif report.command == "render":
        fleet_output.rendered_stream(ui.out, report)
        ui.result_written = True
        fleet_output.table(ui.err, doc)
    else:
        fleet_output.text(ui.out, report)
        ui.result_written = True
    if report.command in ("diff", "apply"):
        step_summary("\n".join(parts))
    if report.interrupted:
        ui.error(f"interrupted ({report.interrupted}): environments not started are listed "
                 "as skipped", [])
    return report.exit_code


def diff(ui: UI, fleet: Fleet, names: list[str], *, repo: Path | None,
         cluster: ClusterOptions, ref: str | None, base: str | None, offline: bool,
         prune: bool | None, replace: bool, full: bool, orphans: bool, exit_code: bool,
         out_plan: Path | None, output: str) -> int:
    from gitdeploy.fleet import tasks

    if offline and base is None:
        raise SettingsError("an offline diff takes --offline and --base REF together")
    if base is not None and not offline and not fleet.changed:
        raise SettingsError("an offline diff takes --offline and --base REF together, and no "
                            "--orphans (they need a cluster)")
    if offline and orphans:
        raise SettingsError("an offline diff takes no --orphans (they need a cluster)")
    if out_plan is not None:
        raise SettingsError("--out-plan saves the plan of one environment",
                            ["run diff --out-plan once per environment"])
    chosen, described, changes = select_changes(ui, fleet, names, repo, base=base, ref=ref)
    if fleet.matrix:
        return print_matrix(ui, chosen, fleet.matrix)
    task = tasks.diff(cluster, offline=offline, base=base, ref=ref, prune=prune,
                      with_orphans=orphans, replace=replace, full=full, exit_code=exit_code,
                      renders=changes)
    report = _run(ui, "diff", chosen, described, task, fleet, repo,
                  base=base if (offline or fleet.changed) else None)
    return _show(ui, report, output)


def status(ui: UI, fleet: Fleet, names: list[str], *, repo: Path | None,
           cluster: ClusterOptions, ref: str | None, check_drift: bool, full: bool,
           exit_code: bool, output: str) -> int:
    from gitdeploy.fleet import tasks

    chosen, described = select(ui, fleet, names, repo, base=fleet.base, ref=None)
    if fleet.matrix:
        return print_matrix(ui, chosen, fleet.matrix)
    task = tasks.status(cluster, ref=ref, check_drift=check_drift, full=full,
                        exit_code=exit_code)
    return _show(ui, _run(ui, "status", chosen, described, task, fleet, repo), output)


def render(ui: UI, fleet: Fleet, names: list[str], *, repo: Path | None, ref: str | None,
           output: str) -> int:
    from gitdeploy.fleet import tasks

    chosen, described = select(ui, fleet, names, repo, base=fleet.base, ref=ref)
    if fleet.matrix:
        return print_matrix(ui, chosen, fleet.matrix)
    return _show(ui, _run(ui, "render", chosen, described, tasks.render(ref), fleet, repo),
                 output)


def apply(ui: UI, fleet: Fleet, names: list[str], *, repo: Path | None,
          cluster: ClusterOptions, deploy: DeployOptions, ref: str | None, output: str) -> int:
    """Plan every environment, show the plans, ask once (typed names for the protected ones),
    then apply wave by wave; without a terminal and without --yes, refuse before any write."""
    from gitdeploy.fleet import tasks
    from gitdeploy.output import terminal

    chosen, described = select(ui, fleet, names, repo, base=fleet.base, ref=ref)
    if fleet.matrix:
        return print_matrix(ui, chosen, fleet.matrix)
    plan_to = ui.out if output == "text" else ui.err
    shared = _Shared()
    failed: list[EnvironmentRun] = []
    if deploy.plan_file is not None:
        raise SettingsError("--plan applies the plan of one environment")
    if not deploy.yes and chosen:
        planned = _run(ui, "apply", chosen, described, tasks.plan(cluster, deploy, ref), fleet,
                       repo, shared=shared, plan_to=plan_to)
        for run in planned.runs:
            if run.plan is not None:
                heading(plan_to, run.environment)
                terminal.plan(plan_to, run.plan)
        failed = [run for run in planned.runs if run.plan is None]
        if failed and fleet.fail_fast is not False:
            for run in planned.runs:
                if run.plan is not None:
                    run.result = None
                    run.skipped = "not started: another environment could not be planned " \
                                  "(fail-fast)"
            return _show(ui, planned, output)
        plans = [run.plan for run in planned.runs if run.plan is not None]
        confirm(ui, plans)
        shared.confirmed.update({plan.environment: plan for plan in plans})
        chosen = tuple(plan.environment for plan in plans)
    report = _run(ui, "apply", chosen, described, tasks.apply(cluster, deploy, ref), fleet,
                  repo, shared=shared, plan_to=plan_to, ordered=True)
    report.runs = [*failed, *report.runs]  # those that could not be planned, with their errors
    return _show(ui, report, output)


def confirm(ui: UI, plans: list[Plan]) -> None:
    """One question for every environment with work: y/N, or, when any of them is
    protected, the names of the protected ones typed."""
    working = [plan for plan in plans if plan.work]
    if not working:
        return
    lines = [f"  {plan.environment}: {_summary(plan)}"
             + (" (protected)" if plan.protected else "") for plan in working]
    what = f"{len(working)} environment(s)"
    if not ui.interactive:
        raise RefusedError(f"not confirmed (changes to {what}): no terminal to confirm on",
                           [*lines, "review the diffs, then run again with --yes"])
    ui.note(f"To be applied to {what}:")
    for line in lines:
        ui.note(line)
    protected = sorted(plan.environment for plan in working if plan.protected)
    if protected:
        answer = ui.ask(f"{', '.join(protected)} {'is' if len(protected) == 1 else 'are'} "
                        "protected. Type their names, separated by spaces, to apply to all "
                        f"{len(working)}: ")
        if sorted(answer.replace(",", " ").split()) != protected:
            raise RefusedError(f"not applied: '{answer}' is not '{' '.join(protected)}'")
        return
    answer = ui.ask(f"Apply to {what}? [y/N] ")
    if answer.lower() not in {"y", "yes"}:
        raise RefusedError("not applied: cancelled")


def _summary(plan: Plan) -> str:
    """"3 change(s)", "3 change(s), 2 deletion(s)"."""
    deletions = len(plan.to_delete) if plan.prune else 0
    text = f"{len(plan.to_apply)} change(s)"
    return text + (f", {deletions} deletion(s)" if deletions else "")


def validate_names(ui: UI, fleet: Fleet, names: list[str], repo: Path | None, *,
                   ref: str | None, files: bool) -> list[str] | int | None:
    """The environments `validate` checks: `names` as given (none: all of them) unless a
    pattern, --all, -l or --changed selects them; None when the selection is empty; the exit
    code when --matrix printed the selection instead."""
    from gitdeploy.fleet.selection import is_pattern

    if not (fleet.everything or fleet.selectors or fleet.changed or fleet.matrix
            or any(is_pattern(name) for name in names)) or files:
        if files and (fleet.everything or fleet.selectors or fleet.changed or fleet.matrix):
            raise SettingsError("--files takes changed files, not --all, -l, --changed or "
                                "--matrix")
        return names
    if not names and not (fleet.everything or fleet.selectors or fleet.changed):
        fleet = Fleet(everything=True, matrix=fleet.matrix)  # validate's default: all
    chosen, _ = select(ui, fleet, names, repo, base=fleet.base, ref=ref)
    if fleet.matrix:
        return print_matrix(ui, chosen, fleet.matrix)
    if not chosen:
        ui.note("no environment selected: nothing to validate")
        return None
    return list(chosen)
