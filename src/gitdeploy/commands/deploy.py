"""The deploy pipeline, top to bottom (`apply` and `rollback`):

    load settings -> freeze check -> render -> dirty check -> verify target -> [plan -> confirm]
    -> lock -> plan (server-side dry run; confirmed again if it moved) -> apply -> record
    -> unlock -> wait for readiness

Each step is a plain function of its own package (config, render, kube, plan, apply, state);
this module only puts them in order. It returns an ApplyReport for the output layer to render,
and reports progress and asks for confirmation through the session's `Events`.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitdeploy.apply import prune
from gitdeploy.apply.execute import apply_plan
from gitdeploy.apply.wait import items_to_wait_for, wait_ready
from gitdeploy.commands.session import ClusterOptions, Events, Session, Source
from gitdeploy.config.environments import Environment, load_environment
from gitdeploy.config.freeze import refuse_if_frozen
from gitdeploy.config.sources import SourceTree
from gitdeploy.errors import KubeError, RefusedError, SettingsError
from gitdeploy.kube.client import KubeClient
from gitdeploy.kube.target import Connection
from gitdeploy.notify import announce
from gitdeploy.objects.kinds import NAMESPACE_KIND
from gitdeploy.objects.secrets import SecretMasker, known
from gitdeploy.plan import planfile
from gitdeploy.plan.blockers import blockers
from gitdeploy.plan.dryrun import build_plan, fingerprints_for
from gitdeploy.render.environment import RenderedSet
from gitdeploy.results.apply import ApplyReport, WaitReport
from gitdeploy.results.environment import SourceInfo
from gitdeploy.results.plan import Plan
from gitdeploy.results.state import DEPLOY, ROLLBACK, DeployRecord, Identity
from gitdeploy.state.identity import kube_user, local_identity
from gitdeploy.state.lock import EnvironmentLock
from gitdeploy.state.records import RecordStore, from_report
from gitdeploy.state.synced import object_key, save_after_apply

MAX_LISTED_FILES = 20


@dataclass(frozen=True)
class DeployOptions:
    yes: bool = False
    allow_dirty: bool = False
    lock_timeout: float = 0.0
    prune: bool | None = None  # None: the environment's `prune` setting
    allow_mass_delete: bool = False
    plan_file: Path | None = None  # apply exactly this reviewed plan, or refuse
    wait: bool | None = None  # None: the environment's wait.enabled
    wait_timeout: float | None = None  # None: the environment's wait.timeout
    replace: bool = False  # objects whose immutable fields changed are deleted and created
    full: bool = False  # dry-run every object, also those unchanged since the last apply


def apply(session: Session, env_name: str, options: ClusterOptions, deploy: DeployOptions,
          *, ref: str | None = None) -> ApplyReport:
    source = session.source(ref)
    env = load_environment(source.tree, env_name)
    _refuse_if_frozen(session, source, env, "apply")
    rendered = session.render(source.tree, env, check=True)
    info = session.source_info(source, rendered)
    _refuse_if_dirty(info, env, deploy)
    connection = session.connect(env, options)
    return _deploy(session, env, rendered, info, connection, options, deploy, kind=DEPLOY)


def rollback(session: Session, env_name: str, options: ClusterOptions, deploy: DeployOptions,
             *, to: str | None = None) -> ApplyReport:
    """Apply the environment as it was at an earlier deploy's commit. The guards, lock and
    freeze come from the environment as the work tree has it now."""
    env = load_environment(session.work_tree, env_name)
    refuse_if_frozen("rollback", env.name, [(session.work_tree, env)])
    connection = session.connect(env, options)
    records = RecordStore(connection.client, env.settings.store_namespace, env.name).list()
    commit, what = rollback_target(records, to, env.name)
    source = session.source(commit)
    if not what and source.commit is not None:
        what = f"commit {source.commit.hexsha[:7]}"
    try:
        old_env = load_environment(source.tree, env_name)
    except SettingsError as error:
        raise SettingsError(f"cannot roll back to {commit[:7]}: {error.message}",
                            error.details) from None
    refuse_if_frozen("rollback", env.name, [(source.tree, old_env)])
    rendered = session.render(source.tree, old_env, check=True)
    info = dataclasses.replace(session.source_info(source, rendered),
                               ref=commit if what.startswith("commit") else commit[:7])
    # The old commit's objects, under today's guards, protection and lock.
    rendered = dataclasses.replace(rendered, environment=env)
    session.events.note(f"rolling {env.name} back to {what}")
    return _deploy(session, env, rendered, info, connection, options, deploy, kind=ROLLBACK,
                   rollback_of=what)


def _refuse_if_frozen(session: Session, source: Source, env: Environment, action: str) -> None:
    checks: list[tuple[SourceTree, Environment | None]] = [(source.tree, env)]
    if not source.is_work_tree:
        checks.append((session.work_tree, session.work_tree_environment(env.name)))
    refuse_if_frozen(action, env.name, checks)


def _refuse_if_dirty(info: SourceInfo, env: Environment, deploy: DeployOptions) -> None:
    if not info.dirty or deploy.allow_dirty:
        return
    if info.commit is None:
        raise RefusedError(f"apply to {env.name} refused: the files are not committed to git",
                           ["commit them, or pass --allow-dirty (the deploy is recorded as "
                            "dirty)"])
    listed = list(info.dirty_files[:MAX_LISTED_FILES])
    if len(info.dirty_files) > MAX_LISTED_FILES:
        listed.append(f"... and {len(info.dirty_files) - MAX_LISTED_FILES} more")
    raise RefusedError(
        f"apply to {env.name} refused: {len(info.dirty_files)} file(s) it would deploy have "
        "uncommitted changes",
        [*listed, "commit them, deploy a commit with --ref, or pass --allow-dirty (the deploy "
                  "is recorded as dirty)"])


def rollback_target(records: list[DeployRecord], to: str | None, env_name: str
                     ) -> tuple[str, str]:
    """(commit, description) to roll back to; the description is "" for a commit given.
    `to` is a record number from `history`, or a commit; by default the newest successful
    deploy of another commit than the live one."""
    if not records and (to is None or (to.isdigit() and len(to) < 7)):
        raise SettingsError(f"{env_name} has no deploy records to roll back to",
                            ["see gitdeploy history; pass --to COMMIT to deploy a commit"])
    if to is None:
        live = records[0].commit
        for record in records[1:]:
            if record.succeeded and record.commit and record.commit != live:
                return record.commit, f"record {record.sequence} ({record.short})"
        raise SettingsError(f"{env_name} has no earlier successful deploy of another commit",
                            ["see gitdeploy history; pass --to RECORD or --to COMMIT"])
    if to.isdigit() and len(to) < 7:
        chosen = next((r for r in records if r.sequence == int(to)), None)
        if chosen is None:
            raise SettingsError(f"{env_name} has no deploy record {to}",
                                ["see gitdeploy history for the record numbers kept"])
        if not chosen.commit:
            raise SettingsError(f"record {to} of {env_name} was not deployed from a commit")
        return chosen.commit, f"record {chosen.sequence} ({chosen.short})"
    return to, ""


def _deploy(session: Session, env: Environment, rendered: RenderedSet, info: SourceInfo,
            connection: Connection, options: ClusterOptions, deploy: DeployOptions, *,
            kind: str, rollback_of: str = "") -> ApplyReport:
    """The plan that is applied is the cluster's under the lock, so that a deploy that waited
    for another one never applies a plan made before that one changed the cluster. The plan is
    made, checked and confirmed before the lock (a refused deploy writes nothing, the lock
    included; a person may take a while); under the lock it is made again when a person
    confirmed it or another deploy held the lock since (the lease changed), and if it moved,
    the difference is shown and, when a person confirmed, confirmed again."""
    saved = planfile.load(deploy.plan_file) if deploy.plan_file is not None else None
    prune_on = deploy.prune if deploy.prune is not None else (
        saved.prune if saved is not None else env.settings.prune)
    events = session.events
    started = time.monotonic()  # the notifications' duration

    def plan_now() -> Plan:
        the_plan = build_plan(rendered, connection, info, concurrency=options.concurrency,
                              prune=prune_on, replace=deploy.replace, full=deploy.full)
        the_plan.variables = rendered.variables  # names and sources only, never values
        return the_plan

    def check(the_plan: Plan) -> None:
        if saved is not None:
            moved = planfile.differences(saved, the_plan)
            if moved:
                raise RefusedError(f"not applying {deploy.plan_file}: git or the cluster "
                                   "changed since it was made (the diff above is the current "
                                   "one)", [*moved, "make and review a new plan (diff "
                                   "--out-plan)"])
        blocked = blockers(the_plan, str(env.settings_path),
                           create_namespace=env.settings.create_namespace)
        if blocked:
            raise RefusedError(f"apply to {env.name} refused: the plan cannot be applied as it "
                               "is", blocked)
        problems = prune.refusals(the_plan, env.settings, rendered=len(rendered.manifests),
                                  allow_mass_delete=deploy.allow_mass_delete)
        if problems:
            raise RefusedError(f"apply to {env.name} refused: pruning is not safe", problems)

    identity = local_identity()
    # A lock lost while held (renewals failed past its expiry, or another deploy took it over)
    # stops the apply from starting any further write, as Ctrl-C does.
    lock = EnvironmentLock(connection.client, namespace=env.settings.store_namespace,
                           environment=env.name, holder=identity.holder(),
                           duration=env.settings.lock_duration, note=events.note,
                           on_lost=connection.client.stopping.set)
    store = RecordStore(connection.client, env.settings.store_namespace, env.name)
    lease_seen = lock.version()
    the_plan = plan_now()
    events.planned(the_plan)
    check(the_plan)
    asked = bool(the_plan.work) and not deploy.yes
    if asked:
        events.confirm_apply(the_plan)
    held_signals = SignalsHeld()
    try:
        with lock.held(deploy.lock_timeout):
            if asked or lock.taken_from != lease_seen or lock.took_over:
                # The state namespace the lock created is not a change to confirm again.
                ours = f"/{NAMESPACE_KIND}//{lock.namespace}:" if lock.created_namespace \
                    else None
                the_plan = _plan_again(events, the_plan, plan_now(), check, ask=asked,
                                       ours=ours)
            report = _apply_and_record(connection, options, rendered, info, the_plan, store,
                                       identity, kind=kind, rollback_of=rollback_of,
                                       keep=env.settings.keep_records, events=events,
                                       held_signals=held_signals)
    finally:
        held_signals.release()  # the lock is given back: a signal counts again
    stopped = held_signals.caught[0] if held_signals.caught and not report.interrupted else ""
    if lock.release_error:
        report.problems.append(lock.release_error)
    if lock.lost.is_set():
        report.problems.append(
            f"the lock of {env.name} was lost while this deploy held it (its renewals failed "
            f"for longer than lock.duration, {lock.duration}s, or another deploy took it over): "
            "no write started after that; run the deploy again")
    waits = deploy.wait if deploy.wait is not None else env.settings.wait.enabled
    if stopped:
        # a signal once the record was written: the deploy is complete and recorded as it
        # is; it stops here, before waiting (WaitInterrupted: exit 130, or 143 for SIGTERM)
        report.readiness = WaitReport([], 0.0, 0.0, interrupted=True, stopped_by=stopped)
    elif waits and report.succeeded and not report.problems:
        report.readiness = _wait(events, env, the_plan, connection, options,
                                 deploy.wait_timeout or env.settings.wait.timeout)
    announce(env.settings.notify, report, kind=kind, duration=time.monotonic() - started,
             log=events.log, warning=events.warning)  # docs/notifications.md; never raises
    return report


def _plan_again(events: Events, shown: Plan, current: Plan, check: Callable[[Plan], None],
                *, ask: bool, ours: str | None = None) -> Plan:
    """`current`, made under the lock, to be applied instead of the plan `shown` before it:
    when they differ (another deploy, a controller or a person changed the cluster
    meanwhile), the new plan is shown, checked, and confirmed again if `shown` was."""
    moved = [line for line in planfile.differences(planfile.snapshot(shown), current)
             if ours is None or not line.startswith(ours)]
    if not moved:
        return current
    events.warning("the cluster changed since the plan above was made; the plan made under "
                   "the lock is below:\n  " + "\n  ".join(moved))
    events.planned(current)
    check(current)
    if ask and current.work:
        events.confirm_apply(current)
    return current


def _apply_and_record(connection: Connection, options: ClusterOptions, rendered: RenderedSet,
                      info: SourceInfo, the_plan: Plan, store: RecordStore,
                      identity: Identity, *, kind: str, rollback_of: str, keep: int,
                      events: Events, held_signals: SignalsHeld | None = None
                      ) -> ApplyReport:
    """Apply the plan and record what happened, whatever happened: after the first write, a
    failure to update the ApplySet parent or to write the record is part of the report. Once
    the writes are done, Ctrl-C and SIGTERM are held until the record is written and the lock
    given back (`held_signals`), so that a signal never leaves writes without a record."""
    client = connection.client
    inventory = the_plan.inventory
    assert inventory is not None
    # The server's messages may quote the values of any Secret sent.
    masker = SecretMasker.of_secrets([m.body for m in rendered.manifests])
    if the_plan.work or (rendered.manifests and not inventory.exists):
        prune.write_parent(client, inventory, prune.parent_before(the_plan))
    report = apply_plan(the_plan, client, concurrency=options.concurrency,
                        establish_timeout=options.establish_timeout, progress=events.applied,
                        fingerprints=fingerprints_for(rendered.manifests))
    if held_signals is not None:
        held_signals.hold()
    _keep_fingerprints(client, rendered, report, events)
    if the_plan.work and report.succeeded:
        try:
            prune.write_parent(client, inventory, prune.parent_after(the_plan))
        except KubeError as error:
            report.problems.append(f"the ApplySet parent could not be updated "
                                   f"({masker.mask_text(error.message)}); the next apply "
                                   "updates it")
    if held_signals is not None and held_signals.caught and not report.interrupted:
        report.interrupted = held_signals.caught[0]  # the record says so too
    try:
        identity = dataclasses.replace(identity, kube_user=kube_user(client))
        report.record = store.add(
            lambda sequence: from_report(report, sequence=sequence, kind=kind,
                                         identity=identity, source=info,
                                         manifests=rendered.manifests, rollback_of=rollback_of),
            keep=keep)
    except KubeError as error:
        report.problems.append(f"the deploy record could not be written "
                               f"({masker.mask_text(error.message)}): `status` and `history` "
                               "do not show this deploy")
    return report


class SignalsHeld:
    """Ctrl-C and SIGTERM held (in the main thread) while a deploy records what it wrote: each
    is noted in `caught`, and acts once `release` restores the handlers (the deploy then ends
    as interrupted, with its report and its record)."""

    def __init__(self) -> None:
        self.caught: list[str] = []
        self._previous: dict[int, Any] = {}

    def hold(self) -> None:
        if threading.current_thread() is not threading.main_thread() or self._previous:
            return
        for number in (signal.SIGINT, signal.SIGTERM):
            self._previous[number] = signal.signal(number, self._note)

    def _note(self, number: int, _frame: Any) -> None:
        self.caught.append("SIGTERM" if number == signal.SIGTERM else "SIGINT")

    def release(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()


def _keep_fingerprints(client: KubeClient, rendered: RenderedSet, report: ApplyReport,
                       events: Events) -> None:
    """Keep the sync fingerprints of the objects applied and of those found unchanged, for the
    next plan to skip their dry runs (state/synced.py); nothing is written when every one is
    already kept."""
    found = {object_key(c.api_version, c.kind, c.namespace, c.name): c.synced
             for c in report.plan.changes if c.synced}
    applied = {object_key(r.change.api_version, r.change.kind, r.change.namespace,
                          r.change.name): r.synced for r in report.results if r.synced}
    if not applied and all(c.dry_run_skipped for c in report.plan.changes if c.synced):
        return
    env = rendered.environment
    note = save_after_apply(client, env.settings.store_namespace, env.name,
                            {**found, **applied})
    if note:
        events.warning(note)


def _wait(events: Events, env: Environment, the_plan: Plan, connection: Connection,
          options: ClusterOptions, timeout: float) -> WaitReport | None:
    """Readiness after the apply, shown live; the lock is already released (waiting only
    reads)."""
    items = items_to_wait_for(the_plan.changes)
    if not items:
        return None
    with events.waiting(env.name, timeout) as update:
        # Conditions and events may quote what a Secret holds (a container's failing command).
        masker = SecretMasker.of_secrets([c.manifest.body for c in the_plan.changes]) | known()
        return wait_ready(connection.client, items, timeout=timeout,
                          concurrency=options.concurrency, update=update, masker=masker)
