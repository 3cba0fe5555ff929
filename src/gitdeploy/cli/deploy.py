"""Commands that change, or show what would change: `diff`, `apply`, `rollback`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gitdeploy.cli import fleet as fleet_cli
from gitdeploy.cli.boundary import invoke
from gitdeploy.cli.fleet import RUN, SELECT, SELECT_DIFF, EnvNames, Fleet, Run
from gitdeploy.cli.options import (
    CLUSTER,
    COMMON,
    DEPLOY,
    Common,
    Deploy,
    DiffFormat,
    EnvName,
    Format,
    Full,
    Output,
    Prune,
    Ref,
    Replace,
    grouped,
)
from gitdeploy.commands.session import ClusterOptions
from gitdeploy.errors import (
    ExitCode,
    SettingsError,
)

# What the commands run is imported when they run: `gitdeploy --help` stays fast
# (docs/performance.md).
if TYPE_CHECKING:
    from gitdeploy.cli.events import TerminalEvents
    from gitdeploy.output.console import UI
    from gitdeploy.results.apply import ApplyReport


@grouped(fleet=SELECT_DIFF, run=RUN, cluster=CLUSTER, common=COMMON)
def diff(
    envs: EnvNames = None,
    exit_code: Annotated[bool, typer.Option(
        "--exit-code", help="Exit 2 when there are changes, 0 when there are none.")] = False,
    ref: Ref = None,
    prune: Prune = None,
    replace: Replace = False,
    full: Full = False,
    show_orphans: Annotated[bool, typer.Option(
        "--orphans", help="Also list objects in the environment's namespaces that nothing "
        "owns.")] = False,
    offline: Annotated[bool, typer.Option(
        "--offline", help="No cluster: diff the environment at --base against --ref "
        "(default HEAD).")] = False,
    base: Annotated[str | None, typer.Option(
        "--base", help="With --offline or --changed: the ref to compare against (e.g. "
        "origin/main).",
        show_default=False)] = None,
    out_plan: Annotated[Path | None, typer.Option(
        "--out-plan", help="Save the plan for `apply --plan` (digests, no Secret values).",
        show_default=False)] = None,
    output: Annotated[DiffFormat, typer.Option(
        "--output", "-o", help="Output format (markdown: for a pull-request comment).")
    ] = DiffFormat.text,
    *,
    fleet: Fleet,
    run: Run,
    cluster: ClusterOptions,
    common: Common,
) -> None:
    """Show what apply would change, as computed by the API server (server-side dry run)."""
    several = fleet_cli.combine(fleet, run)
    if several.several(envs or []):  # several environments: docs/fleet.md
        invoke(common.verbose, lambda ui: fleet_cli.diff(
            ui, several, envs or [], repo=common.repo, cluster=cluster, ref=ref, base=base,
            offline=offline, prune=prune, replace=replace, full=full, orphans=show_orphans,
            exit_code=exit_code, out_plan=out_plan, output=output.value), output=output)
        return
    env = (envs or [""])[0]

    def command(ui: UI) -> int:
        from gitdeploy.cli.events import TerminalEvents
        from gitdeploy.cli.show import markdown, show, step_summary
        from gitdeploy.commands import diff as diffing
        from gitdeploy.commands.session import Session
        from gitdeploy.output import jsondoc, terminal
        from gitdeploy.output import markdown as markdown_doc
        from gitdeploy.plan import planfile

        with Session.open(TerminalEvents(ui), common.repo) as session:
            if offline or base:
                if not (offline and base) or show_orphans:
                    raise SettingsError("an offline diff takes --offline and --base REF "
                                        "together, and no --orphans (they need a cluster)")
                if out_plan:
                    raise SettingsError("--out-plan needs a diff against the cluster, not "
                                        "--offline")
                plan, orphans = diffing.offline(session, env, base=base, head=ref or "HEAD"), None
            else:
                plan, orphans = diffing.plan(session, env, cluster, ref=ref, prune=prune,
                                             with_orphans=show_orphans, replace=replace,
                                             full=full)
        if output is DiffFormat.markdown:
            markdown(ui, markdown_doc.plan(plan, orphans))
        else:
            show(ui, output.structured, plan,
                 lambda p: jsondoc.plan(p, orphans), terminal.plan)
            if orphans is not None and output is DiffFormat.text:
                ui.out.print()
                terminal.orphans(ui.out, orphans)
        step_summary(lambda: markdown_doc.plan(plan, orphans))
        if out_plan is not None:
            planfile.save(plan, out_plan, jsondoc.plan(plan))
            ui.note(f"Plan saved to {out_plan}; apply it with: gitdeploy apply {env} "
                    f"--plan {out_plan}")
        return ExitCode.CHANGES if exit_code and plan.pending else ExitCode.OK

    invoke(common.verbose, command, output=output)


@grouped(fleet=SELECT, run=RUN, deploy=DEPLOY, cluster=CLUSTER, common=COMMON)
def apply(
    envs: EnvNames = None,
    ref: Ref = None,
    allow_dirty: Annotated[bool, typer.Option(
        "--allow-dirty", help="Apply even if the files have uncommitted changes (recorded as "
        "dirty).")] = False,
    plan_file: Annotated[Path | None, typer.Option(
        "--plan", help="Apply exactly this plan from `diff --out-plan`, or refuse if git or "
        "the cluster changed since.", show_default=False)] = None,
    output: Output = Format.text,
    *,
    fleet: Fleet,
    run: Run,
    deploy: Deploy,
    cluster: ClusterOptions,
    common: Common,
) -> None:
    """Show the diff, ask, then apply with server-side apply (field manager gitdeploy) and
    record the deploy in the cluster."""
    several = fleet_cli.combine(fleet, run)
    if several.several(envs or []):  # several environments: docs/fleet.md
        invoke(common.verbose, lambda ui: fleet_cli.apply(
            ui, several, envs or [], repo=common.repo, cluster=cluster, ref=ref,
            deploy=deploy.options(allow_dirty=allow_dirty, plan_file=plan_file),
            output=output.value), output=output)
        return
    env = (envs or [""])[0]

    def command(ui: UI) -> int:
        from gitdeploy.commands import deploy as deploying
        from gitdeploy.commands.session import Session

        options = deploy.options(allow_dirty=allow_dirty, plan_file=plan_file)
        with Session.open(_events(ui, output), common.repo) as session:
            report = deploying.apply(session, env, cluster, options, ref=ref)
        return _report(ui, report, output)

    invoke(common.verbose, command, output=output)


@grouped(deploy=DEPLOY, cluster=CLUSTER, common=COMMON)
def rollback(
    env: EnvName,
    to: Annotated[str | None, typer.Option(
        "--to", help="A record number from `gitdeploy history`, or a commit (default: the "
        "previous successful deploy of another commit).", show_default=False)] = None,
    output: Output = Format.text,
    *,
    deploy: Deploy,
    cluster: ClusterOptions,
    common: Common,
) -> None:
    """Apply the environment as it was at an earlier deploy (diff and confirmation as usual)."""

    def command(ui: UI) -> int:
        from gitdeploy.commands import deploy as deploying
        from gitdeploy.commands.session import Session

        options = deploy.options()
        with Session.open(_events(ui, output), common.repo) as session:
            report = deploying.rollback(session, env, cluster, options, to=to)
        return _report(ui, report, output)

    invoke(common.verbose, command, output=output)


def _events(ui: UI, output: Format) -> TerminalEvents:
    """The plan about to be applied is part of the text result (stdout); under -o json it is
    shown on stderr, so that stdout holds the one JSON document."""
    from gitdeploy.cli.events import TerminalEvents

    return TerminalEvents(ui, plan_to=ui.out if output is Format.text else ui.err)


def _report(ui: UI, report: ApplyReport, output: Format) -> int:
    from gitdeploy.cli.show import show, step_summary
    from gitdeploy.fleet.tasks import apply_error
    from gitdeploy.output import jsondoc, terminal
    from gitdeploy.output import markdown as markdown_doc

    show(ui, output.structured, report, jsondoc.apply_report, terminal.apply_report)
    step_summary(lambda: markdown_doc.apply_report(report))
    error = apply_error(report)  # the exit code the report means (docs/exit-codes.md)
    if error is not None:
        raise error
    return ExitCode.OK
