"""Commands that change, or show what would change: `diff`, `apply`, `rollback`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitdeploy.cli.boundary import invoke
from gitdeploy.cli.events import TerminalEvents
from gitdeploy.cli.options import (
    CLUSTER,
    COMMON,
    DEPLOY,
    Common,
    Deploy,
    DiffFormat,
    EnvName,
    Format,
    Output,
    Prune,
    Ref,
    grouped,
)
from gitdeploy.cli.show import markdown, show, step_summary
from gitdeploy.commands import deploy as deploying
from gitdeploy.commands import diff as diffing
from gitdeploy.commands.session import ClusterOptions, Session
from gitdeploy.errors import (
    ApplyFailed,
    ExitCode,
    Interrupted,
    NotReady,
    SettingsError,
    WaitInterrupted,
)
from gitdeploy.output import jsondoc, terminal
from gitdeploy.output import markdown as markdown_doc
from gitdeploy.output.console import UI
from gitdeploy.plan import planfile
from gitdeploy.results import ApplyReport, Outcome


@grouped(cluster=CLUSTER, common=COMMON)
def diff(
    env: EnvName,
    exit_code: Annotated[bool, typer.Option(
        "--exit-code", help="Exit 2 when there are changes, 0 when there are none.")] = False,
    ref: Ref = None,
    prune: Prune = None,
    show_orphans: Annotated[bool, typer.Option(
        "--orphans", help="Also list objects in the environment's namespaces that nothing "
        "owns.")] = False,
    offline: Annotated[bool, typer.Option(
        "--offline", help="No cluster: diff the environment at --base against --ref "
        "(default HEAD).")] = False,
    base: Annotated[str | None, typer.Option(
        "--base", help="With --offline: the ref to compare against (e.g. origin/main).",
        show_default=False)] = None,
    out_plan: Annotated[Path | None, typer.Option(
        "--out-plan", help="Save the plan for `apply --plan` (digests, no Secret values).",
        show_default=False)] = None,
    output: Annotated[DiffFormat, typer.Option(
        "--output", "-o", help="Output format (markdown: for a pull-request comment).")
    ] = DiffFormat.text,
    *,
    cluster: ClusterOptions,
    common: Common,
) -> None:
    """Show what apply would change, as computed by the API server (server-side dry run)."""

    def command(ui: UI) -> int:
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
                                             with_orphans=show_orphans)
        summary = markdown_doc.plan(plan, orphans)
        if output is DiffFormat.markdown:
            markdown(ui, summary)
        else:
            show(ui, output is DiffFormat.json, plan,
                 lambda p: jsondoc.plan(p, orphans), terminal.plan)
            if orphans is not None and output is DiffFormat.text:
                ui.out.print()
                terminal.orphans(ui.out, orphans)
        step_summary(summary)
        if out_plan is not None:
            planfile.save(plan, out_plan, jsondoc.plan(plan))
            ui.note(f"Plan saved to {out_plan}; apply it with: gitdeploy apply {env} "
                    f"--plan {out_plan}")
        return ExitCode.CHANGES if exit_code and plan.pending else ExitCode.OK

    invoke(common.verbose, command, json_errors=output is DiffFormat.json)


@grouped(deploy=DEPLOY, cluster=CLUSTER, common=COMMON)
def apply(
    env: EnvName,
    ref: Ref = None,
    allow_dirty: Annotated[bool, typer.Option(
        "--allow-dirty", help="Apply even if the files have uncommitted changes (recorded as "
        "dirty).")] = False,
    plan_file: Annotated[Path | None, typer.Option(
        "--plan", help="Apply exactly this plan from `diff --out-plan`, or refuse if git or "
        "the cluster changed since.", show_default=False)] = None,
    output: Output = Format.text,
    *,
    deploy: Deploy,
    cluster: ClusterOptions,
    common: Common,
) -> None:
    """Show the diff, ask, then apply with server-side apply (field manager gitdeploy) and
    record the deploy in the cluster."""

    def command(ui: UI) -> int:
        options = deploy.options(allow_dirty=allow_dirty, plan_file=plan_file)
        with Session.open(_events(ui, output), common.repo) as session:
            report = deploying.apply(session, env, cluster, options, ref=ref)
        return _report(ui, report, output)

    invoke(common.verbose, command, json_errors=output is Format.json)


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
        options = deploy.options()
        with Session.open(_events(ui, output), common.repo) as session:
            report = deploying.rollback(session, env, cluster, options, to=to)
        return _report(ui, report, output)

    invoke(common.verbose, command, json_errors=output is Format.json)


def _events(ui: UI, output: Format) -> TerminalEvents:
    """The plan about to be applied is part of the text result (stdout); under -o json it is
    shown on stderr, so that stdout holds the one JSON document."""
    return TerminalEvents(ui, plan_to=ui.out if output is Format.text else ui.err)


def _report(ui: UI, report: ApplyReport, output: Format) -> int:
    show(ui, output is Format.json, report, jsondoc.apply_report, terminal.apply_report)
    step_summary(markdown_doc.apply_report(report))
    env = report.plan.environment
    if report.interrupted:
        done = report.count(Outcome.APPLIED) + report.count(Outcome.DELETED)
        raise Interrupted(
            f"apply to {env} interrupted by {report.interrupted} after {done} of "
            f"{len(report.results)} object(s); the lock is released and the report above is "
            f"{'recorded' if report.record else 'NOT recorded'}",
            [*report.problems, "run the apply again to finish it"],
            signal_name=report.interrupted)
    if not report.succeeded:
        raise ApplyFailed(f"apply to {env} failed; see the report above",
                          [*(f"{r.change.title()}: {r.error}" for r in report.results
                             if r.error), *report.problems])
    if report.problems:
        raise ApplyFailed(f"apply to {env}: the objects were applied, but not everything after",
                          report.problems)
    readiness = report.readiness
    if readiness is not None and readiness.interrupted:
        raise WaitInterrupted(f"stopped waiting for {env}: the apply is done and recorded; "
                              "nothing was changed after it")
    if readiness is not None and not readiness.ready:
        why = (f"not ready after {readiness.timeout:.0f}s" if readiness.timed_out
               else "failed to become ready")
        raise NotReady(f"{env} was applied and recorded, but {len(readiness.not_ready)} "
                       f"object(s) {why}; see the report above",
                       [f"{item.title}: {item.readiness.message}"
                        for item in readiness.not_ready[:20]])
    return ExitCode.OK
