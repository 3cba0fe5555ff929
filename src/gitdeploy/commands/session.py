"""What every command starts from: the config repository, the source of its files (the work
tree or a git ref), the options for reaching a cluster, and the callbacks through which the core
tells the person running it what happens (`Events`): the core itself never prints or prompts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Protocol

from gitdeploy.config.sources import SourceTree, WorkTree, reading
from gitdeploy.errors import GitdeployError, SettingsError

if TYPE_CHECKING:
    # Imported where they are used: `gitdeploy --help` and `envs` start without GitPython's,
    # the Kubernetes client's or the renderers' import time (docs/performance.md).
    import git

    from gitdeploy.config.environments import Environment
    from gitdeploy.config.gitrepo import GitRepo
    from gitdeploy.kube.target import Connection
    from gitdeploy.render.environment import RenderedSet
    from gitdeploy.results.apply import ObjectResult, WaitItem
    from gitdeploy.results.environment import SourceInfo
    from gitdeploy.results.plan import Plan

WaitUpdate = Callable[[list["WaitItem"], float], None]  # the objects' states, seconds waited


class Events(Protocol):
    """What the core reports while it works, and the questions it asks. The command line
    implements it (`cli/events.py`); a confirmation that is refused raises `RefusedError`."""

    def note(self, text: str) -> None:
        """A message for the person running the command (never a result)."""

    def warning(self, text: str) -> None:
        """Something that went wrong but does not stop the command."""

    def log(self, line: str) -> None:
        """A line of the `-v` trace: an API request with its status and duration."""

    def planned(self, plan: Plan) -> None:
        """The plan apply is about to carry out, before any check or confirmation."""

    def confirm_apply(self, plan: Plan) -> None:
        """Return when the person agreed to carry out `plan.work`; raise RefusedError if not."""

    def confirm_unlock(self, environment: str, holder: str, since: str) -> None:
        """Return when the person agreed to release another deploy's lock."""

    def applied(self, result: ObjectResult) -> None:
        """One object was applied, deleted, or failed."""

    def waiting(self, environment: str, timeout: float) -> AbstractContextManager[WaitUpdate]:
        """Shown while waiting for readiness: each update gives every object's state."""


@dataclass(frozen=True)
class ClusterOptions:
    kubeconfig: str | None = None
    context: str | None = None
    request_timeout: float = 30.0
    concurrency: int = 16  # docs/performance.md
    establish_timeout: float = 60.0
    retries: int | None = None  # None: the environment's retries.max
    retry_time: float | None = None  # None: the environment's retries.maxTime


@dataclass(frozen=True)
class Source:
    """The files to read: the work tree (`commit` is HEAD) or the tree of a git ref."""

    tree: SourceTree
    commit: git.Commit | None
    ref: str | None  # None for the work tree

    @property
    def is_work_tree(self) -> bool:
        return self.ref is None


class _GitOnDemand:
    """The config repository's git repository, opened when first asked for (commands such as
    `envs` never need GitPython) and closed with the session."""

    def __init__(self, root: Path, stack: ExitStack) -> None:
        self._root, self._stack = root, stack
        self._opened = False
        self._repo: GitRepo | None = None

    def get(self) -> GitRepo | None:
        if not self._opened:
            from gitdeploy.config.gitrepo import GitRepo

            self._repo = self._stack.enter_context(GitRepo.open(self._root))
            self._opened = True
        return self._repo


@dataclass(frozen=True)
class Session:
    events: Events
    repo_root: Path
    _git: _GitOnDemand = field(repr=False)

    @property
    def git(self) -> GitRepo | None:
        """The git repository holding the config repository; None outside of one."""
        return self._git.get()

    @classmethod
    @contextmanager
    def open(cls, events: Events, repo: Path | None) -> Iterator[Session]:
        from gitdeploy.config.environments import find_repo_root

        root = find_repo_root(repo or Path.cwd())
        with ExitStack() as stack:
            yield cls(events=events, repo_root=root, _git=_GitOnDemand(root, stack))

    @property
    def work_tree(self) -> WorkTree:
        return WorkTree(self.repo_root)

    def source(self, ref: str | None) -> Source:
        if ref is None:
            return Source(self.work_tree, self.git.head() if self.git else None, None)
        if self.git is None:
            raise SettingsError(f"--ref {ref}: {self.repo_root} is not in a git repository")
        commit = self.git.resolve(ref)
        return Source(self.git.tree(commit, ref), commit, ref)

    def render(self, tree: SourceTree, env: Environment, *, check: bool = False
               ) -> RenderedSet:
        """The environment's objects; what an engine rendered but is not applied is noted.
        With `check`, objects the API server would refuse (names, labels, base64, sizes) are
        an input error before any request (validate/precheck.py)."""
        from gitdeploy.pin.images import pin_rendered
        from gitdeploy.render.environment import render_environment
        from gitdeploy.validate.precheck import refuse_what_the_server_would

        with reading(tree):
            rendered = render_environment(tree, env)
            rendered = pin_rendered(tree, rendered)  # the lock file's digests (docs/pinning.md)
            if check:
                refuse_what_the_server_would(tree, rendered.manifests)
        for note in rendered.notes:
            self.events.note(f"note: {note}")
        return rendered

    def work_tree_environment(self, name: str) -> Environment | None:
        """The environment as the work tree has it, or None when it has no such environment."""
        from gitdeploy.config.environments import load_environment

        try:
            return load_environment(self.work_tree, name)
        except GitdeployError:
            return None

    def source_info(self, source: Source, rendered: RenderedSet) -> SourceInfo:
        """Commit, ref and, for the work tree, which of the deployed files are uncommitted."""
        from gitdeploy.render.environment import YAML_SUFFIXES
        from gitdeploy.results.environment import SourceInfo

        if self.git is None:
            return SourceInfo(commit=None, dirty=True)
        if not source.is_work_tree:
            return self.git.source_info(source.commit, ref=source.ref, dirty_files=[])
        inputs = {str(path) for path in rendered.inputs}
        folder = rendered.environment.path
        outside = any(folder not in path.parents for path in rendered.inputs)
        changed = self.git.changed_files(PurePosixPath(".") if outside else folder)
        dirty = sorted(path for path, code in changed.items() if path in inputs or (
            "D" in code and PurePosixPath(path).suffix.lower() in YAML_SUFFIXES
            and folder in PurePosixPath(path).parents))
        return self.git.source_info(source.commit, ref=None, dirty_files=dirty)

    def connect(self, env: Environment, options: ClusterOptions) -> Connection:
        from gitdeploy.kube.target import connect

        connection = connect(env, kubeconfig=options.kubeconfig,
                             context_override=options.context,
                             timeout=options.request_timeout, concurrency=options.concurrency,
                             log=self.events.log, retries=options.retries,
                             retry_time=options.retry_time,
                             # -vv: the bodies of writes, masked (cli/events.py)
                             log_body=getattr(self.events, "log_body", None) if getattr(
                                 self.events, "wants_bodies", False) else None)
        if connection.target.insecure:
            self.events.warning(f"context '{connection.target.context}' does not verify the "
                                f"API server's TLS certificate (insecure-skip-tls-verify in "
                                f"the kubeconfig)")
        return connection
