"""Render an environment into the list of objects to apply.

Plain YAML is read here; every object, whatever produced it, then goes through the same checks:
it must be a Kubernetes object, namespaced objects get the environment's default namespace, and
no object may appear twice.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from gitdeploy.environments import Environment
from gitdeploy.errors import LoadError
from gitdeploy.manifests import Manifest, ObjectKey, Origin, YamlProblem, iter_documents
from gitdeploy.scopes import cluster_scoped_kinds
from gitdeploy.settings import SETTINGS_FILE
from gitdeploy.sources import SourceTree

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class RenderedSet:
    """The objects of one environment, in file order."""

    environment: Environment
    manifests: list[Manifest]
    inputs: tuple[PurePosixPath, ...] = ()  # the files read, settings included


def render_environment(tree: SourceTree, env: Environment,
                       collect: list[str] | None = None) -> RenderedSet:
    """The environment's objects. Problems raise a LoadError listing them all; with `collect`,
    they are appended to it instead and what could be read is returned (for `validate`)."""
    problems: list[str] = []
    manifests: list[Manifest] = []
    files = _manifest_files(tree, env)
    for path in files:
        manifests.extend(_load_file(tree, path, problems))
    if collect is not None:
        _default_namespaces(manifests, env.settings.namespace)
        collect.extend(problems)
        collect.extend(_duplicates(manifests))
        return RenderedSet(environment=env, manifests=manifests,
                           inputs=(env.settings_path, *files))
    if problems:
        raise LoadError(
            f"{len(problems)} problem(s) reading environment '{env.name}'",
            [*problems, f"to skip files that are not manifests, list them under 'exclude' in "
                        f"{env.settings_path}"],
        )
    _default_namespaces(manifests, env.settings.namespace)
    _check_duplicates(manifests)
    return RenderedSet(environment=env, manifests=manifests,
                       inputs=(env.settings_path, *files))


def _excluded(relative: PurePosixPath, patterns: tuple[str, ...]) -> bool:
    candidates = [str(relative), *(str(parent) for parent in relative.parents if parent.parts)]
    return any(fnmatch.fnmatchcase(c, p.rstrip("/")) for c in candidates for p in patterns)


def _manifest_files(tree: SourceTree, env: Environment) -> list[PurePosixPath]:
    files = []
    for path in tree.walk_files(env.path):
        relative = path.relative_to(env.path)
        if str(relative) == SETTINGS_FILE or path.suffix.lower() not in YAML_SUFFIXES:
            continue
        if not _excluded(relative, env.settings.exclude):
            files.append(path)
    return files


def _load_file(tree: SourceTree, path: PurePosixPath, problems: list[str]) -> list[Manifest]:
    try:
        documents = list(iter_documents(tree.read(path)))
    except YamlProblem as problem:
        where = f"{path}:{problem.line}" if problem.line else str(path)
        problems.append(f"{where}: {problem.message}")
        return []
    found: list[Manifest] = []
    for line, document in documents:
        if document is None:
            continue
        origin = Origin(str(path), line)
        for body in _expand_lists(document, origin, problems):
            found.append(Manifest(body=body, origin=origin))
    return found


def _object_problem(document: Any) -> str | None:
    if not isinstance(document, dict):
        return f"expected a Kubernetes object (a mapping), found a {type(document).__name__}"
    missing = [key for key in ("apiVersion", "kind") if not isinstance(document.get(key), str)
               or not document.get(key)]
    if missing:
        return f"not a Kubernetes object: no {' or '.join(missing)}"
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        return f"{document['kind']} has no metadata"
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        return f"{document['kind']} has no metadata.name"
    namespace = metadata.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        return f"{document['kind']} {name}: metadata.namespace must be a string"
    return None


def _expand_lists(document: Any, origin: Origin, problems: list[str]) -> list[dict[str, Any]]:
    if (
        isinstance(document, dict)
        and isinstance(document.get("kind"), str)
        and document["kind"].endswith("List")
        and isinstance(document.get("items"), list)
    ):
        bodies: list[dict[str, Any]] = []
        for index, item in enumerate(document["items"]):
            problem = _object_problem(item)
            if problem:
                problems.append(f"{origin}: items[{index}]: {problem}")
            else:
                bodies.append(item)
        return bodies
    problem = _object_problem(document)
    if problem:
        problems.append(f"{origin}: {problem}")
        return []
    return [document]


def _default_namespaces(manifests: list[Manifest], namespace: str) -> None:
    cluster_scoped = cluster_scoped_kinds(manifests)
    for manifest in manifests:
        metadata = manifest.body["metadata"]
        if (manifest.group, manifest.kind) in cluster_scoped:
            continue
        if not metadata.get("namespace"):
            metadata["namespace"] = namespace
            manifest.namespace_defaulted = True


def _duplicates(manifests: list[Manifest]) -> list[str]:
    seen: dict[ObjectKey, Manifest] = {}
    problems = []
    for manifest in manifests:
        first = seen.setdefault(manifest.key, manifest)
        if first is not manifest:
            problems.append(f"{manifest.key}: defined in {first.origin} and in {manifest.origin}")
    return problems


def _check_duplicates(manifests: list[Manifest]) -> None:
    problems = _duplicates(manifests)
    if problems:
        raise LoadError(f"{len(problems)} object(s) defined more than once", problems)
