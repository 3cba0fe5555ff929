"""`gitdeploy report merge FILES...`: the JSON documents of separate CI jobs (one per
environment, from a `--matrix` fan-out) merged into one `FleetReport`, as if one command had
run them all. Each file holds a `FleetReport` (its environments are taken), or one
environment's document: `Plan`, `ApplyResult`, `Status`, `RenderedObjects`, or the `Error` a
failed job wrote (named by `NAME=FILE`, else by the file's name without `.json`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from gitdeploy.errors import ExitCode, SettingsError
from gitdeploy.results import API_VERSION

_COMMANDS = {"Plan": "diff", "ApplyResult": "apply", "Status": "status",
             "RenderedObjects": "render"}


def read_documents(arguments: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """(name from the file, document) per argument `FILE` or `NAME=FILE`."""
    found = []
    for argument in arguments:
        name, _, file = argument.rpartition("=") if "=" in argument else ("", "", argument)
        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise SettingsError(f"cannot read {file}: {error.strerror or error}") from None
        try:
            document = json.loads(text) if text.lstrip().startswith("{") else \
                yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as error:
            raise SettingsError(f"{file}: not a JSON or YAML document ({error})") from None
        if not isinstance(document, dict) or document.get("apiVersion") != API_VERSION:
            raise SettingsError(f"{file}: not a gitdeploy document (apiVersion "
                                f"{API_VERSION})", ["give the -o json output of a gitdeploy "
                                                    "command"])
        found.append((name or path.name.removesuffix(".json").removesuffix(".yaml"),
                      document))
    return found


def sections(named: list[tuple[str, dict[str, Any]]], *, exit_code: bool = False
             ) -> tuple[str, list[dict[str, Any]], str | None]:
    """(command, one section per environment sorted by name, base) of the documents. With
    `exit_code`, a plan with changes counts as exit code 2, as `diff --exit-code` exits."""
    commands: set[str] = set()
    bases: set[str] = set()
    merged: dict[str, dict[str, Any]] = {}
    for file_name, document in named:
        kind = document.get("kind")
        if kind == "FleetReport":
            commands.add(document.get("command", ""))
            if document.get("base"):
                bases.add(document["base"])
            for section in document.get("environments", []):
                merged[section["name"]] = section
            continue
        if kind == "Error":
            error = document.get("error") or {}
            merged[file_name] = {
                "name": file_name, "state": "failed",
                "exitCode": error.get("exitCode", ExitCode.ERROR), "wave": 0, "seconds": 0.0,
                "summary": None, "error": {"type": error.get("type", "Error"),
                                           "message": error.get("message", ""),
                                           "details": list(error.get("details") or [])},
                "skipped": None, "document": None}
            continue
        if kind not in _COMMANDS:
            raise SettingsError(f"{file_name}: cannot merge a {kind} document",
                                ["merge FleetReport, Plan, ApplyResult, Status, "
                                 "RenderedObjects or Error documents"])
        commands.add(_COMMANDS[kind])
        name = document.get("environment") or file_name
        merged[name] = _section(name, document, exit_code=exit_code)
        base = (document.get("base") or {}).get("ref") if kind == "Plan" else None
        if base:
            bases.add(base)
    if len(commands) > 1:
        raise SettingsError("the documents come from different commands ("
                            f"{', '.join(sorted(commands))})",
                            ["merge the reports of one command at a time"])
    command = commands.pop() if commands else "diff"
    return command, [merged[name] for name in sorted(merged)], \
        (bases.pop() if len(bases) == 1 else None)


def _section(name: str, document: dict[str, Any], *, exit_code: bool) -> dict[str, Any]:
    kind = document["kind"]
    summary = document.get("summary") if kind in ("Plan", "ApplyResult") else None
    state, code = "ok", ExitCode.OK
    if kind == "Plan" and (summary or {}).get("changes"):
        state, code = "changes", (ExitCode.CHANGES if exit_code else ExitCode.OK)
    elif kind == "Status":
        drift = document.get("drift") or {}
        in_sync = (document.get("live") is not None and document.get("commitsBehind") == 0
                   and document.get("commitsAhead") == 0 and not drift.get("drifted"))
        if not in_sync:
            state, code = "changes", (ExitCode.CHANGES if exit_code else ExitCode.OK)
    elif kind == "ApplyResult":
        readiness = document.get("readiness")
        if document.get("interrupted"):
            state, code = "interrupted", (ExitCode.TERMINATED if document["interrupted"]
                                          == "SIGTERM" else ExitCode.INTERRUPTED)
        elif not document.get("succeeded") or document.get("problems"):
            state, code = "failed", ExitCode.ERROR
        elif readiness is not None and not readiness.get("ready"):
            state, code = "not-ready", ExitCode.NOT_READY
    return {"name": name, "state": state, "exitCode": int(code), "wave": 0, "seconds": 0.0,
            "summary": summary, "error": None, "skipped": None, "document": document}
