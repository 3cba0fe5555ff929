"""What each command does for one environment of a fleet run: the same core calls as when the
command runs on that environment alone (commands/), and the exit code it would have had.

Each command's core is imported when its task is made: `render --all` and offline diffs start
without the Kubernetes client's import time (docs/fleet.md#performance)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitdeploy.commands.session import ClusterOptions, Session
from gitdeploy.errors import (
    ApplyFailed,
    ExitCode,
    GitdeployError,
    Interrupted,
    NotReady,
    WaitInterrupted,
)
from gitdeploy.fleet.run import Outcome, Task
from gitdeploy.results import Outcome as ObjectOutcome
from gitdeploy.results.apply import ApplyReport
from gitdeploy.results.plan import Plan

if TYPE_CHECKING:
    from gitdeploy.commands.deploy import DeployOptions
    from gitdeploy.fleet.changed import Changes


def diff(cluster: ClusterOptions, *, offline: bool, base: str | None, ref: str | None,
         prune: bool | None, with_orphans: bool, replace: bool, full: bool,
         exit_code: bool, renders: Changes | None = None) -> Task:
    """`renders`: what --changed rendered, reused by the offline diffs."""
    if not offline:
        from gitdeploy.commands import diff as diffing

    def task(session: Session, name: str) -> Outcome:
        if offline:
            assert base is not None
            plan = _offline(session, name, base, ref or "HEAD", renders)
            orphans = None
        else:
            plan, orphans = diffing.plan(session, name, cluster, ref=ref, prune=prune,
                                         with_orphans=with_orphans, replace=replace, full=full)
        code = ExitCode.CHANGES if exit_code and plan.pending else ExitCode.OK
        return Outcome(plan, code, orphans)

    return task


def _offline(session: Session, name: str, base: str, head: str, renders: Changes | None
             ) -> Plan:
    """`diffing.offline`, from the renders --changed made when it made them."""
    old = new = None
    if renders is not None and (renders.base, renders.head) == (base, head):
        old = renders.cache.get(renders.base_sha, name)
        new = renders.cache.get(renders.head_sha, name)
    if (old is None or new is None or renders is None or renders.head_info is None
            or renders.base_info is None):
        from gitdeploy.commands import diff as diffing

        return diffing.offline(session, name, base=base, head=head)
    from gitdeploy.plan.offline import offline_plan

    the_plan = offline_plan(name, old.objects, new.objects, base=base, rules=new.rules,
                            head_info=renders.head_info, base_info=renders.base_info)
    the_plan.variables = new.variables
    return the_plan


def plan(cluster: ClusterOptions, deploy: DeployOptions, ref: str | None) -> Task:
    """The plan `apply` would show, made for the one confirmation of a fleet apply."""
    from gitdeploy.commands import diff as diffing

    def task(session: Session, name: str) -> Outcome:
        the_plan, _ = diffing.plan(session, name, cluster, ref=ref, prune=deploy.prune,
                                   replace=deploy.replace, full=deploy.full)
        return Outcome(the_plan)

    return task


def apply(cluster: ClusterOptions, deploy: DeployOptions, ref: str | None) -> Task:
    from gitdeploy.commands import deploy as deploying

    def task(session: Session, name: str) -> Outcome:
        report = deploying.apply(session, name, cluster, deploy, ref=ref)
        error = apply_error(report)
        return Outcome(report, ExitCode.OK if error is None else error.exit_code, error=error)

    return task


def status(cluster: ClusterOptions, *, ref: str | None, check_drift: bool, full: bool,
           exit_code: bool) -> Task:
    from gitdeploy.commands import live

    def task(session: Session, name: str) -> Outcome:
        result = live.status(session, name, cluster, ref=ref, check_drift=check_drift,
                             full=full)
        return Outcome(result, ExitCode.CHANGES if exit_code and not result.in_sync
                       else ExitCode.OK)

    return task


def render(ref: str | None) -> Task:
    from gitdeploy.commands import local

    def task(session: Session, name: str) -> Outcome:
        return Outcome(local.render(session, name, ref=ref))

    return task


def apply_error(report: ApplyReport) -> GitdeployError | None:
    """The error an apply report means, with its exit code (docs/exit-codes.md): an
    interruption, failed objects, problems after the apply, or objects not ready; None when
    everything was applied and is ready."""
    env = report.plan.environment
    if report.interrupted:
        done = report.count(ObjectOutcome.APPLIED) + report.count(ObjectOutcome.DELETED)
        return Interrupted(
            f"apply to {env} interrupted by {report.interrupted} after {done} of "
            f"{len(report.results)} object(s); the lock is released and the report above is "
            f"{'recorded' if report.record else 'NOT recorded'}",
            [*report.problems, "run the apply again to finish it"],
            signal_name=report.interrupted)
    if not report.succeeded:
        return ApplyFailed(f"apply to {env} failed; see the report above",
                           [*(f"{r.change.title()}: {r.error}" for r in report.results
                              if r.error), *report.problems])
    if report.problems:
        return ApplyFailed(f"apply to {env}: the objects were applied, but not everything "
                           "after", report.problems)
    readiness = report.readiness
    if readiness is not None and readiness.interrupted:
        return WaitInterrupted(f"stopped waiting for {env}: the apply is done and recorded; "
                               "nothing was changed after it",
                               signal_name=readiness.stopped_by or "SIGINT")
    if readiness is not None and not readiness.ready:
        why = (f"not ready after {readiness.timeout:.0f}s" if readiness.timed_out
               else "failed to become ready")
        return NotReady(f"{env} was applied and recorded, but {len(readiness.not_ready)} "
                        f"object(s) {why}; see the report above",
                        [f"{item.title}: {item.readiness.message}"
                         for item in readiness.not_ready[:20]])
    return None
