"""Apply a plan with server-side apply, in order: Namespaces, CRDs (then wait until they are
Established), other cluster-scoped objects, then namespaced objects. Then, when pruning, delete
what was removed from git in the reverse order. Objects within a phase are handled concurrently.
On a failure, what is in flight finishes and nothing more starts; so on Ctrl-C or SIGTERM, and
the report then says which signal stopped it.

A request that failed for good without an answer (the connection was reset or timed out after
the request went out) may still have taken effect: the object is then read back to find out
(`_resolve`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gitdeploy.apply.shared_fields import hand_over, replace
from gitdeploy.errors import KubeError, signal_name
from gitdeploy.kube.client import ApiStatusError, KubeClient, outcome_unknown
from gitdeploy.objects.applyset import PART_OF_LABEL
from gitdeploy.objects.kinds import CRD_API_VERSION, api_path, is_crd, is_namespace
from gitdeploy.objects.managers import ConflictPolicy
from gitdeploy.objects.manifests import group_of
from gitdeploy.objects.secrets import SecretMasker, known
from gitdeploy.results import Outcome
from gitdeploy.results.apply import ApplyReport, ObjectResult
from gitdeploy.results.plan import Change, Plan
from gitdeploy.state.synced import Fingerprints

Progress = Callable[[ObjectResult], None]
CRD_PATH = api_path(CRD_API_VERSION, "customresourcedefinitions")


def _is_namespace(change: Change) -> bool:
    return is_namespace(group_of(change.api_version), change.kind)


def _is_crd(change: Change) -> bool:
    return is_crd(group_of(change.api_version), change.kind)


PHASES: list[tuple[str, Callable[[Change], bool]]] = [
    ("namespaces", _is_namespace),
    ("custom resource definitions", _is_crd),
    ("cluster-scoped objects", lambda c: not c.namespace),
    ("namespaced objects", lambda c: True),
]


def order(changes: list[Change]) -> list[list[Change]]:
    """The plan's pending changes split into the phases above, in plan order within each."""
    remaining = list(changes)
    phases = []
    for _, belongs in PHASES:
        phase = [c for c in remaining if belongs(c)]
        remaining = [c for c in remaining if not belongs(c)]
        phases.append(phase)
    return phases


def delete_order(changes: list[Change]) -> list[list[Change]]:
    """Deletions in the reverse of the apply phases: namespaced objects (workloads, custom
    resources) first, then cluster-scoped ones, then CRDs, then Namespaces."""
    return list(reversed(order(changes)))


def apply_plan(plan: Plan, client: KubeClient, *, concurrency: int, establish_timeout: float,
               progress: Progress | None = None, fingerprints: Fingerprints | None = None
               ) -> ApplyReport:
    """With `fingerprints`, each object applied gets the sync fingerprint of the server's
    answer (`ObjectResult.synced`, state/synced.py)."""
    results: dict[int, ObjectResult] = {}
    failed = threading.Event()
    stop = client.stopping  # set on Ctrl-C or SIGTERM: no new request, no new retry
    interrupted = ""
    # and the values decrypted from SOPS files (the run's, objects/secrets.py)
    masker = SecretMasker.of_secrets(change.manifest.body for change in plan.changes) | known()

    def record(result: ObjectResult) -> None:
        result.error = masker.mask_text(result.error)  # the server may quote a Secret's values
        results[id(result.change)] = result
        if result.outcome is Outcome.FAILED:
            failed.set()
        if progress is not None and result.outcome is not Outcome.NOT_ATTEMPTED:
            progress(result)

    def apply_one(change: Change) -> None:
        if failed.is_set() or stop.is_set():
            record(ObjectResult(change, Outcome.NOT_ATTEMPTED))
            return
        try:
            answer = None
            if change.replace is not None and change.replace.allowed:
                replace(client, change, timeout=establish_timeout)
            else:
                hand_over(client, change)
                answer = _apply(client, change)
        except KubeError as error:
            # an answer lost on any attempt (a reset, a timeout, a 5xx) leaves the outcome
            # unknown even when the last attempt was refused: read back
            record(_resolve(client, change, error) if outcome_unknown(error)
                   else ObjectResult(change, Outcome.FAILED, _error_text(error)))
        else:
            record(ObjectResult(change, Outcome.APPLIED,
                                synced=_fingerprint(fingerprints, change, answer)))

    def delete_one(change: Change) -> None:
        if failed.is_set() or stop.is_set():
            record(ObjectResult(change, Outcome.NOT_ATTEMPTED))
            return
        try:
            problem = _delete(client, change, plan)
        except KubeError as error:
            problem = _error_text(error)
        record(ObjectResult(change, Outcome.FAILED, problem) if problem
               else ObjectResult(change, Outcome.DELETED))

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        try:
            for phase in order(plan.to_apply):
                list(pool.map(apply_one, phase))
                if failed.is_set():
                    break
                crds = [c for c in phase if _is_crd(c)]
                for change in crds:
                    problem = _wait_established(client, change.name, establish_timeout)
                    if problem:
                        record(ObjectResult(change, Outcome.FAILED, problem))
                if failed.is_set():
                    break
            if plan.prune and not failed.is_set():
                for phase in delete_order(plan.to_delete):
                    list(pool.map(delete_one, phase))
                    if failed.is_set():
                        break
        except KeyboardInterrupt as interrupt:  # Ctrl-C or SIGTERM (errors.Terminated)
            stop.set()
            interrupted = signal_name(interrupt)
            pool.shutdown(wait=True, cancel_futures=True)  # what is in flight finishes
    stop.clear()  # the record and the lock's release may retry again
    ordered = [results.get(id(c)) or ObjectResult(c, Outcome.NOT_ATTEMPTED) for c in plan.work]
    return ApplyReport(plan=plan, results=ordered, interrupted=interrupted)


def _delete(client: KubeClient, change: Change, plan: Plan) -> str:
    """Delete one pruned object, but only if it is still the object that was planned and still
    carries this set's label; returns a problem, or "" when deleted (or already gone)."""
    live = client.get(change.path)
    if live is None:
        return ""
    metadata = live.get("metadata") or {}
    set_id = plan.inventory.id if plan.inventory else None
    if set_id is None or (metadata.get("labels") or {}).get(PART_OF_LABEL) != set_id:
        return "not deleted: it no longer carries this environment's ApplySet label"
    if change.uid and metadata.get("uid") != change.uid:
        return "not deleted: it was replaced by another object of the same name since the plan"
    client.delete(change.path, uid=str(metadata.get("uid") or ""),
                  resource_version=str(metadata.get("resourceVersion") or ""))
    return ""


def _fingerprint(fingerprints: Fingerprints | None, change: Change,
                 answer: dict[str, Any] | None) -> str:
    """The applied object's sync fingerprint; none when a field was left to another manager
    (the next plan shows that conflict again, from the server)."""
    if fingerprints is None or answer is None or any(
            c.resolution is not ConflictPolicy.TAKE_OVER for c in change.conflicts):
        return ""
    return fingerprints.of(change.manifest.body, change.body, answer)


def _apply(client: KubeClient, change: Change) -> dict[str, Any]:
    """The server's answer: the object as applied."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return client.apply(change.path, change.body, dry_run=False, force=change.force)
        except ApiStatusError as error:
            # A custom resource's endpoint can lag a moment behind its CRD's Established.
            retry = not change.verified and error.status == 404 and time.monotonic() < deadline
            if not retry:
                raise
            time.sleep(0.25)


def _resolve(client: KubeClient, change: Change, error: KubeError) -> ObjectResult:
    """The outcome of an apply whose answer was lost: when a dry run of the same apply
    changes nothing on the live object, the apply took effect."""
    failure = ObjectResult(change, Outcome.FAILED, _error_text(error))
    if not outcome_unknown(error):
        return failure
    try:
        live = client.get(change.path)
        again = client.apply(change.path, change.body, dry_run=True, force=change.force)
    except KubeError:
        return ObjectResult(change, Outcome.FAILED, _error_text(error) + "; its outcome is "
                            "unknown: the object could not be read back")
    return ObjectResult(change, Outcome.APPLIED) if live == again else failure


def _wait_established(client: KubeClient, name: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        crd = client.get(f"{CRD_PATH}/{name}") or {}
        conditions = (crd.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions):
            return ""
        if time.monotonic() >= deadline:
            return f"not Established after {timeout:.0f}s"
        time.sleep(0.2)


def _error_text(error: KubeError) -> str:
    return "; ".join([error.message, *error.details])
