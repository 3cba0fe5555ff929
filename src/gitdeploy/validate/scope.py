"""Which environments to validate: all of them, or (pre-commit's `--files`) those a list of
changed files belongs to."""

from __future__ import annotations

from pathlib import PurePosixPath

from gitdeploy.config.environments import ENVIRONMENTS_DIR
from gitdeploy.config.settings import SETTINGS_FILE
from gitdeploy.config.sources import SourceTree


def all_environments(tree: SourceTree) -> list[str]:
    """The folders under environments/ that hold a settings file, by name."""
    return [folder.name for folder in tree.list_dirs(ENVIRONMENTS_DIR)
            if tree.is_dir(folder) and has_settings(tree, folder.name)]


def has_settings(tree: SourceTree, name: str) -> bool:
    try:
        tree.read(ENVIRONMENTS_DIR / name / SETTINGS_FILE)
    except (FileNotFoundError, KeyError):
        return False
    return True


def environments_for_files(tree: SourceTree, files: list[str]) -> list[str]:
    """The environments that `files` (paths relative to the repository root) belong to. A
    file under environments/ but in no environment's folder (a shared kustomize base, a
    chart) may be used by any of them: then all are. Files outside environments/ concern
    none."""
    known = all_environments(tree)
    chosen: set[str] = set()
    for text in files:
        path = PurePosixPath(text.replace("\\", "/").removeprefix("./"))
        if not path.is_relative_to(ENVIRONMENTS_DIR) or path == ENVIRONMENTS_DIR:
            continue
        name = path.relative_to(ENVIRONMENTS_DIR).parts[0]
        if name in known:
            chosen.add(name)
        elif len(path.parts) > 2:  # in a shared folder: any environment may use it
            return known
    return sorted(chosen)
