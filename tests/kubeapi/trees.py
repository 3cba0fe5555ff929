"""JSON trees as the server keeps them: dicts, lists and scalars."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, MutableMapping
from typing import Any, TypeVar

from sortedcontainers import SortedDict, SortedSet

T = TypeVar("T")


def clone(value: T) -> T:
    """A deep copy of a JSON tree: about 2.5x faster than `copy.deepcopy`, which the server
    would otherwise spend a tenth of its time in (several copies per write)."""
    if isinstance(value, dict):
        copied: Any = {key: clone(item) for key, item in value.items()}
        return copied  # type: ignore[no-any-return]
    if isinstance(value, list):
        items: Any = [clone(item) for item in value]
        return items  # type: ignore[no-any-return]
    return value


class Store(MutableMapping[tuple[str, str, str, str], dict[str, Any]]):
    """The server's objects by key (group, plural, namespace, name), in key order, with the
    keys of the objects each owner uid is named in (`ownerReferences`) indexed: controllers
    find what a Deployment or a ReplicaSet owns without reading every object of a namespace,
    which made a large apply quadratic. So are the keys of the objects without a controller
    (no owner reference with `controller: true`), in key order: the ones a Deployment may
    adopt. Stored objects are replaced, never changed in place."""

    def __init__(self) -> None:
        self._objects: SortedDict[tuple[str, str, str, str], dict[str, Any]] = SortedDict()
        self._owned: dict[str, set[tuple[str, str, str, str]]] = defaultdict(set)
        self._uncontrolled: SortedSet[tuple[str, str, str, str]] = SortedSet()

    def __getitem__(self, key: tuple[str, str, str, str]) -> dict[str, Any]:
        return self._objects[key]

    def __setitem__(self, key: tuple[str, str, str, str], value: dict[str, Any]) -> None:
        old = self._objects.get(key)
        if old is not None:
            self._unindex(key, old)
        self._objects[key] = value
        for uid in _owners(value):
            self._owned[uid].add(key)
        if not _controlled(value):
            self._uncontrolled.add(key)

    def __delitem__(self, key: tuple[str, str, str, str]) -> None:
        self._unindex(key, self._objects.pop(key))

    def __iter__(self) -> Iterator[tuple[str, str, str, str]]:
        return iter(self._objects)

    def __len__(self) -> int:
        return len(self._objects)

    def __contains__(self, key: object) -> bool:
        return key in self._objects

    def irange(self, low: tuple[str, str, str, str], high: tuple[str, str, str, str]
               ) -> Iterator[tuple[str, str, str, str]]:
        """The keys from `low` to `high`, both included, in order."""
        return iter(self._objects.irange(low, high))

    def owned_by(self, uid: str) -> list[tuple[str, str, str, str]]:
        """The keys of the objects that name `uid` among their owners, in order."""
        return sorted(self._owned.get(uid, ()))

    def uncontrolled(self, low: tuple[str, str, str, str], high: tuple[str, str, str, str]
                     ) -> list[tuple[str, str, str, str]]:
        """The keys from `low` to `high`, both included, of the objects without a controller,
        in order."""
        return list(self._uncontrolled.irange(low, high))

    def _unindex(self, key: tuple[str, str, str, str], old: dict[str, Any]) -> None:
        for uid in _owners(old):
            keys = self._owned.get(uid)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._owned[uid]
        self._uncontrolled.discard(key)


def _owners(obj: dict[str, Any]) -> list[str]:
    references = (obj.get("metadata") or {}).get("ownerReferences") or []
    return [str(ref.get("uid")) for ref in references if isinstance(ref, dict)]


def _controlled(obj: dict[str, Any]) -> bool:
    references = (obj.get("metadata") or {}).get("ownerReferences") or []
    return any(ref.get("controller") for ref in references if isinstance(ref, dict))
