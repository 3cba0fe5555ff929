"""The confirmation step before apply: y/N, the typed environment name for protected
environments, and a refusal when nobody can answer."""

from __future__ import annotations

from gitdeploy.errors import RefusedError
from gitdeploy.results import Plan
from gitdeploy.ui import UI


def confirm_apply(plan: Plan, ui: UI, *, yes: bool) -> None:
    """Return when the user agreed (or passed --yes); raise RefusedError otherwise."""
    count = len(plan.pending)
    if yes:
        return
    if not ui.interactive:
        raise RefusedError(
            f"not applying {count} change(s) to {plan.environment}: no terminal to confirm on",
            ["review the diff, then run again with --yes"],
        )
    noun = "change" if count == 1 else "changes"
    if plan.protected:
        answer = ui.ask(f"{plan.environment} is protected. Type its name to apply {count} "
                        f"{noun}: ")
        if answer != plan.environment:
            raise RefusedError(f"not applied: '{answer}' is not '{plan.environment}'")
        return
    answer = ui.ask(f"Apply {count} {noun} to {plan.environment}? [y/N] ")
    if answer.lower() not in {"y", "yes"}:
        raise RefusedError("not applied: cancelled")


def confirm_unlock(ui: UI, environment: str, holder: str, since: str, *, yes: bool) -> None:
    if yes:
        return
    if not ui.interactive:
        raise RefusedError(f"not unlocking {environment}: no terminal to confirm on",
                           ["check that the holder is gone, then run again with --yes"])
    answer = ui.ask(f"{environment} is locked by {holder} since {since}. Release the lock? "
                    "Only do this if that deploy is gone. [y/N] ")
    if answer.lower() not in {"y", "yes"}:
        raise RefusedError("lock kept: cancelled")
