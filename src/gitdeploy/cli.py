"""The command line. Each command turns its options into a workflow call and hands the result
to a renderer; the error boundary turns failures into exit codes (docs/exit-codes.md)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from gitdeploy import __version__, boundary, workflow
from gitdeploy.errors import ApplyFailed, ExitCode
from gitdeploy.output import jsondoc, terminal
from gitdeploy.results import ApplyReport
from gitdeploy.ui import UI

app = typer.Typer(
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


def _run(verbose: bool, command: Callable[[UI], int]) -> None:
    # urllib3 logs its connection retries as warnings; the request log (-v) and our errors
    # say what happened instead.
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    ui = UI.create(verbose=verbose)
    with ui.external_commands():
        code = boundary.run(ui, lambda: command(ui))
    raise typer.Exit(code)


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
        found = workflow.environments(workflow.Session.open(ui, repo))
        if output is Format.json:
            ui.out.print_json(jsondoc.dumps(jsondoc.environments(found)))
        else:
            terminal.environments(ui.out, found)
        return ExitCode.OK

    _run(verbose, command)


@app.command()
def render(env: EnvName, repo: Repo = None, output: Output = Format.text,
           verbose: Verbose = False) -> None:
    """Print the objects an environment would apply (Secret values masked). No cluster needed."""

    def command(ui: UI) -> int:
        result = workflow.render(workflow.Session.open(ui, repo), env)
        if output is Format.json:
            ui.out.print_json(jsondoc.dumps(jsondoc.rendered(result)))
        else:
            terminal.rendered_objects(ui.out, result)
        ui.note(f"{len(result.manifests)} object(s) in {env}")
        return ExitCode.OK

    _run(verbose, command)


@app.command()
def diff(
    env: EnvName,
    exit_code: Annotated[bool, typer.Option(
        "--exit-code", help="Exit 2 when there are changes, 0 when there are none.")] = False,
    output: Output = Format.text,
    repo: Repo = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    concurrency: Concurrency = 8,
    request_timeout: Timeout = 30.0,
    verbose: Verbose = False,
) -> None:
    """Show what apply would change, as computed by the API server (server-side dry run)."""
    options = workflow.ClusterOptions(kubeconfig=kubeconfig, context=context,
                                      request_timeout=request_timeout, concurrency=concurrency)

    def command(ui: UI) -> int:
        plan, _ = workflow.plan(workflow.Session.open(ui, repo), env, options)
        if output is Format.json:
            ui.out.print_json(jsondoc.dumps(jsondoc.plan(plan)))
        else:
            terminal.plan(ui.out, plan)
        return ExitCode.CHANGES if exit_code and plan.pending else ExitCode.OK

    _run(verbose, command)


@app.command()
def apply(
    env: EnvName,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")] = False,
    output: Output = Format.text,
    repo: Repo = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    concurrency: Concurrency = 8,
    request_timeout: Timeout = 30.0,
    verbose: Verbose = False,
) -> None:
    """Show the diff, ask, then apply with server-side apply (field manager gitdeploy)."""
    options = workflow.ClusterOptions(kubeconfig=kubeconfig, context=context,
                                      request_timeout=request_timeout, concurrency=concurrency)

    def command(ui: UI) -> int:
        session = workflow.Session.open(ui, repo)
        result = workflow.apply(session, env, options, yes=yes,
                                plan_to_stdout=output is Format.text)
        if not isinstance(result, ApplyReport):
            if output is Format.json:
                ui.out.print_json(jsondoc.dumps(jsondoc.plan(result)))
            return ExitCode.OK
        if output is Format.json:
            ui.out.print_json(jsondoc.dumps(jsondoc.apply_report(result)))
        else:
            terminal.apply_report(ui.out, result)
        if not result.succeeded:
            raise ApplyFailed(f"apply to {env} failed; see the report above",
                              [f"{r.change.title()}: {r.error}" for r in result.results
                               if r.error])
        return ExitCode.OK

    _run(verbose, command)


def main() -> None:
    app()
