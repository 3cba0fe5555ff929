"""Builders for the result model (Manifest, Change, Plan, DeployRecord, ...) in unit tests.

Every builder takes keyword arguments with plain defaults, so a test names only what it is about.
"""

from __future__ import annotations

from typing import Any

from gitdeploy.objects.applyset import GroupKind, Inventory, parent_name
from gitdeploy.objects.manifests import Body, Manifest, Origin
from gitdeploy.results import Action, Outcome
from gitdeploy.results.apply import ApplyReport, ObjectResult
from gitdeploy.results.environment import SourceInfo, Target
from gitdeploy.results.plan import Change, Plan
from gitdeploy.results.state import DEPLOY, SUCCEEDED, DeployRecord, Identity

COMMIT = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
OTHER_COMMIT = "9f8e7d6c5b4a39281706f5e4d3c2b1a098f7e6d5"
TARGET = Target(context="kind-dev", server="https://127.0.0.1:6443", cluster_uid="uid-1")


def body(kind: str = "ConfigMap", name: str = "app", namespace: str = "shop", *,
         api_version: str = "v1", **fields: Any) -> Body:
    """A Kubernetes object; `namespace=""` for a cluster-scoped one."""
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **fields}


def configmap(name: str = "app", namespace: str = "shop", data: dict[str, str] | None = None
              ) -> Body:
    return body("ConfigMap", name, namespace, data=dict(data or {"key": "value"}))


def manifest(content: Body | None = None, path: str = "environments/dev/app.yaml",
             line: int = 1) -> Manifest:
    return Manifest(body=content if content is not None else configmap(),
                    origin=Origin(path, line))


def api_path(api_version: str, kind: str, namespace: str, name: str) -> str:
    """The object's API path, with the plural guessed as kind + "s" (enough for tests)."""
    prefix = "/apis" if "/" in api_version else "/api"
    where = f"/namespaces/{namespace}" if namespace else ""
    return f"{prefix}/{api_version}{where}/{kind.lower()}s/{name}"


def change(kind: str = "ConfigMap", name: str = "app", namespace: str = "shop", *,
           action: Action = Action.UPDATE, api_version: str = "v1", diff: str = "",
           content: Body | None = None, resource_version: str = "", kept: str = "",
           uid: str = "") -> Change:
    """A planned change; its manifest body is `content`, else a minimal object of that kind."""
    the_body = content if content is not None else body(kind, name, namespace,
                                                        api_version=api_version)
    return Change(action=action, manifest=manifest(the_body), api_version=api_version,
                  kind=kind, namespace=namespace, name=name, diff=diff,
                  path=api_path(api_version, kind, namespace, name),
                  uid=uid, resource_version=resource_version, kept=kept)


def delete(kind: str = "ConfigMap", name: str = "old", namespace: str = "shop", *,
           api_version: str = "v1", kept: str = "") -> Change:
    return change(kind, name, namespace, action=Action.DELETE, api_version=api_version,
                  kept=kept, resource_version="7", uid=f"uid-{name}")


def source(commit: str | None = COMMIT, *, dirty: bool = False,
           dirty_files: tuple[str, ...] = (), ref: str | None = None) -> SourceInfo:
    return SourceInfo(commit=commit, dirty=dirty, branch="main", ref=ref,
                      subject="Change the app", author="Alice", dirty_files=dirty_files)


def inventory(environment: str = "dev", namespace: str = "shop", *,
              group_kinds: set[GroupKind] | None = None,
              namespaces: set[str] | None = None) -> Inventory:
    return Inventory(environment=environment, namespace=namespace,
                     name=parent_name(environment), exists=True,
                     group_kinds=set(group_kinds or set()), namespaces=set(namespaces or set()))


def plan(changes: list[Change] | None = None, *, environment: str = "dev",
         source_info: SourceInfo | None = None, prune: bool = False, inventory_size: int = 0,
         applyset: Inventory | None = None, base: SourceInfo | None = None) -> Plan:
    return Plan(environment=environment, target=TARGET,
                source=source_info if source_info is not None else source(),
                changes=list(changes or []), prune=prune, inventory=applyset,
                base=base, inventory_size=inventory_size)


IDENTITY = Identity(local_user="alice", host="laptop")


def record(sequence: int, commit: str = COMMIT, *, outcome: str = SUCCEEDED,
           kind: str = DEPLOY, environment: str = "dev", dirty: bool = False) -> DeployRecord:
    return DeployRecord(
        sequence=sequence, environment=environment, kind=kind, commit=commit,
        ref="main" if commit else "", subject=f"deploy {sequence}", author="Alice",
        dirty=dirty, deployed_at=f"2025-01-{sequence % 28 + 1:02d}T10:00:00+00:00",
        deployed_by=IDENTITY, gitdeploy_version="1.0.0", outcome=outcome,
        counts={"create": 1}, digest="sha256:00")


def report(results: list[tuple[Change, Outcome, str]], *, environment: str = "dev",
           deploy_record: DeployRecord | None = None) -> ApplyReport:
    the_plan = plan([c for c, _, _ in results], environment=environment)
    return ApplyReport(plan=the_plan,
                       results=[ObjectResult(c, outcome, error) for c, outcome, error in results],
                       record=deploy_record)
