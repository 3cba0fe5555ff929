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
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from gitdeploy.commands.session import ClusterOptions
from gitdeploy.config.durations import parse_duration
from gitdeploy.errors import SettingsError

if TYPE_CHECKING:
    from gitdeploy.commands.deploy import DeployOptions

F = TypeVar("F", bound=Callable[..., Any])


class Format(StrEnum):
    text = "text"
    json = "json"
    yaml = "yaml"

    @property
    def structured(self) -> bool:
        """A document for programs (JSON, or the same document as YAML)."""
        return self.value in STRUCTURED


class DiffFormat(StrEnum):
    text = "text"
    json = "json"
    yaml = "yaml"
    markdown = "markdown"

    @property
    def structured(self) -> bool:
        return self.value in STRUCTURED


STRUCTURED = ("json", "yaml")


def complete_environment(incomplete: str) -> list[str]:
    """Shell completion of environment names: the folders of the config repository around the
    current folder (nothing when there is none)."""
    from gitdeploy.config.environments import find_repo_root, scan_environments
    from gitdeploy.config.sources import WorkTree
    from gitdeploy.errors import GitdeployError

    try:
        tree = WorkTree(find_repo_root(Path.cwd()))
        return [env.name for env in scan_environments(tree) if env.name.startswith(incomplete)]
    except GitdeployError:
        return []


EnvName = Annotated[str, typer.Argument(help="Environment: a folder under environments/.",
                                        show_default=False,
                                        autocompletion=complete_environment)]
Ref = Annotated[str | None, typer.Option(
    "--ref", help="Read the environment at this commit, tag or branch instead of the work tree.",
    show_default=False)]
Output = Annotated[Format, typer.Option("--output", "-o", help="Output format.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
Prune = Annotated[bool | None, typer.Option(
    "--prune/--no-prune", help="Delete objects removed from git (default: the environment's "
    "prune setting).", show_default=False)]
Full = Annotated[bool, typer.Option(
    "--full", help="Dry-run every object, also those unchanged since the last apply "
    "(docs/performance.md).")]
Replace = Annotated[bool, typer.Option(
    "--replace", help="Delete and create again the objects whose immutable fields changed "
    "(default: only those annotated gitdeploy.io/replace: \"true\").")]


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
    verbose: int  # 1: -v, the request log; 2: -vv, with the bodies of writes
    namespace: str | None = None


COMMON = Group((
    _option("repo", Annotated[Path | None, typer.Option(
        "--repo", "-C", help="Config repository (default: the nearest folder holding "
        "environments/).", show_default=False)], None),
    _option("verbose", Annotated[int, typer.Option(
        "--verbose", "-v", count=True, help="Show every API request and external command; "
        "twice (-vv), also the bodies of the requests that write (Secret values masked).")],
        0),
    _option("namespace", Annotated[str | None, typer.Option(
        "--namespace", "-n", help="render, validate: use this default namespace instead of the "
        "environment's. Commands that reach a cluster: it must be the environment's namespace "
        "(a check, as kubectl users type it).", show_default=False)], None),
), Common)

_KUBECONFIG = _option("kubeconfig", Annotated[str | None, typer.Option(
    "--kubeconfig", help="Kubeconfig file(s) (default: $KUBECONFIG, then ~/.kube/config).",
    show_default=False)], None)
_CONTEXT = _option("context", Annotated[str | None, typer.Option(
    "--context", help="Use another kube context; it must pass the environment's cluster "
    "guards.", show_default=False)], None)
_CONCURRENCY = _option("concurrency", Annotated[int, typer.Option(
    "--concurrency", min=1, max=64, help="API requests in flight at once.")],
    16)  # chosen from measurements: docs/performance.md
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
    replace: bool
    full: bool = False

    def options(self, *, allow_dirty: bool = False, plan_file: Path | None = None
                ) -> DeployOptions:
        from gitdeploy.commands.deploy import DeployOptions

        return DeployOptions(
            yes=self.yes, allow_dirty=allow_dirty, plan_file=plan_file, prune=self.prune,
            allow_mass_delete=self.allow_mass_delete,
            lock_timeout=_duration("--lock-timeout", self.lock_timeout), wait=self.wait,
            wait_timeout=None if self.wait_timeout is None else _duration(
                "--wait-timeout", self.wait_timeout), replace=self.replace, full=self.full)


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
    _option("replace", Replace, False),
    _option("full", Full, False),
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
            from gitdeploy.config.environments import namespace_option

            for keyword, group in groups.items():
                values[keyword] = group.build(**{p.name: values.pop(p.name)
                                                 for p in group.parameters})
            common = values.get("common")
            namespace = common.namespace if isinstance(common, Common) else None
            # A command that reaches a cluster only checks -n; the others preview with it.
            reaches_cluster = any(group in (CLUSTER, CLUSTER_SERIAL) for group in
                                  groups.values())
            with namespace_option(namespace, override=not reaches_cluster):
                return command(*args, **values)

        parameters = [*own, *added]
        with_groups.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=parameters, return_annotation=None)
        with_groups.__annotations__ = {p.name: p.annotation for p in parameters}
        return typing.cast(F, with_groups)

    return decorate
