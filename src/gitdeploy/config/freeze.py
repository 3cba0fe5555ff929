"""The brake: `suspend` in an environment's settings, or the file `environments/FREEZE` for the
whole repository, makes apply and rollback refuse; diff and status still work."""

from __future__ import annotations

from gitdeploy.config.environments import ENVIRONMENTS_DIR, Environment
from gitdeploy.config.sources import SourceTree
from gitdeploy.errors import RefusedError

FREEZE_FILE = ENVIRONMENTS_DIR / "FREEZE"


class FrozenError(RefusedError):
    """Applies to the environment are suspended."""


def _reason(tree: SourceTree, env: Environment | None) -> str | None:
    if env is not None and env.settings.suspend:
        reason = env.settings.suspend_reason
        return f"suspend is set in {env.settings_path}" + (f": {reason}" if reason else "")
    try:
        text = tree.read(FREEZE_FILE).decode("utf-8", errors="replace").strip()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, KeyError):
        return None
    first_line = text.splitlines()[0] if text else ""
    where = f"{FREEZE_FILE} exists in the {tree.describe()}"
    return where + (f": {first_line}" if first_line else "")


def refuse_if_frozen(action: str, name: str,
                     checks: list[tuple[SourceTree, Environment | None]]) -> None:
    """Refuse `action` when any of the given trees (the one deployed and the work tree)
    suspends the environment or the repository."""
    reasons: list[str] = []
    for tree, env in checks:
        reason = _reason(tree, env)
        if reason and reason not in reasons:
            reasons.append(reason)
    if reasons:
        raise FrozenError(f"{action} to {name} refused: deployments are suspended",
                          [*reasons, "diff and status still work; lift the suspension in git "
                                     "to deploy again (docs/configuration.md)"])
