"""Offline diff between two git refs: render the environment at both and compare object by
object, with the same normalization, actions and outputs as the server diff. No cluster, no
kubeconfig."""

from __future__ import annotations

from gitdeploy.objects.kinds import diff_label
from gitdeploy.objects.manifests import Manifest, ObjectKey, Origin
from gitdeploy.objects.normalize import normalize
from gitdeploy.objects.yamldiff import unified
from gitdeploy.results import Action, Change, Plan, SourceInfo, Target

OFFLINE = Target(context="(offline)", server="(none)", cluster_uid="(none)")


def _change(action: Action, manifest: Manifest, before: Manifest | None,
            after: Manifest | None) -> Change:
    title = diff_label(manifest.kind, manifest.namespace, manifest.name)
    old = normalize(before.body) if before else None
    new = normalize(after.body) if after else None
    diff = "" if action is Action.UNCHANGED else unified(old, new, title, old_label="base",
                                                         new_label="head")
    return Change(action=action, manifest=manifest, api_version=manifest.api_version,
                  kind=manifest.kind, namespace=manifest.namespace, name=manifest.name,
                  diff=diff, path="", verified=False)


def offline_plan(env_name: str, old: dict[ObjectKey, Manifest], new: dict[ObjectKey, Manifest],
                 *, base: str, head_info: SourceInfo, base_info: SourceInfo) -> Plan:
    """The plan that turns `old` (the objects at `base`) into `new`."""
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
    return Plan(environment=env_name, target=OFFLINE, source=head_info, base=base_info,
                changes=changes, prune=True)
