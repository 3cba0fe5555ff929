"""What a command run over several environments returns (docs/fleet.md): one entry per
environment with that environment's own result (a plan, an apply report, a status, rendered
objects) or its error, and the exit code the command would have had for it alone. Renderers
(output/fleet.py) turn it into a summary table, one JSON document, or pull-request comments;
nothing here prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from gitdeploy.errors import ExitCode
from gitdeploy.results import Action, Outcome
from gitdeploy.results.apply import ApplyReport
from gitdeploy.results.environment import RenderedObjects
from gitdeploy.results.plan import Plan
from gitdeploy.results.state import EnvironmentStatus, OrphanReport

# Exit codes from least to most severe: the fleet's code is the most severe of its
# environments' (docs/exit-codes.md). An interruption stops the whole run, so it ranks last.
SEVERITY = (ExitCode.OK, ExitCode.CHANGES, ExitCode.NOT_READY, ExitCode.ERROR,
            ExitCode.INTERNAL, ExitCode.TERMINATED, ExitCode.INTERRUPTED)


def worst(codes: list[int]) -> int:
    """The most severe exit code of `codes` (0 for none); unknown codes rank as errors."""
    def rank(code: int) -> int:
        return SEVERITY.index(code) if code in SEVERITY else SEVERITY.index(ExitCode.ERROR)

    return max(codes, key=rank, default=int(ExitCode.OK))


class RunState(StrEnum):
    OK = "ok"  # ran; nothing to report (no changes, in sync, applied and ready)
    CHANGES = "changes"  # ran; there are changes (diff) or it is not in sync (status)
    NOT_READY = "not-ready"  # applied and recorded, not ready in time
    FAILED = "failed"  # an error: refused, invalid, unreachable, a failed apply
    INTERRUPTED = "interrupted"
    SKIPPED = "skipped"  # not run: an earlier failure (fail-fast), a failed dependency


@dataclass(frozen=True)
class RunError:
    """An environment's error, as the error boundary would have reported it alone (masked)."""

    type: str  # the error's class: SettingsError, TargetError, ApplyFailed, ...
    message: str
    details: tuple[str, ...] = ()


EnvironmentResult = Plan | ApplyReport | EnvironmentStatus | RenderedObjects


@dataclass
class EnvironmentRun:
    environment: str
    exit_code: int = ExitCode.OK
    result: EnvironmentResult | None = None
    orphans: OrphanReport | None = None  # diff --orphans
    error: RunError | None = None
    skipped: str = ""  # why it did not run
    wave: int = 0
    seconds: float = 0.0

    @property
    def state(self) -> RunState:
        if self.skipped:
            return RunState.SKIPPED
        if self.exit_code in (ExitCode.INTERRUPTED, ExitCode.TERMINATED):
            return RunState.INTERRUPTED
        if self.exit_code == ExitCode.NOT_READY:
            return RunState.NOT_READY
        if self.error is not None or self.exit_code not in (ExitCode.OK, ExitCode.CHANGES):
            return RunState.FAILED
        return RunState.CHANGES if self.has_changes else RunState.OK

    @property
    def plan(self) -> Plan | None:
        """The plan shown for the environment: a diff's, or the one an apply carried out."""
        if isinstance(self.result, Plan):
            return self.result
        if isinstance(self.result, ApplyReport):
            return self.result.plan
        return None

    @property
    def has_changes(self) -> bool:
        if isinstance(self.result, Plan):
            return bool(self.result.pending)
        if isinstance(self.result, EnvironmentStatus):
            return not self.result.in_sync
        return False

    def count(self, action: Action) -> int:
        plan = self.plan
        return plan.count(action) if plan is not None else 0

    def outcomes(self, outcome: Outcome) -> int:
        return self.result.count(outcome) if isinstance(self.result, ApplyReport) else 0


@dataclass
class FleetReport:
    command: str  # diff, apply, status, render
    runs: list[EnvironmentRun]
    selection: str = ""  # how the environments were chosen, as given on the command line
    base: str | None = None  # --changed --base REF, or an offline diff's base
    interrupted: str = ""  # SIGINT or SIGTERM when a signal stopped the run
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        codes = [run.exit_code for run in self.runs if not run.skipped]
        if self.interrupted:
            codes.append(ExitCode.TERMINATED if self.interrupted == "SIGTERM"
                         else ExitCode.INTERRUPTED)
        return worst(codes)

    def count(self, state: RunState) -> int:
        return sum(1 for run in self.runs if run.state is state)

    @property
    def environments(self) -> list[str]:
        return [run.environment for run in self.runs]
