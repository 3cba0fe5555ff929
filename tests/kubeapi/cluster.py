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
from dataclasses import dataclass
from typing import Any

from tests.kubeapi import controllers, fields
from tests.kubeapi.controllers import StatusScript
from tests.kubeapi.defaults import apply_defaults, validate
from tests.kubeapi.errors import ApiError
from tests.kubeapi.resources import BUILTIN_TYPES, ResourceType, crd_types

Obj = dict[str, Any]
Key = tuple[str, str, str, str]  # group, plural, namespace, name
INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Manager:
    manager: str
    operation: str  # "Apply" or "Update"
    api_version: str
    fields: fields.FieldSet
    time: str

    def entry(self) -> Obj:
        return {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": fields.to_fields_v1(self.fields),
        }


def _managers(obj: Obj | None) -> list[Manager]:
    if not obj:
        return []
    return [
        Manager(e["manager"], e["operation"], e.get("apiVersion", ""),
                fields.from_fields_v1(e.get("fieldsV1") or {}), e.get("time", ""))
        for e in obj["metadata"].get("managedFields") or []
    ]


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
                "items": [{k: v for k, v in i.items()} for i in items],
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

    def _present(self, rtype: ResourceType, version: str, obj: Obj) -> Obj:
        out = copy.deepcopy(obj)
        out["apiVersion"] = f"{rtype.group}/{version}" if rtype.group else version
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
            schema = fields.Schema(rtype.builtin)
            applied = copy.deepcopy(applied)
            applied["metadata"].pop("managedFields", None)
            applied_fields = fields.field_set(applied, schema)
            managers = _managers(old)
            mine = next((m for m in managers if m.manager == manager
                         and m.operation == "Apply"), None)
            others = [m for m in managers if m is not mine]
            base = copy.deepcopy(old) if old else {}
            if mine is not None:
                owned_by_others = set().union(*(m.fields for m in others)) if others else set()
                # Whole list items before their fields: an item's fields make up its key.
                for path in sorted(mine.fields - applied_fields, key=len):
                    if not any(p[: len(path)] == path for p in owned_by_others):
                        fields.remove_path(base, path, schema)
            result = fields.merge(base, applied, (), schema)
            conflicts = [
                (other, path)
                for other in others
                for path in sorted(applied_fields & other.fields)
                if old is not None and fields.differs(old, result, path, schema)
            ]
            if conflicts and not force:
                raise _conflict_error(rtype, name, conflicts)
            for other, path in conflicts:
                other.fields.discard(path)
            if mine is None:
                mine = Manager(manager, "Apply", api_version, set(), _now())
            changed = old is None or mine.fields != applied_fields
            mine.fields = applied_fields
            if changed:
                mine.time = _now()
            kept = [m for m in [*others, mine] if m.fields]
            result.setdefault("metadata", {})["managedFields"] = [m.entry() for m in kept]
            return self._write(rtype, version, namespace, name, old, result, dry_run)

    def delete(self, rtype: ResourceType, namespace: str, name: str, dry_run: bool,
               preconditions: Obj | None = None) -> Obj:
        with self.lock:
            old = self._existing(rtype, namespace, name)
            for field, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
                wanted = (preconditions or {}).get(field)
                if wanted and wanted != old["metadata"].get(field):
                    raise ApiError(409, "Conflict", f"Precondition failed: {label} in "
                                   f"precondition: {wanted}, {label} in object meta: "
                                   f"{old['metadata'].get(field)}",
                                   {"name": name, "kind": rtype.plural})
            if not dry_run:
                self._remove(rtype, namespace, name)
            return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                    "details": {"name": name, "kind": rtype.plural,
                                **({"group": rtype.group} if rtype.group else {}),
                                "uid": old["metadata"]["uid"]}}

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
                        {"name": name, "kind": rtype.plural})

    def _update_write(self, rtype: ResourceType, version: str, namespace: str, name: str,
                      old: Obj | None, new: Obj, manager: str, dry_run: bool) -> Obj:
        """A non-apply write: the manager owns what it changed, others lose it."""
        schema = fields.Schema(rtype.builtin)
        apply_defaults(rtype.group, rtype.kind, new, self._allocate_ip)
        old_fields = fields.field_set(old, schema) if old else set()
        new_fields = fields.field_set(new, schema)
        changed = {p for p in new_fields
                   if p not in old_fields or (old and fields.differs(old, new, p, schema))}
        removed = old_fields - new_fields
        managers = _managers(old)
        api_version = f"{rtype.group}/{version}" if rtype.group else version
        mine = next((m for m in managers if m.manager == manager and m.operation == "Update"),
                    None)
        for other in managers:
            if other is not mine:
                other.fields -= changed | removed
        if changed:
            if mine is None:
                mine = Manager(manager, "Update", api_version, set(), _now())
                managers.append(mine)
            mine.fields = (mine.fields | changed) - removed
            mine.time = _now()
        new.setdefault("metadata", {})["managedFields"] = [m.entry() for m in managers
                                                            if m.fields]
        return self._write(rtype, version, namespace, name, old, new, dry_run)

    def _write(self, rtype: ResourceType, version: str, namespace: str, name: str,
               old: Obj | None, new: Obj, dry_run: bool) -> Obj:
        if rtype.namespaced and ("", "namespaces", "", namespace) not in self.objects:
            raise ApiError.not_found("", "namespaces", namespace)
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
        apply_defaults(rtype.group, rtype.kind, new, self._allocate_ip)
        validate(rtype.group, rtype.kind, rtype.plural, new)
        if old is not None:
            for key in ("uid", "creationTimestamp"):
                metadata[key] = old["metadata"][key]
            if "status" in old and "status" not in new:
                new["status"] = copy.deepcopy(old["status"])
        else:
            metadata["uid"] = str(uuid.uuid4())
            metadata["creationTimestamp"] = _now()
        if rtype.has_generation:
            generation = old["metadata"].get("generation", 1) if old else 1
            if old is not None and _spec(old) != _spec(new):
                generation += 1
            metadata["generation"] = generation
        if old is not None and _same(old, new):
            return self._present(rtype, version, old)
        metadata["resourceVersion"] = "" if dry_run and old is None else str(next(self._versions))
        if dry_run:
            if old is not None:
                metadata["resourceVersion"] = old["metadata"]["resourceVersion"]
            return self._present(rtype, version, new)
        key = (rtype.group, rtype.plural, namespace, name)
        self.objects[key] = new
        if old is None or _spec(old) != _spec(new):
            self._changed_at[key] = time.monotonic()
            self._schedule(rtype, new)
        self._after_store(rtype, old, new)
        return self._present(rtype, version, new)

    def _after_store(self, rtype: ResourceType, old: Obj | None, new: Obj) -> None:
        if rtype.kind == "CustomResourceDefinition":
            for served in crd_types(new):
                self.types[(served.group, served.plural)] = served
            self._established_at.setdefault(
                new["metadata"]["name"], time.monotonic() + self.crd_establish_delay)
        if rtype.kind == "Namespace" and old is None:
            name = new["metadata"]["name"]
            account = {"apiVersion": "v1", "kind": "ServiceAccount",
                       "metadata": {"name": "default", "namespace": name}}
            root_ca = {"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "kube-root-ca.crt", "namespace": name},
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

    def _remove(self, rtype: ResourceType, namespace: str, name: str) -> None:
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


def _conflict_error(rtype: ResourceType, name: str,
                    conflicts: list[tuple[Manager, fields.Path]]) -> ApiError:
    causes = [
        {"type": "FieldManagerConflict",
         "message": f'conflict with "{m.manager}" using {m.api_version}',
         "field": fields.dotted(path)}
        for m, path in conflicts
    ]
    lines = [f"{c['message']}: {c['field']}" for c in causes]
    count = len(lines)
    noun = "conflict" if count == 1 else "conflicts"
    text = lines[0] if count == 1 else "\n- " + "\n- ".join(lines)
    return ApiError(409, "Conflict", f"Apply failed with {count} {noun}: {text}",
                    {"name": name, "kind": rtype.plural,
                     **({"group": rtype.group} if rtype.group else {}), "causes": causes})
