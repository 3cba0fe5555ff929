"""Plan: what apply would do, computed by the API server.

Every object is sent as a server-side apply with `dryRun=All` (field manager `gitdeploy`, forced,
as apply sends it) and the server's answer is compared with the live object, both normalized.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from gitdeploy.errors import GitdeployError, KubeError
from gitdeploy.kube.client import ApiStatusError, KubeClient
from gitdeploy.kube.concurrency import map_bounded
from gitdeploy.kube.discovery import Discovery, ResourceInfo
from gitdeploy.kube.target import Connection
from gitdeploy.objects.applyset import PART_OF_LABEL
from gitdeploy.objects.kinds import diff_label, is_crd, is_namespace
from gitdeploy.objects.manifests import Manifest, Origin
from gitdeploy.objects.normalize import normalize
from gitdeploy.objects.secrets import SecretMasker, remember
from gitdeploy.objects.yamldiff import unified
from gitdeploy.plan.drift import find_drift
from gitdeploy.render.environment import RenderedSet
from gitdeploy.results import Action, Change, Plan, SourceInfo
from gitdeploy.state.inventory import Member, list_members, read_inventory

PRUNE_ANNOTATION = "gitdeploy.io/prune"


@dataclass
class _Item:
    manifest: Manifest
    resource: ResourceInfo
    unverified: str = ""  # why the server cannot dry-run it yet
    live: dict[str, Any] | None = None
    result: dict[str, Any] | None = None

    @property
    def namespace(self) -> str:
        return self.manifest.namespace if self.resource.namespaced else ""

    @property
    def path(self) -> str:
        return self.resource.path(self.namespace, self.manifest.name)


def build_plan(rendered: RenderedSet, connection: Connection, source: SourceInfo,
               *, concurrency: int, prune: bool = False) -> Plan:
    """The plan. Every error raised meanwhile (the API server's messages, which may quote what
    was sent) is masked for the values of the environment's Secrets."""
    masker = SecretMasker.of_secrets(manifest.body for manifest in rendered.manifests)
    remember(masker)  # the error boundary masks them too, for the rest of the run
    try:
        return _build_plan(rendered, connection, source, concurrency=concurrency, prune=prune)
    except GitdeployError as error:
        masker.mask_error(error)
        raise


def _build_plan(rendered: RenderedSet, connection: Connection, source: SourceInfo,
                *, concurrency: int, prune: bool) -> Plan:
    client = connection.client
    env = rendered.environment
    discovery = Discovery(client)
    inventory = read_inventory(client, env.name, env.settings.store_namespace)
    manifests = [inventory.label(manifest) for manifest in rendered.manifests]
    items = _resolve(manifests, discovery, concurrency)
    _mark_new_namespaces(items, client)
    _fetch_live(items, client, concurrency)
    _dry_run(items, client, concurrency)
    members = list_members(inventory, client, discovery, concurrency)
    in_git = {(i.resource.group, i.resource.kind, i.namespace, i.manifest.name) for i in items}
    changes = [_change(item, inventory.id) for item in items]
    changes += [_deletion(member) for member in members if member.key not in in_git]
    return Plan(environment=env.name, target=connection.target, source=source,
                changes=changes, protected=env.settings.protected, prune=prune,
                inventory=inventory, inventory_size=len(members))


def _crd_resources(manifests: list[Manifest]) -> dict[tuple[str, str], ResourceInfo]:
    """(apiVersion, kind) -> resource for custom resources whose CRD is in the plan."""
    found = {}
    for manifest in manifests:
        if not is_crd(manifest.group, manifest.kind):
            continue
        spec = manifest.body.get("spec") or {}
        names = spec.get("names") or {}
        for version in spec.get("versions") or []:
            api_version = f"{spec.get('group')}/{version.get('name')}"
            found[(api_version, str(names.get("kind")))] = ResourceInfo(
                api_version=api_version, kind=str(names.get("kind")),
                plural=str(names.get("plural")), namespaced=spec.get("scope") != "Cluster")
    return found


def _resolve(manifests: list[Manifest], discovery: Discovery, concurrency: int) -> list[_Item]:
    api_versions = sorted({m.api_version for m in manifests})
    map_bounded(lambda v: discovery.resolve(v, ""), api_versions, concurrency)  # warm the cache
    from_plan = _crd_resources(manifests)
    items, problems = [], []
    for manifest in manifests:
        resource = discovery.resolve(manifest.api_version, manifest.kind)
        unverified = ""
        if resource is None:
            resource = from_plan.get((manifest.api_version, manifest.kind))
            unverified = "its CustomResourceDefinition is created by this plan"
        if resource is None:
            problems.append(f"{manifest.key} ({manifest.origin}): the server has no kind "
                            f"{manifest.kind} in {manifest.api_version}; is its "
                            "CustomResourceDefinition installed, or the apiVersion removed?")
            continue
        metadata = manifest.body["metadata"]
        if not resource.namespaced:
            metadata.pop("namespace", None)
        items.append(_Item(manifest, resource, unverified))
    if problems:
        raise KubeError(f"{len(problems)} object(s) of unknown kind", problems)
    return items


def _mark_new_namespaces(items: list[_Item], client: KubeClient) -> None:
    """Objects in a namespace that this plan creates cannot be dry-run: mark them."""
    namespaces = [i for i in items if is_namespace(i.resource.group, i.resource.kind)]
    for item in namespaces:
        item.live = client.get(item.path)
    new = {i.manifest.name for i in namespaces if i.live is None}
    for item in items:
        if item.namespace in new and not item.unverified:
            item.unverified = f"its namespace {item.namespace} is created by this plan"


def _fetch_live(items: list[_Item], client: KubeClient, concurrency: int) -> None:
    """One LIST per resource and namespace where it saves requests, otherwise one GET each."""
    groups: dict[str, list[_Item]] = defaultdict(list)
    for item in items:
        if not item.unverified and not is_namespace(item.resource.group, item.resource.kind):
            groups[item.resource.collection_path(item.namespace)].append(item)

    def fetch(entry: tuple[str, list[_Item]]) -> None:
        collection, members = entry
        if len(members) == 1:
            members[0].live = client.get(members[0].path)
            return
        listing = client.request("GET", collection)
        by_name = {o["metadata"]["name"]: o for o in listing.get("items") or []}
        for member in members:
            live = by_name.get(member.manifest.name)
            if live is not None:
                # List items come without them; a GET has them first, kind before apiVersion.
                live = {"kind": member.resource.kind,
                        "apiVersion": member.resource.api_version, **live}
            member.live = live

    map_bounded(fetch, list(groups.items()), concurrency)


def _dry_run(items: list[_Item], client: KubeClient, concurrency: int) -> None:
    def run(item: _Item) -> str:
        try:
            item.result = client.apply(item.path, item.manifest.body, dry_run=True)
        except ApiStatusError as error:
            if error.status in (401, 403) or (error.status >= 500 and not error.invalid_object):
                raise
            return f"{item.manifest.key} ({item.manifest.origin}): {error.message}"
        return ""

    verified = [item for item in items if not item.unverified]
    problems = [problem for problem in map_bounded(run, verified, concurrency) if problem]
    if problems:
        raise KubeError(f"the API server rejected {len(problems)} object(s) (dry run)",
                        [*problems, "fix these objects in their files: the server does not "
                                    "accept them as written, so running again will not help"])


def _deletion(member: Member) -> Change:
    body = member.body
    metadata = body["metadata"]
    namespace = metadata.get("namespace") or ""
    protected = (metadata.get("annotations") or {}).get(PRUNE_ANNOTATION) == "disabled"
    return Change(
        action=Action.DELETE, manifest=Manifest(body=body, origin=Origin("(not in git)")),
        api_version=member.resource.api_version, kind=member.resource.kind,
        namespace=namespace, name=metadata["name"],
        diff=unified(normalize(body), None,
                     diff_label(member.resource.kind, namespace, metadata["name"])),
        path=member.resource.path(namespace, metadata["name"]),
        uid=str(metadata.get("uid") or ""),
        resource_version=str(metadata.get("resourceVersion") or ""),
        kept=f"{PRUNE_ANNOTATION}: disabled" if protected else "",
    )


def _adopted(live: dict[str, Any] | None, set_id: str) -> str:
    """Why a live object is not yet part of the set ("" when it is)."""
    if live is None:
        return ""
    labels = (live.get("metadata") or {}).get("labels") or {}
    other = labels.get(PART_OF_LABEL)
    if other == set_id:
        return ""
    if other:
        return f"taken over from another ApplySet ({other})"
    return "exists in the cluster, not yet managed by this environment: apply takes it over"


def _change(item: _Item, set_id: str) -> Change:
    manifest = item.manifest
    before = normalize(item.live) if item.live is not None else None
    if item.unverified:
        after = normalize(manifest.body)
    else:
        assert item.result is not None
        after = normalize(item.result)
    adopted = _adopted(item.live, set_id)
    if before is None:
        action = Action.CREATE
    elif adopted:
        action = Action.ADOPT
    elif before == after:
        action = Action.UNCHANGED
    else:
        action = Action.UPDATE
    title = diff_label(manifest.kind, item.namespace, manifest.name)
    diff = unified(before, after, title) if action is not Action.UNCHANGED else ""
    drift = find_drift(item.live, before, after) if item.live and before and action in (
        Action.UPDATE, Action.ADOPT) else []
    note = f"not verified by the server: {item.unverified}" if item.unverified else adopted
    live_meta = (item.live or {}).get("metadata") or {}
    return Change(
        action=action, manifest=manifest, api_version=manifest.api_version, kind=manifest.kind,
        namespace=item.namespace, name=manifest.name, diff=diff, path=item.path,
        verified=not item.unverified,
        note=note, drift=drift, uid=str(live_meta.get("uid") or ""),
        resource_version=str(live_meta.get("resourceVersion") or ""),
    )
