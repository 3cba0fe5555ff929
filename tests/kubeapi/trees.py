"""JSON trees as the server keeps them: dicts, lists and scalars."""

from __future__ import annotations

from typing import Any, TypeVar

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
