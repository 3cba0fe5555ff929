"""`gitdeploy schemas pull ENV`: the JSON schemas of the custom resources an environment's
cluster serves, written into the local schema cache (or a folder) for offline validation."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gitdeploy.cli.boundary import invoke
from gitdeploy.cli.options import CLUSTER_SERIAL, COMMON, Common, EnvName, Format, Output, grouped
from gitdeploy.commands.session import ClusterOptions
from gitdeploy.errors import ExitCode

# What the command runs is imported when it runs (docs/performance.md).
if TYPE_CHECKING:
    from gitdeploy.output.console import UI

app = typer.Typer(name="schemas", no_args_is_help=True, rich_markup_mode=None,
                  help="Schemas for `validate`: fill the local cache from a cluster.")


@app.command()
@grouped(cluster=CLUSTER_SERIAL, common=COMMON)
def pull(
    env: EnvName,
    to: Annotated[Path | None, typer.Option(
        "--to", help="Write into this folder (default: the schema cache, "
        "$GITDEPLOY_SCHEMA_CACHE or ~/.cache/gitdeploy/schemas).", show_default=False)] = None,
    output: Output = Format.text,
    *,
    cluster: ClusterOptions,
    common: Common,
) -> None:
    """Write the JSON schema of every kind and version the CRDs of the environment's cluster
    serve, in the schema catalog layout ({group}/{kind}_{version}.json), where `validate`
    finds them without a cluster."""

    def command(ui: UI) -> int:
        from gitdeploy.cli.events import TerminalEvents
        from gitdeploy.cli.show import show
        from gitdeploy.commands import validate_schemas
        from gitdeploy.commands.session import Session
        from gitdeploy.output import jsondoc, terminal

        with Session.open(TerminalEvents(ui), common.repo) as session:
            pulled = validate_schemas.pull(session, env, cluster, to)
        show(ui, output.structured, pulled, jsondoc.pulled_schemas,
             terminal.pulled_schemas)
        return ExitCode.OK

    invoke(common.verbose, command, output=output)
