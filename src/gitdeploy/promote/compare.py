"""Two environments compared, offline: the rendered objects of each, with what is meant to
differ taken out (the namespace, the names' declared prefix and suffix, kustomize's hash
suffixes of generated ConfigMaps and Secrets, and the fields both environments' settings list
as environment-specific), matched by group, kind and name; then what the target lacks: images,
chart versions and config keys (docs/promotion.md)."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gitdeploy.config.environments import Environment
from gitdeploy.config.settings import ChartSpec
from gitdeploy.objects.ignore import Ignored, IgnoreRule, rules_for
from gitdeploy.objects.images import ImageRef, container_images
from gitdeploy.objects.manifests import Manifest
from gitdeploy.objects.normalize import normalize
from gitdeploy.objects.secrets import is_secret
from gitdeploy.objects.yamldiff import unified
from gitdeploy.release_results import (
    DIFFERS,
    EXTRA,
    MISSING,
    ONLY_IN_SOURCE,
    ONLY_IN_TARGET,
    SAME,
    ChartDifference,
    ConfigKeyDifference,
    EnvironmentComparison,
    ImageDifference,
    ObjectDifference,
)

# kustomize's content hash of a generated ConfigMap or Secret: "-" and 10 characters of its
# alphabet (hex digits with 0, 1, 3, a, e replaced by g, h, k, m, t)
_KUSTOMIZE_HASH = re.compile(r"-[2456789bcdfghkmt]{10}$")
_GENERATED_KINDS = ("ConfigMap", "Secret")
ENV_NAMESPACE = "(namespace)"  # the environment's own Namespace, whatever its name
MatchKey = tuple[str, str, str]  # group, kind, name without prefix, suffix and hash


@dataclass(frozen=True)
class Side:
    """One environment's rendered objects, as compared."""

    env: Environment
    manifests: list[Manifest]


def base_name(env: Environment, manifest: Manifest) -> str:
    """The object's name with what is meant to differ taken off; the environment's own
    Namespace is named `(namespace)` in both."""
    name = manifest.name
    if manifest.kind == "Namespace" and manifest.group == "" and name == env.settings.namespace:
        return ENV_NAMESPACE
    options = env.settings.promotion
    if options.name_prefix and name.startswith(options.name_prefix):
        name = name[len(options.name_prefix):]
    if manifest.kind in _GENERATED_KINDS and manifest.group == "":
        name = _KUSTOMIZE_HASH.sub("", name)
    if options.name_suffix and name.endswith(options.name_suffix):
        name = name[:-len(options.name_suffix)]
    return name


def match_key(env: Environment, manifest: Manifest) -> MatchKey:
    return manifest.group, manifest.kind, base_name(env, manifest)


def _renamed_strings(value: Any, names: dict[str, str]) -> Any:
    """References to the environment's objects (a configMapRef's name, a volume's
    secretName...) with the same names taken off as the objects'."""
    if isinstance(value, dict):
        return {key: _renamed_strings(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed_strings(item, names) for item in value]
    if isinstance(value, str) and value in names:
        return names[value]
    return value


def comparable(env: Environment, manifest: Manifest, names: dict[str, str],
               rules: tuple[IgnoreRule, ...]) -> dict[str, Any]:
    """The object as compared: normalized, the environment-specific fields out (the rules
    matched against the object as the environment names it), no namespace, names taken off."""
    ignored = Ignored(rules_for(rules, manifest.body))
    body = normalize(manifest.body)
    if ignored:
        body = ignored.strip(body)
    body = _renamed_strings(body, names)
    metadata = body.setdefault("metadata", {})
    metadata.pop("namespace", None)
    metadata["name"] = base_name(env, manifest)
    return _sorted(body)  # type: ignore[no-any-return]


def _sorted(value: Any) -> Any:
    """Keys in order at every level: how each environment's files order them means nothing."""
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def _rename_map(env: Environment, manifests: Iterable[Manifest]) -> dict[str, str]:
    renamed = {m.name: base_name(env, m) for m in manifests}
    return {old: new for old, new in renamed.items() if old != new}


def _rules(*envs: Environment) -> tuple[IgnoreRule, ...]:
    """The environment-specific fields and ignore rules of both environments (the rules that
    name fields by manager need a live object: they do not apply here)."""
    rules = [rule for env in envs for rule in (*env.settings.promotion.environment_specific,
                                                *env.settings.ignore_rules)]
    return tuple(rule for rule in rules if rule.json_pointers or rule.json_paths)


def compare(source: Side, target: Side) -> EnvironmentComparison:
    """What `target` lacks of `source`, and every other difference."""
    rules = _rules(source.env, target.env)
    source_names = _rename_map(source.env, source.manifests)
    target_names = _rename_map(target.env, target.manifests)
    theirs = {match_key(target.env, m): m for m in target.manifests}
    ours = {match_key(source.env, m): m for m in source.manifests}
    result = EnvironmentComparison(source=source.env.name, target=target.env.name, objects=[],
                                   ignored=_ignored(source.env, target.env, rules))
    for key, mine in ours.items():
        title = f"{mine.kind} {key[2]}"
        other = theirs.get(key)
        new = comparable(source.env, mine, source_names, rules)
        if other is None:
            result.objects.append(ObjectDifference(title, ONLY_IN_SOURCE, str(mine.origin), "",
                                                   _diff(None, new, title, source, target)))
            result.images.extend(_images(title, mine.body, None))
            continue
        old = comparable(target.env, other, target_names, rules)
        state = SAME if old == new else DIFFERS
        result.objects.append(ObjectDifference(
            title, state, str(mine.origin), str(other.origin),
            _diff(old, new, title, source, target) if state == DIFFERS else ""))
        if state == DIFFERS:
            result.images.extend(_images(title, new, old))
            result.config_keys.extend(_config_keys(title, new, old))
    for key, other in theirs.items():
        if key not in ours:
            title = f"{other.kind} {key[2]}"
            old = comparable(target.env, other, target_names, rules)
            result.objects.append(ObjectDifference(title, ONLY_IN_TARGET, "", str(other.origin),
                                                   _diff(old, None, title, source, target)))
    result.charts.extend(chart_differences(source.env.settings.charts,
                                           target.env.settings.charts))
    return result


def _diff(old: dict[str, Any] | None, new: dict[str, Any] | None, title: str, source: Side,
          target: Side) -> str:
    return unified(copy.deepcopy(old), copy.deepcopy(new), title.replace(" ", "/"),
                   old_label=target.env.name, new_label=source.env.name)


def _ignored(source: Environment, target: Environment, rules: tuple[IgnoreRule, ...]
             ) -> list[str]:
    found = ["metadata.namespace", "kustomize's hash suffixes of generated ConfigMaps and "
             "Secrets"]
    for env in (source, target):
        options = env.settings.promotion
        if options.name_prefix:
            found.append(f"name prefix {options.name_prefix!r} of {env.name}")
        if options.name_suffix:
            found.append(f"name suffix {options.name_suffix!r} of {env.name}")
    found.extend(rule.reason for rule in rules if rule.reason)
    return found


def _images(title: str, new: dict[str, Any], old: dict[str, Any] | None
            ) -> list[ImageDifference]:
    theirs = {c.container: c.image for c in container_images(old)} if old else {}
    found = []
    for container in container_images(new):
        other = theirs.get(container.container, "")
        if other != container.image:
            found.append(ImageDifference(title, container.container,
                                         ImageRef.parse(container.image).repository,
                                         container.image, other))
    return found


def _config_keys(title: str, new: dict[str, Any], old: dict[str, Any]
                 ) -> list[ConfigKeyDifference]:
    if new.get("kind") not in _GENERATED_KINDS or "/" in str(new.get("apiVersion", "")):
        return []
    fields = ("data", "stringData") if is_secret(new) else ("data", "binaryData")
    found = []
    for field_name in fields:
        mine, theirs = new.get(field_name) or {}, old.get(field_name) or {}
        if not (isinstance(mine, dict) and isinstance(theirs, dict)):
            continue
        for key in mine:
            if key not in theirs:
                found.append(ConfigKeyDifference(title, key, MISSING))
            elif mine[key] != theirs[key]:
                found.append(ConfigKeyDifference(title, key, DIFFERS))
        found.extend(ConfigKeyDifference(title, key, EXTRA) for key in theirs if key not in mine)
    return found


def chart_differences(source: tuple[ChartSpec, ...], target: tuple[ChartSpec, ...]
                      ) -> list[ChartDifference]:
    """Releases whose chart version the target lacks (a chart folder has no version here:
    its Chart.yaml travels with `--files`, or is shared)."""
    theirs = {spec.release: spec for spec in target}
    found = []
    for spec in source:
        other = theirs.get(spec.release)
        if other is None:
            found.append(ChartDifference(spec.release, spec.chart, spec.version or "", ""))
        elif spec.version and spec.version != other.version:
            found.append(ChartDifference(spec.release, spec.chart, spec.version,
                                         other.version or ""))
    return found
