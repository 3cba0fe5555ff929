"""What the core returns: plans, apply outcomes and deploy records. Renderers (output/) turn
them into text, JSON or markdown; nothing here prints."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from enum import StrEnum

from gitdeploy.gitrepo import SourceInfo
from gitdeploy.identity import Identity
from gitdeploy.manifests import Manifest
from gitdeploy.target import Target


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"


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

    @property
    def is_change(self) -> bool:
        return self.action is not Action.UNCHANGED

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

    def count(self, action: Action) -> int:
        return sum(1 for change in self.changes if change.action is action)

    @property
    def pending(self) -> list[Change]:
        return [change for change in self.changes if change.is_change]


class Outcome(StrEnum):
    APPLIED = "applied"
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

    @property
    def succeeded(self) -> bool:
        return all(r.outcome is Outcome.APPLIED for r in self.results)

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
