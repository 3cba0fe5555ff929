"""What is live: `status` (the live commit against git, who deployed it, drift, the lock),
`history` (the deploy records), `unlock` (clear a stuck lock) and `orphans` (live objects that
nothing owns)."""

from __future__ import annotations

import contextlib
from pathlib import PurePosixPath

from gitdeploy.commands.session import ClusterOptions, Session
from gitdeploy.config.environments import Environment, load_environment
from gitdeploy.config.freeze import FREEZE_FILE
from gitdeploy.config.sources import SourceTree, reading
from gitdeploy.errors import GitdeployError
from gitdeploy.kube.target import Connection
from gitdeploy.plan.dryrun import build_plan
from gitdeploy.render.environment import render_environment
from gitdeploy.results.environment import SourceInfo
from gitdeploy.results.state import EnvironmentStatus, History, LeaseState, OrphanReport
from gitdeploy.state.lock import EnvironmentLock
from gitdeploy.state.orphans import find_orphans
from gitdeploy.state.records import RecordStore


def _lock(env: Environment, connection: Connection) -> EnvironmentLock:
    return EnvironmentLock(connection.client, namespace=env.settings.store_namespace,
                           environment=env.name, holder="", duration=env.settings.lock_duration,
                           note=lambda _: None)


def status(session: Session, env_name: str, options: ClusterOptions, *, ref: str | None = None,
           check_drift: bool = True, full: bool = False) -> EnvironmentStatus:
    source = session.source(ref)
    env = load_environment(source.tree, env_name)
    connection = session.connect(env, options)
    records = RecordStore(connection.client, env.settings.store_namespace, env.name).list()
    live = records[0] if records else None
    git_repo = session.git
    compared = (git_repo.source_info(source.commit, ref=ref, dirty_files=[])
                if git_repo is not None else SourceInfo(commit=None, dirty=True))
    in_history = bool(live and live.commit and git_repo and git_repo.has_commit(live.commit))
    drift, note = None, ""
    live_inputs: tuple[PurePosixPath, ...] = ()
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
            with reading(tree):
                live_env = load_environment(tree, env_name)
                rendered = render_environment(tree, live_env)
        except GitdeployError as error:
            note = f"cannot check: {error.message}"
        else:
            live_inputs = rendered.inputs
            info = git_repo.source_info(commit, ref=live.ref or live.short, dirty_files=[])
            drift = build_plan(rendered, connection, info, concurrency=options.concurrency,
                               full=full)
            if live.dirty:
                note = "deployed from uncommitted files: compared with the commit itself"
    distance = None
    if in_history and git_repo is not None and source.commit is not None and live is not None:
        paths = {*_inputs(source.tree, env), *live_inputs}
        distance = git_repo.distance(live.commit, source.commit, paths)
    _, lock_state = _lock(env, connection).read()
    return EnvironmentStatus(
        environment=env.name, target=connection.target, live=live, compared_to=compared,
        distance=distance, in_history=in_history, drift=drift, drift_note=note,
        lock=lock_state if lock_state and lock_state.holder else None)


def _inputs(tree: SourceTree, env: Environment) -> set[PurePosixPath]:
    """What the environment renders from: its folder, the files it reads outside it (bases,
    charts, values), and the repository-wide freeze file. Commits that change none of these
    do not make it behind."""
    paths = {env.path, FREEZE_FILE}
    with contextlib.suppress(GitdeployError):  # if it cannot render: its folder counts
        paths.update(render_environment(tree, env).inputs)
    return paths


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
    if not yes:
        session.events.confirm_unlock(env.name, state.holder, state.since())
    return lock.break_lock()


def orphans(session: Session, env_name: str, options: ClusterOptions, *,
            ref: str | None = None) -> OrphanReport:
    source = session.source(ref)
    env = load_environment(source.tree, env_name)
    rendered = session.render(source.tree, env)
    connection = session.connect(env, options)
    return find_orphans(rendered, connection.client, connection.target,
                        concurrency=options.concurrency)
