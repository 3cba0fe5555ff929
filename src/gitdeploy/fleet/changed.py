"""`--changed --base REF`: the environments whose rendered objects differ between REF and the
target commit, found offline, from git objects alone (no cluster, no keys: encrypted files
are compared as their ciphertext).

When none of the files that changed between the two commits is in an environment's folder or
among the files it renders from (its kustomize bases, its charts and values files, its
variables files: found from the settings and kustomization files, as rendering finds them,
without running the engines), it cannot have changed and is not rendered at all. Otherwise it
is rendered at both commits and the two renders' digests are compared: a change to a shared
base selects every environment whose objects it changes, a reformatted file or a README none.
The renders are kept (`Changes.renders_of`) for the offline diffs that follow.
Environments are rendered `parallel` at a time, each worker with a git repository handle of
its own; each commit's files are written to disk once per worker for the engines (kustomize,
Helm) to read."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from gitdeploy.config.environments import ENVIRONMENTS_DIR, Environment, load_environment
from gitdeploy.config.sources import SourceTree, normalise, reading
from gitdeploy.errors import GitdeployError, SettingsError
from gitdeploy.fleet.run import OpenSession
from gitdeploy.objects.manifests import Manifest, ObjectKey
from gitdeploy.render import helm, kustomize
from gitdeploy.render.environment import render_environment


@dataclass(frozen=True)
class Render:
    """An environment's objects at one commit, rendered without keys, as offline diffs do."""

    objects: dict[ObjectKey, Manifest]
    variables: tuple[str, ...]


@dataclass
class RenderCache:
    """Renders by (commit SHA, environment), shared by the workers."""

    found: dict[tuple[str, str], Render] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, sha: str, name: str, manifests: list[Manifest],
            variables: tuple[str, ...]) -> None:
        with self.lock:
            self.found[(sha, name)] = Render({m.key: m for m in manifests}, variables)

    def get(self, sha: str, name: str) -> Render | None:
        with self.lock:
            return self.found.get((sha, name))


@dataclass(frozen=True)
class ChangedEnvironment:
    name: str
    why: str  # "objects differ", "new since the base", "cannot render at the target: ..."


@dataclass
class Changes:
    """What `--changed` found: the environments that changed, and how many were rendered."""

    base: str
    head: str
    changed: list[ChangedEnvironment] = field(default_factory=list)
    changed_files: int = 0
    renders: int = 0
    base_sha: str = ""
    head_sha: str = ""
    cache: RenderCache = field(default_factory=RenderCache)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(env.name for env in self.changed))


def render_digest(manifests: list[Manifest]) -> str:
    """sha256 of the objects, canonical JSON in object key order. Used in memory only, to
    compare two renders: unlike the deploy record's digest, a Secret value counts."""
    hasher = hashlib.sha256()
    for manifest in sorted(manifests, key=lambda m: str(m.key)):
        hasher.update(json.dumps(manifest.body, sort_keys=True, separators=(",", ":"),
                                 default=str).encode())
        hasher.update(b"\n")
    return hasher.hexdigest()


def changed_environments(open_session: OpenSession, candidates: list[str] | tuple[str, ...],
                         *, base: str, head: str, parallel: int = 4) -> Changes:
    """Which of `candidates` render differently at `head` than at `base`."""
    with open_session("") as session:
        if session.git is None:
            raise SettingsError(f"--changed --base {base}: {session.repo_root} is not in a git "
                                "repository")
        base_commit, head_commit = session.git.resolve(base), session.git.resolve(head)
        prefix = session.git.prefix
        output = session.git.repo.git.diff("--name-only", "-z", "--no-renames",
                                           base_commit.hexsha, head_commit.hexsha, "--",
                                           "." if str(prefix) == "." else str(prefix))
    changes = Changes(base=base, head=head, base_sha=base_commit.hexsha,
                      head_sha=head_commit.hexsha)
    paths = {PurePosixPath(name).relative_to(prefix) if str(prefix) != "." else
             PurePosixPath(name) for name in output.split("\0") if name}
    changes.changed_files = len(paths)
    if not paths or not candidates:
        return changes
    workers = max(1, min(parallel, len(candidates)))
    chunks = [list(candidates[index::workers]) for index in range(workers)]
    checker = _Checker(open_session, base_commit.hexsha, head_commit.hexsha, base, head, paths,
                       changes.cache)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gitdeploy-changed") as pool:
        results = list(pool.map(checker.check, chunks))
    for found, renders in results:
        changes.changed.extend(found)
        changes.renders += renders
    changes.changed.sort(key=lambda env: env.name)
    return changes


class _Checker:
    def __init__(self, open_session: OpenSession, base_sha: str, head_sha: str, base: str,
                 head: str, paths: set[PurePosixPath], cache: RenderCache) -> None:
        self.open_session = open_session
        self.base_sha, self.head_sha, self.base, self.head = base_sha, head_sha, base, head
        self.paths, self.cache = paths, cache

    def check(self, names: list[str]) -> tuple[list[ChangedEnvironment], int]:
        found: list[ChangedEnvironment] = []
        renders = 0
        with ExitStack() as stack:
            session = stack.enter_context(self.open_session(""))
            git_repo = session.git
            assert git_repo is not None
            head_tree = _DiskOnce(git_repo.tree(git_repo.resolve(self.head_sha), self.head),
                                  stack)
            base_tree = _DiskOnce(git_repo.tree(git_repo.resolve(self.base_sha), self.base),
                                  stack)
            for name in names:
                why, rendered = self._changed(name, head_tree, base_tree)
                renders += rendered
                if why:
                    found.append(ChangedEnvironment(name, why))
        return found, renders

    def _changed(self, name: str, head_tree: SourceTree, base_tree: SourceTree
                 ) -> tuple[str, int]:
        """Why the environment changed ("" when it did not), and how many renders it took."""
        try:
            env = load_environment(head_tree, name)
        except GitdeployError as error:
            return self._broken(name, base_tree, f"cannot read its settings at {self.head}: "
                                f"{error.message}", 0)
        if not self._touched(head_tree, env):
            return "", 0
        try:
            with reading(head_tree):
                rendered = render_environment(head_tree, env, decrypt=False)
        except GitdeployError as error:
            return self._broken(name, base_tree, f"cannot render at {self.head}: "
                                f"{error.message}", 1)
        self.cache.put(self.head_sha, name, rendered.manifests, rendered.variables)
        try:
            old_env = load_environment(base_tree, name)
        except SettingsError:
            self.cache.put(self.base_sha, name, [], ())
            return f"new since {self.base}", 1
        try:
            with reading(base_tree):
                old = render_environment(base_tree, old_env, decrypt=False)
        except GitdeployError:
            return f"cannot render at {self.base}", 2
        self.cache.put(self.base_sha, name, old.manifests, old.variables)
        if render_digest(old.manifests) != render_digest(rendered.manifests):
            return "objects differ", 2
        return "", 2

    def _touched(self, tree: SourceTree, env: Environment) -> bool:
        """Whether a changed file is in the environment's folder or among the files it renders
        from (what rendering reads, found without running kustomize or Helm); when they cannot
        be found, it counts as touched."""
        if any(path.is_relative_to(env.path) for path in self.paths):
            return True
        try:
            with reading(tree):
                inputs = _inputs(tree, env)
        except (GitdeployError, OSError, KeyError, ValueError):
            return True
        return bool(inputs & self.paths)

    def _broken(self, name: str, base_tree: SourceTree, why: str, renders: int
                ) -> tuple[str, int]:
        """Broken at the target: changed if its folder changed or it rendered at the base."""
        if any(path.is_relative_to(ENVIRONMENTS_DIR / name) for path in self.paths):
            return why, renders
        try:
            with reading(base_tree):
                render_environment(base_tree, load_environment(base_tree, name),
                                   decrypt=False)
        except GitdeployError:
            return "", renders + 1  # broken before too
        return why, renders + 1


def _inputs(tree: SourceTree, env: Environment) -> set[PurePosixPath]:
    """The files outside its folder an environment renders from: the kustomize bases and
    files its kustomizations reference, its charts' files and values files, its variables
    files."""
    files = tree.walk_files(env.path)
    found: set[PurePosixPath] = set()
    for root in kustomize.kustomization_roots(files):
        found.update(kustomize.kustomize_inputs(tree, root))
    for spec in env.settings.charts:
        found.update(helm.chart_inputs(spec, env.path, tree))
    found.update(normalise(env.path / source.path)
                 for source in env.settings.substitution.sources)
    return found


class _DiskOnce:
    """A commit's files, written to disk once for all the environments a worker renders
    (rather than once per environment), and removed when the worker is done."""

    def __init__(self, tree: SourceTree, stack: ExitStack) -> None:
        self._tree, self._stack = tree, stack
        self._root: Path | None = None

    def describe(self) -> str:
        return self._tree.describe()

    def is_dir(self, path: PurePosixPath) -> bool:
        return self._tree.is_dir(path)

    def list_dirs(self, path: PurePosixPath) -> list[PurePosixPath]:
        return self._tree.list_dirs(path)

    def walk_files(self, path: PurePosixPath) -> list[PurePosixPath]:
        return self._tree.walk_files(path)

    def read(self, path: PurePosixPath) -> bytes:
        return self._tree.read(path)

    def resolve(self, path: PurePosixPath) -> PurePosixPath:
        return self._tree.resolve(path)

    def check_links(self, path: PurePosixPath) -> None:
        self._tree.check_links(path)

    def on_disk(self) -> AbstractContextManager[Path]:
        return self._kept()

    @contextmanager
    def _kept(self) -> Iterator[Path]:
        if self._root is None:
            self._root = self._stack.enter_context(self._tree.on_disk())
        yield self._root
