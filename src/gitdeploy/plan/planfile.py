"""Plan files: `diff --out-plan FILE` saves what was reviewed; `apply --plan FILE` applies it only
if nothing moved since: the same commit, the same rendered objects, the same live objects.

The file holds digests and resourceVersions, never object bodies, so no Secret value is in it
(docs/json-output.md, `PlanFile`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitdeploy.errors import SettingsError
from gitdeploy.objects.manifests import group_of
from gitdeploy.results import API_VERSION, Action, Change, Plan

KIND = "PlanFile"


def _key(change: Change) -> str:
    return f"{group_of(change.api_version)}/{change.kind}/{change.namespace}/{change.name}"


def _digest(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _entries(plan: Plan) -> dict[str, dict[str, str]]:
    return {_key(c): {"action": c.action.value, "resourceVersion": c.resource_version,
                      "digest": "" if c.action is Action.DELETE else _digest(c.manifest.body)}
            for c in plan.changes}


def save(plan: Plan, path: Path, shown: dict[str, Any]) -> None:
    """Write the plan file: `shown` is the plan's JSON document (what was reviewed), with the
    digests and resourceVersions that `differences` compares added."""
    document = {**shown, "kind": KIND, "objects": _entries(plan)}
    path.write_text(json.dumps(document, indent=2) + "\n")


@dataclass(frozen=True)
class SavedPlan:
    path: Path
    environment: str
    commit: str | None
    prune: bool
    objects: dict[str, dict[str, str]]


def load(path: Path) -> SavedPlan:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SettingsError(f"cannot read the plan file {path}: {error}") from None
    if not isinstance(data, dict) or data.get("kind") != KIND or \
            data.get("apiVersion") != API_VERSION:
        raise SettingsError(f"{path} is not a gitdeploy plan file (diff --out-plan FILE)")
    return SavedPlan(path=path, environment=str(data.get("environment")),
                     commit=(data.get("source") or {}).get("commit"),
                     prune=bool(data.get("prune")),
                     objects=dict(data.get("objects") or {}))


def differences(saved: SavedPlan, plan: Plan) -> list[str]:
    """What moved between the reviewed plan and now; empty when it may be applied."""
    moved: list[str] = []
    if saved.environment != plan.environment:
        return [f"the plan is for environment {saved.environment}, not {plan.environment}"]
    if saved.commit != plan.source.commit:
        moved.append(f"commit: planned {str(saved.commit)[:7]}, now {plan.source.short}")
    if plan.source.dirty:
        moved.append("the files have uncommitted changes: " + ", ".join(plan.source.dirty_files))
    now = _entries(plan)
    for key in sorted(set(saved.objects) | set(now)):
        before, after = saved.objects.get(key), now.get(key)
        if before is None:
            moved.append(f"{key}: not in the plan, now {after['action'] if after else '?'}")
        elif after is None:
            moved.append(f"{key}: in the plan ({before['action']}), now gone from the plan")
        elif before.get("digest") != after["digest"]:
            moved.append(f"{key}: the rendered object changed since the plan")
        elif before.get("resourceVersion") != after["resourceVersion"]:
            moved.append(f"{key}: changed in the cluster since the plan (resourceVersion "
                         f"{before.get('resourceVersion') or 'none'} -> "
                         f"{after['resourceVersion'] or 'none'})")
    return moved
