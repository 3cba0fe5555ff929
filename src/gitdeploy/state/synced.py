"""Objects that did not change since gitdeploy last applied or checked them: their dry run is
skipped (docs/performance.md).

After each apply, gitdeploy keeps one *sync fingerprint* per object, a digest of

1. what git asks for: the rendered object, and what apply sends of it (the fields left to
   others by ignore rules and autoscalers taken out);
2. the live object as far as gitdeploy owns it: the object's uid, whether it is being deleted,
   gitdeploy's own entry of `metadata.managedFields` (the set of fields it applied), and the
   live value of each of those fields.

A plan computes the same digest from the rendered object and the live object that its LISTs
read anyway. When it equals the one kept, applying the object again could only set fields that
already hold git's values, all still owned by gitdeploy: the server's dry run would answer with
the live object, so the plan takes the object as unchanged and sends nothing for it. Anything
else gives another digest and a dry run, as before: another rendering or ignore rule; a field
gitdeploy set that someone changed or took over (`kubectl edit`, a controller's write, another
manager's apply: the server moves the field's ownership to them, or the value differs); a
field removed; the object deleted and created again. What others set besides gitdeploy's fields
(a controller's annotations, the status) does not enter the digest: a dry run leaves those
alone too. `--full` dry-runs every object.

The fingerprints are kept in one ConfigMap per environment in its state namespace
(`gitdeploy-synced-<environment>`), gzipped JSON, rewritten by each apply: objects applied, and
objects the plan found unchanged. A Secret's fingerprint (and that of any object holding values
from encrypted files) is keyed with the plan key (plan/planfile.py, `PlanKey`), as plan files
keep their digests, so the ConfigMap lets nobody confirm a guessed value; without a plan key
such objects are always dry-run.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gitdeploy.errors import KubeError
from gitdeploy.kube.client import ApiStatusError, KubeClient
from gitdeploy.objects.fieldpaths import MISSING, manager_fields, owned_leaves, read
from gitdeploy.objects.kinds import api_path
from gitdeploy.objects.manifests import group_of
from gitdeploy.objects.names import ENVIRONMENT_LABEL, FIELD_MANAGER, MANAGED_BY, dns_label
from gitdeploy.objects.secrets import holds_secrets

FORMAT = "1"  # of the fingerprints: another format is never compared
DATA_KEY = "fingerprints.json.gz"
SYNCED_LABEL = "gitdeploy.io/synced"
# A ConfigMap holds at most 1 MiB; past this the fingerprints are not kept (every object is
# dry-run), which only costs time.
MAX_STORED_BYTES = 700 * 1024
_DIGEST_BYTES = 16


def synced_name(environment: str) -> str:
    return f"gitdeploy-synced-{dns_label(environment)}"


def object_key(api_version: str, kind: str, namespace: str, name: str) -> str:
    return f"{group_of(api_version)}/{kind}/{namespace}/{name}"


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


@dataclass(frozen=True)
class Fingerprints:
    """Computes sync fingerprints; `secret` keys those of objects holding secret values."""

    secret: bytes | None = field(default=None, repr=False)  # the plan key's (PlanKey.secret)

    def of(self, body: dict[str, Any], send: dict[str, Any], live: Mapping[str, Any] | None
           ) -> str:
        """The fingerprint of `body` (rendered), applied as `send`, against `live`; "" when
        there is none: no live object, gitdeploy owns no field of it, or it holds secret
        values and there is no plan key."""
        if live is None:
            return ""
        metadata = live.get("metadata") or {}
        owned = manager_fields(dict(live), FIELD_MANAGER)
        if not owned:
            return ""
        secret = holds_secrets(body)
        if secret and self.secret is None:
            return ""
        values = [[steps, None if value is MISSING else value]
                  for steps in owned_leaves(owned, live)
                  for value in (read(live, steps),)]
        canonical = _canonical([FORMAT, FIELD_MANAGER, body,
                                None if send is body or send == body else send,
                                metadata.get("uid"), bool(metadata.get("deletionTimestamp")),
                                owned, values])
        if secret:
            assert self.secret is not None
            digest = hmac.new(self.secret, canonical, hashlib.sha256).digest()
        else:
            digest = hashlib.sha256(canonical).digest()
        return base64.urlsafe_b64encode(digest[:_DIGEST_BYTES]).decode().rstrip("=")


@dataclass
class SyncedState:
    """The fingerprints kept for one environment: object key -> fingerprint."""

    fingerprints: dict[str, str] = field(default_factory=dict)
    problem: str = ""  # why none could be read, for the -v trace

    def matches(self, key: str, fingerprint: str) -> bool:
        return bool(fingerprint) and self.fingerprints.get(key) == fingerprint


def _path(namespace: str, environment: str) -> str:
    return api_path("v1", "configmaps", namespace=namespace, name=synced_name(environment))


def read_synced(client: KubeClient, namespace: str, environment: str) -> SyncedState:
    """The fingerprints kept by the last apply; none when there are none or they cannot be
    read (every object is then dry-run)."""
    try:
        found = client.get(_path(namespace, environment))
    except ApiStatusError as error:
        if error.status in (401, 403):
            return SyncedState(problem=f"cannot read them ({error.status})")
        raise
    if found is None:
        return SyncedState(problem="none kept yet")
    data = found.get("data") or {}
    if data.get("format") != FORMAT:
        return SyncedState(problem=f"format {data.get('format')!r}, not {FORMAT}")
    try:
        raw = gzip.decompress(base64.b64decode((found.get("binaryData") or {})[DATA_KEY]))
        fingerprints = json.loads(raw)
    except (KeyError, ValueError, OSError, binascii.Error, EOFError):
        return SyncedState(problem="damaged: ignored")
    if not isinstance(fingerprints, dict):
        return SyncedState(problem="damaged: ignored")
    return SyncedState({str(k): str(v) for k, v in fingerprints.items()})


def write_synced(client: KubeClient, namespace: str, environment: str,
                 fingerprints: dict[str, str]) -> str:
    """Replace the environment's fingerprints (one server-side apply); returns a note when
    they were too many to keep ("" otherwise). Raises KubeError when the write fails."""
    packed = gzip.compress(_canonical(fingerprints), compresslevel=6, mtime=0)
    note = ""
    if len(packed) * 4 // 3 > MAX_STORED_BYTES:
        note = (f"{len(fingerprints)} objects' fingerprints do not fit in one ConfigMap: "
                "every object is dry-run")
        fingerprints = {}
        packed = gzip.compress(b"{}", mtime=0)
    body = {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": synced_name(environment), "namespace": namespace,
                     "labels": {**MANAGED_BY, ENVIRONMENT_LABEL: dns_label(environment),
                                SYNCED_LABEL: "true"}},
        "data": {"format": FORMAT, "objects": str(len(fingerprints))},
        "binaryData": {DATA_KEY: base64.b64encode(packed).decode()},
    }
    client.apply(_path(namespace, environment), body, dry_run=False, force=True)
    return note


def save_after_apply(client: KubeClient, namespace: str, environment: str,
                     fingerprints: dict[str, str]) -> str:
    """`write_synced`, a failure turned into a note: without the fingerprints the next plan
    only dry-runs every object."""
    try:
        return write_synced(client, namespace, environment, fingerprints)
    except KubeError as error:
        return (f"the sync fingerprints could not be kept ({error.message}): the next plan "
                "dry-runs every object")
