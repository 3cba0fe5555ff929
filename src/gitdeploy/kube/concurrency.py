"""Bounded concurrency for API requests."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


def map_bounded(fn: Callable[[In], Out], items: Iterable[In], workers: int) -> list[Out]:
    """`[fn(item) for item in items]` with at most `workers` calls at a time, in input order.
    The first exception raised by a call is re-raised once all calls have finished. Each call
    runs in a copy of the caller's context (the run's secret masking scope among it)."""
    items = list(items)
    if len(items) <= 1 or workers <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        futures = [pool.submit(contextvars.copy_context().run, fn, item) for item in items]
        return [future.result() for future in futures]
