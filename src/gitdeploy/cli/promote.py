"""Commands between environments, no cluster needed: `compare` and `promote`
(docs/promotion.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from gitdeploy.cli.boundary import invoke
from gitdeploy.cli.options import COMMON, Common, Format, Output, Ref, grouped
from gitdeploy.errors import ExitCode, SettingsError

# What the commands run is imported when they run: `gitdeploy --help` stays fast
# (docs/performance.md).
if TYPE_CHECKING:
    from gitdeploy.output.console import UI

Source = Annotated[str, typer.Argument(help="The environment to promote from (e.g. staging).",
                                       show_default=False)]
Target = Annotated[str, typer.Argument(help="The environment to promote to (e.g. prod).",
                                       show_default=False)]


@grouped(common=COMMON)
def compare(
    source: Source,
    target: Target,
    ref: Ref = None,
    exit_code: Annotated[bool, typer.Option(
        "--exit-code", help="Exit 2 when TARGET lacks something of SOURCE, 0 otherwise.")
    ] = False,
    output: Output = Format.text,
    *,
    common: Common,
) -> None:
    """Compare the rendered objects of two environments, offline: what TARGET lacks of SOURCE
    (images, chart versions, config keys, objects), leaving out what is meant to differ."""

    def command(ui: UI) -> int:
        from gitdeploy.cli.events import TerminalEvents
        from gitdeploy.cli.show import show
        from gitdeploy.commands import promote as promoting
        from gitdeploy.commands.session import Session
        from gitdeploy.output import promotion

        with Session.open(TerminalEvents(ui), common.repo) as session:
            result = promoting.compare(session, source, target, ref=ref)
        show(ui, output is Format.json, result, promotion.comparison_document,
             promotion.comparison)
        return ExitCode.CHANGES if exit_code and result.target_lacks else ExitCode.OK

    invoke(common.verbose, command, json_errors=output is Format.json)


@grouped(common=COMMON)
def promote(
    source: Source,
    target: Target,
    paths: Annotated[list[str] | None, typer.Argument(
        help="With --files: files or folders of SOURCE's folder to copy.",
        show_default=False)] = None,
    images: Annotated[bool, typer.Option(
        "--images", help="Promote container images (tags and digests).")] = False,
    image: Annotated[list[str] | None, typer.Option(
        "--image", help="Promote only this image repository (repeatable; implies --images).",
        show_default=False)] = None,
    charts: Annotated[bool, typer.Option(
        "--charts", help="Promote the chart versions of the `charts` setting.")] = False,
    files: Annotated[bool, typer.Option(
        "--files", help="Copy the PATHS given after the environments.")] = False,
    commit: Annotated[bool, typer.Option(
        "--commit", help="Write a commit on a new branch (promote/SOURCE-to-TARGET-<sha>) "
        "instead of the work tree.")] = False,
    branch: Annotated[str | None, typer.Option(
        "--branch", help="Write a commit on this new branch instead of the work tree.",
        show_default=False)] = None,
    output: Output = Format.text,
    *,
    common: Common,
) -> None:
    """Apply to TARGET's folder what it lacks of SOURCE: images, chart versions or files.
    Prints the diff of TARGET's rendered objects that it causes. Edits only TARGET's folder;
    refuses when TARGET is frozen."""

    def command(ui: UI) -> int:
        from gitdeploy.cli.events import TerminalEvents
        from gitdeploy.cli.show import show
        from gitdeploy.commands import promote as promoting
        from gitdeploy.commands.session import Session
        from gitdeploy.output import promotion

        if paths and not files:
            raise SettingsError(f"unexpected argument(s) {' '.join(paths)}: files to copy "
                                "follow --files")
        if files and not paths:
            raise SettingsError("--files needs the paths to copy, after the environments",
                                [f"e.g. gitdeploy promote {source} {target} --files "
                                 "config.yaml"])
        options = promoting.PromoteOptions(
            images=images, image_names=tuple(image or ()), charts=charts,
            files=tuple(paths or ()), commit=commit, branch=branch)
        with Session.open(TerminalEvents(ui), common.repo) as session:
            result = promoting.promote(session, source, target, options)
        show(ui, output is Format.json, result, promotion.promotion_document,
             promotion.promotion)
        return ExitCode.OK

    invoke(common.verbose, command, json_errors=output is Format.json)
