"""Commands that read what is live: `status`, `history`, `orphans`, and `unlock`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from gitdeploy.cli import fleet as fleet_cli
from gitdeploy.cli.boundary import invoke
from gitdeploy.cli.fleet import RUN, SELECT, EnvNames, Fleet, Run
from gitdeploy.cli.options import (
    CLUSTER,
    CLUSTER_SERIAL,
    COMMON,
    Common,
    EnvName,
    Format,
    Full,
    Output,
    Ref,
    Yes,
    grouped,
)
from gitdeploy.commands.session import ClusterOptions
from gitdeploy.errors import ExitCode

# What the commands run is imported when they run (docs/performance.md).
if TYPE_CHECKING:
    from gitdeploy.output.console import UI


@grouped(cluster=CLUSTER, common=COMMON)
def orphans(env: EnvName, ref: Ref = None, output: Output = Format.text, *,
            cluster: ClusterOptions, common: Common) -> None:
    """List objects in the environment's namespaces that are neither in git, nor in its
    inventory, nor owned by another object. Never deletes anything."""

    def command(ui: UI) -> int:
        from gitdeploy.cli.events import TerminalEvents
        from gitdeploy.cli.show import show
        from gitdeploy.commands import live
        from gitdeploy.commands.session import Session
        from gitdeploy.output import jsondoc, terminal

        with Session.open(TerminalEvents(ui), common.repo) as session:
            report = live.orphans(session, env, cluster, ref=ref)
        show(ui, output.structured, report, jsondoc.orphans, terminal.orphans)
        return ExitCode.OK

    invoke(common.verbose, command, output=output)


@grouped(fleet=SELECT, run=RUN, cluster=CLUSTER, common=COMMON)
def status(
    envs: EnvNames = None,
    ref: Annotated[str | None, typer.Option(
        "--ref", help="Compare the live commit with this ref (default: the local HEAD).",
        show_default=False)] = None,
    no_diff: Annotated[bool, typer.Option(
        "--no-diff", help="Skip the drift check (a server-side dry run).")] = False,
    full: Full = False,
    exit_code: Annotated[bool, typer.Option(
        "--exit-code", help="Exit 2 when the live commit is behind git (commits that change "
        "what the environment renders from), not in the local history, or drifted; 0 when in "
        "sync.")] = False,
    output: Output = Format.text,
    *,
    fleet: Fleet,
    run: Run,
    cluster: ClusterOptions,
    common: Common,
) -> None:
    """Which commit is live, how far it is from git, who deployed it, and any drift."""
    several = fleet_cli.combine(fleet, run)
    if several.several(envs or []):  # several environments: docs/fleet.md
        invoke(common.verbose, lambda ui: fleet_cli.status(
            ui, several, envs or [], repo=common.repo, cluster=cluster, ref=ref,
            check_drift=not no_diff, full=full, exit_code=exit_code,
            output=output.value), output=output)
        return
    env = (envs or [""])[0]

    def command(ui: UI) -> int:
        from gitdeploy.cli.events import TerminalEvents
        from gitdeploy.cli.show import show
        from gitdeploy.commands import live
        from gitdeploy.commands.session import Session
        from gitdeploy.output import jsondoc, terminal

        with Session.open(TerminalEvents(ui), common.repo) as session:
            result = live.status(session, env, cluster, ref=ref, check_drift=not no_diff,
                                 full=full)
        show(ui, output.structured, result, jsondoc.status, terminal.status)
        return ExitCode.CHANGES if exit_code and not result.in_sync else ExitCode.OK

    invoke(common.verbose, command, output=output)


@grouped(cluster=CLUSTER_SERIAL, common=COMMON)
def history(env: EnvName, output: Output = Format.text, *, cluster: ClusterOptions,
            common: Common) -> None:
    """The deploys of an environment, newest first (kept in the cluster)."""

    def command(ui: UI) -> int:
        from gitdeploy.cli.events import TerminalEvents
        from gitdeploy.cli.show import show
        from gitdeploy.commands import live
        from gitdeploy.commands.session import Session
        from gitdeploy.output import jsondoc, terminal

        with Session.open(TerminalEvents(ui), common.repo) as session:
            result = live.history(session, env, cluster)
        show(ui, output.structured, result, jsondoc.history, terminal.history)
        return ExitCode.OK

    invoke(common.verbose, command, output=output)


@grouped(cluster=CLUSTER_SERIAL, common=COMMON)
def unlock(env: EnvName, yes: Yes = False, *, cluster: ClusterOptions, common: Common) -> None:
    """Release an environment's deploy lock whoever holds it (after a crashed deploy)."""

    def command(ui: UI) -> int:
        from gitdeploy.cli.events import TerminalEvents
        from gitdeploy.commands import live
        from gitdeploy.commands.session import Session

        with Session.open(TerminalEvents(ui), common.repo) as session:
            cleared = live.unlock(session, env, cluster, yes=yes)
        if cleared is None:
            ui.note(f"{env} is not locked.")
        else:
            ui.note(f"Released the lock of {env} held by {cleared.holder}.")
        return ExitCode.OK

    invoke(common.verbose, command)
