"""Environments: the folders under `environments/` that hold a settings file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gitdeploy.config.settings import SETTINGS_FILE, Settings, parse_settings
from gitdeploy.config.sources import SourceTree
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


def list_environments(tree: SourceTree) -> list[Environment]:
    """Every folder `environments/<name>/` that holds a settings file, sorted by name."""
    if not tree.is_dir(ENVIRONMENTS_DIR):
        raise SettingsError(f"no '{ENVIRONMENTS_DIR}/' folder in the {tree.describe()}")
    found = []
    for folder in tree.list_dirs(ENVIRONMENTS_DIR):
        settings_path = folder / SETTINGS_FILE
        try:
            text = tree.read(settings_path)
        except (FileNotFoundError, KeyError):
            continue  # e.g. a shared kustomize base: not an environment
        found.append(_environment(folder, settings_path, text))
    return found


def load_environment(tree: SourceTree, name: str) -> Environment:
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
