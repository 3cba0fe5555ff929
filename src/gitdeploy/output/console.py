"""The one place that writes to the terminal: results to stdout, messages, progress and prompts
to stderr. Created once per command and passed down."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.segment import Segments
from rich.text import Text

from gitdeploy.logs import EXEC_LOGGER, GIT_LOGGER

PIPE_WIDTH = 100_000  # piped output is never wrapped or cut: tables are as wide as their content


def write(console: Console, text: Text, end: str = "\n") -> None:
    """Print `text` as it is, without rich's layout: its lines are neither measured nor wrapped
    (a soft-wrapping console wraps nothing either), at a tenth of what `Console.print` costs a
    line. For what is written once per object: a plan of thousands of objects costs seconds of
    CPU through `Console.print`."""
    console.print(Segments(text.render(console, end=end)))


def _console(file: TextIO) -> Console:
    """A console for `file`: a terminal's width on a terminal; anything else (a pipe, a file,
    a CI log) gets lines as long as their content, so that `gitdeploy envs | grep` sees whole
    rows."""
    console = Console(file=file, soft_wrap=True)
    if not console.is_terminal:
        console.width = PIPE_WIDTH
    return console


@dataclass
class UI:
    out: Console  # results: what `-o json > plan.json` captures
    err: Console  # messages, request log, progress, prompts
    stdin: TextIO
    interactive: bool  # a person can answer prompts (stdin is a terminal)
    verbose: int = 0  # 1: the request log (-v); 2: with the bodies of writes (-vv)
    json_errors: bool = False  # -o json/yaml: an error is written to stdout as a document too
    document_format: str = "json"  # how documents are written: json, or yaml (-o yaml)
    result_written: bool = False  # a result went to stdout: an error adds no second document

    @classmethod
    def create(cls, *, verbose: int = 0) -> UI:
        stdin = sys.stdin
        interactive = bool(stdin is not None and stdin.isatty())
        return cls(out=_console(sys.stdout), err=_console(sys.stderr),
                   stdin=stdin, interactive=interactive, verbose=verbose)

    def log(self, line: str) -> None:
        """A line of the `-v` trace (API requests, external commands)."""
        if self.verbose:
            self.err.print(f"[dim]» {escape(line)}[/dim]", highlight=False)

    def log_body(self, text: str) -> None:
        """A request body of the `-vv` trace, already masked, indented under its request."""
        if self.verbose >= 2:
            self.err.print(Text("\n".join(f"  {line}" for line in text.splitlines()),
                                style="dim"), highlight=False)

    @contextlib.contextmanager
    def external_commands(self) -> Iterator[None]:
        """With -v, show the commands run: GitPython reports each to its `git.cmd` logger
        (credentials redacted), the engines (kustomize) to `EXEC_LOGGER`."""
        if not self.verbose:
            yield
            return
        handler = _CommandLog(self)
        loggers = [logging.getLogger(name) for name in (GIT_LOGGER, EXEC_LOGGER)]
        previous = [logger.level for logger in loggers]
        for logger in loggers:
            logger.addHandler(handler)
            logger.setLevel(logging.DEBUG)
        try:
            yield
        finally:
            for logger, level in zip(loggers, previous, strict=True):
                logger.removeHandler(handler)
                logger.setLevel(level)

    def note(self, text: str | Text) -> None:
        """A message on stderr. A `str` is printed as it is, never parsed as markup (it may
        hold a name or a message from outside); style a message by passing a `Text`."""
        write(self.err, text if isinstance(text, Text) else Text(text))

    def error(self, message: str, details: list[str]) -> None:
        self.err.print(f"[bold red]error:[/bold red] {escape(message)}", highlight=False)
        for line in details:
            self.err.print(f"  {escape(line)}", highlight=False)

    def ask(self, prompt: str) -> str:
        self.err.print(prompt, end="", markup=False, highlight=False)
        self.err.file.flush()
        answer = self.stdin.readline()
        return answer.strip()


class _CommandLog(logging.Handler):
    def __init__(self, ui: UI) -> None:
        super().__init__(logging.DEBUG)
        self.ui = ui

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if record.msg.startswith("Popen(") and args and isinstance(args[0], list):
            self.ui.log("exec " + " ".join(str(part) for part in args[0]))
