"""Run one task per environment: each in a session of its own (its own git repository handle,
cluster connection, guard, lock and record, as when run alone), at most `parallel` at once, in
waves (`apply`: a wave starts when the one before it is done). With `fail_fast`, the first
failure lets what runs finish and starts nothing more; otherwise every environment runs except
those whose dependency (`dependsOn`) failed.

A project error of one environment is that environment's result, reported as the error
boundary would have reported it alone, so that the others' results are not lost. Anything
else (a bug) propagates to the error boundary."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass

from gitdeploy.commands.session import Session
from gitdeploy.errors import ExitCode, GitdeployError, signal_name
from gitdeploy.fleet_results import EnvironmentResult, EnvironmentRun, RunError
from gitdeploy.objects.secrets import known
from gitdeploy.results.state import OrphanReport

DEFAULT_PARALLEL = 4
MAX_PARALLEL = 32


@dataclass(frozen=True)
class Outcome:
    """What a task returns for one environment: its result and the exit code the command
    would have had for it alone."""

    result: EnvironmentResult | None
    exit_code: int = ExitCode.OK
    orphans: OrphanReport | None = None
    error: GitdeployError | None = None  # a failure found in the result (a failed apply)


Task = Callable[[Session, str], Outcome]
OpenSession = Callable[[str], AbstractContextManager[Session]]


@dataclass(frozen=True)
class RunOptions:
    parallel: int = DEFAULT_PARALLEL
    fail_fast: bool = False


def run_environments(names: list[str] | tuple[str, ...], task: Task, open_session: OpenSession,
                     options: RunOptions, *, waves: dict[str, int] | None = None,
                     depends_on: dict[str, tuple[str, ...]] | None = None
                     ) -> tuple[list[EnvironmentRun], str]:
    """One EnvironmentRun per name, in the order of `names` (sorted by wave first), and the
    signal that stopped the run ("" when none did)."""
    waves = waves or {}
    depends_on = depends_on or {}
    ordered = sorted(names, key=lambda name: waves.get(name, 0))
    runs = {name: EnvironmentRun(name, wave=waves.get(name, 0)) for name in ordered}
    runner = _Runner(task, open_session, options, runs, depends_on)
    for wave in sorted({run.wave for run in runs.values()}):
        members = [name for name in ordered if runs[name].wave == wave]
        if runner.stopped:
            for name in members:
                runs[name].skipped = runner.stopped
            continue
        runner.run_wave(members)
    return [runs[name] for name in ordered], runner.interrupted


class _Runner:
    def __init__(self, task: Task, open_session: OpenSession, options: RunOptions,
                 runs: dict[str, EnvironmentRun], depends_on: dict[str, tuple[str, ...]]
                 ) -> None:
        self.task, self.open_session, self.options = task, open_session, options
        self.runs, self.depends_on = runs, depends_on
        self.stopped = ""  # why nothing more starts
        self.interrupted = ""
        self.lock = threading.Lock()

    def run_wave(self, members: list[str]) -> None:
        if self.options.parallel <= 1 or len(members) == 1:
            # In the main thread: Ctrl-C reaches the apply as when it runs alone.
            for name in members:
                if self.stopped:
                    self.runs[name].skipped = self.stopped
                    continue
                try:
                    self._one(name)
                except KeyboardInterrupt as interrupt:
                    self._interrupt(signal_name(interrupt))
            return
        with ThreadPoolExecutor(max_workers=min(self.options.parallel, len(members)),
                                thread_name_prefix="gitdeploy-env") as pool:
            pending: dict[Future[None], str] = {}
            queue = iter(members)
            try:
                for name in _take(queue, self.options.parallel):
                    pending[self._submit(pool, name)] = name
                while pending:
                    done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                    for future in done:
                        del pending[future]
                        future.result()  # a bug in a task: to the error boundary
                        if not self.stopped:
                            for name in _take(queue, 1):
                                pending[self._submit(pool, name)] = name
            except KeyboardInterrupt as interrupt:
                # Those running finish (their apply, record and lock release); nothing starts.
                self._interrupt(signal_name(interrupt))
                wait(pending)
            for name in queue:
                self.runs[name].skipped = self.stopped

    def _submit(self, pool: ThreadPoolExecutor, name: str) -> Future[None]:
        # The command's context (the -n option, the run's Secret masker) goes along.
        context = contextvars.copy_context()
        return pool.submit(context.run, self._one, name)

    def _interrupt(self, name: str) -> None:
        self.interrupted = self.interrupted or name
        self.stopped = f"not started: interrupted ({name})"

    def _one(self, name: str) -> None:
        run = self.runs[name]
        failed = [dependency for dependency in self.depends_on.get(name, ())
                  if dependency in self.runs and self.runs[dependency].state.value in (
                      "failed", "skipped", "interrupted", "not-ready")]
        if failed:
            run.skipped = f"not started: {', '.join(failed)} (dependsOn) did not succeed"
            return
        started = time.monotonic()
        try:
            with self.open_session(name) as session:
                outcome = self.task(session, name)
        except GitdeployError as error:
            run.error = _error(error)
            run.exit_code = int(error.exit_code)
        else:
            run.result, run.orphans = outcome.result, outcome.orphans
            run.exit_code = int(outcome.exit_code)
            if outcome.error is not None:
                run.error = _error(outcome.error)
                run.exit_code = int(outcome.error.exit_code)
        finally:
            run.seconds = time.monotonic() - started
        if run.exit_code in (ExitCode.INTERRUPTED, ExitCode.TERMINATED):
            self._interrupt("SIGTERM" if run.exit_code == ExitCode.TERMINATED else "SIGINT")
        elif self.options.fail_fast and run.exit_code not in (ExitCode.OK, ExitCode.CHANGES):
            with self.lock:
                self.stopped = self.stopped or f"not started: {name} failed (fail-fast)"


def _error(error: GitdeployError) -> RunError:
    masker = known()  # as the error boundary masks: every Secret value the run has met
    return RunError(type(error).__name__, masker.mask_text(error.message),
                    tuple(masker.mask_lines(error.details)))


def _take(queue: Iterator[str], count: int) -> list[str]:
    taken = []
    for name in queue:
        taken.append(name)
        if len(taken) == count:
            break
    return taken
