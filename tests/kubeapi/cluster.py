"""The state of the test cluster: resource types, objects, field managers.

All mutations go through `_write`, which defaults, validates, records field ownership and, unless
the request is a dry run, stores the object.
"""

from __future__ import annotations

import datetime
import itertools
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.kubeapi import controllers, decoding, events, fields, patching
from tests.kubeapi.controllers import StatusScript
from tests.kubeapi.defaults import (
    initial_status,
    prepare,
    set_defaults,
    validate,
    zero_object,
)
from tests.kubeapi.errors import ApiError
from tests.kubeapi.resources import BUILTIN_TYPES, ResourceType, crd_types
from tests.kubeapi.selectors import FieldTerm, decode_continue, encode_continue, field_matcher
from tests.kubeapi.trees import Store, clone

Obj = dict[str, Any]
Key = tuple[str, str, str, str]  # group, plural, namespace, name
_PAST_ANY_NAME = "\U0010ffff"  # sorts after every namespace and name
INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_ROOT_CA = ("Contains a CA bundle that can be used to verify the kube-apiserver when using "
            "internal endpoints such as the internal service IP or kubernetes.default.svc. No "
            "other usage is guaranteed across distributions of Kubernetes clusters.")
GC_FINALIZERS = ("foregroundDeletion", "orphan")
CRD_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
# generateName: five characters of this alphabet after a prefix of at most 58 characters.
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
MAX_GENERATED_NAME_LENGTH = 63 - 5
# Kinds whose registry creates the object on a PUT to a missing name (a Lease:
# lease-conflict.jsonl#10), and kinds whose updates must carry a resourceVersion (#7).
CREATE_ON_UPDATE = frozenset({
    ("coordination.k8s.io", "Lease"), ("", "Service"), ("", "Endpoints"), ("", "Event"),
    ("events.k8s.io", "Event"), ("", "LimitRange"),
    ("rbac.authorization.k8s.io", "Role"), ("rbac.authorization.k8s.io", "RoleBinding"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
})
NO_UNCONDITIONAL_UPDATE = frozenset({("coordination.k8s.io", "Lease")})


@dataclass(frozen=True)
class DeleteOptions:
    """DeleteOptions as the server reads them: from the body when there is one, else from the
    query (server.py)."""

    dry_run: bool = False
    propagation: str | None = None  # Foreground, Background, Orphan, or None
    preconditions: dict[str, str] = field(default_factory=dict)


@dataclass
class Manager:
    """One managedFields entry."""

    manager: str
    operation: str  # "Apply" or "Update"
    api_version: str
    fields: fields.FieldSet
    time: str | None  # None: never changed the object (an applier that agreed with it)
    subresource: str | None = None

    def entry(self) -> Obj:
        out: Obj = {"manager": self.manager, "operation": self.operation,
                    "apiVersion": self.api_version}
        if self.time is not None:
            out["time"] = self.time
        out.update({"fieldsType": "FieldsV1", "fieldsV1": fields.to_fields_v1(self.fields)})
        if self.subresource:
            out["subresource"] = self.subresource
        return out

    def sort_key(self) -> tuple[str, str, str, str, str]:
        """kube-apiserver's order: operation, time (to the second, none first), manager,
        apiVersion, subresource."""
        return (self.operation, self.time or "", self.manager, self.api_version,
                self.subresource or "")


def _managers(obj: Obj | None) -> list[Manager]:
    if not obj:
        return []
    return [
        Manager(e["manager"], e["operation"], e.get("apiVersion", ""),
                fields.from_fields_v1(e.get("fieldsV1") or {}), e.get("time"),
                e.get("subresource"))
        for e in obj["metadata"].get("managedFields") or []
    ]


def _entries(managers: list[Manager]) -> list[Obj]:
    return [m.entry() for m in sorted((m for m in managers if m.fields),
                                      key=Manager.sort_key)]


def _set_managed(obj: Obj, managers: list[Manager]) -> None:
    """managedFields, left out when nobody owns anything (ssa-defaults.jsonl#1)."""
    entries = _entries(managers)
    metadata = obj.setdefault("metadata", {})
    if entries:
        metadata["managedFields"] = entries
    else:
        metadata.pop("managedFields", None)


class Cluster:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.types: dict[tuple[str, str], ResourceType] = {
            (t.group, t.plural): t for t in BUILTIN_TYPES
        }
        # In key order (group, plural, namespace, name): `scan` reads one kind, or one kind in
        # one namespace, without going through every object.
        self.objects = Store()
        self._versions = itertools.count(1000)
        self._ips = itertools.count(10)
        self.crd_establish_delay = 0.0
        self.rollout_delay = 0.5  # seconds for the simulated controllers (controllers.py)
        # A kube-scheduler places pods on the Nodes (`nodes`, below); the recorded cluster had
        # neither (`nodes = 0`, `scheduler = False`): the worlds of controllers.py.
        self.scheduler = True
        self.status_scripts: dict[Key, StatusScript] = {}
        self._changed_at: dict[Key, float] = {}
        # Names the server made up (generateName, the pods of ReplicaSets): name -> prefix.
        self.generated_names: dict[str, str] = {}
        # The recorders' caches (events.py): what an Event already says -> its name.
        self.legacy_events: dict[Any, str] = {}
        self.event_series: dict[Any, str] = {}
        self._established_at: dict[str, float] = {}
        for name in INITIAL_NAMESPACES:
            self.create_namespace(name)
        self.nodes = 1

    # ---- the world ---------------------------------------------------------------------
    @property
    def nodes(self) -> int:
        """How many Nodes the cluster has (`node-1` ...; each runs what is scheduled on it)."""
        with self.lock:
            return len(self.scan("", "nodes"))

    @nodes.setter
    def nodes(self, count: int) -> None:
        with self.lock:
            rtype = self.types[("", "nodes")]
            wanted = [f"node-{index}" for index in range(1, count + 1)]
            for key, _ in self.scan("", "nodes"):
                if key[3] not in wanted:
                    self._remove(rtype, "", key[3])
            for name in wanted:
                if ("", "nodes", "", name) not in self.objects:
                    self._update_write(rtype, "v1", "", name, None, _node(name), "kubelet",
                                       False)

    def reschedule(self) -> None:
        """What kube-scheduler does with unschedulable pods every five minutes: try them
        again (the same failure is a series on its FailedScheduling event)."""
        with self.lock:
            controllers.reschedule(self)

    def bind(self, namespace: str, pod: str, target: Obj, dry_run: bool,
             annotations: dict[str, str]) -> None:
        """A Binding: the pod assigned to the target node (nodeName, PodScheduled=True), as
        the pod registry's binding storage does it: straight to storage, without a
        managedFields entry."""
        with self.lock:
            problems = []
            if target.get("kind") and target["kind"] != "Node":
                problems.append(f'target.kind: Unsupported value: "{target["kind"]}": '
                                'supported values: "Node", "<empty>"')
            if not target.get("name"):
                problems.append("target.name: Required value")
            if problems:  # an error that is no Status: a 500 without a reason
                raise ApiError(500, "", problems[0] if len(problems) == 1
                               else "[" + ", ".join(problems) + "]")
            rtype = self.types[("", "pods")]
            key = ("", "pods", namespace, pod)
            old = self.objects.get(key)
            if old is None:
                raise ApiError.not_found("", "pods", pod)
            spec = old.get("spec") or {}
            problem = None
            if old["metadata"].get("deletionTimestamp"):
                problem = f"pod {pod} is being deleted, cannot be assigned to a host"
            elif spec.get("nodeName"):
                problem = f'pod {pod} is already assigned to node "{spec["nodeName"]}"'
            elif spec.get("schedulingGates"):
                problem = f"pod {pod} has non-empty .spec.schedulingGates"
            if problem:
                raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on pods/binding '
                               f'"{pod}": {problem}', {"name": pod, "kind": "pods/binding"})
            if dry_run:
                return
            new = clone(old)
            new["spec"]["nodeName"] = str(target["name"])
            if annotations:
                new["metadata"]["annotations"] = {
                    **(new["metadata"].get("annotations") or {}), **annotations}
            new["status"] = controllers.with_condition(new.get("status") or {}, {
                "type": "PodScheduled", "status": "True", "lastProbeTime": None,
                "lastTransitionTime": _now()})
            new["metadata"]["resourceVersion"] = str(next(self._versions))
            self.objects[key] = new
            controllers.after_write(self, rtype, key, old)

    def scan(self, group: str, plural: str, namespace: str | None = None
             ) -> list[tuple[Key, Obj]]:
        """The stored objects of one kind (in one namespace), in key order."""
        low: Key = (group, plural, namespace or "", "")
        high: Key = (group, plural, _PAST_ANY_NAME if namespace is None else namespace,
                     _PAST_ANY_NAME)
        with self.lock:
            return [(key, self.objects[key]) for key in self.objects.irange(low, high)]

    # ---- types -------------------------------------------------------------------------
    def served_types(self) -> list[ResourceType]:
        with self.lock:
            now = time.monotonic()
            return [t for t in self.types.values() if t.builtin or self._established_at.get(
                f"{t.plural}.{t.group}", float("inf")) <= now]

    def find_type(self, group: str, version: str, plural: str) -> ResourceType:
        for rtype in self.served_types():
            if rtype.group == group and rtype.plural == plural and version in rtype.versions:
                return rtype
        raise ApiError.no_resource()

    def kube_system_uid(self) -> str:
        return str(self.objects[("", "namespaces", "", "kube-system")]["metadata"]["uid"])

    # ---- storage -----------------------------------------------------------------------
    def key(self, rtype: ResourceType, namespace: str, name: str) -> Key:
        """Where an object is kept: events.k8s.io Events with the core v1 ones (events.py)."""
        return (*events.storage_of(rtype.group, rtype.plural), namespace, name)

    def lookup(self, rtype: ResourceType, namespace: str, name: str) -> Obj | None:
        """The stored object as `rtype`'s API has it, or None."""
        obj = self.objects.get(self.key(rtype, namespace, name))
        return None if obj is None else events.served_shape(rtype, obj)

    # ---- reads -------------------------------------------------------------------------
    def get(self, rtype: ResourceType, version: str, namespace: str, name: str) -> Obj:
        with self.lock:
            obj = self.lookup(rtype, namespace, name)
            if obj is None:
                raise ApiError.not_found(rtype.group, rtype.plural, name)
            return self._present(rtype, version, obj)

    def list(self, rtype: ResourceType, version: str, namespace: str | None,
             selector: Any, fields: Sequence[FieldTerm] = (), *, limit: int = 0,
             continue_token: str = "", resource_version: str = "") -> Obj:
        """A LIST as the real server answers it: field labels the kind does not support are a
        400, then items in storage key order (namespace/name), `limit` items a page with a
        continue token and, without selectors, `remainingItemCount` (list-selectors.jsonl#45).
        Built-in items carry neither kind nor apiVersion (#44); custom resources' do, and their
        list metadata always has `continue` (cluster-scoped-cr.jsonl#9)."""
        with self.lock:
            selectable: list[str] = []
            if not rtype.builtin:
                crd = self.objects.get(("apiextensions.k8s.io", "customresourcedefinitions", "",
                                        f"{rtype.plural}.{rtype.group}")) or {}
                for served in (crd.get("spec") or {}).get("versions") or []:
                    if served.get("name") == version:
                        selectable = [str(f.get("jsonPath", "")).lstrip(".")
                                      for f in served.get("selectableFields") or []]
            matches = field_matcher(list(fields), rtype.group, rtype.kind,
                                    builtin=rtype.builtin, namespaced=rtype.namespaced,
                                    selectable=selectable)
            start, list_version = "", ""
            if continue_token:
                start, token_version = decode_continue(continue_token)
                if resource_version not in ("", "0"):
                    raise ApiError.bad_request(
                        "specifying resource version is not allowed when using continue")
                list_version = str(token_version)
            within_namespace = namespace is not None or not rtype.namespaced
            keyed = sorted(((name if within_namespace else f"{ns}/{name}",
                             events.served_shape(rtype, obj))
                            for (_, _, ns, name), obj in self.scan(
                                *events.storage_of(rtype.group, rtype.plural), namespace)),
                           key=lambda pair: pair[0])
            keyed = [(key, obj) for key, obj in keyed if key >= start]
            list_version = list_version or str(next(self._versions))
            items: list[Obj] = []
            last, more = "", False
            for key, obj in keyed:
                if 0 < limit <= len(items):
                    more = True
                    break
                last = key
                if not selector(obj["metadata"].get("labels") or {}):
                    continue
                shown = self._present(rtype, version, obj)
                if matches(shown):
                    items.append(shown)
            token = encode_continue(last, int(list_version)) if more else ""
            remaining = len(keyed) - limit if more and not fields and getattr(
                selector, "empty", False) else None
            api_version = f"{rtype.group}/{version}" if rtype.group else version
            if not rtype.builtin:  # unstructured: keys in alphabetical order
                metadata: Obj = {"continue": token}
                if remaining is not None:
                    metadata["remainingItemCount"] = remaining
                metadata["resourceVersion"] = list_version
                return {"apiVersion": api_version, "items": items,
                        "kind": f"{rtype.kind}List", "metadata": metadata}
            metadata = {"resourceVersion": list_version}
            if token:
                metadata["continue"] = token
            if remaining is not None:
                metadata["remainingItemCount"] = remaining
            return {
                "kind": f"{rtype.kind}List",
                "apiVersion": api_version,
                "metadata": metadata,
                "items": [{k: v for k, v in i.items() if k not in ("kind", "apiVersion")}
                          for i in items],
            }

    def record_event(self, namespace: str, involved: Obj, reason: str, message: str,
                     type_: str = "Warning", component: str = "default-scheduler") -> Obj:
        """Store an Event about `involved` (kind, name, and uid if known) as client-go's
        recorder writes it for `component` (events.record_legacy): the same event again
        raises the count of the first."""
        with self.lock:
            return events.record_legacy(
                self, {"apiVersion": "v1", "namespace": namespace, **involved}, reason,
                message, component, type_)

    def _present(self, rtype: ResourceType, version: str, obj: Obj,
                 created: bool = False) -> Obj:
        """The object as the server answers it; `created`: the answer to its create, before
        any controller saw it."""
        out = clone(obj)
        out["apiVersion"] = f"{rtype.group}/{version}" if rtype.group else version
        if created:
            return out
        return controllers.present(self, rtype, obj, out)

    # ---- writes ------------------------------------------------------------------------
    def create(self, rtype: ResourceType, version: str, namespace: str, body: Obj,
               manager: str, dry_run: bool) -> Obj:
        with self.lock:
            metadata = body.get("metadata") or {}
            name = metadata.get("name")
            prefix = metadata.get("generateName")
            if not name and prefix and isinstance(prefix, str):
                name = self._generate_name(rtype, namespace, prefix)
            if not name:
                raise ApiError(422, "Invalid", f"{rtype.kind} \"\" is invalid: metadata.name: "
                               "Required value: name or generateName is required")
            if self.key(rtype, namespace, name) in self.objects:
                raise ApiError.already_exists(rtype.group, rtype.plural, name)
            new = clone(body)
            return self._update_write(rtype, version, namespace, name, None, new, manager,
                                      dry_run)

    def _generate_name(self, rtype: ResourceType, namespace: str, prefix: str) -> str:
        """`generateName` and five random characters of the API server's alphabet (no vowels,
        no characters that look alike), the prefix cut so the name fits 63 characters."""
        prefix = prefix[:MAX_GENERATED_NAME_LENGTH]
        while True:
            name = prefix + "".join(secrets.choice(NAME_ALPHABET) for _ in range(5))
            if self.key(rtype, namespace, name) not in self.objects:
                self.generated_names[name] = prefix
                return name

    def replace(self, rtype: ResourceType, version: str, namespace: str, name: str, body: Obj,
                manager: str, dry_run: bool) -> tuple[bool, Obj]:
        """PUT: (whether it created the object, the answer). Checked in the API server's
        order (lease-conflict.jsonl#6-#10): the name against the URL, the resourceVersion's
        syntax, the object's existence (some kinds are created by a PUT), then the
        resourceVersion against the stored one."""
        with self.lock:
            given = (body.get("metadata") or {}).get("name")
            if given and given != name:
                raise ApiError.bad_request(f"the name of the object ({given}) does not match "
                                           f"the name on the URL ({name})")
            rv = _resource_version(body)
            old = self.lookup(rtype, namespace, name)
            if old is None:
                if (rtype.group, rtype.kind) not in CREATE_ON_UPDATE:
                    raise ApiError.not_found(rtype.group, rtype.plural, name)
                new = clone(body)
                new.setdefault("metadata", {}).pop("resourceVersion", None)
                return True, self._update_write(rtype, version, namespace, name, None, new,
                                                manager, dry_run)
            self._check_version(rtype, name, old, rv)
            new = clone(body)
            new.setdefault("metadata", {})["managedFields"] = old["metadata"].get(
                "managedFields", [])
            return False, self._update_write(rtype, version, namespace, name, old, new,
                                             manager, dry_run)

    def _check_version(self, rtype: ResourceType, name: str, old: Obj, rv: int) -> None:
        """An update's resourceVersion (0: none): required for kinds that allow no
        unconditional update (a Lease: lease-conflict.jsonl#7), else the stored one's."""
        if rv == 0:
            if (rtype.group, rtype.kind) in NO_UNCONDITIONAL_UPDATE:
                message = "Invalid value: 0: must be specified for an update"
                raise ApiError(422, "Invalid", f'{rtype.group_resource()} "{name}" is invalid: '
                               f"metadata.resourceVersion: {message}",
                               {"name": name, **({"group": rtype.group} if rtype.group else {}),
                                "kind": rtype.plural, "causes": [
                                    {"reason": "FieldValueInvalid", "message": message,
                                     "field": "metadata.resourceVersion"}]})
            return
        if str(rv) != old["metadata"]["resourceVersion"]:
            raise self._modified(rtype, name)

    def merge_patch(self, rtype: ResourceType, version: str, namespace: str, name: str,
                    patch: Obj, manager: str, dry_run: bool) -> Obj:
        return self.patch(rtype, version, namespace, name,
                          lambda current: patching.merge_patch(current, patch), manager, dry_run)

    def patch(self, rtype: ResourceType, version: str, namespace: str, name: str,
              change: Callable[[Obj], Obj], manager: str, dry_run: bool) -> Obj:
        """A non-apply patch: `change` turns the stored object into the patched one, which is
        then written as an update, resourceVersion checks included (lease-conflict.jsonl#11)."""
        with self.lock:
            old = self._existing(rtype, namespace, name)
            current = clone(old)
            current["apiVersion"] = f"{rtype.group}/{version}" if rtype.group else version
            new = change(current)
            if not isinstance(new, dict):
                raise ApiError.bad_request("the patched object is not an object")
            metadata = new.get("metadata")
            if not isinstance(metadata, dict):
                metadata = new["metadata"] = {}
            if metadata.get("name") not in (None, "", name):
                raise ApiError.bad_request(f"the name of the object ({metadata['name']}) does "
                                           f"not match the name on the URL ({name})")
            self._check_version(rtype, name, old, _resource_version(new))
            return self._update_write(rtype, version, namespace, name, old, new, manager,
                                      dry_run)

    def apply(self, rtype: ResourceType, version: str, namespace: str, name: str,
              applied: Obj, manager: str, force: bool, dry_run: bool) -> Obj:
        with self.lock:
            api_version = f"{rtype.group}/{version}" if rtype.group else version
            sent = str(applied.get("apiVersion") or "")
            if applied.get("kind") != rtype.kind:
                # ssa-defaults.jsonl#18, list-kind.jsonl#2, #5
                group_version = sent if "/" in sent else f"/{sent}"
                raise ApiError.bad_request(f"invalid object type: {group_version}, "
                                           f"Kind={applied.get('kind') or ''}")
            if sent != api_version:
                raise ApiError.bad_request(
                    f"Incorrect version specified in apply patch. Specified patch version: "
                    f"{sent}, expected: {api_version}")
            given = (applied.get("metadata") or {}).get("name")
            if not given:
                # ssa-generate-name.jsonl#3: generateName does not name an applied object.
                raise ApiError.bad_request(f"the name of the object ({name} based on URL) was "
                                           "undeterminable: name must be provided")
            if given != name:
                raise ApiError.bad_request(f"the name of the object ({given}) does not match "
                                           f"the name on the URL ({name})")
            old = self.lookup(rtype, namespace, name)
            schema = self.schema(rtype, version)
            decoding.check_applied(rtype.group, version, rtype.kind, rtype.builtin, namespace,
                                   name, applied, schema)
            applied = clone(applied)
            applied["metadata"].pop("managedFields", None)
            applied_fields = fields.applied_set(applied, schema)
            managers = _managers(old)
            if old is not None and not managers:
                # An object no manager owns anything of yet: what it holds is recorded as
                # owned by "before-first-apply" (e2e-a-workload-...jsonl#13).
                before = fields.compare(zero_object(rtype.group, rtype.kind, rtype.builtin),
                                        old, schema).touched
                managers = [Manager("before-first-apply", "Update", api_version, before,
                                    _now())]
            mine = next((m for m in managers if m.manager == manager
                         and m.operation == "Apply" and not m.subresource), None)
            others = [m for m in managers if m is not mine]
            result = fields.merge(clone(old) if old else {}, applied, (), schema)
            if mine is not None:
                # Fields the applier owned and no longer applies go, unless someone else
                # owns them or something in them (whole list items first).
                kept = set(applied_fields).union(*(m.fields for m in others))
                for path in sorted(mine.fields - applied_fields, key=len):
                    if not any(k[: len(path)] == path for k in kept):
                        fields.remove_path(result, path, schema)
            base = old if old is not None else zero_object(rtype.group, rtype.kind,
                                                           rtype.builtin)
            changes = fields.compare(base, result, schema)
            conflicts = [(other, path) for other in others
                         for path in sorted(other.fields & changes.touched)]
            if conflicts and not force:
                raise _conflict_error(conflicts)
            for other in others:
                other.fields -= changes.touched | changes.removed
            if mine is None:
                mine = Manager(manager, "Apply", api_version, set(), None)
            mine.fields = applied_fields
            if old is None or changes.touched or changes.removed:
                mine.time = _now()
            _set_managed(result, [*others, mine])
            return self._write(rtype, version, namespace, name, old, result, dry_run)

    def scale(self, rtype: ResourceType, version: str, namespace: str, name: str) -> Obj:
        with self.lock:
            return _scale_of(self.get(rtype, version, namespace, name))

    def update_scale(self, rtype: ResourceType, version: str, namespace: str, name: str,
                     change: Callable[[Obj], Obj], manager: str, dry_run: bool) -> Obj:
        """A PUT or patch of the `/scale` subresource: `change` turns the current Scale into
        the new one, whose `spec.replicas` goes to the object."""
        with self.lock:
            old = self._existing(rtype, namespace, name)
            scale = change(_scale_of(self._present(rtype, version, old)))
            if not isinstance(scale, dict):
                raise ApiError.bad_request("the patched object is not an object")
            given = (scale.get("metadata") or {}).get("name")
            if given and given != name:
                raise ApiError.bad_request(f"the name of the object ({given}) does not match "
                                           f"the name on the URL ({name})")
            self._check_version(rtype, name, old, _resource_version(scale))
            replicas = (scale.get("spec") or {}).get("replicas") or 0
            if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                message = f"Invalid value: {json.dumps(replicas)}: must be greater than or " \
                          "equal to 0"
                raise ApiError(422, "Invalid", f'Scale.autoscaling "{name}" is invalid: '
                               f"spec.replicas: {message}",
                               {"name": name, "group": "autoscaling", "kind": "Scale",
                                "causes": [{"reason": "FieldValueInvalid", "message": message,
                                            "field": "spec.replicas"}]})
            new = clone(old)
            new.setdefault("spec", {})["replicas"] = replicas
            return _scale_of(self._update_write(rtype, version, namespace, name, old, new,
                                                manager, dry_run, "scale"))

    def update_status(self, rtype: ResourceType, version: str, namespace: str, name: str,
                      change: Callable[[Obj], Obj], manager: str, dry_run: bool) -> Obj:
        """A PUT or patch of the `/status` subresource, as a controller writes it: only the
        new object's `status` is kept; spec and metadata changes are ignored, and the
        generation stays (the managedFields entry is the manager's, for `status`)."""
        with self.lock:
            old = self._existing(rtype, namespace, name)
            changed = change(self._present(rtype, version, old))
            if not isinstance(changed, dict):
                raise ApiError.bad_request("the patched object is not an object")
            self._check_version(rtype, name, old, _resource_version(changed))
            new = clone(old)
            if "status" in changed:
                new["status"] = changed["status"]
            else:
                new.pop("status", None)
            return self._update_write(rtype, version, namespace, name, old, new, manager,
                                      dry_run, "status")

    def schema(self, rtype: ResourceType, version: str) -> fields.Schema:
        if rtype.builtin:
            return fields.Schema(True)
        crd = self.objects.get(("apiextensions.k8s.io", "customresourcedefinitions", "",
                                f"{rtype.plural}.{rtype.group}")) or {}
        for served in (crd.get("spec") or {}).get("versions") or []:
            if served.get("name") == version:
                openapi = (served.get("schema") or {}).get("openAPIV3Schema")
                return fields.Schema(False, openapi if isinstance(openapi, dict) else None)
        return fields.Schema(False)

    def delete(self, rtype: ResourceType, version: str, namespace: str, name: str,
               options: DeleteOptions) -> Obj:
        """Delete as kube-apiserver does: an object without finalizers goes at once and the
        answer is a Status; with finalizers (its own, or the garbage collector's for
        Foreground and Orphan) it gets a deletionTimestamp and the answer is the object.
        The garbage collector and the CRD and namespace controllers act at once afterwards."""
        with self.lock:
            old = self._existing(rtype, namespace, name)
            self._check_preconditions(rtype, name, old, options.preconditions)
            if rtype.kind == "Namespace" and not rtype.group:
                return self._delete_namespace(rtype, version, old, options.dry_run)
            new = clone(old)
            metadata = new["metadata"]
            finalizers = [f for f in metadata.get("finalizers") or []
                          if options.propagation is None or f not in GC_FINALIZERS]
            if options.propagation == "Foreground":
                finalizers.append("foregroundDeletion")
            elif options.propagation == "Orphan":
                finalizers.append("orphan")
            crd = rtype.kind == "CustomResourceDefinition"
            if crd and not metadata.get("deletionTimestamp") and CRD_FINALIZER not in finalizers:
                # The CRD registry's own delete: the finalizer, a deletionTimestamp, no grace.
                metadata["finalizers"] = [*finalizers, CRD_FINALIZER]
                metadata["deletionTimestamp"] = _now()
            elif finalizers:
                if not metadata.get("deletionTimestamp"):
                    if metadata.get("generation"):
                        metadata["generation"] += 1
                    metadata["deletionTimestamp"] = _now()
                metadata["deletionGracePeriodSeconds"] = 0
                metadata["finalizers"] = finalizers
            else:
                if not options.dry_run:
                    self._remove(rtype, namespace, name, options.propagation)
                return {"kind": "Status", "apiVersion": "v1", "metadata": {},
                        "status": "Success",
                        "details": {"name": name,
                                    **({"group": rtype.group} if rtype.group else {}),
                                    "kind": rtype.plural, "uid": metadata["uid"]}}
            if options.dry_run:
                return self._present(rtype, version, new)
            metadata["resourceVersion"] = str(next(self._versions))
            key = self.key(rtype, namespace, name)
            self.objects[key] = events.stored_shape(rtype, new)
            answer = self._present(rtype, version, new)
            self._collect(rtype, key)
            return answer

    def _check_preconditions(self, rtype: ResourceType, name: str, obj: Obj,
                             preconditions: dict[str, str]) -> None:
        qualified = f"{rtype.kind}.{rtype.group}" if rtype.group else rtype.kind
        for key, label, consequence in (
                ("uid", "UID", "deleted and then recreated"),
                ("resourceVersion", "ResourceVersion", "modified")):
            wanted, have = preconditions.get(key), obj["metadata"].get(key)
            if wanted and wanted != have:
                raise ApiError(
                    409, "Conflict",
                    f'Operation cannot be fulfilled on {qualified} "{name}": the {label} in the '
                    f"precondition ({wanted}) does not match the {label} in record ({have}). "
                    f"The object might have been {consequence}",
                    {"name": name, **({"group": rtype.group} if rtype.group else {}),
                     "kind": rtype.kind})

    def _delete_namespace(self, rtype: ResourceType, version: str, old: Obj,
                          dry_run: bool) -> Obj:
        """The namespace registry's delete: Terminating, with a deletionTimestamp; the
        namespace controller removes it once nothing in it waits for a finalizer."""
        new = clone(old)
        if not new["metadata"].get("deletionTimestamp"):
            new["metadata"]["deletionTimestamp"] = _now()
            new["status"] = {"phase": "Terminating"}
            if not dry_run:
                new["metadata"]["resourceVersion"] = str(next(self._versions))
        if dry_run:
            return self._present(rtype, version, new)
        name = new["metadata"]["name"]
        self.objects[("", "namespaces", "", name)] = new
        answer = self._present(rtype, version, new)
        self._finish_namespaces()
        return answer

    def terminating(self, namespace: str) -> bool:
        obj = self.objects.get(("", "namespaces", "", namespace))
        return bool(obj and obj["metadata"].get("deletionTimestamp"))

    def _collect(self, rtype: ResourceType, key: Key) -> None:
        """The garbage collector and the controllers behind finalizers, done at once: an object
        being deleted goes when only the garbage collector's finalizers are left (after its
        dependents for Foreground; orphaning them for Orphan), a CRD when only its cleanup
        finalizer is."""
        obj = self.objects.get(key)
        if obj is None or not obj["metadata"].get("deletionTimestamp"):
            return
        finalizers = set(obj["metadata"].get("finalizers") or [])
        if rtype.kind == "CustomResourceDefinition":
            finalizers.discard(CRD_FINALIZER)
        if finalizers - set(GC_FINALIZERS):
            return
        policy = "Orphan" if "orphan" in finalizers else "Foreground"
        self._remove(rtype, key[2], key[3], policy)
        self._finish_namespaces()

    def _finish_namespaces(self) -> None:
        for (_, _, _, name), obj in list(self.objects.items()):
            if obj.get("kind") != "Namespace" or not obj["metadata"].get("deletionTimestamp"):
                continue
            content = [o for (_, _, ns, _), o in self.objects.items() if ns == name]
            if not any(o["metadata"].get("finalizers") for o in content):
                self._remove(self.types[("", "namespaces")], "", name)

    def create_namespace(self, name: str) -> Obj:
        rtype = self.types[("", "namespaces")]
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        return self._update_write(rtype, "v1", "", name, None, body, "kube-apiserver", False)

    # ---- internals ---------------------------------------------------------------------
    def _existing(self, rtype: ResourceType, namespace: str, name: str) -> Obj:
        old = self.lookup(rtype, namespace, name)
        if old is None:
            raise ApiError.not_found(rtype.group, rtype.plural, name)
        return old

    def _modified(self, rtype: ResourceType, name: str) -> ApiError:
        return ApiError(409, "Conflict", f'Operation cannot be fulfilled on '
                        f'{rtype.group_resource()} "{name}": the object has been modified; '
                        "please apply your changes to the latest version and try again",
                        {"name": name, **({"group": rtype.group} if rtype.group else {}),
                         "kind": rtype.plural})

    def _update_write(self, rtype: ResourceType, version: str, namespace: str, name: str,
                      old: Obj | None, new: Obj, manager: str, dry_run: bool,
                      subresource: str | None = None) -> Obj:
        """A non-apply write (create, PUT, patch): the manager owns what it changed, with the
        defaults it brought, and the maps and list items it created (`.`); other managers lose
        what it changed or removed. A write through a subresource has its own entry."""
        schema = self.schema(rtype, version)
        new["kind"] = rtype.kind
        set_defaults(rtype.group, rtype.kind, new)
        base = old if old is not None else zero_object(rtype.group, rtype.kind, rtype.builtin)
        changes = fields.compare(base, new, schema)
        managers = _managers(old)
        api_version = f"{rtype.group}/{version}" if rtype.group else version
        for other in managers:
            other.fields -= changes.touched | changes.removed
        if changes.touched:
            mine = next((m for m in managers if m.manager == manager
                         and m.operation == "Update" and (m.subresource or None) == subresource),
                        None)
            if mine is None:
                mine = Manager(manager, "Update", api_version, set(), None, subresource)
                managers.append(mine)
            mine.fields |= changes.touched
            mine.api_version = api_version
            mine.time = _now()
        _set_managed(new, managers)
        return self._write(rtype, version, namespace, name, old, new, dry_run)

    def _write(self, rtype: ResourceType, version: str, namespace: str, name: str,
               old: Obj | None, new: Obj, dry_run: bool) -> Obj:
        if rtype.namespaced and ("", "namespaces", "", namespace) not in self.objects:
            raise ApiError.not_found("", "namespaces", namespace)
        if rtype.namespaced and old is None and self.terminating(namespace):
            raise ApiError(403, "Forbidden", f'{rtype.group_resource()} "{name}" is forbidden: '
                           f"unable to create new content in namespace {namespace} because it "
                           "is being terminated",
                           {"name": name, **({"group": rtype.group} if rtype.group else {}),
                            "kind": rtype.plural, "causes": [
                               {"reason": "NamespaceTerminating",
                                "message": f"namespace {namespace} is being terminated",
                                "field": "metadata.namespace"}]})
        metadata = new.setdefault("metadata", {})
        if rtype.namespaced:
            given = metadata.get("namespace")
            if given and given != namespace:
                raise ApiError.bad_request("the namespace of the provided object does not match "
                                           "the namespace sent on the request")
            metadata["namespace"] = namespace
        else:
            metadata.pop("namespace", None)
        metadata["name"] = name
        new["apiVersion"] = f"{rtype.group}/{version}" if rtype.group else version
        new["kind"] = rtype.kind
        # The uid comes first: the registry's own additions may use it (a Job's selector).
        metadata["uid"] = old["metadata"]["uid"] if old is not None else str(uuid.uuid4())
        set_defaults(rtype.group, rtype.kind, new)
        prepare(rtype.group, rtype.kind, new, old, self._allocate_ip)
        validate(rtype.group, rtype.kind, rtype.plural, new, old)
        if old is not None:
            for kept in ("uid", "creationTimestamp"):
                metadata[kept] = old["metadata"][kept]
            if "status" in old and "status" not in new:
                new["status"] = clone(old["status"])
        else:
            metadata["creationTimestamp"] = _now()
            status = initial_status(rtype.group, rtype.kind, new)
            if status is not None:
                new["status"] = status
        if rtype.has_generation:
            generation = old["metadata"].get("generation", 1) if old else 1
            if old is not None and _spec(old) != _spec(new):
                generation += 1
            metadata["generation"] = generation
        if old is not None and _same(old, new):
            return self._present(rtype, version, old)
        if dry_run:
            if old is None:
                metadata.pop("resourceVersion", None)  # a dry-run create has none
                return self._present(rtype, version, new, created=True)
            metadata["resourceVersion"] = old["metadata"]["resourceVersion"]
            return self._present(rtype, version, new)
        metadata["resourceVersion"] = str(next(self._versions))
        key = self.key(rtype, namespace, name)
        self.objects[key] = events.stored_shape(rtype, new)
        if old is None or _spec(old) != _spec(new):
            self._changed_at[key] = time.monotonic()
        self._after_store(rtype, old, new)
        answer = self._present(rtype, version, new, created=old is None)
        controllers.after_write(self, self.types[key[:2]], key, old)
        self._collect(rtype, key)
        if namespace and self.terminating(namespace):
            self._finish_namespaces()
        return answer

    def _after_store(self, rtype: ResourceType, old: Obj | None, new: Obj) -> None:
        if rtype.kind == "CustomResourceDefinition":
            for served in crd_types(new):
                self.types[(served.group, served.plural)] = served
            self._established_at.setdefault(
                new["metadata"]["name"], time.monotonic() + self.crd_establish_delay)
        if rtype.kind == "Namespace" and old is None:
            name = new["metadata"]["name"]
            account: Obj = {"apiVersion": "v1", "kind": "ServiceAccount",
                       "metadata": {"name": "default", "namespace": name}}
            root_ca: Obj = {"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "kube-root-ca.crt", "namespace": name,
                                    "annotations": {"kubernetes.io/description": _ROOT_CA}},
                       "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\n(test)\n"}}
            for body, manager in ((account, "kube-controller-manager"),
                                  (root_ca, "kube-controller-manager")):
                plural = "serviceaccounts" if body["kind"] == "ServiceAccount" else "configmaps"
                self._update_write(self.types[("", plural)], "v1", name, body["metadata"]["name"],
                                   None, body, manager, False)

    def _remove(self, rtype: ResourceType, namespace: str, name: str,
                policy: str | None = None) -> None:
        obj = self.objects.pop(self.key(rtype, namespace, name))
        if rtype.kind == "Namespace":
            for key in [k for k in self.objects if k[2] == name]:
                del self.objects[key]
        if rtype.kind == "CustomResourceDefinition":
            for served in crd_types(obj):
                self.types.pop((served.group, served.plural), None)
                for key in [k for k in self.objects if k[:2] == (served.group, served.plural)]:
                    del self.objects[key]
            self._established_at.pop(name, None)
        uid = obj["metadata"].get("uid")
        # Its dependents from the owner index (Store.owned_by), not a read of every object.
        for key, dependent in [(k, self.objects[k]) for k in self.objects.owned_by(str(uid))]:
            refs = dependent["metadata"].get("ownerReferences") or []
            if not any(r.get("uid") == uid for r in refs) or key not in self.objects:
                continue
            if policy == "Orphan":
                # The garbage collector's patch, as kube-controller-manager: the reference
                # goes, and with it its entry in managedFields (delete-options.jsonl#22).
                orphaned = clone(dependent)
                kept = [r for r in refs if r.get("uid") != uid]
                orphaned["metadata"]["ownerReferences"] = kept
                if not kept:
                    del orphaned["metadata"]["ownerReferences"]
                dependent_type = self.types[(key[0], key[1])]
                self._update_write(dependent_type, dependent_type.versions[0], key[2], key[3],
                                   dependent, orphaned, "kube-controller-manager", False)
            else:
                self._remove(self.types[(key[0], key[1])], key[2], key[3], policy)

    def _allocate_ip(self) -> str:
        value = next(self._ips)
        return f"10.96.{value // 250}.{value % 250 + 1}"


def _spec(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in {"metadata", "status"}}


def _node(name: str) -> Obj:
    """A Node as its kubelet registers it: the well-known labels, ready. Not in the recording
    (its cluster had none)."""
    now = _now()
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {
            "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux"}},
        "spec": {},
        "status": {
            "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
            "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": now,
                            "lastTransitionTime": now, "reason": "KubeletReady",
                            "message": "kubelet is posting ready status"}],
            "nodeInfo": {"kubeletVersion": "v1.36.2", "operatingSystem": "linux",
                         "architecture": "amd64"}},
    }


def _same(old: Obj, new: Obj) -> bool:
    def strip(obj: Obj) -> Obj:
        out = clone(obj)
        out["metadata"].pop("resourceVersion", None)
        for entry in out["metadata"].get("managedFields") or []:
            entry.pop("time", None)
        return out

    return strip(old) == strip(new)


def _scale_of(obj: Obj) -> Obj:
    """The autoscaling/v1 Scale of a workload (patch-types.jsonl#12): replicas wanted (left
    out when 0), replicas there, and the selector as text."""
    metadata = obj["metadata"]
    spec = obj.get("spec") or {}
    replicas = spec.get("replicas") or 0
    return {
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {k: metadata[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                              "creationTimestamp") if k in metadata},
        "spec": {"replicas": replicas} if replicas else {},
        "status": {"replicas": (obj.get("status") or {}).get("replicas") or 0,
                   "selector": _selector_text(spec.get("selector"))},
    }


def _selector_text(selector: Any) -> str:
    """A label selector as the API server prints it: requirements sorted by key."""
    if not isinstance(selector, dict):
        return ""
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        selector = {"matchLabels": selector}  # a ReplicationController's plain map
    requirements: list[tuple[str, str]] = [
        (str(key), f"{key}={value}") for key, value in (selector.get("matchLabels") or {}).items()]
    for expression in selector.get("matchExpressions") or []:
        key, operator = str(expression.get("key")), expression.get("operator")
        values = ",".join(sorted(str(v) for v in expression.get("values") or []))
        text = {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})",
                "Exists": key, "DoesNotExist": f"!{key}"}.get(str(operator), key)
        requirements.append((key, text))
    return ",".join(text for _, text in sorted(requirements))


def _resource_version(obj: Obj) -> int:
    """The object's resourceVersion as the storage reads it: 0 when unset, a 500 when it is no
    number (lease-conflict.jsonl#8)."""
    value = (obj.get("metadata") or {}).get("resourceVersion")
    if value in (None, ""):
        return 0
    text = str(value)
    if not text.isdigit() or not text.isascii():
        raise ApiError(500, "", f'strconv.ParseUint: parsing "{text}": invalid syntax')
    return int(text)


def _conflict_error(conflicts: list[tuple[Manager, fields.Path]]) -> ApiError:
    """409 as kube-apiserver writes it: an Apply manager is named alone, an Update manager
    with its API version (ssa-conflict-force.jsonl#4, #9, #10); the message groups the fields
    by manager, the details carry only the causes."""
    def who(manager: Manager) -> str:
        using = f" using {manager.api_version}" if manager.operation == "Update" else ""
        return f'"{manager.manager}"{using}'

    # The server lists the causes in no fixed order; by field here, as in the recording.
    causes = sorted(({"reason": "FieldManagerConflict", "message": f"conflict with {who(m)}",
                      "field": fields.dotted(path)} for m, path in conflicts),
                    key=lambda cause: cause["field"])
    if len(causes) == 1:
        text = f"1 conflict: {causes[0]['message']}: {causes[0]['field']}"
    else:
        groups: dict[str, list[str]] = {}
        for manager, path in sorted(conflicts, key=lambda c: c[0].manager):
            groups.setdefault(who(manager), []).append(fields.dotted(path))
        text = f"{len(causes)} conflicts: " + "\n".join(
            f"conflicts with {name}:\n- " + "\n- ".join(paths) for name, paths in groups.items())
    return ApiError(409, "Conflict", f"Apply failed with {text}", {"causes": causes})
