"""Plan files: `diff --out-plan FILE` saves what was reviewed; `apply --plan FILE` applies it only
if nothing moved since: the same commit, the same rendered objects, the same live objects (their
specs: what a controller writes to an object's status alone does not move a plan), the same
ApplySet inventory.

The file holds digests and resourceVersions, never object bodies, so no Secret value is in it
(docs/json-output.md, `PlanFile`). A Secret's digest is keyed (HMAC-SHA256) with a plan key that
stays on the machine, or that CI shares as `GITDEPLOY_PLAN_KEY`: an unkeyed hash of a Secret
would let anyone who reads the file confirm a guessed value (docs/secrets.md)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitdeploy.errors import SettingsError
from gitdeploy.objects.manifests import group_of
from gitdeploy.objects.secrets import holds_secrets
from gitdeploy.results import API_VERSION, Action
from gitdeploy.results.plan import Change, Plan

KIND = "PlanFile"
KEY_ENV = "GITDEPLOY_PLAN_KEY"
MIN_KEY_LENGTH = 16
SECRET_DIGEST = "hmac-sha256:"
_KEY_ID_INPUT = b"gitdeploy plan key id"
_SECRET_PREFIX = "/Secret/"  # the plan file's keys of core-group Secrets


@dataclass(frozen=True)
class PlanKey:
    """The key of the Secrets' digests; `source` says where it comes from (for messages)."""

    secret: bytes = field(repr=False)
    source: str

    @property
    def id(self) -> str:
        """Names the key in the plan file, so that another key is told apart; it reveals
        nothing of the key (an HMAC of a constant)."""
        return hmac.new(self.secret, _KEY_ID_INPUT, hashlib.sha256).hexdigest()[:16]

    def digest(self, canonical: bytes) -> str:
        return SECRET_DIGEST + hmac.new(self.secret, canonical, hashlib.sha256).hexdigest()

    @classmethod
    def ephemeral(cls) -> PlanKey:
        """A key for comparing two plans within one run: never written anywhere."""
        return cls(os.urandom(32), "this run")


def key_path() -> Path:
    """The machine's plan key: `$XDG_CONFIG_HOME/gitdeploy/plan-key`, by default
    `~/.config/gitdeploy/plan-key`."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "gitdeploy" / "plan-key"


def plan_key(*, create: bool) -> PlanKey | None:
    """`GITDEPLOY_PLAN_KEY` when it is set, else the machine's key file (made with `create`,
    once, readable by its owner only); None when there is neither."""
    configured = os.environ.get(KEY_ENV)
    if configured:
        if len(configured) < MIN_KEY_LENGTH:
            raise SettingsError(f"{KEY_ENV} is too short: a plan key has at least "
                                f"{MIN_KEY_LENGTH} characters",
                                ["make one with, for example: openssl rand -hex 32"])
        return PlanKey(configured.encode(), KEY_ENV)
    path = key_path()
    if create:
        _create_key(path)
    try:
        mode = path.stat().st_mode
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise SettingsError(f"cannot read the plan key {path}: {error.strerror}") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SettingsError(f"the plan key {path} can be read by other users",
                            [f"make it private: chmod 600 {path}"])
    if len(text) < MIN_KEY_LENGTH:
        raise SettingsError(f"{path} is not a plan key (it is too short)",
                            ["delete it: a new one is made by the next diff --out-plan"])
    return PlanKey(text.encode(), str(path))


def _create_key(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as error:
        raise SettingsError(f"cannot create the plan key {path}: {error.strerror}",
                            [f"or set {KEY_ENV} to a secret of at least {MIN_KEY_LENGTH} "
                             "characters"]) from None
    with os.fdopen(descriptor, "w") as file:
        file.write(os.urandom(32).hex() + "\n")


def _key(change: Change) -> str:
    return f"{group_of(change.api_version)}/{change.kind}/{change.namespace}/{change.name}"


def _digest(body: dict[str, Any], key: PlanKey | None) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()
    if holds_secrets(body):  # a Secret, or values decrypted from SOPS files
        return key.digest(canonical) if key is not None else ""
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


def _has_secrets(plan: Plan) -> bool:
    return any(c.action is not Action.DELETE and holds_secrets(c.manifest.body)
               for c in plan.changes)


def _live(change: Change, key: PlanKey | None) -> str:
    """The digest of the live object as compared (normalized: no status, no server-set
    metadata, no ignored fields); "" when there is none, and for a delete, whose any change
    (its resourceVersion) stales the plan: what is deleted must be what was reviewed."""
    if change.action is Action.DELETE or change.live_spec is None:
        return ""
    return _digest(change.live_spec, key)


def _entries(plan: Plan, key: PlanKey | None) -> dict[str, dict[str, str]]:
    return {_key(c): {"action": c.action.value, "resourceVersion": c.resource_version,
                      "live": _live(c, key),
                      "digest": "" if c.action is Action.DELETE else _digest(c.manifest.body,
                                                                              key)}
            for c in plan.changes}


def _inventory(plan: Plan) -> dict[str, object]:
    inventory = plan.inventory
    return {"id": inventory.id if inventory is not None else None,
            "members": plan.inventory_size}


def save(plan: Plan, path: Path, shown: dict[str, Any]) -> None:
    """Write the plan file: `shown` is the plan's JSON document (what was reviewed), with the
    digests and resourceVersions that `differences` compares added."""
    key = plan_key(create=True) if _has_secrets(plan) else None
    document = {**shown, "kind": KIND, "planKey": key.id if key is not None else None,
                "inventory": _inventory(plan), "objects": _entries(plan, key)}
    path.write_text(json.dumps(document, indent=2) + "\n")


@dataclass(frozen=True)
class SavedPlan:
    path: Path
    environment: str
    commit: str | None
    prune: bool
    objects: dict[str, dict[str, str]]
    key: PlanKey | None = None  # of its Secrets' digests; None when it has none
    inventory: dict[str, object] | None = None  # None: made by a gitdeploy that did not say


def load(path: Path) -> SavedPlan:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SettingsError(f"cannot read the plan file {path}: {error}") from None
    if not isinstance(data, dict) or data.get("kind") != KIND or \
            data.get("apiVersion") != API_VERSION:
        raise SettingsError(f"{path} is not a gitdeploy plan file (diff --out-plan FILE)")
    objects = dict(data.get("objects") or {})
    return SavedPlan(path=path, environment=str(data.get("environment")),
                     commit=(data.get("source") or {}).get("commit"),
                     prune=bool(data.get("prune")), objects=objects,
                     key=_key_of(path, objects, data.get("planKey")),
                     inventory=data.get("inventory"))


def _key_of(path: Path, objects: dict[str, Any], key_id: Any) -> PlanKey | None:
    """The key the plan's Secret digests were made with, or a SettingsError saying why they
    cannot be compared here."""
    digests = [(name, str((entry or {}).get("digest") or "")) for name, entry in objects.items()
               if isinstance(entry, dict)]
    if any(name.startswith(_SECRET_PREFIX) and digest.startswith("sha256:")
           for name, digest in digests):
        raise SettingsError(f"{path} was made by an older gitdeploy, which saved unkeyed "
                            "digests of Secrets", ["make and review a new plan (diff --out-plan)"])
    if not any(digest.startswith(SECRET_DIGEST) for _, digest in digests):
        return None
    key = plan_key(create=False)
    if key is not None and key.id == key_id:
        return key
    here = f"{key.id} ({key.source})" if key is not None else \
        f"none ({KEY_ENV} is not set and {key_path()} does not exist)"
    raise SettingsError(
        f"{path} was made with another plan key: the Secrets it planned cannot be checked here",
        [f"the plan's key is {key_id}; this machine's is {here}",
         f"when the plan is made on another machine (another CI job), set {KEY_ENV} to the "
         "same secret for both diff --out-plan and apply --plan (docs/secrets.md)",
         "or make and review a new plan here (diff --out-plan)"])


def snapshot(plan: Plan) -> SavedPlan:
    """What `save` would keep of `plan`, without a file: to compare two plans of one run (its
    Secrets' digests keyed with a key of this run only)."""
    key = PlanKey.ephemeral()
    return SavedPlan(path=Path("-"), environment=plan.environment, commit=plan.source.commit,
                     prune=plan.prune, objects=_entries(plan, key), key=key,
                     inventory=_inventory(plan))


def differences(saved: SavedPlan, plan: Plan) -> list[str]:
    """What moved between the reviewed plan and now; empty when it may be applied."""
    moved: list[str] = []
    if saved.environment != plan.environment:
        return [f"the plan is for environment {saved.environment}, not {plan.environment}"]
    if saved.commit != plan.source.commit:
        moved.append(f"commit: planned {str(saved.commit)[:7]}, now {plan.source.short}")
    if plan.source.dirty:
        moved.append("the files have uncommitted changes: " + ", ".join(plan.source.dirty_files))
    if saved.inventory is not None and saved.inventory != _inventory(plan):
        moved.append(f"the ApplySet inventory changed since the plan ({saved.inventory}, now "
                     f"{_inventory(plan)})")
    now = _entries(plan, saved.key)
    for key in sorted(set(saved.objects) | set(now)):
        before, after = saved.objects.get(key), now.get(key)
        if before is None:
            moved.append(f"{key}: not in the plan, now {after['action'] if after else '?'}")
        elif after is None:
            moved.append(f"{key}: in the plan ({before['action']}), now gone from the plan")
        elif before.get("digest") != after["digest"]:
            moved.append(f"{key}: the rendered object changed since the plan")
        elif (before["live"] != after["live"]) if before.get("live") or after["live"] else (
                before.get("resourceVersion") != after["resourceVersion"]):
            # A status written by a controller changes the resourceVersion, not the spec.
            moved.append(f"{key}: changed in the cluster since the plan (resourceVersion "
                         f"{before.get('resourceVersion') or 'none'} -> "
                         f"{after['resourceVersion'] or 'none'})")
    return moved
