"""`diff`: git against the cluster (the server-side plan), or two commits against each other
(the offline plan)."""

from __future__ import annotations

from gitdeploy.commands.session import ClusterOptions, Session
from gitdeploy.config.environments import load_environment
from gitdeploy.config.sources import reading
from gitdeploy.errors import SettingsError
from gitdeploy.objects.manifests import Manifest, ObjectKey
from gitdeploy.pin.images import pin_rendered
from gitdeploy.plan.dryrun import build_plan
from gitdeploy.plan.offline import offline_plan
from gitdeploy.render.environment import render_environment
from gitdeploy.results.plan import Plan
from gitdeploy.results.state import OrphanReport
from gitdeploy.state.orphans import find_orphans


def plan(session: Session, env_name: str, options: ClusterOptions, *, ref: str | None = None,
         prune: bool | None = None, with_orphans: bool = False, replace: bool = False,
         full: bool = False) -> tuple[Plan, OrphanReport | None]:
    source = session.source(ref)
    env = load_environment(source.tree, env_name)
    rendered = session.render(source.tree, env, check=True)
    info = session.source_info(source, rendered)
    connection = session.connect(env, options)
    the_plan = build_plan(rendered, connection, info, concurrency=options.concurrency,
                          prune=env.settings.prune if prune is None else prune,
                          replace=replace, full=full)
    the_plan.variables = rendered.variables
    orphan_report = find_orphans(rendered, connection.client, connection.target,
                                 concurrency=options.concurrency) if with_orphans else None
    return the_plan, orphan_report


def offline(session: Session, env_name: str, *, base: str, head: str) -> Plan:
    """The environment at `head` against itself at `base`, from git alone."""
    old, _ = _objects(session, env_name, base, required=False)
    new, variables = _objects(session, env_name, head, required=True)
    head_source, base_source = session.source(head), session.source(base)
    assert session.git is not None  # session.source() refused refs outside a repository
    rules = load_environment(head_source.tree, env_name).settings.ignore_rules
    the_plan = offline_plan(env_name, old, new, base=base, rules=rules,
                            head_info=session.git.source_info(head_source.commit, ref=head,
                                                              dirty_files=[]),
                            base_info=session.git.source_info(base_source.commit, ref=base,
                                                              dirty_files=[]))
    the_plan.variables = variables
    return the_plan


def _objects(session: Session, env_name: str, ref: str, *, required: bool
             ) -> tuple[dict[ObjectKey, Manifest], tuple[str, ...]]:
    """The environment's objects at `ref`, and the variables substituted into them."""
    source = session.source(ref)
    try:
        env = load_environment(source.tree, env_name)
    except SettingsError:
        if required:
            raise
        return {}, ()  # the environment is new since the base
    with reading(source.tree):
        # no keys needed: encrypted values are compared as ciphertext, shown masked
        rendered = render_environment(source.tree, env, decrypt=False)
        rendered = pin_rendered(source.tree, rendered)  # each commit's own lock file
        return {m.key: m for m in rendered.manifests}, rendered.variables
