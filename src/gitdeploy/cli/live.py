"""Commands that read what is live: `status`, `history`, `orphans`, and `unlock`."""

from __future__ import annotations

from typing import Annotated

import typer

from gitdeploy.cli.boundary import invoke
from gitdeploy.cli.events import TerminalEvents
from gitdeploy.cli.options import (
    CLUSTER,
    CLUSTER_SERIAL,
    COMMON,
    Common,
    EnvName,
    Format,
    Output,
    Ref,
    Yes,
    grouped,
)
from gitdeploy.cli.show import show
from gitdeploy.commands import live
from gitdeploy.commands.session import ClusterOptions, Session
from gitdeploy.errors import ExitCode
from gitdeploy.output import jsondoc, terminal
from gitdeploy.output.console import UI


@grouped(cluster=CLUSTER, common=COMMON)
def orphans(env: EnvName, ref: Ref = None, output: Output = Format.text, *,
            cluster: ClusterOptions, common: Common) -> None:
    """List objects in the environment's namespaces that are neither in git, nor in its
    inventory, nor owned by another object. Never deletes anything."""

    def command(ui: UI) -> int:
        with Session.open(TerminalEvents(ui), common.repo) as session:
            report = live.orphans(session, env, cluster, ref=ref)
        show(ui, output is Format.json, report, jsondoc.orphans, terminal.orphans)
        return ExitCode.OK

    invoke(common.verbose, command, json_errors=output is Format.json)


@grouped(cluster=CLUSTER, common=COMMON)
def status(
    env: EnvName,
    ref: Annotated[str | None, typer.Option(
        "--ref", help="Compare the live commit with this ref (default: the local HEAD).",
        show_default=False)] = None,
    no_diff: Annotated[bool, typer.Option(
        "--no-diff", help="Skip the drift check (a server-side dry run).")] = False,
    output: Output = Format.text,
    *,
    cluster: ClusterOptions,
    common: Common,
) -> None:
    """Which commit is live, how far it is from git, who deployed it, and any drift."""

    def command(ui: UI) -> int:
        with Session.open(TerminalEvents(ui), common.repo) as session:
            result = live.status(session, env, cluster, ref=ref, check_drift=not no_diff)
        show(ui, output is Format.json, result, jsondoc.status, terminal.status)
        return ExitCode.OK

    invoke(common.verbose, command, json_errors=output is Format.json)


@grouped(cluster=CLUSTER_SERIAL, common=COMMON)
def history(env: EnvName, output: Output = Format.text, *, cluster: ClusterOptions,
            common: Common) -> None:
    """The deploys of an environment, newest first (kept in the cluster)."""

    def command(ui: UI) -> int:
        with Session.open(TerminalEvents(ui), common.repo) as session:
            result = live.history(session, env, cluster)
        show(ui, output is Format.json, result, jsondoc.history, terminal.history)
        return ExitCode.OK

    invoke(common.verbose, command, json_errors=output is Format.json)


@grouped(cluster=CLUSTER_SERIAL, common=COMMON)
def unlock(env: EnvName, yes: Yes = False, *, cluster: ClusterOptions, common: Common) -> None:
    """Release an environment's deploy lock whoever holds it (after a crashed deploy)."""

    def command(ui: UI) -> int:
        with Session.open(TerminalEvents(ui), common.repo) as session:
            cleared = live.unlock(session, env, cluster, yes=yes)
        if cleared is None:
            ui.note(f"{env} is not locked.")
        else:
            ui.note(f"Released the lock of {env} held by {cleared.holder}.")
        return ExitCode.OK

    invoke(common.verbose, command)
