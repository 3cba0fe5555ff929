"""The questions the command line asks for the core (through `Events`): y/N before apply, the
typed environment name for protected environments, and a refusal when nobody can answer."""

from __future__ import annotations

from gitdeploy.errors import RefusedError
from gitdeploy.output.console import UI
from gitdeploy.results.plan import Plan


def _summary(plan: Plan) -> str:
    """"apply 3 changes", "apply 3 changes and delete 2 objects", "delete 2 objects"."""
    count = len(plan.to_apply)
    deletions = len(plan.to_delete) if plan.prune else 0
    parts = [f"apply {count} change{'' if count == 1 else 's'}"] if count else []
    if deletions:
        parts.append(f"delete {deletions} object{'' if deletions == 1 else 's'}")
    return " and ".join(parts)


def confirm_apply(plan: Plan, ui: UI) -> None:
    """Return when the user agreed; raise RefusedError otherwise."""
    what = _summary(plan)
    if not ui.interactive:
        raise RefusedError(f"not confirmed ({what} in {plan.environment}): no terminal to "
                           "confirm on", ["review the diff, then run again with --yes"])
    if plan.prune and plan.to_delete:
        ui.note(f"To be deleted from {plan.environment} (removed from git):")
        for change in plan.to_delete:
            ui.note(f"  - {change.title()}")
    if plan.protected:
        answer = ui.ask(f"{plan.environment} is protected. Type its name to {what}: ")
        if answer != plan.environment:
            raise RefusedError(f"not applied: '{answer}' is not '{plan.environment}'")
        return
    preposition = "in" if plan.prune and plan.to_delete else "to"
    answer = ui.ask(f"{what[0].upper()}{what[1:]} {preposition} {plan.environment}? [y/N] ")
    if answer.lower() not in {"y", "yes"}:
        raise RefusedError("not applied: cancelled")


def confirm_unlock(ui: UI, environment: str, holder: str, since: str) -> None:
    if not ui.interactive:
        raise RefusedError(f"not unlocking {environment}: no terminal to confirm on",
                           ["check that the holder is gone, then run again with --yes"])
    answer = ui.ask(f"{environment} is locked by {holder} since {since}. Release the lock? "
                    "Only do this if that deploy is gone. [y/N] ")
    if answer.lower() not in {"y", "yes"}:
        raise RefusedError("lock kept: cancelled")
