"""The one error boundary: a project error prints its message and exits with its code; an
unexpected exception exits 3 and says where the traceback was written; Ctrl-C exits 130.
Under `-o json`, every error also writes an `Error` document to stdout (unless the command
already wrote its result there), so that programs never have to parse the text."""

from __future__ import annotations

import os
import signal
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from gitdeploy.errors import ExitCode, GitdeployError, Terminated, signal_name

# The console (rich), the masking and the documents are imported when a command runs, and what
# a crash report needs when a crash happens: `--help` stays fast (docs/performance.md).
if TYPE_CHECKING:
    from gitdeploy.output.console import UI


def run(ui: UI, command: Callable[[], int]) -> int:
    """Run `command`; an error's text is masked for every Secret value the run has met (the
    core masks what it gets from outside already; this is the last line of defence)."""
    from gitdeploy.objects.secrets import known, masking_scope

    with masking_scope():
        try:
            return command()
        except GitdeployError as error:
            masker = known()
            return _fail(ui, type(error).__name__, masker.mask_text(error.message),
                         masker.mask_lines(error.details), error.exit_code)
        except KeyboardInterrupt as interrupt:
            name = signal_name(interrupt)
            return _fail(ui, "Interrupted", f"interrupted ({name})", [],
                         ExitCode.TERMINATED if name == "SIGTERM" else ExitCode.INTERRUPTED)
        except Exception as error:
            masker = known()
            log = _crash_log(masker.mask_text(traceback.format_exc()))
            return _fail(ui, "InternalError",
                         masker.mask_text(f"internal error: {type(error).__name__}: {error}"),
                         [f"the traceback is in {log}; please report it"], ExitCode.INTERNAL)


def _crash_log(text: str) -> Path:
    """The traceback of a crash, in a file of its own (mode 0600), even for crashes within the
    same second."""
    import datetime
    import tempfile

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    handle, name = tempfile.mkstemp(prefix=f"gitdeploy-crash-{stamp}-", suffix=".log")
    with os.fdopen(handle, "w") as log_file:
        log_file.write(text)
    return Path(name)


def _fail(ui: UI, kind: str, message: str, details: list[str], code: int) -> int:
    from gitdeploy.cli.show import json_document
    from gitdeploy.output import jsondoc

    ui.error(message, details)
    if ui.json_errors and not ui.result_written:
        json_document(ui, jsondoc.error(kind, message, details, int(code)))
    return int(code)


def _terminate_like_interrupt() -> None:
    """SIGTERM, which CI systems send when a job is cancelled, stops gitdeploy as Ctrl-C does:
    no new request starts, the lock is released, the record and the report are written."""
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers belong to the main thread (a command run inside a test)

    def terminate(signum: int, frame: object) -> None:
        raise Terminated

    signal.signal(signal.SIGTERM, terminate)


def invoke(verbose: int, command: Callable[[UI], int], *, json_errors: bool = False,
           output: str = "text") -> None:
    """Run a command inside the boundary with the one console, then exit with its code.
    `output` is the command's -o: under json or yaml, results and errors are documents in
    that format."""
    import logging

    from gitdeploy.output.console import UI

    # urllib3 logs its connection retries as warnings; the request log (-v) and our errors
    # say what happened instead.
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    ui = UI.create(verbose=verbose)
    ui.json_errors = json_errors or output in ("json", "yaml")
    ui.document_format = "yaml" if output == "yaml" else "json"
    _terminate_like_interrupt()
    with ui.external_commands():
        code = run(ui, lambda: command(ui))
    raise typer.Exit(code)
