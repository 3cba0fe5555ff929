"""Offline validation: every environment loaded, rendered and checked against the Kubernetes API
schemas of its Kubernetes version (the kubernetes-validate package), custom resources against
the openAPIV3Schema of CRDs found in the same repository. Every problem is reported at once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jsonschema
import kubernetes_validate
from kubernetes_validate.utils import all_versions

from gitdeploy.config.environments import ENVIRONMENTS_DIR, Environment, load_environment
from gitdeploy.config.settings import SETTINGS_FILE
from gitdeploy.config.sources import SourceTree
from gitdeploy.errors import GitdeployError, SettingsError
from gitdeploy.objects import kinds
from gitdeploy.objects.kinds import CRD_API_VERSION, is_crd
from gitdeploy.objects.manifests import Manifest
from gitdeploy.objects.secrets import SECRET_FIELDS, is_secret
from gitdeploy.render.environment import render_environment
from gitdeploy.results import EnvironmentCheck, Problem, ValidationReport


def default_version() -> str:
    return ".".join(kubernetes_validate.latest_version().split(".")[:2])


def supported_versions() -> set[str]:
    return {".".join(v.split(".")[:2]) for v in all_versions()}


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


def _message(manifest: Manifest, error: Exception, parts: Iterable[Any]) -> str:
    location = _path(parts)
    text = getattr(error, "message", str(error))
    if is_secret(manifest.body) and location.split(".")[0].split("[")[0] in SECRET_FIELDS:
        text = "invalid value (Secret values are not shown)"
    return f"{location}: {text}" if location else text


def _crd_schemas(manifests: Iterable[Manifest]) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> openAPIV3Schema, for every CRD version in the repository."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for manifest in manifests:
        if not is_crd(manifest.group, manifest.kind) or manifest.api_version != CRD_API_VERSION:
            continue
        spec = manifest.body.get("spec") or {}
        kind = (spec.get("names") or {}).get("kind")
        for version in spec.get("versions") or []:
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if kind and isinstance(schema, dict):
                schemas[(f"{spec.get('group')}/{version.get('name')}", kind)] = schema
    return schemas


def _check_object(manifest: Manifest, version: str,
                  crds: dict[tuple[str, str], dict[str, Any]]) -> Problem | None:
    where = str(manifest.origin)
    title = kinds.title(manifest.kind, manifest.namespace, manifest.name)
    schema = crds.get((manifest.api_version, manifest.kind))
    if schema is not None:
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft7Validator(schema).iter_errors(manifest.body))
        if error is None:
            return None
        return Problem(where, title, _message(manifest, error, error.absolute_path))
    try:
        kubernetes_validate.validate(manifest.body, version, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return Problem(where, title, f"unknown kind {manifest.kind} in {manifest.api_version} "
                                     f"for Kubernetes {version} (an API version removed from "
                                     "Kubernetes, or a CRD that is not in this repository)")
    except kubernetes_validate.ValidationError as error:
        return Problem(where, title, _message(manifest, error, error.path))
    return None


def _load(tree: SourceTree, name: str) -> tuple[Environment | None, list[Problem]]:
    try:
        return load_environment(tree, name), []
    except GitdeployError as error:
        return None, [Problem(str(ENVIRONMENTS_DIR / name / SETTINGS_FILE), "", error.message)]


def validate(tree: SourceTree, names: list[str]) -> ValidationReport:
    if not names:
        names = [folder.name for folder in tree.list_dirs(ENVIRONMENTS_DIR)
                 if tree.is_dir(folder) and _has_settings(tree, folder.name)]
    checks: list[tuple[EnvironmentCheck, list[Manifest]]] = []
    for name in names:
        env, problems = _load(tree, name)
        version = (env.settings.kubernetes_version if env else None) or default_version()
        check = EnvironmentCheck(name=name, kubernetes_version=version, problems=problems)
        manifests: list[Manifest] = []
        if env is not None:
            lines: list[str] = []
            manifests = render_environment(tree, env, collect=lines).manifests
            check.problems.extend(_render_problem(line) for line in lines)
        check.objects = len(manifests)
        checks.append((check, manifests))
    crds = _crd_schemas(m for _, manifests in checks for m in manifests)
    known = supported_versions()
    for check, manifests in checks:
        if ".".join(check.kubernetes_version.split(".")[:2]) not in known:
            raise SettingsError(
                f"environments/{check.name}/{SETTINGS_FILE}: kubernetesVersion "
                f"{check.kubernetes_version} has no schemas in the installed "
                "kubernetes-validate", [f"known versions: {', '.join(sorted(known, key=_key))}"])
        check.problems.extend(p for p in (_check_object(m, check.kubernetes_version, crds)
                                          for m in manifests) if p)
    return ValidationReport([check for check, _ in checks])


def _has_settings(tree: SourceTree, name: str) -> bool:
    try:
        tree.read(ENVIRONMENTS_DIR / name / SETTINGS_FILE)
    except (FileNotFoundError, KeyError):
        return False
    return True


def _render_problem(line: str) -> Problem:
    """A render problem line: "file:line: message", or "Kind ns/name: defined in A and in B"."""
    head, _, message = line.partition(": ")
    if message.startswith("defined in "):
        return Problem(message.removeprefix("defined in ").split(" and in ")[-1], head, message)
    return Problem(head, "", message) if message else Problem("", "", line)
