"""The soak: the fault scenarios of scenario.py over many seeds, with a summary table.

    python -m tests.faults.soak --seeds 1-40 --jobs 4              # the main scenario
    python -m tests.faults.soak --seeds 1-20 --scenarios all       # race, signals, lost answers
    nox -s soak -- --seeds 1-100 --rate 0.15

Each (scenario, seed) runs in a process of its own (`--one`: its own test API server, fault
proxy and config repository in a temporary folder; the `lost` scenarios, not seeded, once) and
writes its `Result` as JSON; `--jobs` of them run at once. The table counts, per step, the
runs through the proxy that succeeded, those that failed (or were stopped by their signal) and
said so truthfully, the steps a clean re-run converged, and the steps with violations, which
are listed after it. The exit code is 1 when any step has a violation or a scenario crashed.

test_faults.py starts its fixed seeds the same way (`launch`), all at once.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[2]
SCENARIOS = ("main", "race", "SIGINT", "SIGTERM", "SIGKILL", "lost", "lost-retried")
# Not seeded: run once whatever the seeds.
UNSEEDED = ("lost", "lost-retried")
RATE = 0.12  # faults per request in the main scenario
STALL = 0.3  # seconds of a stall (kept short; far below the request timeout)
# Race and signals: every write stalls (so that the apply lasts), one in ten meets a fault.
SLOW_KINDS = ("stall",) * 9 + ("503",)
ONE_TIMEOUT = 300  # seconds for one scenario


@dataclass
class StepResult:
    exits: list[int]  # of the runs through the proxy
    violations: dict[str, int]  # group -> count
    converged: bool | None  # None: no clean re-run was made
    faults: int
    partial: bool = False  # a report listed objects failed or not attempted
    messages: dict[str, list[str]] = field(default_factory=dict)  # group -> violations


@dataclass
class Result:
    scenario: str
    seed: int
    seconds: float = 0.0
    violations: dict[str, list[str]] = field(default_factory=dict)
    steps: dict[str, StepResult] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    faults: dict[str, int] = field(default_factory=dict)  # kind -> count
    fault_writes: int = 0
    faulted_exits: list[int] = field(default_factory=list)
    canary_live: bool = False  # the Secret really held the canary in the cluster
    dump: str = ""
    error: str = ""  # the scenario itself crashed: its traceback

    @property
    def violated(self) -> bool:
        return bool(self.error) or any(self.violations.values())

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        steps = {name: StepResult(**step) for name, step in data.pop("steps").items()}
        return cls(**data, steps=steps)


def config_for(scenario: str, seed: int, rate: float = RATE) -> Any:
    from tests.faults.proxy import FaultConfig
    if scenario in UNSEEDED:
        return FaultConfig(seed=seed, rate=0.0)  # the faults are chosen: scenario.LOST_TARGETS
    if scenario == "main":
        return FaultConfig(seed=seed, rate=rate, stall_seconds=STALL)
    return FaultConfig(seed=seed, rate=1.0, kinds=SLOW_KINDS, writes_only=True,
                       stall_seconds=0.15 if scenario == "race" else STALL)


def run_scenario(scenario: str, seed: int, root: Path, rate: float = RATE) -> Result:
    """One scenario, in this process."""
    from tests.faults import scenario as sc
    result = Result(scenario, seed)
    started = time.monotonic()
    try:
        with sc.Harness.open(root, config_for(scenario, seed, rate)) as h:
            try:
                if scenario == "main":
                    sc.main_scenario(h)
                elif scenario == "race":
                    sc.check_race(h, sc.race_scenario(h))
                elif scenario in sc.SIGNALS:
                    sc.check_signal(h, scenario, sc.signal_scenario(h, scenario, seed))
                elif scenario in ("lost", "lost-retried"):
                    for target in sc.LOST_TARGETS:
                        sc.lost_answer_step(h, target, 0 if scenario == "lost" else None)
                else:
                    raise ValueError(f"no scenario {scenario}: {', '.join(SCENARIOS)}")
                h.step = "end"
                h.sweep()
            finally:
                result.violations = {g: list(v) for g, v in h.violations.items() if v}
                result.steps = {
                    step: StepResult(list(exits), dict(h.by_step.get(step, {})),
                                     h.converged.get(step), h.step_faults[step],
                                     step in h.partial,
                                     {g: list(v) for g, v in h.messages[step].items()})
                    for step, exits in h.exits.items()}
                result.notes = list(h.notes)
                result.faults = h.faults_summary()
                result.fault_writes = sum(1 for run in h.runs for e in run.faults
                                          if e.is_write)
                result.faulted_exits = [e for exits in h.exits.values() for e in exits]
                secret = h.live(("", "secrets", sc.NAMESPACE, "app-credentials")) or {}
                result.canary_live = (secret.get("data") or {}).get("password") == \
                    sc.CANARY_FORMS[1]
                result.dump = sc.dump(h)
    except Exception:
        result.error = traceback.format_exc()
    result.seconds = time.monotonic() - started
    return result


# ---- processes ------------------------------------------------------------------------------
@dataclass
class Launched:
    scenario: str
    seed: int
    process: subprocess.Popen[str]
    out: Path
    started: float

    def result(self, timeout: float = ONE_TIMEOUT) -> Result:
        """Wait for it; a crash or a timeout is a Result with its error."""
        try:
            _, stderr = self.process.communicate(timeout=max(1.0, timeout - (
                time.monotonic() - self.started)))
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, stderr = self.process.communicate()
            return Result(self.scenario, self.seed, error=f"timed out after {timeout}s\n"
                                                          f"{stderr[-3000:]}")
        if not self.out.exists():
            return Result(self.scenario, self.seed,
                          error=f"exit {self.process.returncode}, no result\n{stderr[-3000:]}")
        return Result.from_json(json.loads(self.out.read_text()))


def launch(scenario: str, seed: int, root: Path, rate: float = RATE) -> Launched:
    """Start one scenario in a process of its own, in `root` (a new folder)."""
    root.mkdir(parents=True, exist_ok=True)
    out = root / "result.json"
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "GITHUB_STEP_SUMMARY")}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.soak", "--one", scenario, "--seeds", str(seed),
         "--rate", str(rate), "--root", str(root / "work"), "--out", str(out)],
        cwd=PROJECT, env=env, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return Launched(scenario, seed, process, out, time.monotonic())


# ---- the table ------------------------------------------------------------------------------
@dataclass
class Row:
    runs: int = 0  # steps run
    faults: int = 0
    succeeded: int = 0  # every run through the proxy exited 0, no violation
    truthful_failures: int = 0  # some run failed (or was stopped), and said so: no violation
    partial: int = 0  # of those, the report listed objects failed or not attempted
    converged: int = 0  # the clean re-run afterwards converged
    violations: int = 0  # steps with at least one violation


def summarize(results: list[Result]) -> tuple[str, bool]:
    rows: dict[str, Row] = collections.defaultdict(Row)
    groups: collections.Counter[str] = collections.Counter()
    faults: collections.Counter[str] = collections.Counter()
    crashed = [r for r in results if r.error]
    for result in results:
        faults.update(result.faults)
        for group, found in result.violations.items():
            groups[group] += len(found)
        for name, step in result.steps.items():
            row = rows[name]
            row.runs += 1
            row.faults += step.faults
            violated = any(step.violations.values())
            if violated:
                row.violations += 1
            elif all(code == 0 for code in step.exits):
                row.succeeded += 1
            else:
                row.truthful_failures += 1
                row.partial += step.partial
            row.converged += bool(step.converged)
    header = (f"{'step':<26} {'runs':>5} {'faults':>7} {'succeeded':>10} "
              f"{'failed-truthfully':>18} {'(partly)':>9} {'converged':>10} {'violations':>11}")
    lines = [header, "-" * len(header)]
    total = Row()
    for name, row in rows.items():
        lines.append(f"{name:<26} {row.runs:>5} {row.faults:>7} {row.succeeded:>10} "
                     f"{row.truthful_failures:>18} {row.partial:>9} {row.converged:>10} "
                     f"{row.violations:>11}")
        for attr in dataclasses.fields(Row):
            setattr(total, attr.name, getattr(total, attr.name) + getattr(row, attr.name))
    lines.append("-" * len(header))
    lines.append(f"{'total':<26} {total.runs:>5} {total.faults:>7} {total.succeeded:>10} "
                 f"{total.truthful_failures:>18} {total.partial:>9} {total.converged:>10} "
                 f"{total.violations:>11}")
    lines.append("(partly: of those, the steps whose JSON report listed objects failed or not "
                 "attempted)")
    lines.append("")
    lines.append("faults injected: " + ", ".join(f"{k} {v}" for k, v in sorted(faults.items())))
    lines.append("violations by group: " + (", ".join(f"{k} {v}" for k, v in
                                                      sorted(groups.items())) or "none"))
    if crashed:
        lines.append(f"crashed: {', '.join(f'{r.scenario}/{r.seed}' for r in crashed)}")
    for result in results:
        if result.violated:
            lines.append(f"\n{result.scenario} seed {result.seed}:")
            for group, found in result.violations.items():
                lines += [f"  [{group}] {line}" for line in found[:5]]
                if len(found) > 5:
                    lines.append(f"  [{group}] ... and {len(found) - 5} more")
            if result.error:
                lines.append("  crashed: " + result.error.strip().splitlines()[-1])
    return "\n".join(lines), any(r.violated for r in results)


# ---- the command ----------------------------------------------------------------------------
def _seeds(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        if "-" in part:
            low, high = part.split("-", 1)
            seeds += range(int(low), int(high) + 1)
        elif part.strip():
            seeds.append(int(part))
    return seeds


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.soak",
                                     description="The fault scenarios over many seeds.")
    parser.add_argument("--seeds", type=_seeds, default=_seeds("1-20"),
                        help="seeds: 1-40 or 1,5,9 (default 1-20)")
    parser.add_argument("--scenarios", default="main",
                        help=f"comma-separated among {','.join(SCENARIOS)}, or all "
                             "(default: main)")
    parser.add_argument("--rate", type=float, default=RATE, help="faults per request (main)")
    parser.add_argument("--jobs", type=int, default=2, help="scenarios at once")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # run one scenario in this process
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.one:
        result = run_scenario(args.one, args.seeds[0], Path(args.root), args.rate)
        Path(args.out).write_text(json.dumps(dataclasses.asdict(result)))
        return 0
    scenarios = SCENARIOS if args.scenarios == "all" else tuple(
        s.strip() for s in args.scenarios.split(",") if s.strip())
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        print(f"unknown scenarios: {', '.join(unknown)}", file=sys.stderr)
        return 2
    jobs = [(scenario, seed) for seed in args.seeds for scenario in scenarios
            if scenario not in UNSEEDED]
    jobs += [(scenario, 0) for scenario in scenarios if scenario in UNSEEDED]
    folder = Path(tempfile.mkdtemp(prefix="gitdeploy-soak-"))
    started = time.monotonic()
    results: list[Result] = []

    def one(scenario: str, seed: int) -> Result:
        return launch(scenario, seed, folder / f"{scenario}-{seed}", args.rate).result()

    print(f"soak: {len(jobs)} scenario run(s), {args.jobs} at a time, in {folder}",
          file=sys.stderr)
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(one, scenario, seed): (scenario, seed) for scenario, seed in jobs}
        for future in as_completed(futures):
            result = future.result()
            results.append(result)
            verdict = "CRASHED" if result.error else ("VIOLATIONS" if result.violated else "ok")
            print(f"  {result.scenario:<8} seed {result.seed:<5} {result.seconds:6.1f}s "
                  f"exits {result.faulted_exits} faults {sum(result.faults.values()):<4} "
                  f"{verdict}", file=sys.stderr)
    order = {name: index for index, name in enumerate(SCENARIOS)}
    results.sort(key=lambda r: (order.get(r.scenario, 99), r.seed))
    table, violated = summarize(results)
    print(table)
    print(f"\n{len(results)} scenario run(s) in {time.monotonic() - started:.0f}s")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if violated else 0


if __name__ == "__main__":
    sys.exit(main())
