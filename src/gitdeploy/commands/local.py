"""The commands that need no cluster: `envs`, `render` and `validate`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitdeploy.config.environments import (
    BrokenEnvironment,
    Environment,
    load_environment,
    scan_environments,
)
from gitdeploy.results.environment import EnvironmentInfo, RenderedObjects

if TYPE_CHECKING:
    from gitdeploy.commands.session import Session
    from gitdeploy.results.validate import ValidationReport


def environments(session: Session) -> list[EnvironmentInfo]:
    """Every environment; one with broken settings is listed with its error."""
    return [_broken(env) if isinstance(env, BrokenEnvironment) else _info(env)
            for env in scan_environments(session.work_tree)]


def _broken(env: BrokenEnvironment) -> EnvironmentInfo:
    return EnvironmentInfo(name=env.name, path=str(env.path), context="", namespace="",
                           server=None, uid=None, protected=False, prune=False, suspend=False,
                           suspend_reason="", state_namespace="", error=env.error.message,
                           error_details=tuple(env.error.details))


def _info(env: Environment) -> EnvironmentInfo:
    s = env.settings
    return EnvironmentInfo(name=env.name, path=str(env.path), context=s.context,
                           namespace=s.namespace, server=s.cluster.server, uid=s.cluster.uid,
                           protected=s.protected, prune=s.prune, suspend=s.suspend,
                           suspend_reason=s.suspend_reason, state_namespace=s.store_namespace)


def render(session: Session, env_name: str, *, ref: str | None = None) -> RenderedObjects:
    source = session.source(ref)
    rendered = session.render(source.tree, load_environment(source.tree, env_name))
    return RenderedObjects(environment=rendered.environment.name, manifests=rendered.manifests)


def validate(session: Session, env_names: list[str], *, ref: str | None = None
             ) -> ValidationReport:
    # imported here: `envs` and `render` need none of the schema machinery
    from gitdeploy.validate.schemas import validate as validate_tree

    return validate_tree(session.source(ref).tree, env_names)
