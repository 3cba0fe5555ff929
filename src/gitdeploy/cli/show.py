"""The one output dispatcher: a result goes to its JSON, markdown or terminal renderer, and
under `-o json` an error becomes a JSON document too."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from rich.console import Console

from gitdeploy.output import jsondoc

if TYPE_CHECKING:
    from gitdeploy.output.console import UI

T = TypeVar("T")


def json_document(ui: UI, document: dict[str, Any]) -> None:
    """A result or error document, as JSON, or as YAML under -o yaml (the same document)."""
    if ui.document_format == "yaml":
        ui.out.file.write(jsondoc.dumps_yaml(document))
        ui.result_written = True
        return
    text = jsondoc.dumps(document)
    if ui.out.is_terminal:
        ui.out.print_json(text)  # highlighted for a person
    else:
        ui.out.file.write(text + "\n")  # as is for a program, and fast for big plans
    ui.result_written = True


def show(ui: UI, as_json: bool, result: T, document: Callable[[T], dict[str, Any]],
         text: Callable[[Console, T], None]) -> None:
    """Hand a result to its JSON or terminal renderer."""
    if as_json:
        json_document(ui, document(result))
    else:
        text(ui.out, result)
        ui.result_written = True


def markdown(ui: UI, text: str) -> None:
    ui.out.print(text, markup=False, highlight=False, end="", soft_wrap=True)
    ui.result_written = True


def step_summary(text: str | Callable[[], str]) -> None:
    """GitHub Actions shows what is appended to $GITHUB_STEP_SUMMARY on the run's page. A
    callable is called only then: the markdown of a large plan costs time to build."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write((text if isinstance(text, str) else text()) + "\n")
