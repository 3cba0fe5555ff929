"""Environments: the folders under `environments/` that hold a settings file."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gitdeploy.config.settings import SETTINGS_FILE, Settings, parse_settings
from gitdeploy.config.sources import SourceTree, reading
from gitdeploy.errors import SettingsError

ENVIRONMENTS_DIR = PurePosixPath("environments")


@dataclass(frozen=True)
class Environment:
    name: str
    path: PurePosixPath  # the environment folder, relative to the repository root
    settings: Settings

    @property
    def settings_path(self) -> PurePosixPath:
        return self.path / SETTINGS_FILE


def find_repo_root(start: Path) -> Path:
    """The nearest folder at or above `start` that holds an `environments/` folder."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ENVIRONMENTS_DIR).is_dir():
            return folder
    raise SettingsError(
        f"no '{ENVIRONMENTS_DIR}/' folder in {start} or any folder above it",
        ["run gitdeploy inside a config repository, or pass --repo PATH"],
    )


@dataclass(frozen=True)
class BrokenEnvironment:
    """An environment folder whose settings cannot be read, and why."""

    name: str
    path: PurePosixPath
    error: SettingsError

    @property
    def settings_path(self) -> PurePosixPath:
        return self.path / SETTINGS_FILE


def list_environments(tree: SourceTree) -> list[Environment]:
    """Every folder `environments/<name>/` that holds a settings file, sorted by name; the
    first broken settings file raises its SettingsError."""
    found = []
    for env in scan_environments(tree):
        if isinstance(env, BrokenEnvironment):
            raise env.error
        found.append(env)
    return found


def scan_environments(tree: SourceTree) -> list[Environment | BrokenEnvironment]:
    """Every environment folder, sorted by name; one whose settings are broken is returned as
    a BrokenEnvironment rather than failing the others."""
    if not tree.is_dir(ENVIRONMENTS_DIR):
        raise SettingsError(f"no '{ENVIRONMENTS_DIR}/' folder in the {tree.describe()}")
    found: list[Environment | BrokenEnvironment] = []
    for folder in tree.list_dirs(ENVIRONMENTS_DIR):
        settings_path = folder / SETTINGS_FILE
        try:
            text = tree.read(settings_path)
        except (FileNotFoundError, KeyError):
            continue  # e.g. a shared kustomize base: not an environment
        try:
            found.append(_environment(folder, settings_path, text))
        except SettingsError as error:
            found.append(BrokenEnvironment(folder.name, folder, error))
    return found


@dataclass(frozen=True)
class NamespaceOption:
    """`-n/--namespace` of the command line: `override` replaces the environment's default
    namespace (render, validate: nothing is written); otherwise it must name the namespace the
    settings give, as a check (a deploy into another namespace would not be the environment in
    git: its lock, record and prune set live in that namespace)."""

    namespace: str
    override: bool


_NAMESPACE: contextvars.ContextVar[NamespaceOption | None] = contextvars.ContextVar(
    "gitdeploy_namespace_option", default=None)


@contextlib.contextmanager
def namespace_option(namespace: str | None, *, override: bool) -> Iterator[None]:
    token = _NAMESPACE.set(NamespaceOption(namespace, override) if namespace else None)
    try:
        yield
    finally:
        _NAMESPACE.reset(token)


def load_environment(tree: SourceTree, name: str) -> Environment:
    with reading(tree):
        return _with_namespace_option(_load_environment(tree, name))


def _with_namespace_option(env: Environment) -> Environment:
    option = _NAMESPACE.get()
    if option is None or option.namespace == env.settings.namespace:
        return env
    if option.override:
        return dataclasses.replace(env, settings=dataclasses.replace(
            env.settings, namespace=option.namespace))
    raise SettingsError(
        f"-n {option.namespace}: environment '{env.name}' deploys to namespace "
        f"'{env.settings.namespace}' ({env.settings_path})",
        ["commands that reach a cluster take the namespace from the environment's settings; "
         "-n only confirms it (render and validate accept another one as a preview)",
         f"to deploy into '{option.namespace}', make an environment for it, or change "
         f"'namespace' in {env.settings_path}"])


def _load_environment(tree: SourceTree, name: str) -> Environment:
    folder = ENVIRONMENTS_DIR / name
    if "/" in name or name in {"", ".", ".."} or not tree.is_dir(folder):
        known = ", ".join(env.name for env in list_environments(tree)) or "none"
        raise SettingsError(f"no environment '{name}' (environments: {known})")
    settings_path = folder / SETTINGS_FILE
    try:
        text = tree.read(settings_path)
    except (FileNotFoundError, KeyError):
        raise SettingsError(
            f"{folder} is not an environment: it has no {SETTINGS_FILE}",
            ["an environment folder needs a settings file (docs/configuration.md)"],
        ) from None
    return _environment(folder, settings_path, text)


def _environment(folder: PurePosixPath, settings_path: PurePosixPath, text: bytes) -> Environment:
    settings = parse_settings(text.decode("utf-8", errors="replace"), Path(settings_path))
    return Environment(name=folder.name, path=folder, settings=settings)
