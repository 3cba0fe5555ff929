"""The writes of one planned object beyond its apply: the handover of fields left to others
(plan/fields.py), and the replacement of an object whose immutable fields changed (delete,
wait until it is gone, create), as kluctl's --replace-on-error and kapp's fallback-on-replace
do."""

from __future__ import annotations

import time

from gitdeploy.errors import KubeError
from gitdeploy.kube.client import ApiStatusError, KubeClient
from gitdeploy.objects.managers import HANDOVER_MANAGER
from gitdeploy.results.plan import Change

DELETION_POLL = 0.2  # seconds


def hand_over(client: KubeClient, change: Change) -> None:
    """Apply the live values of the fields gitdeploy stops applying under the handover
    manager, so that leaving them out does not reset them. A conflict means a controller holds
    them already: nothing to hand over (the Kubernetes documentation's procedure)."""
    if change.handover is None:
        return
    try:
        client.apply(change.path, change.handover, dry_run=False, force=False,
                     manager=HANDOVER_MANAGER)
    except ApiStatusError as error:
        if error.status not in (404, 409):
            raise


def replace(client: KubeClient, change: Change, *, timeout: float) -> None:
    """Delete the planned object (only if it is still the one planned), wait until the server
    has removed it (finalizers included), then create it from git."""
    if change.uid:
        client.delete(change.path, uid=change.uid, propagation="Background")
        deadline = time.monotonic() + timeout
        while True:
            live = client.get(change.path)
            if live is None or (live.get("metadata") or {}).get("uid") != change.uid:
                break
            if time.monotonic() >= deadline:
                raise KubeError(f"replacing {change.title()}: still being deleted after "
                                f"{timeout:.0f}s", ["its finalizers may be waiting for a "
                                                    "controller: check the object"])
            time.sleep(DELETION_POLL)
    client.apply(change.path, change.body, dry_run=False, force=False)
