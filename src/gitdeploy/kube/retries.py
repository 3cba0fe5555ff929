"""Which failed requests are retried, how often and how long (docs/faults.md).

A request is retried when the failure is one that passes: the server throttled it (429, after
the `Retry-After` it names), failed or was unavailable (500 other than an invalid object, 502,
503, 504), or the connection failed, was reset or timed out. Waits grow exponentially with
jitter; attempts and the total time are bounded (`retries:` in the settings, `--retries` and
`--retry-time`). Every request gitdeploy sends is safe to send again once its callers handle
the answers a repeat can get: server-side apply is idempotent, a repeated delete finds the
object gone (404), a repeated lease update or create meets its own write (409, resolved by
reading the lease back), and a repeated create of a record is recognised by reading the object
back (`KubeClient.create`). When the last attempt fails too and an attempt may have taken effect
(`maybe_applied`), the caller reads the object back (`KubeClient.read_back`).

The retry loop is tenacity's; this module only says what is transient and how long to wait.
"""

from __future__ import annotations

import datetime
import email.utils
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential,
    wait_random,
)

from gitdeploy.errors import KubeError

DEFAULT_ATTEMPTS = 5
DEFAULT_MAX_TIME = 60.0  # seconds from the first attempt; no attempt starts after it
MAX_RETRY_AFTER = 30.0  # seconds: a longer Retry-After is shortened to this
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = DEFAULT_ATTEMPTS  # in all, the first included; 1 turns retries off
    max_time: float = DEFAULT_MAX_TIME
    initial_wait: float = 0.5
    max_wait: float = 10.0


class TransientError(KubeError):
    """A failure that may pass: `retry_after` is the server's own wait in seconds, if it named
    one; `maybe_applied` is False only when the request certainly had no effect: no attempt
    reached the server, or the server turned each one away (429)."""

    retry_after: float | None = None
    maybe_applied: bool = True


def retry_after_seconds(value: str | None, now: datetime.datetime | None = None
                        ) -> float | None:
    """The `Retry-After` header's wait: a number of seconds or an HTTP date."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    seconds = (when - (now or datetime.datetime.now(datetime.UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class _Wait:
    """Exponential backoff with jitter, but never shorter than the server's Retry-After."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._backoff = wait_exponential(multiplier=policy.initial_wait,
                                         max=policy.max_wait) + wait_random(0, policy.initial_wait)

    def __call__(self, state: RetryCallState) -> float:
        backoff = float(self._backoff(state))
        error = state.outcome.exception() if state.outcome is not None else None
        asked = getattr(error, "retry_after", None)
        return max(backoff, asked) if asked is not None else backoff


def run_with_retries(policy: RetryPolicy, attempt: Callable[[], Any], *,
                     describe: str, log: Callable[[str], None] | None,
                     stopping: threading.Event | None = None) -> Any:
    """`attempt()` until it succeeds, fails for good, or the policy is spent; the last
    failure is raised. A retry is shown in the request log (`-v`). When `stopping` is set
    (the user interrupted the deploy), no further attempt is made."""

    def note(state: RetryCallState) -> None:
        if log is None or state.outcome is None or state.next_action is None:
            return
        error = state.outcome.exception()
        log(f"{describe}: {getattr(error, 'message', error)}; attempt "
            f"{state.attempt_number + 1} of {policy.attempts} in "
            f"{state.next_action.sleep:.1f}s")

    def sleep(seconds: float) -> None:
        if stopping is None:
            threading.Event().wait(seconds)
        elif stopping.wait(seconds):
            raise _Stopped

    def retryable(error: BaseException) -> bool:
        return isinstance(error, TransientError) and not (stopping and stopping.is_set())

    retrying = Retrying(
        stop=stop_after_attempt(max(policy.attempts, 1)) | stop_before_delay(policy.max_time),
        wait=_Wait(policy), retry=retry_if_exception(retryable), before_sleep=note,
        sleep=sleep, reraise=True)
    started = time.monotonic()
    try:
        return retrying(attempt)
    except _Stopped:
        raise KubeError(f"{describe}: not retried, the deploy was interrupted") from None
    except TransientError as error:
        attempts = int(retrying.statistics.get("attempt_number", 1))
        if attempts > 1:
            error.details.insert(0, f"still failing after {attempts} attempts over "
                                    f"{time.monotonic() - started:.0f}s (see --retries and "
                                    "--retry-time)")
        raise


class _Stopped(Exception):
    pass
