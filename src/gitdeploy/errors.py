"""The project's own errors and the exit codes they map to.

Every module raises a subclass of `GitdeployError` for problems a user can fix; the error
boundary in `cli/boundary.py` prints its message and exits with `exit_code`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes, stable across versions (docs/exit-codes.md)."""

    OK = 0
    ERROR = 1
    CHANGES = 2
    INTERNAL = 3
    NOT_READY = 4
    INTERRUPTED = 130
    TERMINATED = 143


class GitdeployError(Exception):
    """A problem the user can act on. `details` are extra lines shown under the message."""

    exit_code = ExitCode.ERROR

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details or [])
        self.where = ""  # the commit whose files were read, once the message names it

    def __str__(self) -> str:
        return "\n".join([self.message, *(f"  {line}" for line in self.details)])


class SettingsError(GitdeployError):
    """An environment's settings file is missing, malformed or holds a bad key."""


class LoadError(GitdeployError):
    """Manifests could not be read: parse errors, non-objects, duplicates."""


class TargetError(GitdeployError):
    """The kube context or cluster does not match the environment (wrong-cluster guard)."""


class KubeError(GitdeployError):
    """The Kubernetes API refused or failed a request, or could not be reached."""

    def __init__(
        self,
        message: str,
        details: list[str] | None = None,
        *,
        status: int = 0,
        reason: str = "",
    ) -> None:
        super().__init__(message, details)
        self.status = status
        self.reason = reason


class RefusedError(GitdeployError):
    """The user declined, or confirmation was impossible (no terminal and no --yes)."""


class ApplyFailed(GitdeployError):
    """Some objects failed to apply; the apply report says which."""


class NotReady(GitdeployError):
    """The apply succeeded, but objects were not ready in time, or failed to become ready."""

    exit_code = ExitCode.NOT_READY


class Terminated(KeyboardInterrupt):
    """SIGTERM (a CI system cancelling the job): handled like Ctrl-C, exit 143."""


class Interrupted(GitdeployError):
    """A signal stopped the deploy; what was done is reported and recorded."""

    def __init__(self, message: str, details: list[str] | None = None, *,
                 signal_name: str = "SIGINT") -> None:
        super().__init__(message, details)
        self.exit_code = ExitCode.TERMINATED if signal_name == "SIGTERM" else ExitCode.INTERRUPTED


def signal_name(interrupt: BaseException) -> str:
    return "SIGTERM" if isinstance(interrupt, Terminated) else "SIGINT"


class WaitInterrupted(GitdeployError):
    """Ctrl-C (130) or SIGTERM (143) while waiting for readiness, or once the record was
    written: the apply itself is complete and recorded."""

    exit_code = ExitCode.INTERRUPTED

    def __init__(self, message: str, details: list[str] | None = None, *,
                 signal_name: str = "SIGINT") -> None:
        super().__init__(message, details)
        if signal_name == "SIGTERM":
            self.exit_code = ExitCode.TERMINATED


# `path:line[:column]: text`, the way every message that names a place in a file starts.
_PLACE = re.compile(r"^(?P<file>[^\s:()]+\.(?:ya?ml|json|env|txt|tpl|toml))"
                    r"(?::(?P<line>\d+))?(?::(?P<column>\d+))?(?:: |\s|$)")


# `Kind namespace/name (path:line): text`, the way messages about one object name its source.
_OBJECT_PLACE = re.compile(r"\((?P<file>[^()\s:]+\.(?:ya?ml|json))(?::(?P<line>\d+))?"
                           r"(?::(?P<column>\d+))?(?: \([^)]*\))?\)")


@dataclass(frozen=True)
class Place:
    """Where a message points: a file of the repository, and the line and column if known."""

    file: str
    line: int | None = None
    column: int | None = None


def place_of(text: str) -> Place | None:
    """The file (and line, column) a message starts with, in gitdeploy's `path:line: message`
    form, or None."""
    found = _PLACE.match(text.strip()) or _OBJECT_PLACE.search(text)
    if found is None:
        return None
    line, column = found.group("line"), found.group("column")
    return Place(found.group("file"), int(line) if line else None,
                 int(column) if column else None)
