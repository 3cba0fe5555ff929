"""What the core returns: plans, apply outcomes and deploy records. Renderers (output/) turn
them into text, JSON or markdown; nothing here prints."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from enum import StrEnum

from gitdeploy.apply.readiness import Readiness, State
from gitdeploy.config.gitrepo import SourceInfo
from gitdeploy.kube.target import Target
from gitdeploy.objects.manifests import Manifest
from gitdeploy.state.identity import Identity
from gitdeploy.state.inventory import Inventory


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
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


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

    @property
    def succeeded(self) -> bool:
        return all(r.outcome in (Outcome.APPLIED, Outcome.DELETED) for r in self.results)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)


DEPLOY, ROLLBACK = "deploy", "rollback"  # kinds of deploy records
SUCCEEDED, FAILED = "succeeded", "failed"  # outcomes of deploy records


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
