"""The state of the test cluster: resource types, objects, field managers.

All mutations go through `_write`, which defaults, validates, records field ownership and, unless
the request is a dry run, stores the object.
"""

from __future__ import annotations

import copy
import datetime
import itertools
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.kubeapi import controllers, decoding, fields
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

Obj = dict[str, Any]
Key = tuple[str, str, str, str]  # group, plural, namespace, name
INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_ROOT_CA = ("Contains a CA bundle that can be used to verify the kube-apiserver when using "
            "internal endpoints such as the internal service IP or kubernetes.default.svc. No "
            "other usage is guaranteed across distributions of Kubernetes clusters.")
GC_FINALIZERS = ("foregroundDeletion", "orphan")
CRD_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


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
        self.objects: dict[Key, Obj] = {}
        self._versions = itertools.count(1000)
        self._ips = itertools.count(10)
        self.crd_establish_delay = 0.0
        self.rollout_delay = 0.5  # seconds for the simulated controllers (controllers.py)
        self.status_scripts: dict[Key, StatusScript] = {}
        self._changed_at: dict[Key, float] = {}
        self._event_names = itertools.count(1)
        self._established_at: dict[str, float] = {}
        for name in INITIAL_NAMESPACES:
            self.create_namespace(name)

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

    # ---- reads -------------------------------------------------------------------------
    def get(self, rtype: ResourceType, version: str, namespace: str, name: str) -> Obj:
        with self.lock:
            obj = self.objects.get((rtype.group, rtype.plural, namespace, name))
            if obj is None:
                raise ApiError.not_found(rtype.group, rtype.plural, name)
            return self._present(rtype, version, obj)

    def list(self, rtype: ResourceType, version: str, namespace: str | None,
             selector: Any, fields: Any = None) -> Obj:
        with self.lock:
            items = [
                self._present(rtype, version, obj)
                for (group, plural, ns, _), obj in sorted(self.objects.items())
                if group == rtype.group and plural == rtype.plural
                and (namespace is None or ns == namespace)
                and selector(obj["metadata"].get("labels") or {})
                and (fields is None or fields(obj))
            ]
            api_version = f"{rtype.group}/{version}" if rtype.group else version
            return {
                "kind": f"{rtype.kind}List",
                "apiVersion": api_version,
                "metadata": {"resourceVersion": str(next(self._versions))},
                # Items carry neither kind nor apiVersion (list-selectors.jsonl#44).
                "items": [{k: v for k, v in i.items() if k not in ("kind", "apiVersion")}
                          for i in items],
            }

    def record_event(self, namespace: str, involved: Obj, reason: str, message: str,
                     type_: str = "Warning") -> None:
        """Store an Event about `involved` (kind, name, and uid if known), as a controller or
        the scheduler would."""
        with self.lock:
            name = f"{involved['name']}.{next(self._event_names):x}"
            now = _now()
            self.objects[("", "events", namespace, name)] = {
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": name, "namespace": namespace, "uid": str(uuid.uuid4()),
                             "creationTimestamp": now,
                             "resourceVersion": str(next(self._versions))},
                "involvedObject": {"apiVersion": "v1", "namespace": namespace, **involved},
                "reason": reason, "message": message, "type": type_, "count": 1,
                "firstTimestamp": now, "lastTimestamp": now,
                "source": {"component": "default-scheduler"},
            }

    def _status(self, rtype: ResourceType, obj: Obj) -> Obj | None:
        key = (rtype.group, rtype.plural, obj["metadata"].get("namespace", ""),
               obj["metadata"]["name"])
        script = self.status_scripts.get(key)
        if script is None and (rtype.group, rtype.kind) not in controllers.CONTROLLED:
            return None
        elapsed = time.monotonic() - self._changed_at.get(key, time.monotonic())
        if script is not None:
            return script(obj, elapsed)
        return controllers.simulated_status(rtype.group, rtype.kind, obj, elapsed,
                                            self.rollout_delay)

    def _present(self, rtype: ResourceType, version: str, obj: Obj,
                 created: bool = False) -> Obj:
        """The object as the server answers it; `created`: the answer to its create, before
        any controller saw it."""
        out = copy.deepcopy(obj)
        out["apiVersion"] = f"{rtype.group}/{version}" if rtype.group else version
        if created:
            return out
        status = self._status(rtype, obj) if obj["metadata"].get("uid") else None
        if status is not None:
            out["status"] = status
        if rtype.kind == "CustomResourceDefinition":
            established = self._established_at.get(out["metadata"]["name"], float("inf"))
            ok = "True" if established <= time.monotonic() else "False"
            names = (out.get("spec") or {}).get("names") or {}
            out["status"] = {
                "acceptedNames": names,
                "conditions": [
                    {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts"},
                    {"type": "Established", "status": ok, "reason": "InitialNamesAccepted"},
                ],
                "storedVersions": [v["name"] for v in out["spec"].get("versions", [])
                                   if v.get("storage")],
            }
        return out

    # ---- writes ------------------------------------------------------------------------
    def create(self, rtype: ResourceType, version: str, namespace: str, body: Obj,
               manager: str, dry_run: bool) -> Obj:
        with self.lock:
            name = (body.get("metadata") or {}).get("name")
            if not name:
                raise ApiError(422, "Invalid", f"{rtype.kind} \"\" is invalid: metadata.name: "
                               "Required value: name or generateName is required")
            if (rtype.group, rtype.plural, namespace, name) in self.objects:
                raise ApiError.already_exists(rtype.group, rtype.plural, name)
            new = copy.deepcopy(body)
            return self._update_write(rtype, version, namespace, name, None, new, manager,
                                      dry_run)

    def replace(self, rtype: ResourceType, version: str, namespace: str, name: str, body: Obj,
                manager: str, dry_run: bool) -> Obj:
        with self.lock:
            old = self._existing(rtype, namespace, name)
            rv = (body.get("metadata") or {}).get("resourceVersion")
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise self._modified(rtype, name)
            new = copy.deepcopy(body)
            new.setdefault("metadata", {})["managedFields"] = old["metadata"].get(
                "managedFields", [])
            return self._update_write(rtype, version, namespace, name, old, new, manager,
                                      dry_run)

    def merge_patch(self, rtype: ResourceType, version: str, namespace: str, name: str,
                    patch: Obj, manager: str, dry_run: bool) -> Obj:
        with self.lock:
            old = self._existing(rtype, namespace, name)
            new = _json_merge(copy.deepcopy(old), patch)
            return self._update_write(rtype, version, namespace, name, old, new, manager,
                                      dry_run)

    def apply(self, rtype: ResourceType, version: str, namespace: str, name: str,
              applied: Obj, manager: str, force: bool, dry_run: bool) -> Obj:
        with self.lock:
            if (applied.get("metadata") or {}).get("name") != name:
                raise ApiError.bad_request("the name of the object does not match the name on "
                                           "the URL")
            api_version = f"{rtype.group}/{version}" if rtype.group else version
            if applied.get("apiVersion") != api_version or applied.get("kind") != rtype.kind:
                raise ApiError.bad_request(
                    f"the API version in the data ({applied.get('apiVersion')}) does not match "
                    f"the expected API version ({api_version})")
            old = self.objects.get((rtype.group, rtype.plural, namespace, name))
            schema = self.schema(rtype, version)
            decoding.check_applied(rtype.group, version, rtype.kind, rtype.builtin, namespace,
                                   name, applied, schema)
            applied = copy.deepcopy(applied)
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
            result = fields.merge(copy.deepcopy(old) if old else {}, applied, (), schema)
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
            new = copy.deepcopy(old)
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
            key = (rtype.group, rtype.plural, namespace, name)
            self.objects[key] = new
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
        new = copy.deepcopy(old)
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
        old = self.objects.get((rtype.group, rtype.plural, namespace, name))
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
                      old: Obj | None, new: Obj, manager: str, dry_run: bool) -> Obj:
        """A non-apply write (create, PUT, merge patch): the manager owns what it changed,
        with the defaults it brought, and the maps and list items it created (`.`); other
        managers lose what it changed or removed."""
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
                         and m.operation == "Update" and not m.subresource), None)
            if mine is None:
                mine = Manager(manager, "Update", api_version, set(), None)
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
        set_defaults(rtype.group, rtype.kind, new)
        prepare(rtype.group, rtype.kind, new, old, self._allocate_ip)
        validate(rtype.group, rtype.kind, rtype.plural, new, old)
        if old is not None:
            for kept in ("uid", "creationTimestamp"):
                metadata[kept] = old["metadata"][kept]
            if "status" in old and "status" not in new:
                new["status"] = copy.deepcopy(old["status"])
        else:
            metadata["uid"] = str(uuid.uuid4())
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
        key = (rtype.group, rtype.plural, namespace, name)
        self.objects[key] = new
        if old is None or _spec(old) != _spec(new):
            self._changed_at[key] = time.monotonic()
            self._schedule(rtype, new)
        self._after_store(rtype, old, new)
        answer = self._present(rtype, version, new, created=old is None)
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

    def _schedule(self, rtype: ResourceType, obj: Obj) -> None:
        """The scheduler's warning for a workload whose pods fit no node."""
        if (rtype.group, rtype.kind) in controllers.CONTROLLED and controllers.unschedulable(obj):
            metadata = obj["metadata"]
            pod = f"{metadata['name']}-{uuid.uuid4().hex[:10]}-{uuid.uuid4().hex[:5]}"
            self.record_event(metadata["namespace"], {"kind": "Pod", "name": pod},
                              "FailedScheduling", controllers.UNSCHEDULABLE)

    def _remove(self, rtype: ResourceType, namespace: str, name: str,
                policy: str | None = None) -> None:
        obj = self.objects.pop((rtype.group, rtype.plural, namespace, name))
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
        for key, dependent in list(self.objects.items()):
            refs = dependent["metadata"].get("ownerReferences") or []
            if not any(r.get("uid") == uid for r in refs) or key not in self.objects:
                continue
            if policy == "Orphan":
                kept = [r for r in refs if r.get("uid") != uid]
                dependent["metadata"]["ownerReferences"] = kept
                if not kept:
                    del dependent["metadata"]["ownerReferences"]
            else:
                self._remove(self.types[(key[0], key[1])], key[2], key[3], policy)

    def _allocate_ip(self) -> str:
        value = next(self._ips)
        return f"10.96.{value // 250}.{value % 250 + 1}"


def _spec(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in {"metadata", "status"}}


def _same(old: Obj, new: Obj) -> bool:
    def strip(obj: Obj) -> Obj:
        out = copy.deepcopy(obj)
        out["metadata"].pop("resourceVersion", None)
        for entry in out["metadata"].get("managedFields") or []:
            entry.pop("time", None)
        return out

    return strip(old) == strip(new)


def _json_merge(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = _json_merge(target.get(key), value)
    return target


def _conflict_error(conflicts: list[tuple[Manager, fields.Path]]) -> ApiError:
    """409 as kube-apiserver writes it: an Apply manager is named alone, an Update manager
    with its API version (ssa-conflict-force.jsonl#4, #9, #10); the details carry only the
    causes."""
    def who(manager: Manager) -> str:
        using = f" using {manager.api_version}" if manager.operation == "Update" else ""
        return f'"{manager.manager}"{using}'

    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {who(m)}",
               "field": fields.dotted(path)} for m, path in conflicts]
    if len(causes) == 1:
        text = f"1 conflict: {causes[0]['message']}: {causes[0]['field']}"
    else:
        groups: dict[str, list[str]] = {}
        for manager, path in sorted(conflicts, key=lambda c: c[0].manager):
            groups.setdefault(who(manager), []).append(fields.dotted(path))
        text = f"{len(causes)} conflicts: " + "\n".join(
            f"conflicts with {name}:\n- " + "\n- ".join(paths) for name, paths in groups.items())
    return ApiError(409, "Conflict", f"Apply failed with {text}", {"causes": causes})
