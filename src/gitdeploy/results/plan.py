"""What `diff` returns: a plan, each object's change and what the cluster shares of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gitdeploy.objects import kinds
from gitdeploy.results import APPLY_ACTIONS, Action

if TYPE_CHECKING:
    from gitdeploy.objects.applyset import Inventory
    from gitdeploy.objects.managers import ConflictPolicy
    from gitdeploy.objects.manifests import Manifest
    from gitdeploy.results.environment import SourceInfo, Target


@dataclass(frozen=True)
class Drift:
    """A field whose live value was set by another field manager and that apply takes back."""

    field: str
    manager: str


@dataclass(frozen=True)
class Conflict:
    """A field git sets that another field manager holds with another value (the API server's
    409 to an apply without force), and what apply does about it."""

    field: str  # "spec.replicas", as the server names it (without the leading dot)
    manager: str
    human: bool  # a person's edit (drift, taken back), not a controller's field
    resolution: ConflictPolicy  # take-over (force) | leave (not applied) | fail (refused)
    reason: str = ""  # where the resolution comes from: "annotation gitdeploy.io/conflicts"


@dataclass(frozen=True)
class Replacement:
    """Fields the API server refuses to change in place (422 "field is immutable"): the object
    must be deleted and created again."""

    fields: tuple[str, ...]  # "spec.selector: field is immutable"
    allowed: bool  # the object's annotation or --replace asks for it
    by: str = ""  # what allowed it


@dataclass
class Change:
    action: Action
    manifest: Manifest
    api_version: str
    kind: str
    namespace: str
    name: str
    diff: str  # unified YAML diff, Secret values masked
    path: str  # the object's API path
    verified: bool = True  # False: the server could not dry-run it (namespace/CRD in the plan)
    note: str = ""
    drift: list[Drift] = field(default_factory=list)
    uid: str = ""  # of the live object (deletes are conditioned on it)
    resource_version: str = ""  # of the live object as read for the plan ("" when absent)
    kept: str = ""  # for a delete: why pruning leaves it in place (its annotation)
    # Fields shared with others (docs/real-clusters.md).
    conflicts: list[Conflict] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # why fields are left out ("... is left to")
    send: dict[str, Any] | None = field(default=None, repr=False)  # the body apply sends
    force: bool = False  # apply takes the conflicting fields over
    handover: dict[str, Any] | None = field(default=None, repr=False)  # see plan/fields.py
    replace: Replacement | None = None  # immutable fields changed: delete + create
    # The live object normalized, its ignored fields left out: what plan files compare.
    live_spec: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    # The sync fingerprint of an object the plan found unchanged (state/synced.py), kept by
    # the apply so that the next plan need not dry-run it; "" when there is none.
    synced: str = field(default="", repr=False, compare=False)
    dry_run_skipped: bool = False  # unchanged by its sync fingerprint: not dry-run

    @property
    def body(self) -> dict[str, Any]:
        """What apply sends: the rendered object less the fields left to others."""
        return self.send if self.send is not None else self.manifest.body

    @property
    def is_change(self) -> bool:
        return self.action is not Action.UNCHANGED and not self.kept

    def title(self) -> str:
        return kinds.title(self.kind, self.namespace, self.name)


@dataclass
class Plan:
    environment: str
    target: Target
    source: SourceInfo
    changes: list[Change]
    protected: bool = False
    prune: bool = False  # apply deletes the `delete` changes
    inventory: Inventory | None = None  # the environment's ApplySet as it was read
    base: SourceInfo | None = None  # offline diff: the ref compared against (no cluster)
    inventory_size: int = 0  # objects the ApplySet held before this plan
    # the variables substituted (render/substitute.py), as "NAME (source[, encrypted])"
    variables: tuple[str, ...] = ()
    # Namespaces the objects need that neither exist nor are in git (a first deploy).
    missing_namespaces: list[str] = field(default_factory=list)

    def count(self, action: Action) -> int:
        return sum(1 for change in self.changes if change.action is action and not change.kept)

    @property
    def pending(self) -> list[Change]:
        """Every difference between git and the cluster, deletions included."""
        return [change for change in self.changes if change.is_change]

    @property
    def to_apply(self) -> list[Change]:
        return [change for change in self.pending if change.action in APPLY_ACTIONS]

    @property
    def to_delete(self) -> list[Change]:
        return [change for change in self.pending if change.action is Action.DELETE]

    @property
    def kept(self) -> list[Change]:
        return [change for change in self.changes if change.kept]

    @property
    def work(self) -> list[Change]:
        """What apply will do: the applies, and the deletions when pruning is on."""
        return self.to_apply + (self.to_delete if self.prune else [])
