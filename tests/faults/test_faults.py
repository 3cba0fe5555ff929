"""gitdeploy under injected faults: what it says and what it leaves behind (issue 14).

Each scenario of scenario.py runs for a fixed seed through the seeded fault proxy
(tests/faults/proxy.py), each in a process of its own, all started at once (they mostly wait:
on retries, stalls, a lock); what each finds is collected by group:

- report: the exit code and the JSON report tell the truth (exit 0 only if every object is
  live at the new content; a failed object is listed as failed, with a reason);
- record: the deploy record, read without the proxy, matches the live state (outcome succeeded
  exactly when every object is live at the new content) and the report;
- lock: the Lease is free afterwards, read from the test server itself;
- converge: a clean re-run without faults succeeds, and `diff --exit-code` then exits 0;
- untouched: the server received no write outside the plan's objects and gitdeploy's own
  state (lease, records, ApplySet parent, SelfSubjectReview); bystander objects unchanged;
- canary: the Secret's value, plain or base64, is in no stdout, stderr, job summary
  (GITHUB_STEP_SUMMARY) or stored object but the Secret itself;
- scenario: the scenario was not vacuous (a real race, a signal while the apply ran).

Each group is a test of its own, so that a failure names what broke.

The scenarios: `main` (apply; a change applied with prune, failures on writes and one retry
only; rollback; unlock of a stuck lock: each through ~12% faults of every kind, each followed by
a clean re-run), `race` (two applies, the second waiting for the lock), `SIGINT`, `SIGTERM`,
`SIGKILL` (sent at a seeded moment to an apply slowed by stalls), and `lost`/`lost-retried`:
the answer of one chosen request lost at the worst moment (the lock taken, the lock released,
the ApplySet parent, an object, a prune, the record), as the last attempt (`--retries 0`) or
with retries to follow. The longer run over many seeds: `nox -s soak` (tests/faults/soak.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.proxy import KINDS
from tests.faults.scenario import GROUPS, LOST_TARGETS
from tests.faults.soak import Launched, Result, launch

pytestmark = [pytest.mark.faults, pytest.mark.timeout(240)]

MAIN_SEEDS = (5, 11)  # 5: some v2 writes fail for good; 11: unlock fails
RACE_SEED = 5
SIGNAL_SEED = 7
LOST = ("lost", "lost-retried")  # --retries 0, and the environment's retries
SCENARIOS = [*(("main", seed) for seed in MAIN_SEEDS), ("race", RACE_SEED),
             *((name, SIGNAL_SEED) for name in ("SIGINT", "SIGTERM", "SIGKILL")),
             *((name, 0) for name in LOST)]


def assert_group(result: Result, group: str) -> None:
    assert not result.error, f"the scenario crashed:\n{result.error}\n{result.dump}"
    found = result.violations.get(group) or []
    assert not found, (f"{result.scenario} seed {result.seed}: {len(found)} {group} "
                       f"violation(s):\n  " + "\n  ".join(found[:15]) + "\n" + result.dump)


@pytest.fixture(scope="module")
def launched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[tuple[str, int],
                                                                         Launched]]:
    """Every scenario started at once, each in a process and a folder of its own."""
    root = tmp_path_factory.mktemp("faults")
    started = {(name, seed): launch(name, seed, root / f"{name}-{seed}")
               for name, seed in SCENARIOS}
    yield started
    for one in started.values():
        if one.process.poll() is None:
            one.process.kill()
            one.process.communicate()


@pytest.fixture(scope="module")
def results(launched: dict[tuple[str, int], Launched]) -> dict[tuple[str, int], Result]:
    return {}


def _result(launched: dict[tuple[str, int], Launched], cache: dict[tuple[str, int], Result],
            name: str, seed: int) -> Result:
    if (name, seed) not in cache:
        cache[(name, seed)] = launched[(name, seed)].result()
    return cache[(name, seed)]


# ---- apply, a change with prune, rollback, unlock -------------------------------------------
@pytest.fixture(params=MAIN_SEEDS, ids=lambda seed: f"seed{seed}")
def main_run(request: pytest.FixtureRequest, launched: dict[tuple[str, int], Launched],
             results: dict[tuple[str, int], Result]) -> Result:
    return _result(launched, results, "main", int(request.param))


@pytest.mark.parametrize("group", GROUPS)
def test_apply_prune_rollback_unlock_under_faults(main_run: Result, group: str) -> None:
    assert_group(main_run, group)


def test_the_faults_were_met(main_run: Result) -> None:
    """The scenario is not vacuous: every kind of fault was injected, on writes too, some run
    through the faults still succeeded (retries carried it), and the Secret in the cluster
    really held the canary."""
    assert not main_run.error, main_run.error
    assert set(main_run.faults) == set(KINDS), main_run.dump
    assert main_run.fault_writes > 0, main_run.dump
    assert 0 in main_run.faulted_exits, main_run.dump
    assert main_run.canary_live


def test_failures_were_met(launched: dict[tuple[str, int], Launched],
                           results: dict[tuple[str, int], Result]) -> None:
    """Among the fixed seeds, a deploy failed part-way (its report lists failed objects), so
    that the truth of a failure's report is checked, not only that of a success."""
    found = [_result(launched, results, "main", seed) for seed in MAIN_SEEDS]
    assert any(step.partial for result in found for step in result.steps.values()), \
        "\n".join(result.dump for result in found)


# ---- two applies racing ---------------------------------------------------------------------
@pytest.mark.parametrize("group", GROUPS)
def test_a_second_apply_waits_for_the_lock_then_plans_again(
        launched: dict[tuple[str, int], Launched], results: dict[tuple[str, int], Result],
        group: str) -> None:
    assert_group(_result(launched, results, "race", RACE_SEED), group)


# ---- SIGINT, SIGTERM, SIGKILL ---------------------------------------------------------------
@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM", "SIGKILL"])
@pytest.mark.parametrize("group", GROUPS)
def test_a_signal_at_a_random_moment(launched: dict[tuple[str, int], Launched],
                                     results: dict[tuple[str, int], Result], group: str,
                                     signal_name: str) -> None:
    assert_group(_result(launched, results, signal_name, SIGNAL_SEED), group)


# ---- an answer lost at the worst moment -----------------------------------------------------
@pytest.mark.parametrize("scenario, target, group", [
    pytest.param(scenario, target, group, id=f"{scenario}-{target}-{group}")
    for scenario in LOST for target in LOST_TARGETS for group in GROUPS])
def test_an_answer_lost(launched: dict[tuple[str, int], Launched],
                        results: dict[tuple[str, int], Result], scenario: str, target: str,
                        group: str) -> None:
    """The server did the request, its answer never came: with `--retries 0` the loss is
    the request's last word (gitdeploy must find out what happened, or say it does not
    know); with retries, the next attempt meets the first one's work."""
    result = _result(launched, results, scenario, 0)
    assert not result.error, f"the scenario crashed:\n{result.error}\n{result.dump}"
    step = result.steps.get(f"lost {target}")
    assert step is not None, result.dump
    found = step.messages.get(group) or []
    assert not found, (f"{scenario} {target}: {len(found)} {group} violation(s):\n  "
                       + "\n  ".join(found[:15]) + "\n" + result.dump)
