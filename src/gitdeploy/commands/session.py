"""What every command starts from: the config repository, the source of its files (the work
tree or a git ref), and the options for reaching a cluster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import git

from gitdeploy.config.environments import Environment, find_repo_root, load_environment
from gitdeploy.config.gitrepo import GitRepo, SourceInfo
from gitdeploy.config.sources import SourceTree, WorkTree
from gitdeploy.errors import GitdeployError, SettingsError
from gitdeploy.kube.target import Connection, connect
from gitdeploy.output.console import UI
from gitdeploy.render.environment import YAML_SUFFIXES, RenderedSet


@dataclass(frozen=True)
class ClusterOptions:
    kubeconfig: str | None = None
    context: str | None = None
    request_timeout: float = 30.0
    concurrency: int = 8
    establish_timeout: float = 60.0


@dataclass(frozen=True)
class Source:
    """The files to read: the work tree (`commit` is HEAD) or the tree of a git ref."""

    tree: SourceTree
    commit: git.Commit | None
    ref: str | None  # None for the work tree

    @property
    def is_work_tree(self) -> bool:
        return self.ref is None


@dataclass(frozen=True)
class Session:
    ui: UI
    repo_root: Path
    git: GitRepo | None

    @classmethod
    @contextmanager
    def open(cls, ui: UI, repo: Path | None) -> Iterator[Session]:
        root = find_repo_root(repo or Path.cwd())
        with GitRepo.open(root) as git_repo:
            yield cls(ui=ui, repo_root=root, git=git_repo)

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

    def work_tree_environment(self, name: str) -> Environment | None:
        """The environment as the work tree has it, or None when it has no such environment."""
        try:
            return load_environment(self.work_tree, name)
        except GitdeployError:
            return None

    def source_info(self, source: Source, rendered: RenderedSet) -> SourceInfo:
        """Commit, ref and, for the work tree, which of the deployed files are uncommitted."""
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
        return connect(env, kubeconfig=options.kubeconfig, context_override=options.context,
                       timeout=options.request_timeout, concurrency=options.concurrency,
                       log=self.ui.log)
