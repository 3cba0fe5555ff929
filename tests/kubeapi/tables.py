"""Tables: what kubectl asks for (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io, ...`)
and kube-apiserver answers with its printers: a meta.k8s.io/v1 Table of column definitions
and one row per object, each with its cells and the object's metadata as a
PartialObjectMetadata (list-selectors.jsonl#47, `kubectl get configmaps`).

Only the printers written here from the recording are served (ConfigMap); for other kinds
the server answers the list itself, which kubectl accepts as well (its Accept header ends with
plain `application/json`).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]

_NAME = ("Name must be unique within a namespace. Is required when creating resources, "
         "although some resources may allow a client to request the generation of an "
         "appropriate name automatically. Name is primarily intended for creation idempotence "
         "and configuration definition. Cannot be updated. More info: "
         "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")
_CREATED = ("CreationTimestamp is a timestamp representing the server time when this object "
            "was created. It is not guaranteed to be set in happens-before order across "
            "separate operations. Clients may not set this value. It is represented in RFC3339 "
            "form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More "
            "info: https://git.k8s.io/community/contributors/devel/sig-architecture/"
            "api-conventions.md#metadata")
_CONFIGMAP_DATA = ("Data contains the configuration data. Each key must consist of "
                   "alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte "
                   "sequences must use the BinaryData field. The keys stored in Data must not "
                   "overlap with the keys in the BinaryData field, this is enforced during "
                   "validation process.")


def _column(name: str, description: str, type_: str = "string", format_: str = "",
            priority: int = 0) -> Obj:
    return {"name": name, "type": type_, "format": format_, "description": description,
            "priority": priority}


Printer = tuple[list[Obj], Callable[[Obj], list[Any]]]
PRINTERS: dict[tuple[str, str], Printer] = {
    ("", "ConfigMap"): (
        [_column("Name", _NAME, format_="name"), _column("Data", _CONFIGMAP_DATA),
         _column("Age", _CREATED)],
        lambda obj: [obj["metadata"].get("name"),
                     len(obj.get("data") or {}) + len(obj.get("binaryData") or {}),
                     age(obj)]),
}


def wanted(accept: str) -> bool:
    """Whether the Accept header's first media type the server can give is a meta.k8s.io
    Table (v1, or v1beta1 which it answers as v1 alike)."""
    for entry in accept.split(","):
        media, *params = [part.strip() for part in entry.split(";")]
        if media not in ("application/json", "*/*", "application/*"):
            continue
        options = dict(p.split("=", 1) for p in params if "=" in p)
        if options.get("as") == "Table" and options.get("g") == "meta.k8s.io" \
                and options.get("v") in ("v1", "v1beta1"):
            return True
        if "as" not in options:
            return False
    return False


def printable(group: str, kind: str) -> bool:
    return (group, kind) in PRINTERS


def table(group: str, kind: str, objects: list[Obj], metadata: Obj,
          include: str = "Metadata") -> Obj:
    """The Table of `objects` (a list's items, or the one object of a GET): `metadata` is
    the list's (resourceVersion, continue); `include` the request's includeObject."""
    columns, cells = PRINTERS[(group, kind)]
    rows = []
    for obj in objects:
        row: Obj = {"cells": cells(obj)}
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": obj.get("metadata") or {}}
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
            "columnDefinitions": columns, "rows": rows}


def age(obj: Obj) -> str:
    """The printers' age of an object: duration.HumanDuration since its creation."""
    created = obj["metadata"].get("creationTimestamp")
    if not created:
        return "<unknown>"
    try:
        then = datetime.datetime.strptime(str(created), "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.UTC)
    except ValueError:
        return "<unknown>"
    return human_duration((datetime.datetime.now(datetime.UTC) - then).total_seconds())


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery's duration.HumanDuration."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 60 * 2:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        rest = whole % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"
