"""The one HTTP client of notifications (urllib3): a timeout on every request, a few retries of
what passes (connection failures, timeouts, 429 and 5xx, through tenacity), and each request
shown in the `-v` log with the URL's secret part and the body masked. Failures become
`NotifyError`s whose messages hold no secret."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential,
)

from gitdeploy.errors import GitdeployError
from gitdeploy.objects.secrets import SecretMasker

TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
ATTEMPTS = 3
USER_AGENT = "gitdeploy"


class NotifyError(GitdeployError):
    """A notification could not be delivered (a warning: never a failed deploy)."""


class _Transient(NotifyError):
    pass


@dataclass(frozen=True)
class Response:
    status: int
    body: Any  # the decoded JSON answer, or None


def shown_url(url: str, *, secret_path: bool) -> str:
    """The URL as logs show it: a webhook URL's path is its secret (Slack's and Teams'
    tokens), so only its host is shown."""
    parts = urlsplit(url)
    if secret_path:
        return f"{parts.scheme}://{parts.netloc}/<masked>"
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


@dataclass
class HttpClient:
    timeout: float
    log: Callable[[str], None]
    masker: SecretMasker  # the run's secrets and this target's (URL, token, signing key)
    attempts: int = ATTEMPTS
    initial_wait: float = 0.5

    def __post_init__(self) -> None:
        self._pool = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(
            connect=self.timeout, read=self.timeout))

    def post(self, url: str, document: dict[str, Any], *, headers: dict[str, str] | None = None,
             secret_path: bool = False, body: bytes | None = None) -> Response:
        """POST `document` as JSON (or the exact `body` given, as signed); raises
        NotifyError."""
        data = body if body is not None else json.dumps(document).encode("utf-8")
        shown = shown_url(url, secret_path=secret_path)
        every = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                 **(headers or {})}

        def attempt() -> Response:
            started = time.monotonic()
            try:
                answer = self._pool.request("POST", url, body=data, headers=every,
                                            redirect=False)
            except urllib3.exceptions.HTTPError as error:
                milliseconds = (time.monotonic() - started) * 1000
                self.log(f"POST {shown} failed after {milliseconds:.0f}ms: "
                         f"{type(error).__name__}")
                raise _Transient(f"POST {shown}: {self._reason(error)}") from None
            milliseconds = (time.monotonic() - started) * 1000
            self.log(f"POST {shown} {answer.status} {milliseconds:.0f}ms body "
                     f"{self.masker.mask_text(data.decode('utf-8', errors='replace'))}")
            if answer.status in TRANSIENT_STATUS:
                raise _Transient(f"POST {shown}: the service answered {answer.status}")
            if answer.status >= 300:
                raise NotifyError(f"POST {shown}: the service answered {answer.status}: "
                                  f"{self._text(answer.data)}")
            try:
                decoded = json.loads(answer.data) if answer.data else None
            except ValueError:
                decoded = None
            return Response(answer.status, decoded)

        retrying = Retrying(
            stop=stop_after_attempt(max(self.attempts, 1)) | stop_before_delay(
                self.timeout * self.attempts),
            wait=wait_exponential(multiplier=self.initial_wait, max=5),
            retry=retry_if_exception(lambda error: isinstance(error, _Transient)),
            reraise=True)
        return retrying(attempt)

    def _reason(self, error: Exception) -> str:
        """Why a request failed, without the URL urllib3 may quote."""
        if isinstance(error, urllib3.exceptions.NewConnectionError):
            return "could not connect (connection refused or no route)"
        if isinstance(error, urllib3.exceptions.TimeoutError):
            return f"no answer within {self.timeout:.0f}s"
        reason = getattr(error, "reason", None)
        return f"could not connect ({type(reason or error).__name__})"

    def _text(self, data: bytes) -> str:
        return self.masker.mask_text(data.decode("utf-8", errors="replace")[:300])
