"""Fields shared with others, at plan time: what one object's apply sends, and the server's
dry-run answer to it.

1. The fields left to others are taken out of what is sent: the ignore rules of the settings,
   and the replicas of an object a HorizontalPodAutoscaler scales. When gitdeploy owns such a
   field in the live object, leaving it out would make the server delete it or reset it to its
   default ("replicas: 5 -> 1"): so apply first hands it over (`handover`), as the Kubernetes
   documentation's "transferring ownership" does: the live value is applied alone by a second
   field manager, `gitdeploy-handover`, and only then the object without the field.
2. The dry run is sent without `force`. A conflict (409) names each field another manager
   holds with another value, and the manager. A person's edit is drift: taken back. A
   controller's field gets the conflict policy: take over (force), leave (the field is not
   sent, so it keeps its value and owner) or fail (apply refuses; the diff shows the rest).
3. A change the server refuses because a field is immutable (422) needs the object replaced:
   delete and create, when the object's annotation or --replace allows it.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from gitdeploy.config.shared_fields import ConflictOptions
from gitdeploy.kube.client import ApiStatusError, KubeClient
from gitdeploy.objects.fieldpaths import (
    conflict_steps,
    manager_fields,
    merge,
    owns,
    remove,
    with_keys,
)
from gitdeploy.objects.ignore import Ignored, IgnoreRule, rules_for
from gitdeploy.objects.managers import (
    CONFLICTS_ANNOTATION,
    HANDOVER_MANAGER,
    ConflictPolicy,
    conflict_causes,
    is_human,
    object_policy,
)
from gitdeploy.objects.names import FIELD_MANAGER
from gitdeploy.results.plan import Conflict, Replacement

REPLACE_ANNOTATION = "gitdeploy.io/replace"
# What the API server says of a field that cannot change in place (immutable-fields.jsonl):
# "field is immutable", "may not change once set" (a Service's clusterIP), "is immutable after
# creation" (a PVC's spec), "updates to statefulset spec for fields other than ... are
# forbidden".
_IMMUTABLE = re.compile(r"immutable|may not change once set|updates to statefulset spec")


@dataclass(frozen=True)
class FieldRules:
    """The environment's rules for shared fields."""

    rules: tuple[IgnoreRule, ...] = ()  # the settings' and the autoscalers'
    conflicts: ConflictOptions = field(default_factory=ConflictOptions)
    replace: bool = False  # --replace: objects whose immutable fields changed are replaced


@dataclass
class Prepared:
    """One object's apply, as the dry run settled it."""

    send: dict[str, Any]
    ignored: Ignored
    force: bool = False
    result: dict[str, Any] | None = None  # the server's dry-run answer
    conflicts: list[Conflict] = field(default_factory=list)
    handover: dict[str, Any] | None = None
    replace: Replacement | None = None


def prepare(body: dict[str, Any], live: dict[str, Any] | None, rules: FieldRules
            ) -> Prepared:
    """What apply sends for `body` (the fields left to others taken out), before any request.
    An object that does not exist yet is created whole, as Argo CD's RespectIgnoreDifferences
    does: git's replicas are where an autoscaler starts from."""
    ignored = Ignored(rules_for(rules.rules, body) if live is not None else ())
    send = ignored.strip(body, live) if ignored else body
    handover = _handover(live, body, ignored) if live is not None and ignored else None
    return Prepared(send=send, ignored=ignored, handover=handover)


def dry_run(client: KubeClient, path: str, body: dict[str, Any], live: dict[str, Any] | None,
            rules: FieldRules) -> Prepared:
    """The server's dry run of the object's apply, conflicts resolved by the policy. Errors
    other than conflicts and immutable fields are raised."""
    prepared = prepare(body, live, rules)
    try:
        prepared.result = client.apply(path, prepared.send, dry_run=True, force=False)
        return prepared
    except ApiStatusError as error:
        causes = conflict_causes(error.body) if error.status == 409 else []
        replacement = _replacement(error, body, rules) if error.status == 422 else None
        if replacement is not None:
            prepared.replace = replacement
            return prepared
        if not causes:
            raise
    prepared.conflicts = [_resolve(field_, manager, body, rules) for field_, manager in causes]
    send = copy.deepcopy(prepared.send)
    resolved = []
    for conflict in prepared.conflicts:
        if conflict.resolution is ConflictPolicy.LEAVE:
            steps = conflict_steps(send, "." + conflict.field)
            if steps is None or not remove(send, steps):
                resolved.append(Conflict(conflict.field, conflict.manager, conflict.human,
                                         ConflictPolicy.FAIL, "the field could not be left "
                                         "out of what apply sends"))
                continue
        resolved.append(conflict)
    prepared.conflicts = resolved
    prepared.send = send
    # A conflict that fails the apply is shown as what git wants: the diff says what differs.
    prepared.force = any(c.resolution is not ConflictPolicy.LEAVE for c in resolved)
    prepared.result = client.apply(path, send, dry_run=True, force=prepared.force)
    return prepared


def _resolve(field_: str, manager: str, body: dict[str, Any], rules: FieldRules) -> Conflict:
    name = field_.lstrip(".")
    if manager == HANDOVER_MANAGER:
        return Conflict(name, manager, False, ConflictPolicy.TAKE_OVER,
                        "gitdeploy's own handover: git sets the field again")
    if is_human(manager, rules.conflicts.human_managers):
        return Conflict(name, manager, True, ConflictPolicy.TAKE_OVER,
                        "an edit by hand is drift: git is the record")
    own = object_policy(body)
    if isinstance(own, ConflictPolicy):
        return Conflict(name, manager, False, own, f"annotation {CONFLICTS_ANNOTATION}")
    return Conflict(name, manager, False, rules.conflicts.policy,
                    "conflicts.policy of the environment")


def _replacement(error: ApiStatusError, body: dict[str, Any], rules: FieldRules
                 ) -> Replacement | None:
    """The immutable fields of a 422, when that is all it says; None otherwise."""
    causes = (error.body.get("details") or {}).get("causes") or []
    if not causes or not all(_IMMUTABLE.search(str(c.get("message") or "")) for c in causes):
        return None
    # The message's last part: the value it quotes may be long (a Job's whole pod template).
    fields = tuple(f"{c.get('field') or '(object)'}: "
                   f"{str(c.get('message') or '').rsplit(': ', 1)[-1]}" for c in causes)
    annotation = ((body.get("metadata") or {}).get("annotations") or {}).get(
        REPLACE_ANNOTATION)
    if str(annotation).lower() == "true":
        return Replacement(fields, True, f"annotation {REPLACE_ANNOTATION}")
    if rules.replace:
        return Replacement(fields, True, "--replace")
    return Replacement(fields, False)


def _handover(live: dict[str, Any], body: dict[str, Any], ignored: Ignored
              ) -> dict[str, Any] | None:
    """The apply that hands the ignored fields gitdeploy owns over to `gitdeploy-handover`,
    with their live values; None when gitdeploy owns none of them."""
    mine = manager_fields(live, FIELD_MANAGER)
    if not mine:
        return None
    partial: dict[str, Any] = {}
    for steps in ignored.paths(body, live):
        elements = owns(mine, body, steps)
        found = with_keys(live, elements) if elements else None
        if found is not None:
            merge(partial, found[1])
    if not partial:
        return None
    metadata = {key: value for key, value in (body.get("metadata") or {}).items()
                if key in ("name", "namespace")}
    handover: dict[str, Any] = {"apiVersion": body["apiVersion"], "kind": body["kind"],
                                "metadata": metadata}
    merge(handover, partial)
    return handover
