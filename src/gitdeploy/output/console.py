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
from rich.text import Text

from gitdeploy.logs import EXEC_LOGGER, GIT_LOGGER


@dataclass
class UI:
    out: Console  # results: what `-o json > plan.json` captures
    err: Console  # messages, request log, progress, prompts
    stdin: TextIO
    interactive: bool  # a person can answer prompts (stdin is a terminal)
    verbose: bool = False
    json_errors: bool = False  # -o json: an error is written to stdout as a JSON document too
    result_written: bool = False  # a result went to stdout: an error adds no second document

    @classmethod
    def create(cls, *, verbose: bool = False) -> UI:
        stdin = sys.stdin
        interactive = bool(stdin is not None and stdin.isatty())
        return cls(out=Console(file=sys.stdout, soft_wrap=True),
                   err=Console(file=sys.stderr, soft_wrap=True),
                   stdin=stdin, interactive=interactive, verbose=verbose)

    def log(self, line: str) -> None:
        """A line of the `-v` trace (API requests, external commands)."""
        if self.verbose:
            self.err.print(f"[dim]» {escape(line)}[/dim]", highlight=False)

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
        self.err.print(text, highlight=False, markup=False)

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
