"""The one error boundary: a project error prints its message and exits with its code; an
unexpected exception exits 3 and says where the traceback was written; Ctrl-C exits 130."""

from __future__ import annotations

import datetime
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

from gitdeploy.errors import ExitCode, GitdeployError
from gitdeploy.output.console import UI


def run(ui: UI, command: Callable[[], int]) -> int:
    try:
        return command()
    except GitdeployError as error:
        ui.error(error.message, error.details)
        return int(error.exit_code)
    except KeyboardInterrupt:
        ui.error("interrupted", [])
        return int(ExitCode.INTERRUPTED)
    except Exception as error:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        log = Path(tempfile.gettempdir()) / f"gitdeploy-crash-{stamp}.log"
        log.write_text(traceback.format_exc())
        ui.error(f"internal error: {type(error).__name__}: {error}",
                 [f"the traceback is in {log}; please report it"])
        return int(ExitCode.INTERNAL)
