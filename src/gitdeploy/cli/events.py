"""The command line's side of `Events`: the core's notes, warnings and request log go to
stderr, the plan about to be applied to the terminal, progress as lines or a live table, and
confirmations as prompts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.text import Text

from gitdeploy.cli import prompts
from gitdeploy.commands.session import WaitUpdate
from gitdeploy.output import terminal
from gitdeploy.output.console import UI
from gitdeploy.output.progress import WaitDisplay
from gitdeploy.results import ObjectResult, Outcome, Plan


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

    def planned(self, plan: Plan) -> None:
        terminal.plan(self.plan_to, plan)

    def confirm_apply(self, plan: Plan) -> None:
        prompts.confirm_apply(plan, self.ui)

    def confirm_unlock(self, environment: str, holder: str, since: str) -> None:
        prompts.confirm_unlock(self.ui, environment, holder, since)

    def applied(self, result: ObjectResult) -> None:
        style = "red" if result.outcome is Outcome.FAILED else "green"
        self.ui.note(Text.assemble((result.outcome.value, style),
                                   f" {result.change.title()}"))

    @contextmanager
    def waiting(self, environment: str, timeout: float) -> Iterator[WaitUpdate]:
        display = WaitDisplay(self.ui.err, environment, timeout)
        with display.shown():
            yield display.update
