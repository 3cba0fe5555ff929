"""The typer application: the commands of `local`, `deploy` and `live`, in the order `--help`
lists them. Each command turns its options into a call of `gitdeploy.commands` and hands the
result to the output layer; the error boundary turns failures into exit codes
(docs/exit-codes.md)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from gitdeploy import __version__
from gitdeploy.cli import deploy, live, local, pin, promote, report, schemas, settings_schema
from gitdeploy.errors import ExitCode

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


for command in (local.envs, local.render, deploy.diff, deploy.apply, deploy.rollback,
                local.validate, live.orphans, live.status, live.history, live.unlock):
    app.command()(command)
schemas.app.command("settings")(settings_schema.settings)  # gitdeploy.yaml's JSON Schema
app.add_typer(schemas.app)  # `gitdeploy schemas pull`, `gitdeploy schemas settings`
app.add_typer(report.app)  # `gitdeploy report merge`, `publish`: many environments (docs/fleet.md)
app.command()(promote.compare)  # two environments side by side (docs/promotion.md)
app.command()(promote.promote)  # images, charts, files from one to another
app.command()(pin.pin)  # image tags resolved to digests in a lock file (docs/pinning.md)


def main() -> None:
    app()
