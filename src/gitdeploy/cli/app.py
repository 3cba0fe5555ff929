"""The command line. Each command turns its options into a workflow call and hands the result
to a renderer; the error boundary turns failures into exit codes (docs/exit-codes.md)."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from typer.core import TyperGroup

from gitdeploy import __version__
from gitdeploy.cli import boundary
from gitdeploy.commands import deploy as workflow
from gitdeploy.commands import live as inspect
from gitdeploy.commands.session import ClusterOptions, Session
from gitdeploy.config.durations import parse_duration
from gitdeploy.errors import ApplyFailed, ExitCode, NotReady, SettingsError, WaitInterrupted
from gitdeploy.output import jsondoc, markdown, terminal
from gitdeploy.output.console import UI
from gitdeploy.plan import planfile
from gitdeploy.plan.offline import offline_plan
from gitdeploy.results import ApplyReport

T = TypeVar("T")
# click's UsageError, found through typer's public BadParameter: typer may ship its own copy of
# click, so `import click` would catch the wrong class.
_UsageError: type[Exception] = next(c for c in typer.BadParameter.__mro__
                                   if c.__name__ == "UsageError")


class _Commands(TyperGroup):
    """A wrong command line exits 1, like any other error: exit code 2 means "changes found"
    (docs/exit-codes.md), which click would otherwise use for usage errors."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except _UsageError as error:
            error.exit_code = ExitCode.ERROR  # type: ignore[attr-defined]
            raise

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _UsageError as error:
            error.exit_code = ExitCode.ERROR  # type: ignore[attr-defined]
            raise


app = typer.Typer(
    cls=_Commands,
    name="gitdeploy",
    help="Push-based GitOps for Kubernetes: diff, apply and record environments kept in git.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class Format(StrEnum):
    text = "text"
    json = "json"


class DiffFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


Repo = Annotated[Path | None, typer.Option(
    "--repo", "-C", help="Config repository (default: the nearest folder holding environments/).",
    show_default=False)]
Verbose = Annotated[bool, typer.Option("--verbose", "-v",
                                       help="Show every API request and external command.")]
Output = Annotated[Format, typer.Option("--output", "-o", help="Output format.")]
Kubeconfig = Annotated[str | None, typer.Option(
    "--kubeconfig", help="Kubeconfig file(s) (default: $KUBECONFIG, then ~/.kube/config).",
    show_default=False)]
Context = Annotated[str | None, typer.Option(
    "--context", help="Use another kube context; it must pass the environment's cluster guards.",
    show_default=False)]
Concurrency = Annotated[int, typer.Option("--concurrency", min=1, max=64,
                                          help="API requests in flight at once.")]
Timeout = Annotated[float, typer.Option("--request-timeout", min=0.1,
                                        help="Seconds before an API request is abandoned.")]
EnvName = Annotated[str, typer.Argument(help="Environment: a folder under environments/.",
                                        show_default=False)]
Ref = Annotated[str | None, typer.Option(
    "--ref", help="Read the environment at this commit, tag or branch instead of the work tree.",
    show_default=False)]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
AllowDirty = Annotated[bool, typer.Option(
    "--allow-dirty", help="Apply even if the files have uncommitted changes (recorded as dirty).")]
Prune = Annotated[bool | None, typer.Option(
    "--prune/--no-prune", help="Delete objects removed from git (default: the environment's "
    "prune setting).", show_default=False)]
AllowMassDelete = Annotated[bool, typer.Option(
    "--allow-mass-delete", help="Prune even beyond the environment's pruneSafety limits.")]
LockTimeout = Annotated[str, typer.Option(
    "--lock-timeout", help="How long to wait for another deploy's lock (e.g. 30s, 5m); "
    "0 fails at once.")]
Wait = Annotated[bool | None, typer.Option(
    "--wait/--no-wait", help="After applying, wait until the objects are ready (default: the "
    "environment's wait.enabled, on unless set off).", show_default=False)]
WaitTimeout = Annotated[str | None, typer.Option(
    "--wait-timeout", help="How long to wait for readiness (e.g. 90s, 10m; default: the "
    "environment's wait.timeout, 5m). Exit 4 when it passes.", show_default=False)]


def _run(verbose: bool, command: Callable[[UI], int]) -> None:
    # urllib3 logs its connection retries as warnings; the request log (-v) and our errors
    # say what happened instead.
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    ui = UI.create(verbose=verbose)
    with ui.external_commands():
        code = boundary.run(ui, lambda: command(ui))
    raise typer.Exit(code)


def _show(ui: UI, output: Format, result: T, document: Callable[[T], dict[str, Any]],
          text: Callable[[Console, T], None]) -> None:
    """Hand a result to its JSON or terminal renderer."""
    if output is Format.json:
        text_json = jsondoc.dumps(document(result))
        if ui.out.is_terminal:
            ui.out.print_json(text_json)  # highlighted for a person
        else:
            ui.out.file.write(text_json + "\n")  # as is for a program, and fast for big plans
    else:
        text(ui.out, result)


def _step_summary(text: str) -> None:
    """GitHub Actions shows what is appended to $GITHUB_STEP_SUMMARY on the run's page."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(text + "\n")


def _cluster(kubeconfig: str | None, context: str | None, request_timeout: float,
             concurrency: int = 8) -> ClusterOptions:
    return ClusterOptions(kubeconfig=kubeconfig, context=context,
                          request_timeout=request_timeout, concurrency=concurrency)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gitdeploy {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Push-based GitOps for Kubernetes."""


@app.command()
def envs(repo: Repo = None, output: Output = Format.text, verbose: Verbose = False) -> None:
    """List the environments (folders under environments/ with a gitdeploy.yaml)."""

    def command(ui: UI) -> int:
        with Session.open(ui, repo) as session:
            found = workflow.environments(session)
        _show(ui, output, found, jsondoc.environments, terminal.environments)
        return ExitCode.OK

    _run(verbose, command)


@app.command()
def render(env: EnvName, ref: Ref = None, repo: Repo = None, output: Output = Format.text,
           verbose: Verbose = False) -> None:
    """Print the objects an environment would apply (Secret values masked). No cluster needed."""

    def command(ui: UI) -> int:
        with Session.open(ui, repo) as session:
            result = workflow.render(session, env, ref=ref)
        _show(ui, output, result, jsondoc.rendered, terminal.rendered_objects)
        ui.note(f"{len(result.manifests)} object(s) in {env}")
        return ExitCode.OK

    _run(verbose, command)


@app.command()
def diff(
    env: EnvName,
    exit_code: Annotated[bool, typer.Option(
        "--exit-code", help="Exit 2 when there are changes, 0 when there are none.")] = False,
    ref: Ref = None,
    prune: Prune = None,
    show_orphans: Annotated[bool, typer.Option(
        "--orphans", help="Also list objects in the environment's namespaces that nothing "
        "owns.")] = False,
    offline: Annotated[bool, typer.Option(
        "--offline", help="No cluster: diff the environment at --base against --ref "
        "(default HEAD).")] = False,
    base: Annotated[str | None, typer.Option(
        "--base", help="With --offline: the ref to compare against (e.g. origin/main).",
        show_default=False)] = None,
    out_plan: Annotated[Path | None, typer.Option(
        "--out-plan", help="Save the plan for `apply --plan` (digests, no Secret values).",
        show_default=False)] = None,
    output: Annotated[DiffFormat, typer.Option(
        "--output", "-o", help="Output format (markdown: for a pull-request comment).")
    ] = DiffFormat.text,
    repo: Repo = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    concurrency: Concurrency = 8,
    request_timeout: Timeout = 30.0,
    verbose: Verbose = False,
) -> None:
    """Show what apply would change, as computed by the API server (server-side dry run)."""
    options = _cluster(kubeconfig, context, request_timeout, concurrency)

    def command(ui: UI) -> int:
        with Session.open(ui, repo) as session:
            if offline or base:
                if not (offline and base) or show_orphans:
                    raise SettingsError("an offline diff takes --offline and --base REF "
                                        "together, and no --orphans (they need a cluster)")
                if out_plan:
                    raise SettingsError("--out-plan needs a diff against the cluster, not "
                                        "--offline")
                plan, orphans = offline_plan(session, env, base=base, head=ref or "HEAD"), None
            else:
                plan, orphans = workflow.plan(session, env, options, ref=ref, prune=prune,
                                              with_orphans=show_orphans)
        if output is DiffFormat.json:
            ui.out.print_json(jsondoc.dumps(jsondoc.plan(plan, orphans)))
        elif output is DiffFormat.markdown:
            ui.out.print(markdown.plan(plan, orphans), markup=False, highlight=False,
                         end="", soft_wrap=True)
        else:
            terminal.plan(ui.out, plan)
            if orphans is not None:
                ui.out.print()
                terminal.orphans(ui.out, orphans)
        _step_summary(markdown.plan(plan, orphans))
        if out_plan is not None:
            planfile.save(plan, out_plan)
            ui.note(f"Plan saved to {out_plan}; apply it with: gitdeploy apply {env} "
                    f"--plan {out_plan}")
        return ExitCode.CHANGES if exit_code and plan.pending else ExitCode.OK

    _run(verbose, command)


@app.command()
def apply(
    env: EnvName,
    yes: Yes = False,
    ref: Ref = None,
    allow_dirty: AllowDirty = False,
    prune: Prune = None,
    allow_mass_delete: AllowMassDelete = False,
    plan_file: Annotated[Path | None, typer.Option(
        "--plan", help="Apply exactly this plan from `diff --out-plan`, or refuse if git or "
        "the cluster changed since.", show_default=False)] = None,
    lock_timeout: LockTimeout = "0",
    wait: Wait = None,
    wait_timeout: WaitTimeout = None,
    output: Output = Format.text,
    repo: Repo = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    concurrency: Concurrency = 8,
    request_timeout: Timeout = 30.0,
    verbose: Verbose = False,
) -> None:
    """Show the diff, ask, then apply with server-side apply (field manager gitdeploy) and
    record the deploy in the cluster."""
    options = _cluster(kubeconfig, context, request_timeout, concurrency)

    def command(ui: UI) -> int:
        deploy = dataclasses.replace(
            _deploy_options(yes, allow_dirty, lock_timeout, output, prune, allow_mass_delete,
                            wait=wait, wait_timeout=wait_timeout),
            plan_file=plan_file)
        with Session.open(ui, repo) as session:
            report = workflow.apply(session, env, options, deploy, ref=ref)
        return _report(ui, report, output)

    _run(verbose, command)


@app.command()
def rollback(
    env: EnvName,
    to: Annotated[str | None, typer.Option(
        "--to", help="A record number from `gitdeploy history`, or a commit (default: the "
        "previous successful deploy of another commit).", show_default=False)] = None,
    yes: Yes = False,
    prune: Prune = None,
    allow_mass_delete: AllowMassDelete = False,
    lock_timeout: LockTimeout = "0",
    wait: Wait = None,
    wait_timeout: WaitTimeout = None,
    output: Output = Format.text,
    repo: Repo = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    concurrency: Concurrency = 8,
    request_timeout: Timeout = 30.0,
    verbose: Verbose = False,
) -> None:
    """Apply the environment as it was at an earlier deploy (diff and confirmation as usual)."""
    options = _cluster(kubeconfig, context, request_timeout, concurrency)

    def command(ui: UI) -> int:
        deploy = _deploy_options(yes, False, lock_timeout, output, prune, allow_mass_delete,
                                 wait=wait, wait_timeout=wait_timeout)
        with Session.open(ui, repo) as session:
            report = workflow.rollback(session, env, options, deploy, to=to)
        return _report(ui, report, output)

    _run(verbose, command)


def _deploy_options(yes: bool, allow_dirty: bool, lock_timeout: str, output: Format,
                    prune: bool | None, allow_mass_delete: bool, *, wait: bool | None,
                    wait_timeout: str | None) -> workflow.DeployOptions:
    return workflow.DeployOptions(
        yes=yes, allow_dirty=allow_dirty, lock_timeout=_duration("--lock-timeout", lock_timeout),
        plan_to_stdout=output is Format.text, prune=prune, allow_mass_delete=allow_mass_delete,
        wait=wait, wait_timeout=None if wait_timeout is None else _duration(
            "--wait-timeout", wait_timeout))


def _duration(option: str, text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise SettingsError(f"{option}: {error}") from None


def _report(ui: UI, report: ApplyReport, output: Format) -> int:
    _show(ui, output, report, jsondoc.apply_report, terminal.apply_report)
    _step_summary(markdown.apply_report(report))
    env = report.plan.environment
    if not report.succeeded:
        raise ApplyFailed(f"apply to {env} failed; see the report above",
                          [f"{r.change.title()}: {r.error}" for r in report.results
                           if r.error])
    readiness = report.readiness
    if readiness is not None and readiness.interrupted:
        raise WaitInterrupted(f"stopped waiting for {env}: the apply is done and recorded; "
                              "nothing was changed after it")
    if readiness is not None and not readiness.ready:
        why = (f"not ready after {readiness.timeout:.0f}s" if readiness.timed_out
               else "failed to become ready")
        raise NotReady(f"{env} was applied and recorded, but {len(readiness.not_ready)} "
                       f"object(s) {why}; see the report above",
                       [f"{item.title}: {item.readiness.message}"
                        for item in readiness.not_ready[:20]])
    return ExitCode.OK


@app.command()
def validate(
    envs: Annotated[list[str] | None, typer.Argument(
        help="Environments to check (default: all).", show_default=False)] = None,
    ref: Ref = None,
    output: Output = Format.text,
    repo: Repo = None,
    verbose: Verbose = False,
) -> None:
    """Check every environment offline: settings, YAML, rendering, and each object against the
    Kubernetes API schemas (and CRDs in the repository). Exit 1 on any problem."""

    def command(ui: UI) -> int:
        with Session.open(ui, repo) as session:
            report = workflow.validate(session, envs or [], ref=ref)
        _show(ui, output, report, jsondoc.validation, terminal.validation)
        return ExitCode.ERROR if report.problems else ExitCode.OK

    _run(verbose, command)


@app.command()
def orphans(
    env: EnvName,
    ref: Ref = None,
    output: Output = Format.text,
    repo: Repo = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    concurrency: Concurrency = 8,
    request_timeout: Timeout = 30.0,
    verbose: Verbose = False,
) -> None:
    """List objects in the environment's namespaces that are neither in git, nor in its
    inventory, nor owned by another object. Never deletes anything."""
    options = _cluster(kubeconfig, context, request_timeout, concurrency)

    def command(ui: UI) -> int:
        with Session.open(ui, repo) as session:
            report = workflow.orphans(session, env, options, ref=ref)
        _show(ui, output, report, jsondoc.orphans, terminal.orphans)
        return ExitCode.OK

    _run(verbose, command)


@app.command()
def status(
    env: EnvName,
    ref: Annotated[str | None, typer.Option(
        "--ref", help="Compare the live commit with this ref (default: the local HEAD).",
        show_default=False)] = None,
    no_diff: Annotated[bool, typer.Option(
        "--no-diff", help="Skip the drift check (a server-side dry run).")] = False,
    output: Output = Format.text,
    repo: Repo = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    concurrency: Concurrency = 8,
    request_timeout: Timeout = 30.0,
    verbose: Verbose = False,
) -> None:
    """Which commit is live, how far it is from git, who deployed it, and any drift."""
    options = _cluster(kubeconfig, context, request_timeout, concurrency)

    def command(ui: UI) -> int:
        with Session.open(ui, repo) as session:
            result = inspect.status(session, env, options, ref=ref, check_drift=not no_diff)
        _show(ui, output, result, jsondoc.status, terminal.status)
        return ExitCode.OK

    _run(verbose, command)


@app.command()
def history(
    env: EnvName,
    output: Output = Format.text,
    repo: Repo = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    request_timeout: Timeout = 30.0,
    verbose: Verbose = False,
) -> None:
    """The deploys of an environment, newest first (kept in the cluster)."""
    options = _cluster(kubeconfig, context, request_timeout)

    def command(ui: UI) -> int:
        with Session.open(ui, repo) as session:
            result = inspect.history(session, env, options)
        _show(ui, output, result, jsondoc.history, terminal.history)
        return ExitCode.OK

    _run(verbose, command)


@app.command()
def unlock(
    env: EnvName,
    yes: Yes = False,
    repo: Repo = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    request_timeout: Timeout = 30.0,
    verbose: Verbose = False,
) -> None:
    """Release an environment's deploy lock whoever holds it (after a crashed deploy)."""
    options = _cluster(kubeconfig, context, request_timeout)

    def command(ui: UI) -> int:
        with Session.open(ui, repo) as session:
            cleared = inspect.unlock(session, env, options, yes=yes)
        if cleared is None:
            ui.note(f"{env} is not locked.")
        else:
            ui.note(f"Released the lock of {env} held by {cleared.holder}.")
        return ExitCode.OK

    _run(verbose, command)


def main() -> None:
    app()
