"""What the core returns: plans, apply outcomes and deploy records. Renderers (output/) turn
them into text, JSON or markdown; nothing here prints."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from gitdeploy.objects import kinds

if TYPE_CHECKING:  # types of fields only: `gitdeploy envs` needs none of them
    from gitdeploy.objects.applyset import Inventory
    from gitdeploy.objects.managers import ConflictPolicy
    from gitdeploy.objects.manifests import Manifest

# The version of every JSON document (output/jsondoc.py) and of plan files; docs/json-output.md.
API_VERSION = "gitdeploy.io/v1"


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    ADOPT = "adopt"  # exists in the cluster but not (yet) in this environment's ApplySet
    UNCHANGED = "unchanged"
    DELETE = "delete"  # in the ApplySet, no longer in git: a prune candidate


APPLY_ACTIONS = (Action.CREATE, Action.UPDATE, Action.ADOPT)


@dataclass(frozen=True)
class Drift:
    """A field whose live value was set by another field manager and that apply takes back."""

    field: str
    manager: str


@dataclass(frozen=True)
class Conflict:
    """A field git sets that another field manager holds with another value (the API server's
    409 to an apply without force), and what apply does about it."""

    field: str  # "spec.replicas", as the server names it (without the leading dot)
    manager: str
    human: bool  # a person's edit (drift, taken back), not a controller's field
    resolution: ConflictPolicy  # take-over (force) | leave (not applied) | fail (refused)
    reason: str = ""  # where the resolution comes from: "annotation gitdeploy.io/conflicts"


@dataclass(frozen=True)
class Replacement:
    """Fields the API server refuses to change in place (422 "field is immutable"): the object
    must be deleted and created again."""

    fields: tuple[str, ...]  # "spec.selector: field is immutable"
    allowed: bool  # the object's annotation or --replace asks for it
    by: str = ""  # what allowed it


@dataclass
class Change:
    action: Action
    manifest: Manifest
    api_version: str
    kind: str
    namespace: str
    name: str
    diff: str  # unified YAML diff, Secret values masked
    path: str  # the object's API path
    verified: bool = True  # False: the server could not dry-run it (namespace/CRD in the plan)
    note: str = ""
    drift: list[Drift] = field(default_factory=list)
    uid: str = ""  # of the live object (deletes are conditioned on it)
    resource_version: str = ""  # of the live object as read for the plan ("" when absent)
    kept: str = ""  # for a delete: why pruning leaves it in place (its annotation)
    # Fields shared with others (docs/real-clusters.md).
    conflicts: list[Conflict] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # why fields are left out ("... is left to")
    send: dict[str, Any] | None = field(default=None, repr=False)  # the body apply sends
    force: bool = False  # apply takes the conflicting fields over
    handover: dict[str, Any] | None = field(default=None, repr=False)  # see plan/fields.py
    replace: Replacement | None = None  # immutable fields changed: delete + create
    # The live object normalized, its ignored fields left out: what plan files compare.
    live_spec: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    # The sync fingerprint of an object the plan found unchanged (state/synced.py), kept by
    # the apply so that the next plan need not dry-run it; "" when there is none.
    synced: str = field(default="", repr=False, compare=False)
    dry_run_skipped: bool = False  # unchanged by its sync fingerprint: not dry-run

    @property
    def body(self) -> dict[str, Any]:
        """What apply sends: the rendered object less the fields left to others."""
        return self.send if self.send is not None else self.manifest.body

    @property
    def is_change(self) -> bool:
        return self.action is not Action.UNCHANGED and not self.kept

    def title(self) -> str:
        return kinds.title(self.kind, self.namespace, self.name)


@dataclass
class Plan:
    environment: str
    target: Target
    source: SourceInfo
    changes: list[Change]
    protected: bool = False
    prune: bool = False  # apply deletes the `delete` changes
    inventory: Inventory | None = None  # the environment's ApplySet as it was read
    base: SourceInfo | None = None  # offline diff: the ref compared against (no cluster)
    inventory_size: int = 0  # objects the ApplySet held before this plan
    # the variables substituted (render/substitute.py), as "NAME (source[, encrypted])"
    variables: tuple[str, ...] = ()
    # Namespaces the objects need that neither exist nor are in git (a first deploy).
    missing_namespaces: list[str] = field(default_factory=list)

    def count(self, action: Action) -> int:
        return sum(1 for change in self.changes if change.action is action and not change.kept)

    @property
    def pending(self) -> list[Change]:
        """Every difference between git and the cluster, deletions included."""
        return [change for change in self.changes if change.is_change]

    @property
    def to_apply(self) -> list[Change]:
        return [change for change in self.pending if change.action in APPLY_ACTIONS]

    @property
    def to_delete(self) -> list[Change]:
        return [change for change in self.pending if change.action is Action.DELETE]

    @property
    def kept(self) -> list[Change]:
        return [change for change in self.changes if change.kept]

    @property
    def work(self) -> list[Change]:
        """What apply will do: the applies, and the deletions when pruning is on."""
        return self.to_apply + (self.to_delete if self.prune else [])


@dataclass(frozen=True)
class WaitItem:
    title: str  # "Deployment shop/web"
    kind: str
    group: str
    namespace: str
    name: str
    path: str
    readiness: Readiness
    events: tuple[str, ...] = ()  # the latest warning events, newest first

    @property
    def state(self) -> State:
        return self.readiness.state


@dataclass(frozen=True)
class WaitReport:
    items: list[WaitItem]
    seconds: float
    timeout: float
    timed_out: bool = False
    interrupted: bool = False
    stopped_by: str = ""  # SIGINT or SIGTERM, when interrupted

    @property
    def ready(self) -> bool:
        return all(item.state is State.READY for item in self.items)

    @property
    def not_ready(self) -> list[WaitItem]:
        return [item for item in self.items if item.state is not State.READY]


class Outcome(StrEnum):
    APPLIED = "applied"
    DELETED = "deleted"
    FAILED = "failed"
    NOT_ATTEMPTED = "not-attempted"


@dataclass
class ObjectResult:
    change: Change
    outcome: Outcome
    error: str = ""
    # The sync fingerprint of the object as applied (state/synced.py); "" when there is none.
    synced: str = field(default="", repr=False, compare=False)


@dataclass
class ApplyReport:
    plan: Plan
    results: list[ObjectResult]
    record: DeployRecord | None = None  # written after the apply
    readiness: WaitReport | None = None  # after the record: None when not waited for
    interrupted: str = ""  # the signal that stopped the apply (SIGINT, SIGTERM), if one did
    # What went wrong after the objects were written (the record, the ApplySet parent).
    problems: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return not self.interrupted and all(
            r.outcome in (Outcome.APPLIED, Outcome.DELETED) for r in self.results)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)


DEPLOY, ROLLBACK = "deploy", "rollback"  # kinds of deploy records
# outcomes of deploy records
SUCCEEDED, FAILED, INTERRUPTED = "succeeded", "failed", "interrupted"


@dataclass(frozen=True)
class DeployRecord:
    sequence: int
    environment: str
    kind: str  # deploy | rollback
    commit: str  # "" when not deployed from a git commit
    ref: str
    subject: str
    author: str
    dirty: bool
    deployed_at: str  # RFC 3339, UTC
    deployed_by: Identity
    gitdeploy_version: str
    outcome: str  # succeeded | failed
    counts: dict[str, int]
    digest: str  # of the rendered objects (docs/cluster-state.md)
    applied: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()  # "Kind namespace/name: error"
    rollback_of: str = ""  # for a rollback: what it returned to ("record 12", a SHA, ...)
    variables: tuple[str, ...] = ()  # substituted: "NAME (source[, encrypted])", no values
    name: str = field(default="", compare=False)

    @property
    def short(self) -> str:
        return self.commit[:7] if self.commit else "no commit"

    @property
    def succeeded(self) -> bool:
        return self.outcome == SUCCEEDED

    @property
    def when(self) -> datetime.datetime:
        return datetime.datetime.fromisoformat(self.deployed_at)


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

    @property
    def in_sync(self) -> bool:
        """Deployed, neither behind nor ahead of git (counting commits that change what the
        environment renders from), and not drifted (when drift was checked)."""
        if self.live is None or self.distance is None:
            return False
        return self.distance == (0, 0) and not self.drifted


@dataclass(frozen=True)
class History:
    environment: str
    target: Target
    records: list[DeployRecord]  # newest first


ERROR, WARNING = "error", "warning"  # the severities of a validation Problem


@dataclass(frozen=True)
class Problem:
    """One finding of `validate` (docs/validation.md): where (file, 1-based line and column of
    the offending field, 0 when unknown), which object, the field's path, and what is wrong."""

    source: str  # the file (relative to the repository root), or the settings file
    object: str  # "Kind namespace/name", "" for file-level problems
    message: str
    line: int = 0
    column: int = 0
    path: str = ""  # the field, as `spec.template.spec.containers[0].image`; "" for the object
    severity: str = ERROR  # ERROR or WARNING (a warning does not fail validate)
    check: str = ""  # what found it: schema, names, labels, secret-data, duplicates, ...
    rendered_by: str = ""  # the engine that produced the object from `source` (kustomize, helm)

    @property
    def location(self) -> str:
        """file:line:column, as much of it as is known."""
        where = self.source
        if self.line:
            where += f":{self.line}" + (f":{self.column}" if self.column else "")
        return f"{where} ({self.rendered_by})" if self.rendered_by else where

    def __str__(self) -> str:
        parts = [self.location, self.object, self.path, self.message]
        return ": ".join(part for part in parts if part)


@dataclass
class EnvironmentCheck:
    name: str
    kubernetes_version: str
    objects: int = 0
    problems: list[Problem] = field(default_factory=list)
    documents: int = 0  # YAML documents read (an engine's output: one per object)
    version_from: str = "settings"  # settings | cluster | default
    skipped: dict[str, int] = field(default_factory=dict)  # "Kind (apiVersion)" -> objects

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]


@dataclass
class ValidationReport:
    environments: list[EnvironmentCheck]

    @property
    def problems(self) -> int:
        """The errors: what makes validate fail."""
        return sum(len(env.errors) for env in self.environments)

    @property
    def warnings(self) -> int:
        return sum(len(env.warnings) for env in self.environments)

    @property
    def documents(self) -> int:
        return sum(env.documents for env in self.environments)

    @property
    def objects(self) -> int:
        return sum(env.objects for env in self.environments)

    @property
    def skipped(self) -> dict[str, int]:
        """Objects not checked against a schema, per "Kind (apiVersion)", all environments."""
        total: dict[str, int] = {}
        for env in self.environments:
            for kind, count in env.skipped.items():
                total[kind] = total.get(kind, 0) + count
        return dict(sorted(total.items()))


@dataclass(frozen=True)
class PulledSchemas:
    """What `gitdeploy schemas pull` wrote: one JSON schema per kind and version the CRDs
    of the environment's cluster serve, in the schema catalog layout."""

    environment: str
    server: str
    folder: str
    files: list[str]  # relative to `folder`: {group}/{kind}_{version}.json


@dataclass(frozen=True)
class Orphan:
    api_version: str
    kind: str
    namespace: str
    name: str
    created: str
    managers: tuple[str, ...]  # field managers that wrote it (who made it)

    def title(self) -> str:
        return kinds.title(self.kind, self.namespace, self.name)


@dataclass
class OrphanReport:
    environment: str
    target: Target
    namespaces: list[str]
    orphans: list[Orphan] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)  # kinds that could not be listed


@dataclass(frozen=True)
class LeaseState:
    holder: str  # "" when free
    acquired: datetime.datetime | None
    renewed: datetime.datetime | None
    duration: int
    transitions: int

    def expired(self, at: datetime.datetime) -> bool:
        if not self.holder:
            return True
        last = self.renewed or self.acquired
        return last is None or at >= last + datetime.timedelta(seconds=self.duration)

    def since(self) -> str:
        return show_time(self.acquired) if self.acquired else "an unknown time"


def show_time(at: datetime.datetime) -> str:
    return at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class State(StrEnum):
    READY = "ready"
    PROGRESSING = "in progress"
    FAILED = "failed"


@dataclass(frozen=True)
class Readiness:
    state: State
    message: str
    conditions: tuple[str, ...] = ()  # "Available=False (MinimumReplicasUnavailable): ..."


@dataclass(frozen=True)
class Identity:
    local_user: str
    host: str
    ci: str = ""  # e.g. "GitHub Actions acme/config run 42 by alice"
    ci_url: str = ""
    kube_user: str = ""  # empty when the server would not say

    def describe(self) -> str:
        text = f"{self.local_user}@{self.host}"
        if self.kube_user:
            text += f" (kube user {self.kube_user})"
        if self.ci:
            text += f", {self.ci}"
        return text

    def holder(self) -> str:
        """The lock holder's name: who, where, and which process."""
        text = f"{self.local_user}@{self.host} pid {os.getpid()}"
        return f"{text}, {self.ci}" if self.ci else text


@dataclass(frozen=True)
class SourceInfo:
    """Where the deployed files come from."""

    commit: str | None  # full SHA (HEAD for the work tree), None outside a git repository
    dirty: bool  # the work tree's files differ from the commit
    branch: str | None = None
    ref: str | None = None  # the --ref given, None for the work tree
    subject: str = ""
    author: str = ""
    dirty_files: tuple[str, ...] = ()

    @property
    def short(self) -> str:
        return self.commit[:7] if self.commit else "no commit"

    @property
    def ref_name(self) -> str:
        """The name a person would use: the --ref given, else the branch, else HEAD."""
        return self.ref or self.branch or ("HEAD" if self.commit else "")

    def describe(self) -> str:
        where = f" ({self.ref})" if self.ref else ""
        return self.short + where + (" (dirty)" if self.dirty else "")


UNKNOWN = "unknown"


@dataclass(frozen=True)
class Target:
    """The verified cluster an environment runs against."""

    context: str
    server: str
    cluster_uid: str  # UID of kube-system, or "unknown" when it may not be read
    insecure: bool = False  # the context skips TLS verification (insecure-skip-tls-verify)


@dataclass(frozen=True)
class EnvironmentInfo:
    """An environment as `envs` lists it: its settings that say where and how it deploys."""

    name: str
    path: str
    context: str
    namespace: str
    server: str | None
    uid: str | None
    protected: bool
    prune: bool
    suspend: bool
    suspend_reason: str
    state_namespace: str
    error: str = ""  # the settings cannot be read: why (the other fields are empty)
    error_details: tuple[str, ...] = ()

    @property
    def broken(self) -> bool:
        return bool(self.error)


@dataclass(frozen=True)
class RenderedObjects:
    """What `render` shows: the objects an environment would apply, in order."""

    environment: str
    manifests: list[Manifest]
