"""Unified YAML diffs between a live object and what it would become, Secrets masked."""

from __future__ import annotations

import difflib
from typing import Any

import yaml

from gitdeploy.objects.secrets import mask, mask_pair

# libyaml's emitter when PyYAML has it: the same text, several times faster than the Python one
# (the diff of every object is rendered as YAML).
_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[valid-type,misc]
    pass


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def to_yaml(body: dict[str, Any] | None) -> str:
    if not body:
        return ""
    return yaml.dump(body, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=1000)


def masked_yaml(body: dict[str, Any]) -> str:
    return to_yaml(mask(body))


def unified(before: dict[str, Any] | None, after: dict[str, Any] | None, title: str, *,
            old_label: str = "live", new_label: str = "git") -> str:
    """`before` and `after` are normalized objects (None when absent)."""
    old, new = mask_pair(before, after)
    if old is not None and new is not None:
        # Key order means nothing; an object read through a LIST gets `kind` and `apiVersion`
        # added by gitdeploy, which must not show as moved lines.
        old = {**{k: old[k] for k in new if k in old}, **old}
    old_lines = to_yaml(old).splitlines(keepends=True)
    new_lines = to_yaml(new).splitlines(keepends=True)
    lines = difflib.unified_diff(old_lines, new_lines, fromfile=f"{old_label}/{title}",
                                 tofile=f"{new_label}/{title}", n=3)
    return "".join(lines)
