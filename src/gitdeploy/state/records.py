"""Deploy records: one ConfigMap per apply in the environment's state namespace, readable with
kubectl (docs/cluster-state.md). They hold where the deploy came from, who made it, what it
did and how it ended; never a Secret value, nor a hash of one. The newest `history.keep` records
are kept.

A record whose POST lost its answer is read back: it was written when it holds what was sent
(`KubeClient.create`)."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
from collections.abc import Callable
from typing import Any

from gitdeploy import __version__
from gitdeploy.errors import KubeError
from gitdeploy.kube.client import ApiStatusError, KubeClient
from gitdeploy.objects.kinds import api_path
from gitdeploy.objects.manifests import Manifest
from gitdeploy.objects.names import (
    ENVIRONMENT_LABEL,
    FIELD_MANAGER,
    MANAGED_BY,
    dns_label,
    record_name,
)
from gitdeploy.objects.secrets import SecretMasker, known, mask
from gitdeploy.results import Action, Outcome
from gitdeploy.results.apply import ApplyReport
from gitdeploy.results.environment import SourceInfo
from gitdeploy.results.state import DEPLOY, FAILED, INTERRUPTED, SUCCEEDED, DeployRecord, Identity

RECORD_LABEL = "gitdeploy.io/record"
SEQUENCE_LABEL = "gitdeploy.io/sequence"


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def digest(manifests: list[Manifest]) -> str:
    """sha256 over the rendered objects, canonical JSON sorted by object key, each object
    masked as diffs show it: a Secret with its keys but not its values (each is `<masked>`).
    The record is readable by whoever may read ConfigMaps, and a hash over a value would let
    them confirm a guessed one; so a change of a Secret's values alone does not change the
    digest (docs/cluster-state.md)."""
    hasher = hashlib.sha256()
    for manifest in sorted(manifests, key=lambda m: str(m.key)):
        hasher.update(json.dumps(mask(manifest.body), sort_keys=True, separators=(",", ":"),
                                 default=str).encode())
        hasher.update(b"\n")
    return f"sha256:{hasher.hexdigest()}"


def from_report(report: ApplyReport, *, sequence: int, kind: str, identity: Identity,
                source: SourceInfo, manifests: list[Manifest], rollback_of: str = ""
                ) -> DeployRecord:
    plan = report.plan
    # A failure's text is the API server's, which may quote the values of any Secret sent.
    masker = SecretMasker.of_secrets([*(m.body for m in manifests),
                                      *(c.manifest.body for c in plan.changes)]) | known()
    counts = {action.value: plan.count(action) for action in Action}
    counts.update({outcome.value: report.count(outcome) for outcome in Outcome})
    return DeployRecord(
        sequence=sequence, environment=plan.environment, kind=kind,
        commit=source.commit or "", ref=source.ref_name, subject=source.subject,
        author=source.author, dirty=source.dirty, deployed_at=now(), deployed_by=identity,
        gitdeploy_version=__version__, outcome=(INTERRUPTED if report.interrupted
                                                  else SUCCEEDED if report.succeeded
                                                  else FAILED),
        counts=counts, digest=digest(manifests),
        applied=tuple(r.change.title() for r in report.results if r.outcome is Outcome.APPLIED),
        failed=tuple(f"{r.change.title()}: {masker.mask_text(r.error)}"
                     for r in report.results if r.outcome is Outcome.FAILED),
        rollback_of=rollback_of, variables=plan.variables,
    )


def _to_configmap(record: DeployRecord, namespace: str) -> dict[str, Any]:
    who = record.deployed_by
    data = {
        "environment": record.environment,
        "sequence": str(record.sequence),
        "kind": record.kind,
        "commit": record.commit,
        "ref": record.ref,
        "subject": record.subject,
        "author": record.author,
        "dirty": "true" if record.dirty else "false",
        "deployedAt": record.deployed_at,
        "deployedBy": who.describe(),
        "localUser": who.local_user,
        "host": who.host,
        "kubeUser": who.kube_user,
        "ci": who.ci,
        "ciUrl": who.ci_url,
        "gitdeployVersion": record.gitdeploy_version,
        "outcome": record.outcome,
        "counts": json.dumps(record.counts),
        "digest": record.digest,
        "applied": "\n".join(record.applied),
        "failed": "\n".join(record.failed),
        "rollbackOf": record.rollback_of,
        "variables": "\n".join(record.variables),
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": record_name(record.environment, record.sequence),
            "namespace": namespace,
            "labels": {**MANAGED_BY, ENVIRONMENT_LABEL: dns_label(record.environment),
                       RECORD_LABEL: record.kind, SEQUENCE_LABEL: str(record.sequence)},
        },
        "data": data,
    }


def _from_configmap(obj: dict[str, Any]) -> DeployRecord | None:
    data = obj.get("data") or {}
    try:
        counts = json.loads(data.get("counts") or "{}")
        sequence = int(data["sequence"])
    except (KeyError, ValueError):
        return None  # not written by gitdeploy, or edited by hand

    def lines(key: str) -> tuple[str, ...]:
        return tuple(line for line in (data.get(key) or "").split("\n") if line)

    return DeployRecord(
        sequence=sequence, environment=data.get("environment", ""),
        kind=data.get("kind", DEPLOY), commit=data.get("commit", ""), ref=data.get("ref", ""),
        subject=data.get("subject", ""), author=data.get("author", ""),
        dirty=data.get("dirty") == "true", deployed_at=data.get("deployedAt", ""),
        deployed_by=Identity(local_user=data.get("localUser", ""), host=data.get("host", ""),
                             ci=data.get("ci", ""), ci_url=data.get("ciUrl", ""),
                             kube_user=data.get("kubeUser", "")),
        gitdeploy_version=data.get("gitdeployVersion", ""), outcome=data.get("outcome", ""),
        counts={str(k): int(v) for k, v in counts.items()}, digest=data.get("digest", ""),
        applied=lines("applied"), failed=lines("failed"),
        rollback_of=data.get("rollbackOf", ""), name=obj["metadata"]["name"],
        variables=lines("variables"),
    )


class RecordStore:
    """The records of one environment, in one namespace."""

    def __init__(self, client: KubeClient, namespace: str, environment: str) -> None:
        self.client = client
        self.namespace = namespace
        self.environment = environment
        self.collection = api_path("v1", "configmaps", namespace=namespace)

    def list(self) -> list[DeployRecord]:
        """Newest first."""
        selector = f"{ENVIRONMENT_LABEL}={dns_label(self.environment)},{RECORD_LABEL}"
        try:
            answer = self.client.request("GET", self.collection,
                                         query={"labelSelector": selector})
        except ApiStatusError as error:
            if error.status == 404:  # the namespace does not exist yet: nothing deployed
                return []
            raise
        records = [r for r in (_from_configmap(item) for item in answer.get("items") or [])
                   if r is not None and r.environment == self.environment]
        return sorted(records, key=lambda r: r.sequence, reverse=True)

    def add(self, make: Callable[[int], DeployRecord], *, keep: int) -> DeployRecord:
        """Write the record `make(next sequence number)` returns, then delete the records
        beyond the newest `keep`. One LIST, one POST, and a DELETE per record dropped."""
        existing = self.list()
        record = make(existing[0].sequence + 1 if existing else 1)
        self.client.create(self.collection, _to_configmap(record, self.namespace),
                           query={"fieldManager": FIELD_MANAGER})
        for old in existing[max(keep - 1, 0):]:
            # The record is written whatever happens here: an old record left behind (or
            # already gone) is dropped by the next deploy, which drops all beyond `keep`.
            with contextlib.suppress(KubeError):
                self.client.request("DELETE", f"{self.collection}/{old.name}")
        return record
