"""What `envs` and `render` return, and where an environment's files and cluster are: the
types every command shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gitdeploy.objects.manifests import Manifest


@dataclass(frozen=True)
class SourceInfo:
    """Where the deployed files come from."""

    commit: str | None  # full SHA (HEAD for the work tree), None outside a git repository
    dirty: bool  # the work tree's files differ from the commit
    branch: str | None = None
    ref: str | None = None  # the --ref given, None for the work tree
    subject: str = ""
    author: str = ""
    dirty_files: tuple[str, ...] = ()

    @property
    def short(self) -> str:
        return self.commit[:7] if self.commit else "no commit"

    @property
    def ref_name(self) -> str:
        """The name a person would use: the --ref given, else the branch, else HEAD."""
        return self.ref or self.branch or ("HEAD" if self.commit else "")

    def describe(self) -> str:
        where = f" ({self.ref})" if self.ref else ""
        return self.short + where + (" (dirty)" if self.dirty else "")


UNKNOWN = "unknown"


@dataclass(frozen=True)
class Target:
    """The verified cluster an environment runs against."""

    context: str
    server: str
    cluster_uid: str  # UID of kube-system, or "unknown" when it may not be read
    insecure: bool = False  # the context skips TLS verification (insecure-skip-tls-verify)


@dataclass(frozen=True)
class EnvironmentInfo:
    """An environment as `envs` lists it: its settings that say where and how it deploys."""

    name: str
    path: str
    context: str
    namespace: str
    server: str | None
    uid: str | None
    protected: bool
    prune: bool
    suspend: bool
    suspend_reason: str
    state_namespace: str
    error: str = ""  # the settings cannot be read: why (the other fields are empty)
    error_details: tuple[str, ...] = ()

    @property
    def broken(self) -> bool:
        return bool(self.error)


@dataclass(frozen=True)
class RenderedObjects:
    """What `render` shows: the objects an environment would apply, in order."""

    environment: str
    manifests: list[Manifest]
