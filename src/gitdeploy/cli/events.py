"""The command line's side of `Events`: the core's notes, warnings and request log go to
stderr, the plan about to be applied to the terminal, progress as lines or a live table, and
confirmations as prompts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.text import Text

from gitdeploy.output.console import UI

# The plan's rendering, prompts and progress are imported when first used: commands that
# show none of them (`envs`) start faster (docs/performance.md).
if TYPE_CHECKING:
    from rich.console import Console

    from gitdeploy.commands.session import WaitUpdate
    from gitdeploy.results.apply import ObjectResult
    from gitdeploy.results.plan import Plan


class TerminalEvents:
    def __init__(self, ui: UI, *, plan_to: Console | None = None) -> None:
        self.ui = ui
        self.plan_to = plan_to or ui.err  # stdout when the text plan is the command's result

    def note(self, text: str) -> None:
        self.ui.note(text)

    def warning(self, text: str) -> None:
        self.ui.note(Text.assemble(("warning:", "yellow"), f" {text}"))

    def log(self, line: str) -> None:
        self.ui.log(line)

    def log_body(self, text: str) -> None:
        self.ui.log_body(text)

    @property
    def wants_bodies(self) -> bool:
        return self.ui.verbose >= 2

    def planned(self, plan: Plan) -> None:
        from gitdeploy.output import terminal

        terminal.plan(self.plan_to, plan)

    def confirm_apply(self, plan: Plan) -> None:
        from gitdeploy.cli import prompts

        prompts.confirm_apply(plan, self.ui)

    def confirm_unlock(self, environment: str, holder: str, since: str) -> None:
        from gitdeploy.cli import prompts

        prompts.confirm_unlock(self.ui, environment, holder, since)

    def applied(self, result: ObjectResult) -> None:
        from gitdeploy.results import Outcome

        style = "red" if result.outcome is Outcome.FAILED else "green"
        self.ui.note(Text.assemble((result.outcome.value, style),
                                   f" {result.change.title()}"))

    @contextmanager
    def waiting(self, environment: str, timeout: float) -> Iterator[WaitUpdate]:
        from gitdeploy.output.progress import WaitDisplay

        display = WaitDisplay(self.ui.err, environment, timeout)
        with display.shown():
            yield display.update
