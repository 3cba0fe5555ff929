"""The commands' pipelines, top to bottom:

    load settings -> render -> verify target -> plan (server-side dry run) -> confirm -> apply

Each step is a plain function of its own module; this module only puts them in order. Results
are returned for the output layer to render.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitdeploy.apply import apply_plan
from gitdeploy.confirm import confirm_apply
from gitdeploy.environments import Environment, find_repo_root, list_environments, load_environment
from gitdeploy.errors import RefusedError
from gitdeploy.gitinfo import source_info
from gitdeploy.output import terminal
from gitdeploy.plan import build_plan
from gitdeploy.render import RenderedSet, render_environment
from gitdeploy.results import ApplyReport, ObjectResult, Outcome, Plan
from gitdeploy.sources import WorkTree
from gitdeploy.target import Connection, connect
from gitdeploy.ui import UI


@dataclass(frozen=True)
class ClusterOptions:
    kubeconfig: str | None = None
    context: str | None = None
    request_timeout: float = 30.0
    concurrency: int = 8
    establish_timeout: float = 60.0


@dataclass(frozen=True)
class Session:
    """Everything a command needs: where the config lives and how to talk to the user."""

    ui: UI
    repo_root: Path

    @classmethod
    def open(cls, ui: UI, repo: Path | None) -> Session:
        return cls(ui=ui, repo_root=find_repo_root(repo or Path.cwd()))

    @property
    def tree(self) -> WorkTree:
        return WorkTree(self.repo_root)


def environments(session: Session) -> list[Environment]:
    return list_environments(session.tree)


def render(session: Session, env_name: str) -> RenderedSet:
    env = load_environment(session.tree, env_name)
    return render_environment(session.tree, env)


def plan(session: Session, env_name: str, options: ClusterOptions) -> tuple[Plan, Connection]:
    return _plan(session, load_environment(session.tree, env_name), options)


def _plan(session: Session, env: Environment, options: ClusterOptions
          ) -> tuple[Plan, Connection]:
    rendered = render_environment(session.tree, env)
    source = source_info(session.repo_root, str(env.path))
    connection = connect(env, kubeconfig=options.kubeconfig, context_override=options.context,
                         timeout=options.request_timeout, concurrency=options.concurrency,
                         log=session.ui.log)
    result = build_plan(rendered, connection, source, concurrency=options.concurrency)
    return result, connection


def apply(session: Session, env_name: str, options: ClusterOptions, *, yes: bool,
          plan_to_stdout: bool) -> ApplyReport | Plan:
    """Plan, show it, confirm, apply. Returns the plan alone when there is nothing to do."""
    env = load_environment(session.tree, env_name)
    if env.settings.suspend:
        raise RefusedError(f"environment '{env.name}' is suspended: apply refused",
                           [f"suspend: true is set in {env.settings_path}"])
    the_plan, connection = _plan(session, env, options)
    terminal.plan(session.ui.out if plan_to_stdout else session.ui.err, the_plan)
    if not the_plan.pending:
        return the_plan
    confirm_apply(the_plan, session.ui, yes=yes)

    def progress(result: ObjectResult) -> None:
        style = "green" if result.outcome is Outcome.APPLIED else "red"
        session.ui.note(f"[{style}]{result.outcome.value}[/{style}] {result.change.title()}")

    return apply_plan(the_plan, connection.client, concurrency=options.concurrency,
                      establish_timeout=options.establish_timeout, progress=progress)
