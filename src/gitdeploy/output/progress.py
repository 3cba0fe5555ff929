"""Live readiness while waiting: a table redrawn in place on a terminal, and on anything else
(CI logs, pipes) one plain line each time an object's state changes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from gitdeploy.results import State

if TYPE_CHECKING:
    from gitdeploy.results.apply import WaitItem

STATE_STYLE = {State.READY: "green", State.PROGRESSING: "yellow", State.FAILED: "red"}
MAX_ROWS = 30  # the live table shows what is not ready first, then this many rows at most


def readiness_table(items: list[WaitItem], *, limit: int | None = None) -> Table:
    table = Table(box=None, header_style="bold")
    for column in ("STATE", "OBJECT", "STATUS"):
        table.add_column(column, overflow="fold")
    order = sorted(items, key=lambda item: item.state is State.READY)
    shown = order[:limit] if limit else order
    for item in shown:
        table.add_row(Text(item.state.value, style=STATE_STYLE[item.state]), Text(item.title),
                      Text(item.readiness.message))  # the cluster's words: never markup
    if limit and len(order) > limit:
        table.add_row("", Text(f"... and {len(order) - limit} more ready", style="dim"), "")
    return table


class WaitDisplay:
    def __init__(self, console: Console, environment: str, timeout: float) -> None:
        self.console = console
        self.environment = environment
        self.timeout = timeout
        self.live: Live | None = None
        self.seen: dict[str, tuple[State, str]] = {}

    @contextmanager
    def shown(self) -> Iterator[WaitDisplay]:
        if self.console.is_terminal:
            with Live(console=self.console, refresh_per_second=4, transient=False) as live:
                self.live = live
                yield self
            self.live = None
        else:
            self.console.print(f"waiting for {self.environment} to be ready (timeout "
                               f"{self.timeout:.0f}s)", highlight=False, markup=False)
            yield self

    def update(self, items: list[WaitItem], elapsed: float) -> None:
        if self.live is not None:
            ready = sum(1 for item in items if item.state is State.READY)
            heading = Text(f"waiting for {self.environment}: {ready}/{len(items)} ready, "
                           f"{elapsed:.0f}s of {self.timeout:.0f}s", style="bold")
            self.live.update(Group(heading, readiness_table(items, limit=MAX_ROWS)))
            return
        for item in items:
            now = (item.state, item.readiness.message)
            if self.seen.get(item.title) != now and not (
                    item.title not in self.seen and item.state is State.READY):
                self.console.print(f"[{elapsed:4.0f}s] {item.state.value}: {item.title}: "
                                   f"{item.readiness.message}", highlight=False, markup=False)
            self.seen[item.title] = now
