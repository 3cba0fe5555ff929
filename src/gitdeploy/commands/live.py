"""What is live: `status` (the live commit against git, who deployed it, drift, the lock),
`history` (the deploy records) and `unlock` (clear a stuck lock)."""

from __future__ import annotations

from dataclasses import dataclass

from gitdeploy.cli.prompts import confirm_unlock
from gitdeploy.commands.session import ClusterOptions, Session
from gitdeploy.config.environments import Environment, load_environment
from gitdeploy.config.gitrepo import SourceInfo
from gitdeploy.errors import GitdeployError
from gitdeploy.kube.target import Connection, Target
from gitdeploy.plan.dryrun import build_plan
from gitdeploy.render.environment import render_environment
from gitdeploy.results import DeployRecord, Plan
from gitdeploy.state.lock import EnvironmentLock, LeaseState
from gitdeploy.state.records import RecordStore


@dataclass(frozen=True)
class EnvironmentStatus:
    environment: str
    target: Target
    live: DeployRecord | None  # the newest deploy record
    compared_to: SourceInfo  # the local branch head, or --ref
    distance: tuple[int, int] | None  # (behind, ahead) of the live commit; None: unknown
    in_history: bool  # the live commit is in the local repository
    drift: Plan | None  # the dry-run diff against the live commit; None when not checked
    drift_note: str  # why drift was not checked, or a caveat
    lock: LeaseState | None  # None when nobody holds the lock

    @property
    def drifted(self) -> bool | None:
        return None if self.drift is None else bool(self.drift.pending)


@dataclass(frozen=True)
class History:
    environment: str
    target: Target
    records: list[DeployRecord]  # newest first


def _lock(env: Environment, connection: Connection) -> EnvironmentLock:
    return EnvironmentLock(connection.client, namespace=env.settings.store_namespace,
                           environment=env.name, holder="", duration=env.settings.lock_duration,
                           note=lambda _: None)


def status(session: Session, env_name: str, options: ClusterOptions, *, ref: str | None = None,
           check_drift: bool = True) -> EnvironmentStatus:
    source = session.source(ref)
    env = load_environment(source.tree, env_name)
    connection = session.connect(env, options)
    records = RecordStore(connection.client, env.settings.store_namespace, env.name).list()
    live = records[0] if records else None
    git_repo = session.git
    compared = (git_repo.source_info(source.commit, ref=ref, dirty_files=[])
                if git_repo is not None else SourceInfo(commit=None, dirty=True))
    in_history = bool(live and live.commit and git_repo and git_repo.has_commit(live.commit))
    distance = None
    if in_history and git_repo is not None and source.commit is not None and live is not None:
        distance = git_repo.distance(live.commit, source.commit)
    drift, note = None, ""
    if live is None:
        note = "nothing deployed yet"
    elif not check_drift:
        note = "not checked (--no-diff)"
    elif not in_history or git_repo is None:
        note = f"cannot check: commit {live.short} is not in the local history (git fetch?)"
    else:
        commit = git_repo.resolve(live.commit)
        tree = git_repo.tree(commit, live.ref or live.short)
        try:
            live_env = load_environment(tree, env_name)
            rendered = render_environment(tree, live_env)
        except GitdeployError as error:
            note = f"cannot check: at {live.short}: {error.message}"
        else:
            info = git_repo.source_info(commit, ref=live.ref or live.short, dirty_files=[])
            drift = build_plan(rendered, connection, info, concurrency=options.concurrency)
            if live.dirty:
                note = "deployed from uncommitted files: compared with the commit itself"
    _, lock_state = _lock(env, connection).read()
    return EnvironmentStatus(
        environment=env.name, target=connection.target, live=live, compared_to=compared,
        distance=distance, in_history=in_history, drift=drift, drift_note=note,
        lock=lock_state if lock_state and lock_state.holder else None)


def history(session: Session, env_name: str, options: ClusterOptions) -> History:
    env = load_environment(session.work_tree, env_name)
    connection = session.connect(env, options)
    records = RecordStore(connection.client, env.settings.store_namespace, env.name).list()
    return History(environment=env.name, target=connection.target, records=records)


def unlock(session: Session, env_name: str, options: ClusterOptions, *, yes: bool
           ) -> LeaseState | None:
    """Clear the environment's lock whoever holds it. Returns what was cleared (None: the lock
    was free)."""
    env = load_environment(session.work_tree, env_name)
    connection = session.connect(env, options)
    lock = _lock(env, connection)
    _, state = lock.read()
    if state is None or not state.holder:
        return None
    confirm_unlock(session.ui, env.name, state.holder, state.since(), yes=yes)
    return lock.break_lock()
