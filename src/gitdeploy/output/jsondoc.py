"""JSON documents: one versioned envelope (`apiVersion: gitdeploy.io/v1`, `kind`), documented
field by field in docs/json-output.md and pinned by tests/test_json_contract.py.
Secret values are masked in every document."""

from __future__ import annotations

import json
from typing import Any

from gitdeploy import __version__
from gitdeploy.environments import Environment
from gitdeploy.render import RenderedSet
from gitdeploy.results import Action, ApplyReport, Change, Plan
from gitdeploy.secrets import mask

API_VERSION = "gitdeploy.io/v1"


def _envelope(kind: str, **fields: Any) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": kind, "gitdeployVersion": __version__, **fields}


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False)


def environments(envs: list[Environment]) -> dict[str, Any]:
    return _envelope("EnvironmentList", environments=[
        {
            "name": env.name,
            "path": str(env.path),
            "context": env.settings.context,
            "namespace": env.settings.namespace,
            "cluster": {"server": env.settings.cluster.server, "uid": env.settings.cluster.uid},
            "protected": env.settings.protected,
            "prune": env.settings.prune,
            "suspend": env.settings.suspend,
        }
        for env in envs
    ])


def rendered(result: RenderedSet) -> dict[str, Any]:
    return _envelope("RenderedObjects", environment=result.environment.name, objects=[
        {"source": str(m.origin), "object": mask(m.body)} for m in result.manifests
    ])


def _header(plan: Plan) -> dict[str, Any]:
    return {
        "environment": plan.environment,
        "target": {"context": plan.target.context, "server": plan.target.server,
                   "clusterUID": plan.target.cluster_uid},
        "source": {"commit": plan.source.commit, "branch": plan.source.branch,
                   "dirty": plan.source.dirty},
    }


def _change(change: Change) -> dict[str, Any]:
    return {
        "action": change.action.value,
        "apiVersion": change.api_version,
        "kind": change.kind,
        "namespace": change.namespace,
        "name": change.name,
        "source": str(change.manifest.origin),
        "verified": change.verified,
        "note": change.note,
        "drift": [{"field": d.field, "manager": d.manager} for d in change.drift],
        "diff": change.diff,
    }


def summary(plan: Plan) -> dict[str, int]:
    counts = {action.value: plan.count(action) for action in Action}
    return {**counts, "changes": len(plan.pending)}


def plan(plan: Plan) -> dict[str, Any]:
    return _envelope("Plan", **_header(plan), summary=summary(plan),
                     changes=[_change(c) for c in plan.changes])


def apply_report(report: ApplyReport) -> dict[str, Any]:
    return _envelope(
        "ApplyResult", **_header(report.plan), summary=summary(report.plan),
        succeeded=report.succeeded,
        results=[{**_change(r.change), "outcome": r.outcome.value, "error": r.error}
                 for r in report.results],
    )

