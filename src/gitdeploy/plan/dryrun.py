"""Plan: what apply would do, computed by the API server.

Every object is sent as a server-side apply with `dryRun=All` (field manager `gitdeploy`, as
apply sends it) and the server's answer is compared with the live object, both normalized. The
fields shared with others (ignore rules, autoscalers' replicas, conflicts with other field
managers, immutable fields) are settled by plan/fields.py; objects in a namespace that does not
exist yet are shown as created, and the namespace named (docs/real-clusters.md).

An object whose sync fingerprint (state/synced.py) equals the one kept by the last apply is not
dry-run: the server could only answer with the live object (docs/performance.md). `full`
dry-runs every object.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from gitdeploy.errors import GitdeployError, KubeError
from gitdeploy.kube.client import ApiStatusError, KubeClient
from gitdeploy.kube.concurrency import map_bounded
from gitdeploy.kube.discovery import Discovery, ResourceInfo
from gitdeploy.kube.target import Connection
from gitdeploy.objects.applyset import PART_OF_LABEL, Inventory
from gitdeploy.objects.ignore import HPA_GROUP, HPA_KIND, Ignored, IgnoreRule, hpa_rule
from gitdeploy.objects.kinds import api_path, diff_label, is_crd, is_namespace
from gitdeploy.objects.managers import ConflictPolicy
from gitdeploy.objects.manifests import Manifest, Origin
from gitdeploy.objects.normalize import normalize
from gitdeploy.objects.secrets import SecretMasker, holds_secrets, remember
from gitdeploy.objects.yamldiff import unified
from gitdeploy.plan.drift import find_drift
from gitdeploy.plan.fields import FieldRules, Prepared, dry_run, prepare
from gitdeploy.plan.planfile import plan_key
from gitdeploy.render.environment import RenderedSet
from gitdeploy.results import Action
from gitdeploy.results.environment import SourceInfo
from gitdeploy.results.plan import Change, Plan
from gitdeploy.state.inventory import Member, list_members, read_inventory
from gitdeploy.state.synced import Fingerprints, SyncedState, object_key, read_synced

PRUNE_ANNOTATION = "gitdeploy.io/prune"


@dataclass
class _Item:
    manifest: Manifest
    resource: ResourceInfo
    unverified: str = ""  # why the server cannot dry-run it yet
    live: dict[str, Any] | None = None
    prepared: Prepared | None = None  # what apply sends, and the server's dry-run answer
    result: dict[str, Any] | None = None  # the dry-run answer, when nothing was prepared
    synced: str = ""  # its sync fingerprint against the live object ("" when none)
    skipped: bool = False  # the fingerprint is the one kept: not dry-run
    change: Change | None = None  # made as soon as its dry run answers (_dry_run)

    @property
    def namespace(self) -> str:
        return self.manifest.namespace if self.resource.namespaced else ""

    @property
    def path(self) -> str:
        return self.resource.path(self.namespace, self.manifest.name)


def build_plan(rendered: RenderedSet, connection: Connection, source: SourceInfo,
               *, concurrency: int, prune: bool = False, replace: bool = False,
               full: bool = False) -> Plan:
    """The plan. Every error raised meanwhile (the API server's messages, which may quote what
    was sent) is masked for the values of the environment's Secrets. With `replace`, objects
    whose immutable fields changed are planned as delete + create. With `full`, every object
    is dry-run, unchanged since the last apply or not."""
    masker = SecretMasker.of_secrets(manifest.body for manifest in rendered.manifests)
    remember(masker)  # the error boundary masks them too, for the rest of the run
    try:
        return _build_plan(rendered, connection, source, concurrency=concurrency, prune=prune,
                           replace=replace, full=full)
    except GitdeployError as error:
        masker.mask_error(error)
        raise


def _build_plan(rendered: RenderedSet, connection: Connection, source: SourceInfo,
                *, concurrency: int, prune: bool, replace: bool, full: bool) -> Plan:
    client = connection.client
    env = rendered.environment
    discovery = Discovery(client)
    inventory, synced = _read_state(rendered, client, discovery, concurrency, full=full)
    manifests = [inventory.label(manifest) for manifest in rendered.manifests]
    items = _resolve(manifests, discovery)
    missing = _mark_namespaces(items, client, concurrency)
    rules = FieldRules(
        rules=env.settings.ignore_rules + _autoscaled(items, client, discovery, concurrency),
        conflicts=env.settings.conflicts, replace=replace)
    skip = _Skip(rules, synced, fingerprints_for(manifests), inventory.id)
    listed = _fetch_live(items, client, concurrency, skip)
    skip.report(items, client)
    members = list_members(inventory, client, discovery, concurrency, listed)
    del listed
    in_git = {(i.resource.group, i.resource.kind, i.namespace, i.manifest.name) for i in items}
    inventory_size = len(members)
    gone = [member for member in members if member.key not in in_git]
    del members
    _dry_run(items, client, concurrency, rules, inventory.id)
    changes = [_namespace_creation(ns, str(env.settings_path)) for ns in missing
               if env.settings.create_namespace]
    changes += [item.change or _change(item, inventory.id) for item in items]
    changes += [_deletion(member) for member in gone]
    return Plan(environment=env.name, target=connection.target, source=source,
                changes=changes, protected=env.settings.protected, prune=prune,
                inventory=inventory, inventory_size=inventory_size, missing_namespaces=missing)


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


def _read_state(rendered: RenderedSet, client: KubeClient, discovery: Discovery,
                concurrency: int, *, full: bool) -> tuple[Inventory, SyncedState]:
    """The ApplySet parent and the sync fingerprints, read while discovery learns the objects'
    API versions and where HorizontalPodAutoscalers are served: one round trip for all."""
    env = rendered.environment
    store = env.settings.store_namespace

    def fingerprints() -> SyncedState:
        return SyncedState(problem="--full") if full else read_synced(client, store, env.name)

    api_versions = sorted({m.api_version for m in rendered.manifests})
    # In the order their errors come first, as when they were read one after another.
    calls: list[Callable[[], object]] = [
        lambda: read_inventory(client, env.name, store),
        *(partial(discovery.resolve, version, "") for version in api_versions),
        fingerprints, partial(discovery.resolve_group_kind, HPA_GROUP, HPA_KIND)]
    found = map_bounded(lambda call: call(), calls, concurrency)
    inventory, synced = found[0], found[-2]
    assert isinstance(inventory, Inventory) and isinstance(synced, SyncedState)
    return inventory, synced


def _resolve(manifests: list[Manifest], discovery: Discovery) -> list[_Item]:
    """Each object with its resource (discovery knows their API versions already)."""
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


def _mark_namespaces(items: list[_Item], client: KubeClient, concurrency: int) -> list[str]:
    """Objects whose namespace does not exist yet cannot be dry-run: mark them. A namespace
    in the plan is read as its object is (it may be created by this plan). A namespace the
    objects need that is neither in the plan nor in the cluster: the server cannot dry-run its
    objects (a 404 for the namespace, ssa-missing-namespace.jsonl), which a first deploy
    creates; returned. A namespace the kube user may not read is taken as existing: its
    objects' dry run says the rest. Every namespace is read at once."""
    planned = [i for i in items if is_namespace(i.resource.group, i.resource.kind)]
    planned_names = {i.manifest.name for i in planned}
    needed = sorted({i.namespace for i in items if i.namespace and i.namespace not in
                     planned_names})

    def read(entry: _Item | str) -> bool:
        if isinstance(entry, _Item):
            entry.live = client.get(entry.path)
            return entry.live is not None
        try:
            return client.get(api_path("v1", "namespaces", name=entry)) is not None
        except ApiStatusError as error:
            if error.status == 403:
                return True
            raise

    entries: list[_Item | str] = [*planned, *needed]
    found = map_bounded(read, entries, concurrency)
    new = {i.manifest.name for i in planned if i.live is None}
    missing = [ns for ns, exists in zip(needed, found[len(planned):], strict=True) if not exists]
    for item in items:
        if item.unverified:
            continue
        if item.namespace in new:
            item.unverified = f"its namespace {item.namespace} is created by this plan"
        elif item.namespace in missing:
            item.unverified = f"its namespace {item.namespace} does not exist yet"
    return missing


def _namespace_creation(namespace: str, settings_path: str) -> Change:
    """The Namespace that `createNamespace` adds: not in git, so not in the ApplySet (never
    pruned), like Helm's --create-namespace."""
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    manifest = Manifest(body=body, origin=Origin(f"createNamespace of {settings_path}"))
    return Change(action=Action.CREATE, manifest=manifest, api_version="v1", kind="Namespace",
                  namespace="", name=namespace,
                  diff=unified(None, body, diff_label("Namespace", "", namespace)),
                  path=api_path("v1", "namespaces", name=namespace), verified=False,
                  note="not in git: created for the objects in it (createNamespace)")


def _autoscaled(items: list[_Item], client: KubeClient, discovery: Discovery,
                concurrency: int) -> tuple[IgnoreRule, ...]:
    """The replicas that HorizontalPodAutoscalers scale, in git or in the cluster: left to
    them, with no rule to write."""
    rules = [hpa_rule(i.manifest.body, f"in {i.manifest.origin}") for i in items
             if (i.resource.group, i.resource.kind) == (HPA_GROUP, HPA_KIND)]
    resource = discovery.resolve_group_kind(HPA_GROUP, HPA_KIND)
    namespaces = sorted({i.namespace for i in items if i.namespace and not i.unverified})
    if resource is not None and namespaces:
        def listed(namespace: str) -> list[dict[str, Any]]:
            try:
                found = client.request("GET", resource.collection_path(namespace))
            except ApiStatusError as error:
                if error.status in (403, 404):
                    return []  # not readable here: the HPAs in git still count
                raise
            return [{"apiVersion": resource.api_version, "kind": HPA_KIND, **hpa}
                    for hpa in found.get("items") or []]

        in_git = {(i.namespace, i.manifest.name) for i in items
                  if (i.resource.group, i.resource.kind) == (HPA_GROUP, HPA_KIND)}
        for hpas in map_bounded(listed, namespaces, concurrency):
            rules.extend(hpa_rule(hpa, "in the cluster") for hpa in hpas
                         if (hpa["metadata"].get("namespace"), hpa["metadata"].get("name"))
                         not in in_git)
    return tuple(rule for rule in rules if rule is not None)


def _fetch_live(items: list[_Item], client: KubeClient, concurrency: int, skip: _Skip
                ) -> dict[str, list[dict[str, Any]]]:
    """One LIST per resource and namespace where it saves requests, otherwise one GET each.
    Each live object is checked against its sync fingerprint as its page arrives, and let go
    when it is unchanged (`_Skip`): the plan holds the live objects it will dry-run, not
    every object of the environment at once. Returns, for each collection listed, the
    members of the ApplySet found in it: those still in git only as far as `list_members`
    reads them (metadata), the others whole (their deletion is shown)."""
    listed: dict[str, list[dict[str, Any]]] = {}
    groups: dict[str, list[_Item]] = defaultdict(list)
    for item in items:
        if is_namespace(item.resource.group, item.resource.kind):
            skip(item)  # read already (_mark_namespaces)
        elif not item.unverified:
            groups[item.resource.collection_path(item.namespace)].append(item)

    def fetch(entry: tuple[str, list[_Item]]) -> None:
        collection, members = entry
        if len(members) == 1:
            members[0].live = client.get(members[0].path)
            skip(members[0])
            return
        by_name = {member.manifest.name: member for member in members}
        found: dict[str, dict[str, Any]] = {}

        def forget() -> None:  # the LIST starts over: only its latest reading counts
            found.clear()
            for member in members:
                member.live = None
                skip(member)

        for page in client.list_pages(collection, restarted=forget):
            for live in page:
                metadata = live["metadata"]
                in_set = (metadata.get("labels") or {}).get(PART_OF_LABEL) == skip.set_id
                member = by_name.get(metadata["name"])
                if member is None:
                    if in_set:
                        found[metadata["name"]] = live  # no longer in git: a prune candidate
                    continue
                if in_set:
                    found[metadata["name"]] = {"metadata": {
                        key: metadata[key] for key in ("name", "namespace", "labels")
                        if key in metadata}}
                # List items come without them; a GET has them first, kind before apiVersion.
                member.live = {"kind": member.resource.kind,
                               "apiVersion": member.resource.api_version, **live}
                skip(member)
        listed[collection] = list(found.values())

    map_bounded(fetch, list(groups.items()), concurrency)
    return listed


def fingerprints_for(manifests: list[Manifest]) -> Fingerprints:
    """Fingerprints keyed with the plan key when an object holds secret values; without a key,
    such objects have none (they are always dry-run)."""
    if not any(holds_secrets(manifest.body) for manifest in manifests):
        return Fingerprints()
    try:
        key = plan_key(create=False)
    except GitdeployError:
        key = None  # a plan key that cannot be used: only costs their dry runs
    return Fingerprints(key.secret if key is not None else None)


class _Skip:
    """Computes each live object's sync fingerprint; an object whose fingerprint is the one
    kept is unchanged: its dry run is skipped, its answer taken as the live object
    (state/synced.py). Its change is made at once and its live object let go, as a dry run's
    (`_dry_run`)."""

    def __init__(self, rules: FieldRules, synced: SyncedState, fingerprints: Fingerprints,
                 set_id: str) -> None:
        self.rules, self.synced, self.fingerprints = rules, synced, fingerprints
        self.set_id = set_id

    def __call__(self, item: _Item) -> None:
        # Each reading starts from nothing (a LIST that starts over reads the item again).
        item.prepared, item.synced, item.skipped, item.change = None, "", False, None
        if item.unverified or item.live is None:
            return
        prepared = prepare(item.manifest.body, item.live, self.rules)
        if prepared.handover is not None:
            return  # apply hands fields over first: a write, never skipped
        item.synced = self.fingerprints.of(item.manifest.body, prepared.send, item.live)
        if self.synced.matches(_key(item), item.synced):
            prepared.result = item.live
            item.prepared, item.skipped = prepared, True
            item.change = _change(item, self.set_id)
            prepared.result = item.live = None

    def report(self, items: list[_Item], client: KubeClient) -> None:
        skipped = sum(1 for item in items if item.skipped)
        why = f" (fingerprints: {self.synced.problem})" if self.synced.problem else ""
        client.trace(f"plan: {skipped} of {len(items)} object(s) unchanged since the last "
                     f"apply, not dry-run{why}")


def _key(item: _Item) -> str:
    return object_key(item.resource.api_version, item.resource.kind, item.namespace,
                      item.manifest.name)


def _dry_run(items: list[_Item], client: KubeClient, concurrency: int, rules: FieldRules,
             set_id: str) -> None:
    """Each object's change is made as soon as its dry run answers, and the answer and the
    live object let go: a plan of thousands of objects does not hold them all at once."""
    for item in items:
        if item.unverified:
            item.prepared = prepare(item.manifest.body, None, rules)

    def run(item: _Item) -> str:
        try:
            item.prepared = dry_run(client, item.path, item.manifest.body, item.live, rules)
        except ApiStatusError as error:
            if error.status in (401, 403) or (error.status >= 500 and not error.invalid_object):
                raise
            return f"{item.manifest.key} ({item.manifest.origin}): {error.message}"
        item.change = _change(item, set_id)
        item.prepared.result = item.live = None
        return ""

    verified = [item for item in items if not item.unverified and not item.skipped]
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


def _compared(body: dict[str, Any], ignored: Ignored, live: dict[str, Any] | None
              ) -> dict[str, Any]:
    """`body` as plans compare it: normalized, without the fields left to others."""
    return ignored.strip(normalize(body), live) if ignored else normalize(body)


def _change(item: _Item, set_id: str) -> Change:
    manifest = item.manifest
    prepared = item.prepared or Prepared(send=manifest.body, ignored=Ignored(()),
                                         result=item.result)
    ignored = prepared.ignored
    before = _compared(item.live, ignored, item.live) if item.live is not None else None
    if item.skipped and before is not None:
        after = before  # its dry run would answer with the live object (state/synced.py)
    elif item.unverified or prepared.replace is not None:
        after = _compared(prepared.send, ignored, item.live)
    else:
        assert prepared.result is not None
        after = _compared(prepared.result, ignored, item.live)
    adopted = _adopted(item.live, set_id)
    if before is None:
        action = Action.CREATE
    elif adopted:
        action = Action.ADOPT
    elif before == after and prepared.replace is None:
        action = Action.UNCHANGED
    else:
        action = Action.UPDATE
    title = diff_label(manifest.kind, item.namespace, manifest.name)
    diff = unified(before, after, title) if action is not Action.UNCHANGED else ""
    drift = find_drift(item.live, before, after) if item.live and before and action in (
        Action.UPDATE, Action.ADOPT) else []
    # Fields apply will not take back (a controller's, by the conflict policy) are no drift.
    kept_by = {c.manager for c in prepared.conflicts if c.resolution is not
               ConflictPolicy.TAKE_OVER}
    drift = [d for d in drift if d.manager not in kept_by]
    note = f"not verified by the server: {item.unverified}" if item.unverified else adopted
    # Kept by the apply for the next plan: an object found in sync, with nothing left to others.
    in_sync = action is Action.UNCHANGED and not prepared.conflicts and \
        prepared.handover is None and prepared.replace is None and not item.unverified
    live_meta = (item.live or {}).get("metadata") or {}
    return Change(
        action=action, manifest=manifest, api_version=manifest.api_version, kind=manifest.kind,
        namespace=item.namespace, name=manifest.name, diff=diff, path=item.path,
        verified=not item.unverified and prepared.replace is None,
        note=note, drift=drift, uid=str(live_meta.get("uid") or ""),
        resource_version=str(live_meta.get("resourceVersion") or ""),
        conflicts=prepared.conflicts, ignored=ignored.reasons(manifest.body, item.live),
        send=prepared.send if prepared.send is not manifest.body else None,
        force=prepared.force, handover=prepared.handover, replace=prepared.replace,
        live_spec=before, synced=item.synced if in_sync else "", dry_run_skipped=item.skipped,
    )
