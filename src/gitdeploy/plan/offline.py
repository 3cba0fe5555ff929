"""Offline diff between two git refs: render the environment at both and compare object by
object, with the same normalization, actions and outputs as the server diff. No cluster, no
kubeconfig."""

from __future__ import annotations

from gitdeploy.commands.session import Session
from gitdeploy.config.environments import load_environment
from gitdeploy.errors import SettingsError
from gitdeploy.kube.target import Target
from gitdeploy.objects.manifests import Manifest, ObjectKey, Origin
from gitdeploy.objects.normalize import normalize
from gitdeploy.objects.yamldiff import unified
from gitdeploy.render.environment import render_environment
from gitdeploy.results import Action, Change, Plan

OFFLINE = Target(context="(offline)", server="(none)", cluster_uid="(none)")


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


def _change(action: Action, manifest: Manifest, before: Manifest | None,
            after: Manifest | None) -> Change:
    title = f"{manifest.kind}/{manifest.namespace + '/' if manifest.namespace else ''}" \
            f"{manifest.name}"
    old = normalize(before.body) if before else None
    new = normalize(after.body) if after else None
    diff = "" if action is Action.UNCHANGED else unified(old, new, title, old_label="base",
                                                         new_label="head")
    return Change(action=action, manifest=manifest, api_version=manifest.api_version,
                  kind=manifest.kind, namespace=manifest.namespace, name=manifest.name,
                  diff=diff, path="", verified=False)


def offline_plan(session: Session, env_name: str, *, base: str, head: str) -> Plan:
    old = _objects(session, env_name, base, required=False)
    new = _objects(session, env_name, head, required=True)
    changes = []
    for key, manifest in new.items():
        before = old.get(key)
        if before is None:
            action = Action.CREATE
        elif normalize(before.body) == normalize(manifest.body):
            action = Action.UNCHANGED
        else:
            action = Action.UPDATE
        changes.append(_change(action, manifest, before, manifest))
    for key, manifest in old.items():
        if key not in new:
            gone = Manifest(body=manifest.body, origin=Origin(f"{manifest.origin} at {base}"))
            changes.append(_change(Action.DELETE, gone, manifest, None))
    head_source = session.source(head)
    base_source = session.source(base)
    assert session.git is not None  # session.source() refused refs outside a repository
    return Plan(environment=env_name, target=OFFLINE,
                source=session.git.source_info(head_source.commit, ref=head, dirty_files=[]),
                base=session.git.source_info(base_source.commit, ref=base, dirty_files=[]),
                changes=changes, prune=True)
