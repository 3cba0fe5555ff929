"""The commands that need no cluster: `envs`, `render` and `validate`."""

from __future__ import annotations

from gitdeploy.commands.session import Session
from gitdeploy.config.environments import Environment, list_environments, load_environment
from gitdeploy.results import EnvironmentInfo, RenderedObjects, ValidationReport
from gitdeploy.validate.schemas import validate as validate_tree


def environments(session: Session) -> list[EnvironmentInfo]:
    return [_info(env) for env in list_environments(session.work_tree)]


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
    return validate_tree(session.source(ref).tree, env_names)
