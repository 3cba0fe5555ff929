"""What promotion, notifications and image pinning return (docs/promotion.md,
docs/notifications.md, docs/pinning.md). Renderers (output/promotion.py) turn them into text or
JSON; nothing here prints."""

from __future__ import annotations

from dataclasses import dataclass, field

from gitdeploy.results.plan import Plan

# states of an object compared between two environments
ONLY_IN_SOURCE, ONLY_IN_TARGET, DIFFERS, SAME = "only-in-source", "only-in-target", "differs", \
    "same"
# states of a config key
MISSING, EXTRA = "missing", "extra"


@dataclass(frozen=True)
class ObjectDifference:
    """One object of either environment, matched by group, kind and name with the declared
    prefix and suffix taken off; `diff` is a unified diff, target to source, Secret values
    masked."""

    title: str  # "Deployment web", as matched
    state: str  # ONLY_IN_SOURCE | ONLY_IN_TARGET | DIFFERS | SAME
    source: str = ""  # where the source environment's object comes from
    target: str = ""
    diff: str = ""


@dataclass(frozen=True)
class ImageDifference:
    """A container whose image the target lacks: `target` is "" when the target has no such
    object or container."""

    object: str
    container: str
    repository: str
    source: str
    target: str


@dataclass(frozen=True)
class ChartDifference:
    release: str
    chart: str
    source: str  # the version in the source; "" for a chart folder
    target: str  # "" when the target has no such release


@dataclass(frozen=True)
class ConfigKeyDifference:
    """A key of a ConfigMap's or Secret's data: missing from the target, different, or only in
    the target (never a value)."""

    object: str
    key: str
    state: str  # MISSING | DIFFERS | EXTRA


@dataclass
class EnvironmentComparison:
    source: str
    target: str
    objects: list[ObjectDifference]
    images: list[ImageDifference] = field(default_factory=list)
    charts: list[ChartDifference] = field(default_factory=list)
    config_keys: list[ConfigKeyDifference] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # what is meant to differ, described

    @property
    def differences(self) -> list[ObjectDifference]:
        return [o for o in self.objects if o.state != SAME]

    @property
    def target_lacks(self) -> bool:
        """The target lacks something the source has: an object, an image, a chart version or
        a config key."""
        return bool(self.images or self.charts or any(
            k.state != EXTRA for k in self.config_keys) or any(
            o.state in (ONLY_IN_SOURCE, DIFFERS) for o in self.objects))


@dataclass(frozen=True)
class FileEdit:
    """One file of the target environment that a promotion writes: `before` is None for a file
    it creates."""

    path: str  # relative to the repository root
    before: bytes | None = field(repr=False)
    after: bytes = field(repr=False)
    changes: tuple[str, ...] = ()  # what changed in it, in words


@dataclass
class Promotion:
    """What `promote` did (or, with nothing chosen, would do) to the target's folder."""

    source: str
    target: str
    edits: list[FileEdit]
    skipped: list[str] = field(default_factory=list)  # what could not be promoted, and why
    plan: Plan | None = None  # the target's rendered objects before against after
    written: str = ""  # "work tree", or "branch NAME (commit 1a2b3c4)"; "" when nothing


@dataclass(frozen=True)
class NotificationResult:
    """One notification sent, or not: `error` says why it failed (a warning, never a failed
    deploy)."""

    target: str  # "slack (notify[0])"
    sent: bool
    error: str = ""
    skipped: str = ""  # why it was not sent (not for this outcome, variable not set)


@dataclass(frozen=True)
class PinnedImage:
    image: str  # as the environment writes it: repository:tag
    digest: str  # sha256:...
    changed: bool  # the lock file held another digest, or none


@dataclass
class PinReport:
    """What `pin` wrote: the environment's lock file and every image in it."""

    environment: str
    lock_file: str
    images: list[PinnedImage]
    digest_only: list[str] = field(default_factory=list)  # images already pinned by digest
