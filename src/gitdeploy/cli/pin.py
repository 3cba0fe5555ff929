"""`gitdeploy pin ENV`: image tags resolved to digests in the environment's lock file
(docs/pinning.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from gitdeploy.cli.boundary import invoke
from gitdeploy.cli.options import COMMON, Common, EnvName, Format, Output, grouped
from gitdeploy.errors import ExitCode

# What the command runs is imported when it runs: `gitdeploy --help` stays fast
# (docs/performance.md).
if TYPE_CHECKING:
    from gitdeploy.output.console import UI


@grouped(common=COMMON)
def pin(
    env: EnvName,
    request_timeout: Annotated[float, typer.Option(
        "--request-timeout", min=0.1, help="Seconds before a registry request is abandoned.")
    ] = 30.0,
    output: Output = Format.text,
    *,
    common: Common,
) -> None:
    """Resolve every image tag of ENV to its digest (the registry's manifest, with Docker's
    credentials) and write them to ENV's gitdeploy-images.lock; render, diff and apply then
    use the digests."""

    def command(ui: UI) -> int:
        from gitdeploy.cli.events import TerminalEvents
        from gitdeploy.cli.show import show
        from gitdeploy.commands import pin as pinning
        from gitdeploy.commands.session import Session
        from gitdeploy.output import promotion

        with Session.open(TerminalEvents(ui), common.repo) as session:
            report = pinning.pin(session, env, timeout=request_timeout)
        show(ui, output is Format.json, report, promotion.pins_document, promotion.pins)
        return ExitCode.OK

    invoke(common.verbose, command, json_errors=output is Format.json)
