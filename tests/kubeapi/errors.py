"""Errors as the real API server returns them: a `Status` object and an HTTP code."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.text: str | None = None  # answered as text/plain instead of a Status

    @classmethod
    def page_not_found(cls) -> ApiError:
        """The HTTP mux's 404 for a path no API group serves: plain text, no Status
        (discovery.jsonl#12, crd-establish-and-cr.jsonl#3)."""
        error = cls(404, "NotFound", "404 page not found")
        error.text = "404 page not found\n"
        return error

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
        }
        if self.reason:  # a 500 has none
            body["reason"] = self.reason
        body["code"] = self.code
        if self.details is not None:
            body["details"] = self.details
        return body

    @classmethod
    def not_found(cls, group: str, plural: str, name: str) -> ApiError:
        resource = f"{plural}.{group}" if group else plural
        details = {"name": name, "kind": plural, **({"group": group} if group else {})}
        return cls(404, "NotFound", f'{resource} "{name}" not found', details)

    @classmethod
    def no_resource(cls) -> ApiError:
        return cls(404, "NotFound", "the server could not find the requested resource", {})

    @classmethod
    def bad_request(cls, message: str) -> ApiError:
        return cls(400, "BadRequest", message)

    @classmethod
    def already_exists(cls, group: str, plural: str, name: str) -> ApiError:
        resource = f"{plural}.{group}" if group else plural
        details = {"name": name, "kind": plural, **({"group": group} if group else {})}
        return cls(409, "AlreadyExists", f'{resource} "{name}" already exists', details)


def invalid(group: str, kind: str, name: str, causes: list[tuple[str, str]]) -> ApiError:
    qualified = f"{kind}.{group}" if group else kind
    summary = ", ".join(f"{field}: {message}" for field, message in causes)
    if len(causes) > 1:
        summary = "[" + summary + "]"
    details = {
        "name": name,
        **({"group": group} if group else {}),
        "kind": kind,
        "causes": [{"reason": _cause_reason(message), "message": message, "field": field}
                   for field, message in causes],
    }
    return ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {summary}', details)


def invalid_options(kind: str, causes: list[tuple[str, str]]) -> ApiError:
    """422 for request options (`PatchOptions`, `DeleteOptions`) the server refuses: the
    object has no name (ssa-conflict-force.jsonl#11, #12)."""
    summary = ", ".join(f"{field}: {message}" for field, message in causes)
    if len(causes) > 1:
        summary = "[" + summary + "]"
    details = {"group": "meta.k8s.io", "kind": kind,
               "causes": [{"reason": _cause_reason(message), "message": message, "field": field}
                          for field, message in causes]}
    return ApiError(422, "Invalid", f'{kind}.meta.k8s.io "" is invalid: {summary}', details)


def _cause_reason(message: str) -> str:
    for prefix, reason in (("Required value", "FieldValueRequired"),
                           ("Forbidden", "FieldValueForbidden"),
                           ("Unsupported value", "FieldValueNotSupported"),
                           ("Too long", "FieldValueTooLong")):
        if message.startswith(prefix):
            return reason
    return "FieldValueInvalid"
