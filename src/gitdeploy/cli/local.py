"""Commands that need no cluster: `envs`, `render`, `validate`."""

from __future__ import annotations

from typing import Annotated

import typer

from gitdeploy.cli.boundary import invoke
from gitdeploy.cli.events import TerminalEvents
from gitdeploy.cli.options import COMMON, Common, EnvName, Format, Output, Ref, grouped
from gitdeploy.cli.show import show
from gitdeploy.commands import local
from gitdeploy.commands.session import Session
from gitdeploy.errors import ExitCode
from gitdeploy.output import jsondoc, terminal
from gitdeploy.output.console import UI


@grouped(common=COMMON)
def envs(output: Output = Format.text, *, common: Common) -> None:
    """List the environments (folders under environments/ with a gitdeploy.yaml)."""

    def command(ui: UI) -> int:
        with Session.open(TerminalEvents(ui), common.repo) as session:
            found = local.environments(session)
        show(ui, output is Format.json, found, jsondoc.environments, terminal.environments)
        return ExitCode.OK

    invoke(common.verbose, command, json_errors=output is Format.json)


@grouped(common=COMMON)
def render(env: EnvName, ref: Ref = None, output: Output = Format.text, *, common: Common
           ) -> None:
    """Print the objects an environment would apply (Secret values masked). No cluster needed."""

    def command(ui: UI) -> int:
        with Session.open(TerminalEvents(ui), common.repo) as session:
            result = local.render(session, env, ref=ref)
        show(ui, output is Format.json, result, jsondoc.rendered, terminal.rendered_objects)
        ui.note(f"{len(result.manifests)} object(s) in {env}")
        return ExitCode.OK

    invoke(common.verbose, command, json_errors=output is Format.json)


@grouped(common=COMMON)
def validate(
    envs: Annotated[list[str] | None, typer.Argument(
        help="Environments to check (default: all).", show_default=False)] = None,
    ref: Ref = None,
    output: Output = Format.text,
    *,
    common: Common,
) -> None:
    """Check every environment offline: settings, YAML, rendering, and each object against the
    Kubernetes API schemas (and CRDs in the repository). Exit 1 on any problem."""

    def command(ui: UI) -> int:
        with Session.open(TerminalEvents(ui), common.repo) as session:
            report = local.validate(session, envs or [], ref=ref)
        show(ui, output is Format.json, report, jsondoc.validation, terminal.validation)
        return ExitCode.ERROR if report.problems else ExitCode.OK

    invoke(common.verbose, command, json_errors=output is Format.json)
