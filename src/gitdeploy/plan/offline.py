"""Offline diff between two git refs: render the environment at both and compare object by
object, with the same normalization, actions and outputs as the server diff. No cluster, no
kubeconfig. The ignore rules of the settings and the replicas of autoscaled objects are left
out of both sides, as the server diff leaves them out (docs/real-clusters.md)."""

from __future__ import annotations

from typing import Any

from gitdeploy.objects.ignore import Ignored, IgnoreRule, hpa_rule, rules_for
from gitdeploy.objects.kinds import diff_label
from gitdeploy.objects.manifests import Manifest, ObjectKey, Origin
from gitdeploy.objects.normalize import normalize
from gitdeploy.objects.yamldiff import unified
from gitdeploy.results import Action
from gitdeploy.results.environment import SourceInfo, Target
from gitdeploy.results.plan import Change, Plan

OFFLINE = Target(context="(offline)", server="(none)", cluster_uid="(none)")


def _compared(manifest: Manifest | None, ignored: Ignored) -> dict[str, Any] | None:
    if manifest is None:
        return None
    return ignored.strip(normalize(manifest.body)) if ignored else normalize(manifest.body)


def _change(action: Action, manifest: Manifest, before: Manifest | None,
            after: Manifest | None, ignored: Ignored | None = None) -> Change:
    ignored = ignored or Ignored(())
    title = diff_label(manifest.kind, manifest.namespace, manifest.name)
    old, new = _compared(before, ignored), _compared(after, ignored)
    diff = "" if action is Action.UNCHANGED else unified(old, new, title, old_label="base",
                                                         new_label="head")
    return Change(action=action, manifest=manifest, api_version=manifest.api_version,
                  kind=manifest.kind, namespace=manifest.namespace, name=manifest.name,
                  diff=diff, path="", verified=False,
                  ignored=ignored.reasons(after.body) if ignored and after and before else [])


def offline_plan(env_name: str, old: dict[ObjectKey, Manifest], new: dict[ObjectKey, Manifest],
                 *, base: str, head_info: SourceInfo, base_info: SourceInfo,
                 rules: tuple[IgnoreRule, ...] = ()) -> Plan:
    """The plan that turns `old` (the objects at `base`) into `new`; `rules`: the ignore rules
    of the environment at its head."""
    autoscaled = tuple(rule for rule in (hpa_rule(m.body, f"in {m.origin}")
                                         for m in new.values()) if rule is not None)
    changes = []
    for key, manifest in new.items():
        before = old.get(key)
        ignored = Ignored(rules_for(rules + autoscaled, manifest.body))
        if before is None:
            action = Action.CREATE
        elif _compared(before, ignored) == _compared(manifest, ignored):
            action = Action.UNCHANGED
        else:
            action = Action.UPDATE
        changes.append(_change(action, manifest, before, manifest, ignored))
    for key, manifest in old.items():
        if key not in new:
            gone = Manifest(body=manifest.body, origin=Origin(f"{manifest.origin} at {base}"))
            changes.append(_change(Action.DELETE, gone, manifest, None))
    return Plan(environment=env_name, target=OFFLINE, source=head_info, base=base_info,
                changes=changes, prune=True)
