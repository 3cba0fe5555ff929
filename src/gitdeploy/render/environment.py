"""Render an environment into the list of objects to apply.

Three sources, combined: plain YAML files, read here; folders holding a kustomization, built by
kustomize; and the Helm charts the settings declare, rendered by Helm. Every object, whatever
produced it, then goes through the same checks: it must be a Kubernetes object, namespaced
objects get a default namespace (the chart's release namespace for a chart's objects, else the
environment's), and no object may appear twice.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from gitdeploy.config.environments import Environment
from gitdeploy.config.settings import SETTINGS_FILE, ChartSpec
from gitdeploy.config.sources import SourceTree
from gitdeploy.errors import LoadError
from gitdeploy.objects.kinds import cluster_scoped_kinds
from gitdeploy.objects.manifests import (
    Manifest,
    ObjectKey,
    Origin,
    YamlProblem,
    check_aliases,
    iter_documents,
)
from gitdeploy.render import helm as charts
from gitdeploy.render import kustomize

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class RenderedSet:
    """The objects of one environment: plain YAML in path order, then each kustomization's
    output, then each chart's, in the order the settings list them."""

    environment: Environment
    manifests: list[Manifest]
    inputs: tuple[PurePosixPath, ...] = ()  # the files read, settings included
    notes: tuple[str, ...] = ()  # what an engine rendered that is not applied, and why


def render_environment(tree: SourceTree, env: Environment,
                       collect: list[str] | None = None) -> RenderedSet:
    """The environment's objects. Problems raise a LoadError listing them all; with `collect`,
    they are appended to it instead and what could be read is returned (for `validate`)."""
    problems: list[str] = []
    candidates = _candidate_files(tree, env)
    roots = kustomize.kustomization_roots(candidates)
    engines = _Engines(tree, env, problems, collecting=collect is not None)
    chart_files = {path for inputs in engines.chart_inputs for path in inputs}
    files = [path for path in candidates if path.suffix.lower() in YAML_SUFFIXES
             and path not in chart_files and not any(root in path.parents for root in roots)]
    plain: list[Manifest] = []
    for path in files:
        plain.extend(_load_file(tree, path, problems))
    engines.run(roots)
    groups = [(plain, env.settings.namespace), *engines.groups]
    manifests = [manifest for group, _ in groups for manifest in group]
    inputs = tuple(dict.fromkeys([env.settings_path, *files, *engines.inputs]))
    if collect is None and problems:
        raise LoadError(
            f"{len(problems)} problem(s) reading environment '{env.name}'",
            [*problems, f"to skip files that are not manifests, list them under 'exclude' in "
                        f"{env.settings_path}"],
        )
    _default_namespaces(groups, cluster_scoped_kinds(manifests))
    if collect is not None:
        collect.extend(problems)
        collect.extend(_duplicates(manifests))
    else:
        _check_duplicates(manifests)
    return RenderedSet(environment=env, manifests=manifests, inputs=inputs,
                       notes=tuple(engines.notes))


class _Engines:
    """Runs kustomize on each kustomization folder and Helm on each chart of the settings."""

    def __init__(self, tree: SourceTree, env: Environment, problems: list[str], *,
                 collecting: bool) -> None:
        self.tree, self.env, self.problems, self.collecting = tree, env, problems, collecting
        self.groups: list[tuple[list[Manifest], str]] = []  # objects, their default namespace
        self.inputs: list[PurePosixPath] = []
        self.notes: list[str] = []
        # each chart's files of the repository (values files, a local chart's folder)
        self.chart_inputs = [charts.chart_inputs(spec, env.path, tree)
                             for spec in env.settings.charts]

    def run(self, roots: list[PurePosixPath]) -> None:
        charts = self.env.settings.charts
        if not roots and not charts:
            return
        needs_disk = bool(roots) or any(not spec.is_remote for spec in charts)
        with self.tree.on_disk() if needs_disk else nullcontext(None) as disk_root:
            for root in roots:
                self._guarded(functools.partial(self._kustomization, root, disk_root))
            for spec, inputs in zip(charts, self.chart_inputs, strict=True):
                self._guarded(functools.partial(self._chart, spec, inputs, disk_root))

    def _guarded(self, step: Callable[[], None]) -> None:
        try:
            step()
        except LoadError as error:
            if not self.collecting:
                raise
            self.problems.append(_one_line(error))

    def _kustomization(self, root: PurePosixPath, disk_root: Path | None) -> None:
        assert disk_root is not None
        origin = Origin(str(kustomize.kustomization_file(self.tree, root)), detail="kustomize")
        inputs = sorted(kustomize.kustomize_inputs(self.tree, root))
        _refuse_links_outside(self.tree, [root], inputs)
        _refuse_alias_bombs(self.tree, inputs)
        output = kustomize.build(disk_root, root, self.env.settings.kustomize)
        self.groups.append((_load_text(output, origin, self.problems),
                            self.env.settings.namespace))
        self.inputs.extend(inputs)

    def _chart(self, spec: ChartSpec, inputs: list[PurePosixPath], disk_root: Path | None
               ) -> None:
        folders = [] if spec.is_remote else [charts.chart_folder(self.env.path, spec)]
        _refuse_links_outside(self.tree, folders, inputs)
        _refuse_alias_bombs(self.tree, inputs)
        namespace = spec.namespace or self.env.settings.namespace
        kept: list[Manifest] = []
        for path, text in charts.render_chart(spec, self.env.path, namespace, self.tree,
                                              disk_root):
            origin = Origin(path, detail=f"helm release {spec.release}")
            for manifest in _load_text(text, origin, self.problems):
                reason = charts.leave_out(manifest.body, spec)
                if reason:
                    self.notes.append(f"{manifest.kind} {manifest.name} ({path}) is not "
                                      f"applied: {reason}")
                else:
                    kept.append(manifest)
        self.groups.append((kept, namespace))
        self.inputs.extend(inputs)


def _excluded(relative: PurePosixPath, patterns: tuple[str, ...]) -> bool:
    candidates = [str(relative), *(str(parent) for parent in relative.parents if parent.parts)]
    return any(fnmatch.fnmatchcase(c, p.rstrip("/")) for c in candidates for p in patterns)


def _candidate_files(tree: SourceTree, env: Environment) -> list[PurePosixPath]:
    files = []
    for path in tree.walk_files(env.path):
        relative = path.relative_to(env.path)
        if str(relative) != SETTINGS_FILE and not _excluded(relative, env.settings.exclude):
            files.append(path)
    return files


def _one_line(error: LoadError) -> str:
    """An error as one problem of a list: its message, then its details."""
    return f"{error.message}: {' '.join(error.details)}" if error.details else error.message


def _refuse_links_outside(tree: SourceTree, folders: list[PurePosixPath],
                          files: list[PurePosixPath]) -> None:
    """Engines read the files on disk themselves, following symbolic links wherever they lead:
    a link under the engine's folders, or along the path of a file it reads, must stay inside
    the repository (LinkOutsideError otherwise)."""
    for folder in folders:
        tree.check_links(folder)
    for path in files:
        tree.resolve(path)


def _refuse_alias_bombs(tree: SourceTree, files: list[PurePosixPath]) -> None:
    """The YAML files an engine reads, checked for aliases beyond the bound before it runs:
    kustomize exhausts memory on them, and Helm's values would be expanded to JSON."""
    for path in files:
        if path.suffix.lower() not in YAML_SUFFIXES and path.name != "Kustomization":
            continue
        try:
            text = tree.read(path)
        except (OSError, KeyError):
            continue  # not a file of the tree: the engine says so
        try:
            check_aliases(text)
        except YamlProblem as problem:
            raise LoadError(f"{path}:{problem.line}: {problem.message}") from None


def _load_file(tree: SourceTree, path: PurePosixPath, problems: list[str]) -> list[Manifest]:
    try:
        text = tree.read(path)
    except LoadError as error:  # a symbolic link leading outside the repository
        problems.append(_one_line(error))
        return []
    return _load_text(text, Origin(str(path)), problems, lines=True)


def _load_text(text: bytes, origin: Origin, problems: list[str], *, lines: bool = False
               ) -> list[Manifest]:
    """The objects of one YAML stream. With `lines`, origins carry each document's line (for
    files of the repository; an engine's output has no lines worth naming)."""
    try:
        documents = list(iter_documents(text))
    except YamlProblem as problem:
        place = f"{origin.path}:{problem.line}" if problem.line and lines else str(origin)
        problems.append(f"{place}: {problem.message}")
        return []
    found: list[Manifest] = []
    for line, document in documents:
        if document is None:
            continue
        where = dataclasses.replace(origin, line=line) if lines else origin
        for body in _expand_lists(document, where, problems):
            found.append(Manifest(body=body, origin=where))
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


def _default_namespaces(groups: list[tuple[list[Manifest], str]],
                        cluster_scoped: set[tuple[str, str]]) -> None:
    for manifests, namespace in groups:
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
