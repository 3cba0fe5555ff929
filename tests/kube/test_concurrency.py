"""map_bounded: input order, the bound, errors after every call, the caller's context."""

from __future__ import annotations

import contextvars
import signal
import threading
import time

import pytest

from gitdeploy.kube.concurrency import map_bounded


def test_results_come_in_input_order_whatever_order_calls_end_in() -> None:
    def slow_first(n: int) -> int:
        time.sleep(0.002 * (20 - n))
        return n * n

    assert map_bounded(slow_first, range(20), 8) == [n * n for n in range(20)]


def test_never_more_calls_at_once_than_workers() -> None:
    lock = threading.Lock()
    running, most = 0, 0

    def call(n: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.003)
        with lock:
            running -= 1
        return n

    assert map_bounded(call, range(60), 4) == list(range(60))
    assert most == 4


def test_the_first_error_in_input_order_is_raised_after_every_call_ran() -> None:
    ran: list[int] = []

    def call(n: int) -> int:
        if n == 1:
            time.sleep(0.05)  # fails last of all, but comes first
        ran.append(n)
        if n in (1, 2):
            raise ValueError(f"call {n}")
        return n

    with pytest.raises(ValueError, match="call 1"):
        map_bounded(call, range(30), 5)
    assert sorted(ran) == list(range(30))


def test_calls_not_yet_handed_to_a_worker_do_not_run_after_an_interrupt() -> None:
    """Calls are handed out as workers free up: Ctrl-C stops the ones not started, rather
    than waiting for every queued call (each an API request) to run."""
    ran: list[int] = []
    main = threading.main_thread().ident
    assert main is not None and threading.get_ident() == main

    def call(n: int) -> int:
        if n == 0:
            time.sleep(0.05)  # the caller waits for the calls by now
            signal.pthread_kill(main, signal.SIGINT)
        time.sleep(0.01)
        ran.append(n)
        return n

    with pytest.raises(KeyboardInterrupt):
        map_bounded(call, range(200), 4)
    assert len(ran) < 100, ran  # without: all 200


def test_calls_run_in_a_copy_of_the_callers_context() -> None:
    scope: contextvars.ContextVar[str] = contextvars.ContextVar("scope", default="none")
    scope.set("the run's")

    def call(n: int) -> str:
        seen = scope.get()
        scope.set(f"changed by {n}")  # in the copy only
        return seen

    assert map_bounded(call, range(10), 3) == ["the run's"] * 10
    assert scope.get() == "the run's"


def test_one_item_or_one_worker_runs_in_the_calling_thread() -> None:
    caller = threading.get_ident()
    assert map_bounded(lambda _: threading.get_ident(), [1], 8) == [caller]
    assert map_bounded(lambda _: threading.get_ident(), [1, 2, 3], 1) == [caller] * 3
