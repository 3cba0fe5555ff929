"""The one wrapper around the Kubernetes API: every request goes through `KubeClient.request`,
which times it, reports it to the request log (`-v`), and turns failures into `KubeError`s that
say what to fix.

A write that failed for good without a trustworthy answer (the connection was reset or timed out
after the request went out, or the server failed while handling it) may still have taken effect:
`outcome_unknown` tells such a failure, and `KubeClient.read_back` reads the object back to find
out. Creates and deletes do it themselves; the lock does it for its Lease."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlencode

import urllib3
import yaml
from kubernetes import client as k8s

from gitdeploy.errors import KubeError
from gitdeploy.kube.retries import (
    TRANSIENT_STATUS,
    RetryPolicy,
    TransientError,
    retry_after_seconds,
    run_with_retries,
)
from gitdeploy.objects.names import FIELD_MANAGER
from gitdeploy.objects.secrets import known_in_this_run, mask

RequestLog = Callable[[str], None]
APPLY_PATCH = "application/apply-patch+yaml"
# Objects per page of a LIST (`limit`, then `continue`): kubectl get's --chunk-size is 500. A
# reader that lets each page go holds one page of a collection, not the whole collection.
LIST_PAGE = 250
T = TypeVar("T")


# The API server answers some invalid objects with a 500, not a 400 or 422: a server-side apply
# whose object does not fit the schema ("failed to create typed patch object (...): .sops: field
# not declared in schema"), or that cannot be converted ("failed to convert new object (...):
# illegal base64 data at input byte 3").
_INVALID_OBJECT_500 = ("failed to create typed patch object", "failed to convert new object")


class ApiStatusError(KubeError):
    """The server answered with an error status; `status`, `reason` and `body` are its own."""

    def __init__(self, message: str, *, status: int, reason: str, body: dict[str, Any]) -> None:
        super().__init__(message, status=status, reason=reason)
        self.body = body

    @property
    def invalid_object(self) -> bool:
        """The server refused the object itself (schema, types, values): an input error that
        no retry can fix."""
        return is_invalid_object(self.status, str(self.body.get("message") or ""))


def is_invalid_object(status: int, message: str) -> bool:
    return status in (400, 422) or (status == 500 and message.startswith(_INVALID_OBJECT_500))


def _describe(method: str, path: str) -> str:
    return f"{method} {path.split('?', maxsplit=1)[0]}"


class TransientStatusError(ApiStatusError, TransientError):
    """An error status that may pass (429, 5xx other than an invalid object)."""


class UnreachableError(TransientError):
    """The connection failed, was reset, or timed out."""


def outcome_unknown(error: BaseException) -> bool:
    """The request failed for good, but one of its attempts may have taken effect all the same:
    its answer was lost (a connection reset or timed out after the request went out) or the
    server failed while handling it. Only reading the object back tells."""
    return isinstance(error, TransientError) and error.maybe_applied


class KubeClient:
    def __init__(self, api_client: k8s.ApiClient, server: str, *, timeout: float,
                 log: RequestLog | None = None, retry: RetryPolicy | None = None,
                 stopping: threading.Event | None = None,
                 log_body: RequestLog | None = None) -> None:
        self._api = api_client
        self.server = server
        self.timeout = timeout
        self._log = log
        self._log_body = log_body  # -vv: the body of each write, Secret values masked
        self._secrets = known_in_this_run()  # the run's secret values, from any thread
        self.retry = retry or RetryPolicy()
        # Set when the user interrupts a deploy: no further retries are started.
        self.stopping = stopping or threading.Event()

    def request(self, method: str, path: str, *, query: dict[str, str] | None = None,
                body: Any = None, content_type: str | None = None) -> dict[str, Any]:
        """Send one request, retried while it fails in a way that passes (kube/retries.py)."""
        return self._send(method, path, query, body, content_type, [0])

    def _send(self, method: str, path: str, query: dict[str, str] | None, body: Any,
              content_type: str | None, attempts: list[int]) -> dict[str, Any]:
        reached = [False]  # some attempt may have taken effect

        def attempt() -> dict[str, Any]:
            attempts[0] += 1
            try:
                return self._once(method, path, query, body, content_type)
            except TransientError as error:
                # The last failure speaks for every attempt: an earlier one whose answer was
                # lost may have done what a later one was refused.
                reached[0] = reached[0] or error.maybe_applied
                error.maybe_applied = reached[0]
                raise

        answer: dict[str, Any] = run_with_retries(
            self.retry, attempt, describe=_describe(method, path), log=self._log,
            stopping=self.stopping)
        return answer

    def _once(self, method: str, path: str, query: dict[str, str] | None, body: Any,
              content_type: str | None) -> dict[str, Any]:
        full_path = path + (f"?{urlencode(query)}" if query else "")
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        elif body is not None:
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        try:
            method_, url, header_params, body_, _ = self._api.param_serialize(
                method=method, resource_path=full_path, header_params=headers, body=body,
                auth_settings=["BearerToken"],
            )
            response = self._api.call_api(method_, url, header_params, body_,
                                          _request_timeout=self.timeout)
            raw = response.read()
        except urllib3.exceptions.SSLError as exc:
            self._report(method, full_path, "failed", started)
            raise KubeError(f"cannot talk to the API server at {self.server}: {exc}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            self._report(method, full_path, "failed", started)
            error = UnreachableError(
                f"cannot reach the API server at {self.server} ({_describe(method, path)})",
                [_connection_problem(exc), "check the network, VPN and the kube context"],
            )
            # A connection that was never made carried no request.
            error.maybe_applied = not isinstance(exc, urllib3.exceptions.ConnectTimeoutError)
            raise error from None
        except k8s.ApiException as exc:  # raised by the client for TLS problems
            self._report(method, full_path, "failed", started)
            raise KubeError(f"cannot talk to the API server at {self.server}: {exc.reason}"
                            ) from None
        self._report(method, full_path, str(response.status), started)
        self._show_body(method, body)
        data = _decode(raw)
        if response.status >= 400:
            raise _status_error(method, path, response.status, data,
                                response.getheader("Retry-After"))
        return data

    def create(self, collection: str, body: dict[str, Any], *,
               query: dict[str, str] | None = None) -> dict[str, Any]:
        """POST a new object (named in `body`). When a repeated attempt finds the object
        existing (409), or the outcome is unknown (`outcome_unknown`), it is read back: if it
        holds what was sent, it was created."""
        attempts = [0]
        name = body["metadata"]["name"]

        def created() -> dict[str, Any] | None:
            existing = self.get(f"{collection}/{name}")
            return existing if existing is not None and _holds(existing, body) else None

        try:
            return self._send("POST", collection, query, body, None, attempts)
        except KubeError as error:
            if isinstance(error, ApiStatusError) and error.status == 409 and attempts[0] > 1:
                existing = created()  # a repeated attempt met an earlier one's work
                if existing is not None and self._log is not None:
                    self._log(f"POST {collection}: an earlier attempt had created {name}")
            else:
                existing = self.read_back(error, created, what=f"{collection}/{name}")
            if existing is None:
                raise
            return existing

    def read_back(self, error: KubeError, took_effect: Callable[[], T | None], *,
                  what: str) -> T | None:
        """What shows that a request which failed with `error` took effect all the same, or
        None. When the outcome is unknown (`outcome_unknown`), `took_effect()` reads `what`
        back and returns that evidence (None, or anything false, when the request shows no
        effect); otherwise the request had none. When the reading fails too, `error` is
        left saying that its outcome is unknown."""
        if not outcome_unknown(error):
            return None
        try:
            found = took_effect()
        except KubeError as again:
            error.details.insert(0, f"its outcome is unknown: {what} could not be read back "
                                    f"({again.message})")
            return None
        if not found:
            return None
        if self._log is not None:
            self._log(f"{what}: the request's outcome was unknown; read back, it had taken "
                      "effect")
        return found

    def trace(self, line: str) -> None:
        """A line of the `-v` trace (nothing without -v)."""
        if self._log is not None:
            self._log(line)

    def _show_body(self, method: str, body: Any) -> None:
        """-vv: what a write sends, as YAML; a Secret's values, and every value the run knows
        to be secret (decrypted SOPS values, variables from encrypted files), masked."""
        if self._log_body is None or body is None or method == "GET":
            return
        shown = mask(body) if isinstance(body, dict) else body
        text = yaml.safe_dump(shown, sort_keys=False, default_flow_style=False, width=1000) \
            if isinstance(shown, (dict, list)) else str(shown)
        self._log_body(self._secrets().mask_text(text.rstrip()))

    def _report(self, method: str, path: str, status: str, started: float) -> None:
        if self._log is not None:
            elapsed = (time.monotonic() - started) * 1000
            self._log(f"{method} {path} {status} {elapsed:.0f}ms")

    # ---- conveniences -------------------------------------------------------------------
    def get(self, path: str, query: dict[str, str] | None = None) -> dict[str, Any] | None:
        """The object at `path`, or None when the server says it does not exist.

        Any 404 counts: for an unknown API group the server may answer in plain text."""
        try:
            return self.request("GET", path, query=query)
        except ApiStatusError as error:
            if error.status == 404:
                return None
            raise

    def list_pages(self, collection: str, *, query: dict[str, str] | None = None,
                   limit: int = LIST_PAGE, restarted: Callable[[], None] | None = None
                   ) -> Iterator[list[dict[str, Any]]]:
        """The items of `collection`, a page at a time. Every page comes from the snapshot the
        first one was read from (the `continue` token pins it). When the token has expired
        (410: the server compacted that snapshot away) the listing starts again from the
        first page, once, after calling `restarted`: what the reader took from the pages
        before belongs to another snapshot (an item may be seen again, or be gone)."""
        token, again = "", False
        while True:
            paged = {**(query or {}), "limit": str(limit)}
            if token:
                paged["continue"] = token
            try:
                answer = self.request("GET", collection, query=paged)
            except ApiStatusError as error:
                if error.status != 410 or not token or again:
                    raise
                token, again = "", True
                if restarted is not None:
                    restarted()
                continue
            yield answer.get("items") or []
            token = (answer.get("metadata") or {}).get("continue") or ""
            if not token:
                return

    def delete(self, path: str, *, uid: str, resource_version: str = "",
               propagation: str = "Background") -> bool:
        """Delete the object at `path` if it is still the one with `uid` (and, if given, at
        `resource_version`). False when it was already gone. When the outcome is unknown
        (`outcome_unknown`), the object is read back: gone, or being deleted (the same `uid`
        with a deletionTimestamp), it counts as deleted."""
        preconditions = {k: v for k, v in (("uid", uid), ("resourceVersion", resource_version))
                         if v}
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation,
                **({"preconditions": preconditions} if preconditions else {})}

        def deleted() -> bool:
            live = self.get(path)
            if live is None:
                return True
            metadata = live.get("metadata") or {}
            return bool(metadata.get("deletionTimestamp")) and (
                not uid or metadata.get("uid") == uid)

        try:
            self.request("DELETE", path, body=body)
        except KubeError as error:
            if isinstance(error, ApiStatusError) and error.status == 404:
                return False
            if not self.read_back(error, deleted, what=path):
                raise
        return True

    def apply(self, path: str, body: dict[str, Any], *, dry_run: bool, force: bool = True,
              manager: str = FIELD_MANAGER) -> dict[str, Any]:
        """Server-side apply; without `force` the server answers a conflict with another
        field manager with a 409 whose causes name the fields and their managers."""
        query = {"fieldManager": manager, "force": "true" if force else "false"}
        if dry_run:
            query["dryRun"] = "All"
        return self.request("PATCH", path, query=query, body=body, content_type=APPLY_PATCH)


def _decode(raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {"message": raw.decode("utf-8", errors="replace")[:500]}
    return data if isinstance(data, dict) else {"items": data}


def _connection_problem(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    if "refused" in text.lower():
        return "connection refused"
    if "timed out" in text.lower() or isinstance(reason, urllib3.exceptions.TimeoutError):
        return "the request timed out (see --request-timeout)"
    return text.split(": ", 1)[-1][:300]


_HINTS = {
    401: "the credentials of this kube context were rejected: log in again or refresh the token",
    403: "the kube user lacks permission for this request (RBAC)",
    409: "the object changed on the server meanwhile, or another tool holds it: run again",
    429: "the API server is throttling requests: retry later or lower --concurrency",
}


def _holds(existing: dict[str, Any], sent: dict[str, Any]) -> bool:
    """The object on the server carries everything `sent` set (labels, annotations, content)."""
    for key, value in sent.items():
        if key == "metadata":
            metadata = existing.get("metadata") or {}
            for part in ("labels", "annotations"):
                mine = value.get(part) or {}
                if any((metadata.get(part) or {}).get(k) != v for k, v in mine.items()):
                    return False
        elif key not in ("apiVersion", "kind", "status") and existing.get(key) != value:
            return False
    return True


def _status_error(method: str, path: str, status: int, data: dict[str, Any],
                  retry_after: str | None = None) -> ApiStatusError:
    reason = str(data.get("reason") or "")
    message = str(data.get("message") or f"HTTP {status}")
    details: list[str] = []
    for cause in (data.get("details") or {}).get("causes") or []:
        field = cause.get("field")
        if field and field not in message:
            details.append(f"{field}: {cause.get('message', '')}")
    if is_invalid_object(status, message):
        hint: str | None = ("the API server does not accept the object as written (an unknown "
                            "field, a wrong type or an invalid value): fix it in its file; "
                            "running again will not help")
    else:
        hint = _HINTS.get(status) or ("the API server failed: retry, or check its health"
                                      if status >= 500 else None)
    if hint:
        details.append(hint)
    text = f"{_describe(method, path)}: {status} {reason or 'error'}: {message}"
    if status in TRANSIENT_STATUS and not is_invalid_object(status, message):
        transient = TransientStatusError(text, status=status, reason=reason, body=data)
        transient.retry_after = retry_after_seconds(retry_after)
        # A throttled request was turned away before the server did anything with it.
        transient.maybe_applied = status != 429
        transient.details = details
        return transient
    error = ApiStatusError(text, status=status, reason=reason, body=data)
    error.details = details
    return error
