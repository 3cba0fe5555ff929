"""`gitdeploy schemas settings`: the JSON Schema of `gitdeploy.yaml`, for editors
(docs/configuration.md#editor-support)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitdeploy.cli.boundary import invoke
from gitdeploy.errors import ExitCode

if TYPE_CHECKING:
    from gitdeploy.output.console import UI


def settings() -> None:
    """Print the JSON Schema of the settings file (environments/<env>/gitdeploy.yaml), as the
    package ships it: point an editor's YAML support at it."""

    def command(ui: UI) -> int:
        from gitdeploy.config.schema import shipped

        ui.out.file.write(shipped())
        ui.result_written = True
        return ExitCode.OK

    invoke(False, command)
