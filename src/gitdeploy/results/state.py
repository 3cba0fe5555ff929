"""What the cluster records and tells: deploy records, status, history, orphans, the lock."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitdeploy.objects import kinds

if TYPE_CHECKING:
    from gitdeploy.results.environment import SourceInfo, Target
    from gitdeploy.results.plan import Plan


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
