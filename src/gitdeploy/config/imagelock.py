"""An environment's image lock file, `gitdeploy-images.lock` beside its settings: each image
tag the environment names, resolved to a digest by `gitdeploy pin` (docs/pinning.md). YAML,
kept in git; not a manifest (its name does not end in .yaml)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import yaml

from gitdeploy.config.environments import Environment
from gitdeploy.config.sources import SourceTree
from gitdeploy.errors import SettingsError
from gitdeploy.objects.manifests import load_yaml

LOCK_FILE = "gitdeploy-images.lock"
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
HEADER = ("# Image tags resolved to digests by `gitdeploy pin {env}`; render, diff and apply\n"
          "# use the digests (docs/pinning.md). Written by gitdeploy: run pin again to update.\n")


def lock_path(env: Environment) -> PurePosixPath:
    return env.path / LOCK_FILE


def read_lock(tree: SourceTree, env: Environment) -> dict[str, str] | None:
    """image (repository:tag) -> digest; None when the environment has no lock file."""
    path = lock_path(env)
    try:
        text = tree.read(path)
    except (OSError, KeyError):
        return None
    try:
        data = load_yaml(text.decode("utf-8", errors="replace"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise SettingsError(f"{where}: not valid YAML", [f"run gitdeploy pin {env.name} to "
                                                         "write it again"]) from None
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and _DIGEST.fullmatch(v)
            for k, v in images.items()):
        raise SettingsError(f"{path}: must hold `images:`, a mapping of image to "
                            "sha256:<64 hex digits>",
                            [f"run gitdeploy pin {env.name} to write it again"])
    return dict(images)


def lock_text(env: Environment, images: dict[str, str]) -> str:
    body = yaml.safe_dump({"images": dict(sorted(images.items()))}, sort_keys=False,
                          default_flow_style=False, width=1000)
    return HEADER.format(env=env.name) + body
