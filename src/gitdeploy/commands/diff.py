"""`diff`: git against the cluster (the server-side plan), or two commits against each other
(the offline plan)."""

from __future__ import annotations

from gitdeploy.commands.session import ClusterOptions, Session
from gitdeploy.config.environments import load_environment
from gitdeploy.errors import SettingsError
from gitdeploy.objects.manifests import Manifest, ObjectKey
from gitdeploy.plan.dryrun import build_plan
from gitdeploy.plan.offline import offline_plan
from gitdeploy.render.environment import render_environment
from gitdeploy.results import OrphanReport, Plan
from gitdeploy.state.orphans import find_orphans


def plan(session: Session, env_name: str, options: ClusterOptions, *, ref: str | None = None,
         prune: bool | None = None, with_orphans: bool = False
         ) -> tuple[Plan, OrphanReport | None]:
    source = session.source(ref)
    env = load_environment(source.tree, env_name)
    rendered = session.render(source.tree, env)
    info = session.source_info(source, rendered)
    connection = session.connect(env, options)
    the_plan = build_plan(rendered, connection, info, concurrency=options.concurrency,
                          prune=env.settings.prune if prune is None else prune)
    orphan_report = find_orphans(rendered, connection.client, connection.target,
                                 concurrency=options.concurrency) if with_orphans else None
    return the_plan, orphan_report


def offline(session: Session, env_name: str, *, base: str, head: str) -> Plan:
    """The environment at `head` against itself at `base`, from git alone."""
    old = _objects(session, env_name, base, required=False)
    new = _objects(session, env_name, head, required=True)
    head_source, base_source = session.source(head), session.source(base)
    assert session.git is not None  # session.source() refused refs outside a repository
    return offline_plan(env_name, old, new, base=base,
                        head_info=session.git.source_info(head_source.commit, ref=head,
                                                          dirty_files=[]),
                        base_info=session.git.source_info(base_source.commit, ref=base,
                                                          dirty_files=[]))


def _objects(session: Session, env_name: str, ref: str, *, required: bool
             ) -> dict[ObjectKey, Manifest]:
    source = session.source(ref)
    try:
        env = load_environment(source.tree, env_name)
    except SettingsError:
        if required:
            raise
        return {}  # the environment is new since the base
    return {m.key: m for m in render_environment(source.tree, env).manifests}
