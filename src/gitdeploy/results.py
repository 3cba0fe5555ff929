"""What the core returns: plans, apply outcomes and deploy records. Renderers (output/) turn
them into text, JSON or markdown; nothing here prints."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from enum import StrEnum

from gitdeploy.objects import kinds
from gitdeploy.objects.applyset import Inventory
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


@dataclass(frozen=True)
class History:
    environment: str
    target: Target
    records: list[DeployRecord]  # newest first


@dataclass(frozen=True)
class Problem:
    source: str  # file:line, or the settings file
    object: str  # "Kind namespace/name", "" for file-level problems
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.object + ': ' if self.object else ''}{self.message}"


@dataclass
class EnvironmentCheck:
    name: str
    kubernetes_version: str
    objects: int = 0
    problems: list[Problem] = field(default_factory=list)


@dataclass
class ValidationReport:
    environments: list[EnvironmentCheck]

    @property
    def problems(self) -> int:
        return sum(len(env.problems) for env in self.environments)


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


@dataclass(frozen=True)
class RenderedObjects:
    """What `render` shows: the objects an environment would apply, in order."""

    environment: str
    manifests: list[Manifest]
