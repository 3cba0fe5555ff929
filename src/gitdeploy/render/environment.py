"""Render an environment into the list of objects to apply.

Three sources, combined: plain YAML files, read here; folders holding a kustomization, built by
kustomize; and the Helm charts the settings declare, rendered by Helm. SOPS-encrypted files
among them are decrypted in memory (render/sops.py; kustomize builds from a private decrypted
copy: render/private.py); without keys (`decrypt=False`: `validate`, offline diffs) their
ciphertext is read instead. The plain objects and kustomize's then get the settings' variables
substituted (render/substitute.py). Every object, whatever produced it, then goes through the
same checks: it must be a Kubernetes object, namespaced objects get a default namespace (the
chart's release namespace for a chart's objects, else the environment's), and no object may
appear twice.

The values that came from encrypted files are masked wherever the run shows them: the fields
of objects that hold them are registered with objects/secrets.py (`protect_fields`), and the
values with the run's masker (`remember`).
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
from gitdeploy.config.sources import SourceTree, normalise
from gitdeploy.errors import LoadError
from gitdeploy.kube.discovery_cache import known_scopes
from gitdeploy.objects.kinds import cluster_scoped_kinds, is_crd, is_custom_group
from gitdeploy.objects.manifests import (
    Manifest,
    ObjectKey,
    Origin,
    YamlProblem,
    check_aliases,
    iter_documents,
)
from gitdeploy.objects.secrets import (
    MIN_MASKED_LENGTH,
    SecretMasker,
    protect_fields,
    remember,
)
from gitdeploy.render import helm as charts
from gitdeploy.render import kustomize, sops
from gitdeploy.render.private import encrypted_inputs, private_copy
from gitdeploy.render.substitute import load_variables, substitute

YAML_SUFFIXES = sops.YAML_SUFFIXES  # manifests are read by their suffix, as sops reads files
FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class RenderedSet:
    """The objects of one environment: plain YAML in path order, then each kustomization's
    output, then each chart's, in the order the settings list them."""

    environment: Environment
    manifests: list[Manifest]
    inputs: tuple[PurePosixPath, ...] = ()  # the files read, settings included
    notes: tuple[str, ...] = ()  # what an engine rendered that is not applied, and why
    # the variables substituted, as "NAME (where its value came from[, encrypted])"
    variables: tuple[str, ...] = ()
    encrypted: tuple[str, ...] = ()  # the SOPS-encrypted files read
    # the values decrypted from them, and the encrypted variables' values: never shown
    masker: SecretMasker = dataclasses.field(default_factory=SecretMasker)


def render_environment(tree: SourceTree, env: Environment,
                       collect: list[str] | None = None, *, decrypt: bool = True
                       ) -> RenderedSet:
    """The environment's objects. Problems raise a LoadError listing them all; with `collect`,
    they are appended to it instead and what could be read is returned (for `validate`).
    With `decrypt`, SOPS-encrypted files are decrypted (a SopsError when they cannot be);
    without, their ciphertext is read (no keys needed)."""
    problems: list[str] = []
    opener = sops.Opener(decrypt=decrypt, binary=env.settings.sops.binary)
    sensitive: list[tuple[Manifest, set[FieldPath]]] = []
    candidates = _candidate_files(tree, env)
    roots = kustomize.kustomization_roots(candidates)
    engines = _Engines(tree, env, problems, collecting=collect is not None, opener=opener)
    chart_files = {path for inputs in engines.chart_inputs for path in inputs}
    variable_files = [normalise(env.path / source.path)
                      for source in env.settings.substitution.sources]
    files = [path for path in candidates if path.suffix.lower() in YAML_SUFFIXES
             and path not in chart_files and path not in variable_files
             and not any(root in path.parents for root in roots)]
    plain: list[Manifest] = []
    for path in files:
        plain.extend(_load_file(tree, path, problems, opener, sensitive))
    engines.run(roots)
    groups = [(plain, env.settings.namespace), *engines.groups]
    manifests = [manifest for group, _ in groups for manifest in group]
    used, substituted_values = _substitute(tree, env, opener, problems,
                                           [plain, *engines.kustomized], sensitive)
    inputs = tuple(dict.fromkeys([env.settings_path, *files, *engines.inputs,
                                  *(path for path in variable_files if _exists(tree, path))]))
    masker = SecretMasker.of_values([*opener.values, *substituted_values])
    remember(masker)  # the error boundary masks them too, for the rest of the run
    _protect(manifests, sensitive, [*opener.values, *substituted_values])
    if collect is None and problems:
        raise LoadError(f"{len(problems)} problem(s) reading environment '{env.name}'",
                        [*problems, *_hints(problems, env)])
    engines.notes.extend(_default_namespaces(groups, manifests))
    if collect is not None:
        collect.extend(problems)
        collect.extend(_duplicates(manifests))
    else:
        _check_duplicates(manifests)
    return RenderedSet(environment=env, manifests=manifests, inputs=inputs,
                       notes=tuple(engines.notes), variables=used,
                       encrypted=tuple(str(path) for path in opener.files), masker=masker)


def _exists(tree: SourceTree, path: PurePosixPath) -> bool:
    try:
        tree.read(path)
    except (OSError, KeyError, LoadError):
        return False
    return True


def _substitute(tree: SourceTree, env: Environment, opener: sops.Opener, problems: list[str],
                groups: list[list[Manifest]],
                sensitive: list[tuple[Manifest, set[FieldPath]]]
                ) -> tuple[tuple[str, ...], list[str]]:
    """The settings' variables substituted into the plain objects and kustomize's (not into
    a chart's: Helm templates take values, and often carry shell `${...}` of their own).
    Returns the variables used, described, and the values of the encrypted ones."""
    options = env.settings.substitution
    if not options.enabled:
        return (), []
    variables = load_variables(options, env.path, tree, opener, env.settings_path)
    done = substitute([m for group in groups for m in group], variables,
                      empty_when_unresolved=options.unresolved == "empty", problems=problems)
    sensitive.extend(done.sensitive)
    used = tuple(f"{name} ({source})" for name, source in sorted(done.used.items()))
    return used, done.values


def _protect(manifests: list[Manifest], sensitive: list[tuple[Manifest, set[FieldPath]]],
             values: list[str]) -> None:
    """Register the fields that hold values from encrypted sources: those known by their place
    (an `ENC[...]` value of a decrypted document, a placeholder of an encrypted variable), and
    any string that holds such a value (what kustomize and Helm made of them)."""
    for manifest, paths in sensitive:
        protect_fields(manifest.body, paths)
    masker = SecretMasker([value for value in values if len(value) >= MIN_MASKED_LENGTH])
    if not masker:
        return
    for manifest in manifests:
        paths = {path for path, text in _strings(manifest.body, ())
                 if masker.mask_text(text) != text}
        protect_fields(manifest.body, paths)


def _strings(value: Any, path: FieldPath) -> list[tuple[FieldPath, str]]:
    if isinstance(value, dict):
        return [found for key, item in value.items()
                for found in _strings(item, (*path, key))]
    if isinstance(value, list):
        return [found for index, item in enumerate(value)
                for found in _strings(item, (*path, index))]
    return [(path, value)] if isinstance(value, str) else []


class _Engines:
    """Runs kustomize on each kustomization folder and Helm on each chart of the settings."""

    def __init__(self, tree: SourceTree, env: Environment, problems: list[str], *,
                 collecting: bool, opener: sops.Opener) -> None:
        self.tree, self.env, self.problems, self.collecting = tree, env, problems, collecting
        self.opener = opener
        self.groups: list[tuple[list[Manifest], str]] = []  # objects, their default namespace
        self.kustomized: list[list[Manifest]] = []  # kustomize's objects, per kustomization
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
        if encrypted_inputs(self.tree, inputs):
            # kustomize reads the files itself: it gets a private copy, decrypted
            with private_copy(self.tree, inputs, self.opener) as private_root:
                output = kustomize.build(private_root, root, self.env.settings.kustomize,
                                         self.notes)
        else:
            output = kustomize.build(disk_root, root, self.env.settings.kustomize, self.notes)
        built = _load_text(output, origin, self.problems)
        self.groups.append((built, self.env.settings.namespace))
        self.kustomized.append(built)
        self.inputs.extend(inputs)

    def _chart(self, spec: ChartSpec, inputs: list[PurePosixPath], disk_root: Path | None
               ) -> None:
        folders = [] if spec.is_remote else [charts.chart_folder(self.env.path, spec)]
        _refuse_links_outside(self.tree, folders, inputs)
        _refuse_alias_bombs(self.tree, inputs)
        namespace = spec.namespace or self.env.settings.namespace
        kept: list[Manifest] = []
        for path, text in charts.render_chart(spec, self.env.path, namespace, self.tree,
                                              disk_root, self.opener, self.notes):
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


def _load_file(tree: SourceTree, path: PurePosixPath, problems: list[str],
               opener: sops.Opener, sensitive: list[tuple[Manifest, set[FieldPath]]]
               ) -> list[Manifest]:
    try:
        text = tree.read(path)
    except LoadError as error:  # a symbolic link leading outside the repository
        problems.append(_one_line(error))
        return []
    if sops.sops_format(path, text) is None:
        return _load_text(text, Origin(str(path)), problems, lines=True)
    return _load_encrypted(path, text, problems, opener, sensitive)


def _identity_encrypted(document: Any) -> bool:
    paths = set(sops.encrypted_paths(document))
    return bool(paths & {("apiVersion",), ("kind",), ("metadata", "name")})


def _load_encrypted(path: PurePosixPath, text: bytes, problems: list[str], opener: sops.Opener,
                    sensitive: list[tuple[Manifest, set[FieldPath]]]) -> list[Manifest]:
    """The objects of a SOPS-encrypted file: decrypted, or without keys as ciphertext (the
    `sops` metadata left out). Lines are the encrypted file's; the fields that were encrypted
    are remembered for masking."""
    try:
        encrypted = list(iter_documents(text))
    except YamlProblem as problem:
        problems.append(f"{path}:{problem.line}: {problem.message}")
        return []
    opened = opener.open(path, text)
    if opener.decrypt:
        try:
            clear = [document for _, document in iter_documents(opened.text)]
        except YamlProblem as problem:
            problems.append(f"{path}: the decrypted file is not valid YAML: {problem.message}")
            return []
    else:
        clear = [{k: v for k, v in document.items() if k != "sops"}
                 if isinstance(document, dict) else document for _, document in encrypted]
    found: list[Manifest] = []
    for (line, before), document in zip(encrypted, clear, strict=False):
        if document is None:
            continue
        where = Origin(str(path), line=line)
        if not opener.decrypt and _identity_encrypted(before):
            problems.append(f"{where}: its apiVersion, kind or metadata.name is encrypted: "
                            "without the key, gitdeploy cannot tell which object it is; "
                            "encrypt only the values (sops --encrypted-regex "
                            "'^(data|stringData)$', docs/secrets.md)")
            continue
        for body in _expand_lists(document, where, problems):
            manifest = Manifest(body=body, origin=where)
            found.append(manifest)
            if body is document:
                sensitive.append((manifest, set(sops.encrypted_paths(before))))
    return found


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


# Problems of files that are not manifests at all (the way out may be `exclude`).
_NOT_MANIFESTS = ("expected a Kubernetes object", "not a Kubernetes object", "not a text file")


def _hints(problems: list[str], env: Environment) -> list[str]:
    """The ways out that fit the problems: `exclude` for files that are not manifests; the
    file's own fix for the rest (syntax, encoding, a missing name)."""
    hints = []
    if any(marker in problem for problem in problems for marker in _NOT_MANIFESTS):
        hints.append(f"to skip files that are not manifests, list them under 'exclude' in "
                     f"{env.settings_path}")
    if any(not any(marker in problem for marker in _NOT_MANIFESTS) for problem in problems):
        hints.append("fix the files at the lines shown (gitdeploy validate lists every problem "
                     "of the environment)")
    return hints


SKIP_ANNOTATIONS = {"gitdeploy.io/skip": "true", "config.kubernetes.io/local-config": "true"}


def skipped(document: Any) -> bool:
    """An object the repository keeps but gitdeploy does not apply: annotated
    `gitdeploy.io/skip: "true"`, or `config.kubernetes.io/local-config: "true"` (the kustomize
    and kpt convention for objects that are not for the cluster)."""
    if not isinstance(document, dict) or not isinstance(document.get("metadata"), dict):
        return False
    annotations = document["metadata"].get("annotations")
    return isinstance(annotations, dict) and any(
        str(annotations.get(key, "")).lower() == value
        for key, value in SKIP_ANNOTATIONS.items())


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
    generated = metadata.get("generateName")
    if (not isinstance(name, str) or not name) and isinstance(generated, str) and generated:
        return (f"{document['kind']} has metadata.generateName '{generated}' and no name: the "
                "API server would pick a new name at every apply, so a declarative deploy "
                "cannot track, diff or prune it; give it a metadata.name, or annotate it "
                "gitdeploy.io/skip: \"true\" to keep it in the repository without applying it")
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
            if skipped(item):
                continue
            problem = _object_problem(item)
            if problem:
                problems.append(f"{origin}: items[{index}]: {problem}")
            else:
                bodies.append(item)
        return bodies
    if skipped(document):
        return []
    problem = _object_problem(document)
    if problem:
        problems.append(f"{origin}: {problem}")
        return []
    return [document]


def _default_namespaces(groups: list[tuple[list[Manifest], str]],
                        manifests: list[Manifest]) -> list[str]:
    """Give each namespaced object without a namespace the group's default. A kind's scope
    comes from Kubernetes itself, the CRDs among `manifests`, and the kinds clusters have shown
    (kube/discovery_cache.py: discovery and `schemas pull` keep them); a custom kind of unknown
    scope is taken as namespaced, and the returned notes say so (never a silent guess)."""
    cluster_scoped = cluster_scoped_kinds(manifests)
    defined = {(str((m.body.get("spec") or {}).get("group") or ""),
                str(((m.body.get("spec") or {}).get("names") or {}).get("kind") or ""))
               for m in manifests if is_crd(m.group, m.kind)}
    known = known_scopes()
    cluster_scoped |= {key for key, namespaced in known.items() if not namespaced}
    unknown: dict[tuple[str, str], int] = {}
    for manifests_of_group, namespace in groups:
        for manifest in manifests_of_group:
            metadata = manifest.body["metadata"]
            key = (manifest.group, manifest.kind)
            if key in cluster_scoped:
                continue
            if not metadata.get("namespace"):
                metadata["namespace"] = namespace
                manifest.namespace_defaulted = True
                if is_custom_group(manifest.group) and key not in defined and key not in known:
                    unknown[key] = unknown.get(key, 0) + 1
    return [f"the scope of {kind}{'.' + group if group else ''} is unknown here (no CRD in the "
            f"environment, and no cluster has shown it yet): its {count} object(s) got the "
            "environment's namespace; if it is cluster-scoped, run a command against the "
            "cluster once (diff) or `gitdeploy schemas pull`, or give the CRD to the environment"
            for (group, kind), count in sorted(unknown.items())]


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
