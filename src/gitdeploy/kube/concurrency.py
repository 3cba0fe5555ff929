"""Bounded concurrency for API requests."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


def map_bounded(fn: Callable[[In], Out], items: Iterable[In], workers: int) -> list[Out]:
    """`[fn(item) for item in items]` with at most `workers` calls at a time, in input order.
    The first exception raised by a call is re-raised once all calls have finished."""
    items = list(items)
    if len(items) <= 1 or workers <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        futures = [pool.submit(fn, item) for item in items]
        return [future.result() for future in futures]
