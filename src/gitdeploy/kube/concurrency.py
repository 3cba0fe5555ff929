"""Bounded concurrency for API requests."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


def map_bounded(fn: Callable[[In], Out], items: Iterable[In], workers: int) -> list[Out]:
    """`[fn(item) for item in items]` with at most `workers` calls at a time, in input order.
    The first exception raised by a call (in input order) is re-raised once all calls have
    finished. Each call runs in a copy of the caller's context (the run's secret masking scope
    among it). A call is submitted when a worker is free: a plan of thousands of objects holds
    `workers` pending calls, not one future per object."""
    items = list(items)
    if len(items) <= 1 or workers <= 1:
        return [fn(item) for item in items]
    results: dict[int, Out] = {}
    errors: dict[int, BaseException] = {}
    running: dict[Future[Out], int] = {}

    def collect(done: set[Future[Out]]) -> None:
        for future in done:
            index = running.pop(future)
            error = future.exception()
            if error is not None:
                errors[index] = error
            else:
                results[index] = future.result()

    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        for index, item in enumerate(items):
            if len(running) >= workers:
                collect(wait(running, return_when=FIRST_COMPLETED).done)
            running[pool.submit(contextvars.copy_context().run, fn, item)] = index
        collect(wait(running).done)
    if errors:
        raise errors[min(errors)]
    return [results[index] for index in range(len(items))]
