"""What `apply` returns: each object's outcome, and the readiness it waited for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitdeploy.results import Outcome, State

if TYPE_CHECKING:
    from gitdeploy.results.plan import Change, Plan
    from gitdeploy.results.state import DeployRecord


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


@dataclass(frozen=True)
class Readiness:
    state: State
    message: str
    conditions: tuple[str, ...] = ()  # "Available=False (MinimumReplicasUnavailable): ..."
