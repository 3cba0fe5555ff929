"""`validate`: every environment loaded, rendered and checked offline (docs/validation.md).

Each object is checked against the schema of its kind (lookup.py: the Kubernetes API schemas of
the environment's Kubernetes version, CRDs, the live cluster's CRDs with `--cluster`, schema
catalogs), for API versions deprecated or removed in that version (deprecations.py), and by
the API server's own rules the schemas do not hold (checks.py); objects defined twice and
namespaces that exist nowhere are reported too. Every problem is reported at once, at the line
and column of the offending field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gitdeploy.config.environments import ENVIRONMENTS_DIR, Environment, load_environment
from gitdeploy.config.settings import SETTINGS_FILE
from gitdeploy.config.sources import SourceTree, reading
from gitdeploy.errors import GitdeployError, place_of
from gitdeploy.objects import kinds
from gitdeploy.objects.fieldpaths import Step, dotted
from gitdeploy.objects.kinds import BUILTIN_CLUSTER_SCOPED, is_namespace
from gitdeploy.objects.manifests import Manifest
from gitdeploy.objects.secrets import ENCRYPTED_VALUE
from gitdeploy.render.environment import render_environment
from gitdeploy.results.validate import ERROR, WARNING, EnvironmentCheck, Problem, ValidationReport
from gitdeploy.validate import builtin, catalog, checks, deprecations
from gitdeploy.validate.cluster import LiveCluster
from gitdeploy.validate.crds import CustomKind, custom_kinds, is_crd_body
from gitdeploy.validate.engine import Validators, check
from gitdeploy.validate.lookup import SchemaLookup
from gitdeploy.validate.positions import Positions
from gitdeploy.validate.scope import all_environments

# Namespaces every cluster has.
BUILTIN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
MISSING_SCHEMA_FIX = ("add its CRD to the repository, list a schema catalog under "
                      "validation.schemaLocations, run `gitdeploy schemas pull ENV` or "
                      "`validate --cluster`, or skip it: --ignore-missing-schemas, "
                      "validation.ignoreMissingSchemas or validation.skipKinds")


@dataclass(frozen=True)
class ValidateOptions:
    """The command line's choices; the settings' `validation` block adds to them."""

    ignore_missing_schemas: bool = False
    skip_kinds: tuple[str, ...] = ()
    schema_locations: tuple[str, ...] = ()  # searched before the settings' locations
    cache: Path | None = None  # None: catalog.cache_dir()


def default_version() -> str:
    return builtin.default_version()


def supported_versions() -> set[str]:
    return set(builtin.known_versions())


@dataclass
class _Env:
    check: EnvironmentCheck
    env: Environment | None
    manifests: list[Manifest] = field(default_factory=list)


def validate(tree: SourceTree, names: list[str], options: ValidateOptions | None = None,
             live: Mapping[str, LiveCluster] | None = None) -> ValidationReport:
    """Check the environments `names` (all when empty) of `tree`; `live` holds what was read
    from the clusters of those environments that were checked with `--cluster`."""
    options = options or ValidateOptions()
    live = live or {}
    if not names:
        names = all_environments(tree)
    with reading(tree):
        loaded = [_load_and_render(tree, name) for name in names]
    repo_kinds = _crd_kinds(m for item in loaded for m in item.manifests)
    repo_namespaces = {m.name for item in loaded for m in item.manifests
                       if is_namespace(m.group, m.kind)}
    validators = Validators()
    positions = Positions(tree)
    catalogs: dict[tuple[str, ...], catalog.Catalogs] = {}
    for item in loaded:
        if item.env is None:
            continue
        _check_environment(item, tree, options, live.get(item.check.name), repo_kinds,
                           repo_namespaces, validators, positions, catalogs)
    return ValidationReport([item.check for item in loaded])


def _load_and_render(tree: SourceTree, name: str) -> _Env:
    try:
        env = load_environment(tree, name)
    except GitdeployError as error:
        check = EnvironmentCheck(name=name, kubernetes_version="", problems=_settings_problems(
            str(ENVIRONMENTS_DIR / name / SETTINGS_FILE), error))
        return _Env(check, None)
    check = EnvironmentCheck(name=name, kubernetes_version=env.settings.kubernetes_version or "")
    lines: list[str] = []
    # without keys: SOPS-encrypted values are checked as their (masked) ciphertext
    manifests = render_environment(tree, env, collect=lines, decrypt=False).manifests
    check.problems.extend(_render_problem(line) for line in lines)
    check.objects = len(manifests)
    check.documents = len({(m.origin.path, m.origin.line) if m.origin.line else id(m)
                           for m in manifests})
    return _Env(check, env, manifests)


def _crd_kinds(manifests: Iterable[Manifest]) -> dict[tuple[str, str], CustomKind]:
    found: dict[tuple[str, str], CustomKind] = {}
    for manifest in manifests:
        if is_crd_body(manifest.body):
            for custom in custom_kinds(manifest.body, str(manifest.origin)):
                found.setdefault((custom.api_version, custom.kind), custom)
    return found


def _version(item: _Env, cluster: LiveCluster | None) -> tuple[str, str, list[Problem]]:
    """(Kubernetes version, where it came from, notes) of an environment."""
    assert item.env is not None
    configured = item.env.settings.kubernetes_version
    where = f"{item.env.settings_path}: kubernetesVersion"
    if configured:
        version = builtin.check_version(configured, where)
        notes = []
        if cluster and builtin.minor(cluster.version) != version:
            notes.append(Problem(str(item.env.settings_path), "", (
                f"kubernetesVersion is {configured}, but the cluster ({cluster.server}) runs "
                f"{cluster.version}: validating against {configured}"), severity=WARNING,
                check="kubernetes-version"))
        return version, "settings", notes
    if cluster:
        known = builtin.known_versions()
        if cluster.version in known:
            return cluster.version, "cluster", []
        version = known[-1] if builtin.minor(cluster.version) > known[-1] else known[0]
        return version, "cluster", [Problem(
            str(item.env.settings_path), "", f"the cluster runs Kubernetes {cluster.version}, "
            f"which the installed kubernetes-validate has no schemas for: validating against "
            f"{version}", severity=WARNING, check="kubernetes-version")]
    return builtin.default_version(), "default", []


def _check_environment(item: _Env, tree: SourceTree, options: ValidateOptions,
                       cluster: LiveCluster | None,
                       repo_kinds: dict[tuple[str, str], CustomKind], repo_namespaces: set[str],
                       validators: Validators, positions: Positions,
                       catalogs: dict[tuple[str, ...], catalog.Catalogs]) -> None:
    env, report = item.env, item.check
    assert env is not None
    version, report.version_from, notes = _version(item, cluster)
    report.kubernetes_version = version
    report.problems.extend(notes)
    settings = env.settings.validation
    locations = tuple(catalog.check_location(location, f"{env.settings_path}: validation."
                                             "schemaLocations")
                      for location in (*options.schema_locations, *settings.schema_locations))
    if locations not in catalogs:
        catalogs[locations] = catalog.Catalogs(list(locations), tree,
                                               options.cache or catalog.cache_dir())
    own_kinds = _crd_kinds(item.manifests)
    live_kinds = {(c.api_version, c.kind): c for crd in (cluster.crds if cluster else ())
                  for c in custom_kinds(crd, f"the cluster ({cluster.server})" if cluster
                                        else "")}
    scoped = set(BUILTIN_CLUSTER_SCOPED) | {
        (c.group, c.kind) for c in (*repo_kinds.values(), *live_kinds.values())
        if not c.namespaced}
    lookup = SchemaLookup(validators, builtin.BuiltinSchemas(version),
                          [own_kinds, repo_kinds, live_kinds], catalogs[locations], scoped)
    namespaces = BUILTIN_NAMESPACES | repo_namespaces | (cluster.namespaces if cluster
                                                         else frozenset())
    if cluster is None or getattr(env.settings, "create_namespace", False):
        # The environment's own namespace (its default) is taken to exist offline, where
        # nothing can tell, and when apply creates it (createNamespace); with --cluster it must
        # be created by an environment or exist in the cluster, as apply requires.
        namespaces |= {env.settings.namespace}
    skip = _Skips((*options.skip_kinds, *settings.skip_kinds))
    ignore_missing = options.ignore_missing_schemas or settings.ignore_missing_schemas
    missing: dict[tuple[str, str], list[Manifest]] = {}
    unknown_namespaces: dict[str, list[Manifest]] = {}
    found: list[Problem] = []
    for manifest in item.manifests:
        api_version, kind = manifest.api_version, manifest.kind

        def problem(path: tuple[Step, ...], message: str, what: str, *, key: bool = False,
                    severity: str = ERROR, m: Manifest = manifest) -> Problem:
            line, column = positions.locate(m.origin, m.body, path, key=key)
            return Problem(m.origin.path, kinds.title(m.kind, m.namespace, m.name), message,
                           line=line, column=column, path=dotted(path), severity=severity,
                           check=what, rendered_by=m.origin.detail)

        found.extend(problem(path, message, "api-rules", key=key)
                     for path, message, key in checks.object_findings(manifest.group, kind,
                                                                      manifest.body))
        lifecycle = deprecations.lifecycle(api_version, kind)
        if lifecycle is not None and lifecycle.deprecated(version):
            removed = lifecycle.removed(version)
            found.append(problem(("apiVersion",), lifecycle.message(version), "api-versions",
                                 severity=ERROR if removed else WARNING))
            if removed:
                continue
        if skip.matches(api_version, kind):
            _count(report.skipped, api_version, kind)
            continue
        resolved = lookup.find(api_version, kind)
        if resolved is None:
            if ignore_missing:
                _count(report.skipped, api_version, kind)
            else:
                missing.setdefault((api_version, kind), []).append(manifest)
            continue
        for error in check(resolved.validator, manifest.body):
            if ENCRYPTED_VALUE.search(error.message):
                continue  # SOPS ciphertext, read without keys: its clear type is unknown
            found.append(problem(error.path, error.message, "schema", key=error.key))
        namespace = manifest.namespace
        if resolved.namespaced and namespace and namespace not in namespaces and (
                checks.DNS1123_LABEL.fullmatch(namespace)):  # else its name is the problem
            unknown_namespaces.setdefault(namespace, []).append(manifest)
    for (api_version, kind), objects in missing.items():
        first = objects[0]
        line, column = positions.locate(first.origin, first.body, ("kind",))
        others = f" (and {len(objects) - 1} more object(s) of this kind)" if len(
            objects) > 1 else ""
        found.append(Problem(
            first.origin.path, kinds.title(kind, first.namespace, first.name),
            f"no schema for {kind} in {api_version}{others}: Kubernetes {version} has no such "
            f"kind, and no CRD or schema catalog has it; {MISSING_SCHEMA_FIX}",
            line=line, column=column, path="kind", check="missing-schema",
            rendered_by=first.origin.detail))
    for namespace, objects in unknown_namespaces.items():
        first = objects[0]
        line, column = positions.locate(first.origin, first.body, ("metadata", "namespace"))
        others = f" (and {len(objects) - 1} more object(s))" if len(objects) > 1 else ""
        defaulted = " (the environment's namespace setting)" if first.namespace_defaulted else ""
        found.append(Problem(
            first.origin.path, kinds.title(first.kind, first.namespace, first.name),
            f"namespace {namespace!r}{defaulted} is not created by any environment of the "
            f"repository{' nor found in the cluster' if cluster else ''}{others}: add a "
            f"Namespace object for it (or check the name)",
            line=line, column=column, path="metadata.namespace", check="namespaces",
            rendered_by=first.origin.detail))
    report.problems.extend(sorted(found, key=lambda p: (p.source, p.line, p.column)))
    report.problems.extend(Problem(str(env.settings_path), "", text, severity=WARNING,
                                   check="schema-catalog")
                           for text in catalogs[locations].problems)
    catalogs[locations].problems.clear()


class _Skips:
    """skipKinds entries: `Kind`, or `apiVersion/Kind`."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.kinds = {entry for entry in entries if "/" not in entry}
        self.full = {entry for entry in entries if "/" in entry}

    def matches(self, api_version: str, kind: str) -> bool:
        return kind in self.kinds or f"{api_version}/{kind}" in self.full


def _count(skipped: dict[str, int], api_version: str, kind: str) -> None:
    key = f"{kind} ({api_version})"
    skipped[key] = skipped.get(key, 0) + 1


_PLACE = re.compile(r"(?P<file>[^\s:]+?)(?::(?P<line>\d+))?(?: \((?P<detail>[^)]*)\))?$")


def _settings_problems(settings_path: str, error: GitdeployError) -> list[Problem]:
    """Each problem of a settings file (`path:line: message`, one per detail line when the
    file has several) at its line."""
    lines = [line for line in error.details if place_of(line)] or [error.message]
    problems = []
    for text in lines:
        place = place_of(text)
        if place is not None and place.file == settings_path:
            message = re.sub(rf"^{re.escape(place.file)}(:\d+)*: ", "", text)
            problems.append(Problem(place.file, "", message, line=place.line or 0,
                                    check="settings"))
        else:
            problems.append(Problem(settings_path, "", text, check="settings"))
    return problems


def _render_problem(text: str) -> Problem:
    """A problem of reading or rendering: "file:line: message", or "Kind ns/name: defined in
    A and in B" (an object defined twice)."""
    head, _, message = text.partition(": ")
    if message.startswith("defined in "):
        second = message.removeprefix("defined in ").split(" and in ")[-1]
        place = _PLACE.fullmatch(second)
        if place:
            return Problem(place["file"], head, message, line=int(place["line"] or 0),
                           check="duplicates", rendered_by=place["detail"] or "")
        return Problem(second, head, message, check="duplicates")
    place = _PLACE.fullmatch(head)
    if message and place:
        return Problem(place["file"], "", message, line=int(place["line"] or 0),
                       check="render", rendered_by=place["detail"] or "")
    return Problem("", "", text, check="render")
