"""Commands that need no cluster: `envs`, `render`, `validate`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from gitdeploy.cli import fleet as fleet_cli
from gitdeploy.cli.boundary import invoke
from gitdeploy.cli.fleet import RUN, SELECT, EnvNames, Fleet, Run
from gitdeploy.cli.options import COMMON, Common, Format, Output, Ref, grouped
from gitdeploy.errors import ExitCode, SettingsError

# What the commands run is imported when they run (docs/performance.md).
if TYPE_CHECKING:
    from gitdeploy.output.console import UI


@grouped(common=COMMON)
def envs(output: Output = Format.text, *, common: Common) -> None:
    """List the environments (folders under environments/ with a gitdeploy.yaml)."""

    def command(ui: UI) -> int:
        from gitdeploy.cli.events import TerminalEvents
        from gitdeploy.cli.show import show
        from gitdeploy.commands import local
        from gitdeploy.commands.session import Session
        from gitdeploy.output import jsondoc, terminal

        with Session.open(TerminalEvents(ui), common.repo) as session:
            found = local.environments(session)
        show(ui, output.structured, found, jsondoc.environments, terminal.environments)
        broken = [env for env in found if env.broken]
        if broken:  # listed with the others; then the command fails, naming each
            raise SettingsError(
                f"{len(broken)} environment(s) with broken settings: "
                + ", ".join(env.name for env in broken),
                [line for env in broken for line in (env.error, *env.error_details)])
        return ExitCode.OK

    invoke(common.verbose, command, output=output)


@grouped(fleet=SELECT, run=RUN, common=COMMON)
def render(envs: EnvNames = None, ref: Ref = None, output: Output = Format.text, *,
           fleet: Fleet, run: Run, common: Common) -> None:
    """Print the objects an environment would apply (Secret values masked). No cluster needed."""
    several = fleet_cli.combine(fleet, run)
    if several.several(envs or []):  # several environments: docs/fleet.md
        invoke(common.verbose, lambda ui: fleet_cli.render(
            ui, several, envs or [], repo=common.repo, ref=ref, output=output.value),
            output=output)
        return
    env = (envs or [""])[0]

    def command(ui: UI) -> int:
        from gitdeploy.cli.events import TerminalEvents
        from gitdeploy.cli.show import show
        from gitdeploy.commands import local
        from gitdeploy.commands.session import Session
        from gitdeploy.output import jsondoc, terminal

        with Session.open(TerminalEvents(ui), common.repo) as session:
            result = local.render(session, env, ref=ref)
        show(ui, output.structured, result, jsondoc.rendered, terminal.rendered_objects)
        ui.note(f"{len(result.manifests)} object(s) in {env}")
        return ExitCode.OK

    invoke(common.verbose, command, output=output)


@grouped(fleet=SELECT, common=COMMON)
def validate(
    envs: Annotated[list[str] | None, typer.Argument(
        help="Environments to check (default: all); with --files, changed files.",
        show_default=False)] = None,
    ref: Ref = None,
    output: Output = Format.text,
    ignore_missing_schemas: Annotated[bool, typer.Option(
        "--ignore-missing-schemas", help="Report objects of kinds without a schema as "
        "skipped, with a count, instead of as errors.")] = False,
    skip_kind: Annotated[list[str] | None, typer.Option(
        "--skip-kind", help="Do not check this kind against a schema (Kind or "
        "apiVersion/Kind; repeatable).", show_default=False)] = None,
    schema_location: Annotated[list[str] | None, typer.Option(
        "--schema-location", help="A schema catalog folder or URL template, searched "
        "before the settings' (repeatable).", show_default=False)] = None,
    cluster: Annotated[bool, typer.Option(
        "--cluster", help="Also read each environment's cluster: its Kubernetes version, "
        "CRDs and namespaces.")] = False,
    files: Annotated[bool, typer.Option(
        "--files", help="The arguments are changed files: check the environments they "
        "belong to (pre-commit).")] = False,
    *,
    fleet: Fleet,
    common: Common,
) -> None:
    """Check environments offline: settings, YAML, rendering, each object against the schema
    of its kind, deprecated and removed API versions, names and labels. Exit 1 on any error
    (docs/validation.md)."""

    def command(ui: UI) -> int:
        from gitdeploy.cli.events import TerminalEvents
        from gitdeploy.cli.show import show
        from gitdeploy.commands import validate_schemas
        from gitdeploy.commands.session import Session
        from gitdeploy.output import jsondoc, terminal
        from gitdeploy.results.validate import ValidationReport

        names = fleet_cli.validate_names(ui, fleet, envs or [], common.repo, ref=ref,
                                         files=files)  # patterns, --all, -l, --changed
        if isinstance(names, int):
            return names  # --matrix printed
        with Session.open(TerminalEvents(ui), common.repo) as session:
            report = ValidationReport([]) if names is None else validate_schemas.validate(
                session, [] if files else names, ref=ref, cluster=cluster,
                ignore_missing_schemas=ignore_missing_schemas,
                skip_kinds=tuple(skip_kind or ()), schema_locations=tuple(schema_location or ()),
                files=(envs or []) if files else None)
        show(ui, output.structured, report, jsondoc.validation, terminal.validation)
        return ExitCode.ERROR if report.problems else ExitCode.OK

    invoke(common.verbose, command, output=output)
