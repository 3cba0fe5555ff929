"""JSON documents: one versioned envelope (`apiVersion: gitdeploy.io/v1`, `kind`), documented
field by field in docs/json-output.md and pinned by tests/output/test_json_contract.py.
Secret values are masked in every document."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import yaml

from gitdeploy import __version__
from gitdeploy.errors import place_of
from gitdeploy.objects.secrets import mask
from gitdeploy.results import API_VERSION, Action

if TYPE_CHECKING:
    from gitdeploy.results.apply import ApplyReport, WaitReport
    from gitdeploy.results.environment import EnvironmentInfo, RenderedObjects, SourceInfo, Target
    from gitdeploy.results.plan import Change, Plan
    from gitdeploy.results.state import (
        DeployRecord,
        EnvironmentStatus,
        History,
        LeaseState,
        OrphanReport,
    )
    from gitdeploy.results.validate import Problem, PulledSchemas, ValidationReport


def _envelope(kind: str, **fields: Any) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": kind, "gitdeployVersion": __version__, **fields}


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False)


class _YamlDumper(yaml.SafeDumper):
    """Block style, multi-line texts (diffs, messages) as literal blocks."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_YamlDumper.add_representer(str, _text)


def dumps_yaml(document: dict[str, Any]) -> str:
    """The same document as `dumps`, as YAML (`-o yaml`)."""
    return yaml.dump(document, Dumper=_YamlDumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=1_000_000)


def environments(envs: list[EnvironmentInfo]) -> dict[str, Any]:
    return _envelope("EnvironmentList", environments=[
        {
            "name": env.name,
            "path": env.path,
            "context": env.context,
            "namespace": env.namespace,
            "cluster": {"server": env.server, "uid": env.uid},
            "protected": env.protected,
            "prune": env.prune,
            "suspend": env.suspend,
            "suspendReason": env.suspend_reason,
            "stateNamespace": env.state_namespace,
            "broken": env.broken,
            "error": env.error or None,
        }
        for env in envs
    ])


def rendered(result: RenderedObjects) -> dict[str, Any]:
    return _envelope("RenderedObjects", environment=result.environment, objects=[
        {"source": str(m.origin), "object": mask(m.body)} for m in result.manifests
    ])


def _header(plan: Plan) -> dict[str, Any]:
    return {
        "environment": plan.environment,
        "target": _target(plan.target),
        "source": _source(plan.source),
        "base": _source(plan.base) if plan.base is not None else None,
    }


def _source(source: SourceInfo) -> dict[str, Any]:
    return {"commit": source.commit, "ref": source.ref_name or None, "branch": source.branch,
            "dirty": source.dirty, "dirtyFiles": list(source.dirty_files)}


def _target(target: Target) -> dict[str, Any]:
    return {"context": target.context, "server": target.server,
            "clusterUID": target.cluster_uid}


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
        "conflicts": [{"field": c.field, "manager": c.manager, "human": c.human,
                       "resolution": c.resolution.value, "reason": c.reason}
                      for c in change.conflicts],
        "ignored": list(change.ignored),
        "replace": None if change.replace is None else {
            "fields": list(change.replace.fields), "allowed": change.replace.allowed,
            "by": change.replace.by or None},
        "kept": change.kept or None,
        "diff": change.diff,
    }


def summary(plan: Plan) -> dict[str, int]:
    counts = {action.value: plan.count(action) for action in Action}
    return {**counts, "kept": len(plan.kept), "changes": len(plan.pending)}


def plan(plan: Plan, orphan_report: OrphanReport | None = None) -> dict[str, Any]:
    extra: dict[str, Any] = {"orphans": _orphans(orphan_report)} if orphan_report else {}
    if plan.variables:  # the variables substituted: names and sources, never values
        extra["variables"] = list(plan.variables)
    return _envelope("Plan", **_header(plan), prune=plan.prune, summary=summary(plan),
                     missingNamespaces=list(plan.missing_namespaces),
                     changes=[_change(c) for c in plan.changes], **extra)


def _orphans(report: OrphanReport) -> dict[str, Any]:
    return {
        "namespaces": report.namespaces,
        "items": [{"apiVersion": o.api_version, "kind": o.kind, "namespace": o.namespace,
                   "name": o.name, "created": o.created, "managers": list(o.managers)}
                  for o in report.orphans],
        "unchecked": report.unchecked,
    }


def orphans(report: OrphanReport) -> dict[str, Any]:
    return _envelope("Orphans", environment=report.environment, target=_target(report.target),
                     **_orphans(report))


def apply_report(report: ApplyReport) -> dict[str, Any]:
    return _envelope(
        "ApplyResult", **_header(report.plan), summary=summary(report.plan),
        succeeded=report.succeeded,
        interrupted=report.interrupted or None,
        problems=list(report.problems),
        results=[{**_change(r.change), "outcome": r.outcome.value, "error": r.error}
                 for r in report.results],
        record=record(report.record) if report.record else None,
        readiness=readiness(report.readiness) if report.readiness else None,
    )


def readiness(report: WaitReport) -> dict[str, Any]:
    return {
        "ready": report.ready,
        "timedOut": report.timed_out,
        "interrupted": report.interrupted,
        "seconds": round(report.seconds, 1),
        "timeoutSeconds": report.timeout,
        "objects": [{"kind": item.kind, "namespace": item.namespace or None, "name": item.name,
                     "state": item.state.value, "message": item.readiness.message,
                     "conditions": list(item.readiness.conditions),
                     "warningEvents": list(item.events)} for item in report.items],
    }


def record(rec: DeployRecord) -> dict[str, Any]:
    who = rec.deployed_by
    return {
        "sequence": rec.sequence,
        "environment": rec.environment,
        "kind": rec.kind,
        "commit": rec.commit or None,
        "ref": rec.ref or None,
        "subject": rec.subject,
        "author": rec.author,
        "dirty": rec.dirty,
        "deployedAt": rec.deployed_at,
        "deployedBy": {"localUser": who.local_user, "host": who.host,
                       "kubeUser": who.kube_user or None, "ci": who.ci or None,
                       "ciUrl": who.ci_url or None},
        "gitdeployVersion": rec.gitdeploy_version,
        "outcome": rec.outcome,
        "counts": rec.counts,
        "digest": rec.digest,
        "applied": list(rec.applied),
        "failed": list(rec.failed),
        "rollbackOf": rec.rollback_of or None,
        "name": rec.name or None,
    }


def _lock(state: LeaseState | None) -> dict[str, Any] | None:
    if state is None:
        return None
    return {"holder": state.holder,
            "since": state.acquired.isoformat() if state.acquired else None,
            "renewed": state.renewed.isoformat() if state.renewed else None,
            "durationSeconds": state.duration}


def status(result: EnvironmentStatus) -> dict[str, Any]:
    behind, ahead = result.distance if result.distance else (None, None)
    return _envelope(
        "Status", environment=result.environment, target=_target(result.target),
        live=record(result.live) if result.live else None,
        comparedTo=_source(result.compared_to),
        inLocalHistory=result.in_history,
        commitsBehind=behind, commitsAhead=ahead,
        drift={"checked": result.drift is not None, "drifted": result.drifted,
               "note": result.drift_note or None,
               "changes": [_change(c) for c in result.drift.pending] if result.drift else []},
        lock=_lock(result.lock),
    )


def validation(report: ValidationReport) -> dict[str, Any]:
    """docs/json-output.md#validation: every problem, with its file, line, column and field."""
    skipped = report.skipped
    return _envelope("Validation", valid=report.problems == 0, problems=report.problems,
                     warnings=report.warnings,
                     summary={"environments": len(report.environments),
                              "documents": report.documents, "objects": report.objects,
                              "errors": report.problems, "warnings": report.warnings,
                              "skipped": sum(skipped.values()), "skippedKinds": skipped},
                     environments=[
                         {"name": env.name, "kubernetesVersion": env.kubernetes_version,
                          "kubernetesVersionFrom": env.version_from,
                          "documents": env.documents, "objects": env.objects,
                          "skipped": dict(sorted(env.skipped.items())),
                          "problems": [_validation_problem(p) for p in env.problems]}
                         for env in report.environments])



def pulled_schemas(result: PulledSchemas) -> dict[str, Any]:
    return _envelope("PulledSchemas", environment=result.environment, server=result.server,
                     folder=result.folder, files=result.files)


def _validation_problem(problem: Problem) -> dict[str, Any]:
    return {"source": problem.location, "file": problem.source or None,
            "line": problem.line or None, "column": problem.column or None,
            "object": problem.object or None, "path": problem.path or None,
            "message": problem.message, "severity": problem.severity,
            "check": problem.check or None, "renderedBy": problem.rendered_by or None}


def history(result: History) -> dict[str, Any]:
    return _envelope("History", environment=result.environment, target=_target(result.target),
                     records=[record(r) for r in result.records])



def error(kind: str, message: str, details: list[str], exit_code: int) -> dict[str, Any]:
    """What `-o json` writes to stdout when a command fails before writing its result: the
    message, where it points (file, line, column), and each detail line that names a place,
    as a problem with its own."""
    place = place_of(message)
    problems = [{"file": found.file, "line": found.line, "column": found.column,
                 "message": line} for line in details if (found := place_of(line))]
    return _envelope("Error", error={
        "type": kind, "message": message, "details": details, "exitCode": exit_code,
        "file": place.file if place else None, "line": place.line if place else None,
        "column": place.column if place else None, "problems": problems})
