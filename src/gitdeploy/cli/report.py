"""`gitdeploy report merge` and `gitdeploy report publish`: the JSON documents of several CI
jobs (a `--matrix` fan-out) merged into one report, and a report posted as pull-request
comments that later runs update (docs/fleet.md)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gitdeploy.cli.boundary import invoke
from gitdeploy.cli.options import COMMON, Common, grouped
from gitdeploy.errors import ExitCode, SettingsError

if TYPE_CHECKING:
    from gitdeploy.output.console import UI

app = typer.Typer(name="report", no_args_is_help=True, rich_markup_mode=None,
                  help="Reports of several environments: merge CI jobs' JSON, post comments.")

Files = Annotated[list[str], typer.Argument(
    metavar="FILE", help="JSON documents of gitdeploy commands (-o json): FleetReport, Plan, "
    "ApplyResult, Status, RenderedObjects or Error; NAME=FILE names the environment of an "
    "Error document (default: the file name without .json).", show_default=False)]
Key = Annotated[str, typer.Option(
    "--key", help="The comments' marker (<!-- gitdeploy-report:KEY ... -->): one set of "
    "comments per key on a pull request (default: the command, e.g. diff).",
    show_default=False)]
ExitCodeOption = Annotated[bool, typer.Option(
    "--exit-code", help="Environments with changes count as exit code 2, as diff --exit-code "
    "and status --exit-code exit.")]


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    yaml = "yaml"
    markdown = "markdown"


@app.command()
@grouped(common=COMMON)
def merge(
    files: Files,
    output: Annotated[ReportFormat, typer.Option("--output", "-o", help="Output format.")
                      ] = ReportFormat.text,
    exit_code: ExitCodeOption = False,
    key: Key = "",
    split_dir: Annotated[Path | None, typer.Option(
        "--split-dir", help="With -o markdown: also write each comment to DIR/comment-N.md.",
        show_default=False)] = None,
    *,
    common: Common,
) -> None:
    """Merge the JSON documents of separate jobs (one per environment) into one report; exit
    with the worst of their exit codes."""

    def command(ui: UI) -> int:
        from gitdeploy.cli.show import json_document, markdown
        from gitdeploy.fleet import report
        from gitdeploy.output import fleet

        command_name, sections, base = report.sections(report.read_documents(files),
                                                       exit_code=exit_code)
        doc = fleet.build(command_name, sections, base=base,
                          selection=f"merged from {len(files)} file(s)")
        if output in (ReportFormat.json, ReportFormat.yaml):
            json_document(ui, doc)
        elif output is ReportFormat.markdown:
            parts = _comments(doc, key or command_name)
            markdown(ui, "\n".join(parts))
            if split_dir is not None:
                split_dir.mkdir(parents=True, exist_ok=True)
                for index, part in enumerate(parts, start=1):
                    (split_dir / f"comment-{index}.md").write_text(part, encoding="utf-8")
        else:
            fleet.table(ui.out, doc)
            ui.result_written = True
        return int(doc["exitCode"])

    invoke(common.verbose, command, output=output.value if output is not
           ReportFormat.markdown else "text")


class Provider(StrEnum):
    github = "github"
    gitlab = "gitlab"


@app.command()
@grouped(common=COMMON)
def publish(
    files: Files,
    provider: Annotated[Provider, typer.Option(
        "--to", help="github: the pull request's comments (GITHUB_* variables, GITHUB_TOKEN); "
        "gitlab: the merge request's notes (CI_* variables, GITLAB_TOKEN).")
    ] = Provider.github,
    number: Annotated[int | None, typer.Option(
        "--pr", help="The pull (merge) request's number (default: from the CI job's "
        "variables).", show_default=False)] = None,
    token_from: Annotated[str | None, typer.Option(
        "--token-from", help="The environment variable holding the token (default: "
        "GITHUB_TOKEN, GITLAB_TOKEN).", show_default=False)] = None,
    key: Key = "",
    *,
    common: Common,
) -> None:
    """Post the report as pull-request comments, updating those posted before under the same
    key (and deleting those no longer needed). Exit 0 once posted, 1 when it could not be."""

    def command(ui: UI) -> int:
        import os

        from gitdeploy.fleet import publish as posting
        from gitdeploy.fleet import report
        from gitdeploy.output import fleet, fleet_markdown

        command_name, sections, base = report.sections(report.read_documents(files),
                                                       exit_code=False)
        doc = fleet.build(command_name, sections, base=base)
        marker_key = key or command_name
        parts = _comments(doc, marker_key)
        if provider is Provider.github:
            target = posting.github_target(os.environ, number=number,
                                           token_variable=token_from or "GITHUB_TOKEN")
        else:
            target = posting.gitlab_target(os.environ, number=number,
                                           token_variable=token_from or "GITLAB_TOKEN")
        done = posting.publish(posting.Client(target, log=ui.log), parts, marker_key,
                               fleet_markdown.parse_marker)
        ui.note(f"{target.where}: {len(parts)} comment(s) for '{marker_key}': "
                f"{len(done.updated)} updated, {len(done.created)} added, "
                f"{len(done.unchanged)} unchanged, {len(done.deleted)} deleted")
        return ExitCode.OK  # posted; the report's own exit code is the run's business

    invoke(common.verbose, command)


def _comments(doc: dict[str, Any], key: str) -> list[str]:
    from gitdeploy.output import fleet_markdown

    try:
        return fleet_markdown.comments(doc, key=key)
    except ValueError as error:
        raise SettingsError(f"--key: {error}") from None

