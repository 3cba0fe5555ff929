"""Per-object output is written as text, not laid out by rich (output/terminal.py `_rows`,
output/console.py `write`): it must read exactly as rich's own layout reads."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from gitdeploy.output.console import write
from gitdeploy.output.terminal import _rows

HEADERS = ("RESULT", "ACTION", "OBJECT", "ERROR")
ROWS = [["applied", "create", "ConfigMap team-a/cm-0", ""],
        ["failed", "update", "Deployment team-b/wéb-10", "the server refused it: ❌ bad"],
        ["not attempted", "create", "Service x/y", ""]]


def _console(*, terminal: bool, width: int) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, soft_wrap=True, force_terminal=terminal, width=width,
                      color_system="truecolor" if terminal else None)
    return console, out


def _cells() -> list[list[Text]]:
    return [[Text(row[0], style="bold"), *(Text(cell) for cell in row[1:])] for row in ROWS]


def _rich(terminal: bool, width: int) -> str:
    console, out = _console(terminal=terminal, width=width)
    table = Table(box=None, header_style="bold")
    for header in HEADERS:
        table.add_column(header, overflow="fold")
    for row in _cells():
        table.add_row(*row)
    console.print(table)
    return out.getvalue()


def _ours(terminal: bool, width: int) -> str:
    console, out = _console(terminal=terminal, width=width)
    _rows(console, HEADERS, _cells())
    return out.getvalue()


def _plain(ansi: str) -> str:
    return Text.from_ansi(ansi).plain


def test_rows_read_as_richs_table_on_a_pipe_and_a_terminal() -> None:
    for width in (100_000, 200):
        assert _ours(False, width) == _rich(False, width)
        # On a terminal rich also styles the spaces between header cells; what shows is alike.
        ours = _ours(True, width)
        assert _plain(ours) == _plain(_rich(True, width))
        assert "\x1b[1mapplied\x1b[0m" in ours
        assert "\x1b[1mRESULT\x1b[0m" in ours


def test_rows_too_wide_for_the_terminal_are_folded_by_rich() -> None:
    assert _ours(True, 40) == _rich(True, 40)  # rich's own table, folded
    assert max(len(line) for line in _ours(False, 40).splitlines()) <= 40


def test_write_prints_text_as_print_does_without_wrapping() -> None:
    text = Text.assemble(("create ", "bold green"), ("ConfigMap a/b", "bold"), "  (x.yaml:1)")
    for terminal in (False, True):
        printed, out = _console(terminal=terminal, width=20)
        printed.print(text)
        written, ours = _console(terminal=terminal, width=20)
        write(written, text)
        assert ours.getvalue() == out.getvalue()
