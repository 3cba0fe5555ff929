"""The command line's options, and the groups of them that several commands share.

typer has no option groups of its own, so `grouped` adds each group's options to a command's
signature (typer reads the signature) and hands the command one object per group instead."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from gitdeploy.commands.deploy import DeployOptions
from gitdeploy.commands.session import ClusterOptions
from gitdeploy.config.durations import parse_duration
from gitdeploy.errors import SettingsError

F = TypeVar("F", bound=Callable[..., Any])


class Format(StrEnum):
    text = "text"
    json = "json"


class DiffFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


EnvName = Annotated[str, typer.Argument(help="Environment: a folder under environments/.",
                                        show_default=False)]
Ref = Annotated[str | None, typer.Option(
    "--ref", help="Read the environment at this commit, tag or branch instead of the work tree.",
    show_default=False)]
Output = Annotated[Format, typer.Option("--output", "-o", help="Output format.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
Prune = Annotated[bool | None, typer.Option(
    "--prune/--no-prune", help="Delete objects removed from git (default: the environment's "
    "prune setting).", show_default=False)]


@dataclass(frozen=True)
class Group:
    """Options that several commands take, and how they become one object."""

    parameters: tuple[inspect.Parameter, ...]
    build: Callable[..., Any]


def _option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                             default=default)


@dataclass(frozen=True)
class Common:
    repo: Path | None
    verbose: bool


COMMON = Group((
    _option("repo", Annotated[Path | None, typer.Option(
        "--repo", "-C", help="Config repository (default: the nearest folder holding "
        "environments/).", show_default=False)], None),
    _option("verbose", Annotated[bool, typer.Option(
        "--verbose", "-v", help="Show every API request and external command.")], False),
), Common)

_KUBECONFIG = _option("kubeconfig", Annotated[str | None, typer.Option(
    "--kubeconfig", help="Kubeconfig file(s) (default: $KUBECONFIG, then ~/.kube/config).",
    show_default=False)], None)
_CONTEXT = _option("context", Annotated[str | None, typer.Option(
    "--context", help="Use another kube context; it must pass the environment's cluster "
    "guards.", show_default=False)], None)
_CONCURRENCY = _option("concurrency", Annotated[int, typer.Option(
    "--concurrency", min=1, max=64, help="API requests in flight at once.")], 8)
_TIMEOUT = _option("request_timeout", Annotated[float, typer.Option(
    "--request-timeout", min=0.1, help="Seconds before an API request is abandoned.")], 30.0)

_RETRIES = _option("retries", Annotated[int | None, typer.Option(
    "--retries", min=0, max=20, help="Retries of an API request that fails in a way that "
    "passes: 429, 5xx, resets, timeouts (default: the environment's retries.max, else 4).",
    show_default=False)], None)
_RETRY_TIME = _option("retry_time", Annotated[float | None, typer.Option(
    "--retry-time", min=0, help="Seconds after a request's first attempt when no more retries "
    "start (default: the environment's retries.maxTime, else 60).", show_default=False)], None)

CLUSTER = Group((_KUBECONFIG, _CONTEXT, _CONCURRENCY, _TIMEOUT, _RETRIES, _RETRY_TIME),
                ClusterOptions)
# Commands that send a few requests, one at a time: no --concurrency.
CLUSTER_SERIAL = Group((_KUBECONFIG, _CONTEXT, _TIMEOUT, _RETRIES, _RETRY_TIME), ClusterOptions)


def _duration(option: str, text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise SettingsError(f"{option}: {error}") from None


@dataclass(frozen=True)
class Deploy:
    """The options of `apply` and `rollback`; durations are parsed when the command runs, so
    that a bad one is reported by the error boundary like any other error."""

    yes: bool
    prune: bool | None
    allow_mass_delete: bool
    lock_timeout: str
    wait: bool | None
    wait_timeout: str | None

    def options(self, *, allow_dirty: bool = False, plan_file: Path | None = None
                ) -> DeployOptions:
        return DeployOptions(
            yes=self.yes, allow_dirty=allow_dirty, plan_file=plan_file, prune=self.prune,
            allow_mass_delete=self.allow_mass_delete,
            lock_timeout=_duration("--lock-timeout", self.lock_timeout), wait=self.wait,
            wait_timeout=None if self.wait_timeout is None else _duration(
                "--wait-timeout", self.wait_timeout))


DEPLOY = Group((
    _option("yes", Yes, False),
    _option("prune", Prune, None),
    _option("allow_mass_delete", Annotated[bool, typer.Option(
        "--allow-mass-delete", help="Prune even beyond the environment's pruneSafety "
        "limits.")], False),
    _option("lock_timeout", Annotated[str, typer.Option(
        "--lock-timeout", help="How long to wait for another deploy's lock (e.g. 30s, 5m); "
        "0 fails at once.")], "0"),
    _option("wait", Annotated[bool | None, typer.Option(
        "--wait/--no-wait", help="After applying, wait until the objects are ready (default: "
        "the environment's wait.enabled, on unless set off).", show_default=False)], None),
    _option("wait_timeout", Annotated[str | None, typer.Option(
        "--wait-timeout", help="How long to wait for readiness (e.g. 90s, 10m; default: the "
        "environment's wait.timeout, 5m). Exit 4 when it passes.", show_default=False)], None),
), Deploy)


def grouped(**groups: Group) -> Callable[[F], F]:
    """Give the decorated command the options of each group; it receives, under the group's
    keyword, the object the group builds from them."""

    def decorate(command: F) -> F:
        hints = typing.get_type_hints(command, include_extras=True)
        signature = inspect.signature(command)
        own = [parameter.replace(annotation=hints[parameter.name])
               for parameter in signature.parameters.values() if parameter.name not in groups]
        added = [parameter for group in groups.values() for parameter in group.parameters]

        @functools.wraps(command)
        def with_groups(*args: Any, **values: Any) -> Any:
            for keyword, group in groups.items():
                values[keyword] = group.build(**{p.name: values.pop(p.name)
                                                 for p in group.parameters})
            return command(*args, **values)

        parameters = [*own, *added]
        with_groups.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=parameters, return_annotation=None)
        with_groups.__annotations__ = {p.name: p.annotation for p in parameters}
        return typing.cast(F, with_groups)

    return decorate
