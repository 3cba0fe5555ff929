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

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
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
        return cls(404, "NotFound", "the server could not find the requested resource",
                   {"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not "
                                "found"}]})

    @classmethod
    def bad_request(cls, message: str) -> ApiError:
        return cls(400, "BadRequest", message)

    @classmethod
    def already_exists(cls, group: str, plural: str, name: str) -> ApiError:
        resource = f"{plural}.{group}" if group else plural
        details = {"name": name, "kind": plural, **({"group": group} if group else {})}
        return cls(409, "AlreadyExists", f'{resource} "{name}" already exists', details)

    @classmethod
    def forbidden(cls, user: str, verb: str, group: str, plural: str, namespace: str,
                  name: str) -> ApiError:
        resource = f"{plural}.{group}" if group else plural
        subject = f'{resource} "{name}"' if name else resource
        where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
        message = (f'{subject} is forbidden: User "{user}" cannot {verb} resource "{plural}" '
                   f'in API group "{group}"{where}')
        details = {"kind": plural, **({"group": group} if group else {}),
                   **({"name": name} if name else {})}
        return cls(403, "Forbidden", message, details)


def invalid(group: str, kind: str, name: str, causes: list[tuple[str, str]]) -> ApiError:
    qualified = f"{kind}.{group}" if group else kind
    summary = ", ".join(f"{field}: {message}" for field, message in causes)
    if len(causes) > 1:
        summary = "[" + summary + "]"
    details = {
        "name": name,
        **({"group": group} if group else {}),
        "kind": kind,
        "causes": [
            {"reason": "FieldValueRequired" if message == "Required value" else
             "FieldValueInvalid", "message": message, "field": field}
            for field, message in causes
        ],
    }
    return ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {summary}', details)
