"""`--changed --base REF`: the environments whose rendered objects differ between REF and the
target commit, found offline, from git objects alone (no cluster, no keys: encrypted files
are compared as their ciphertext).

When none of the files that changed between the two commits is in an environment's folder or
among the files it renders from (its kustomize bases, its charts and values files, its
variables files: found from the settings and kustomization files, as rendering finds them,
without running the engines), it cannot have changed and is not rendered at all. Otherwise it
is rendered at both commits, as `diff --offline` renders it (without keys, images pinned by
each commit's lock file), and the two renders' digests are compared: a change to a shared
base selects every environment whose objects it changes, a reformatted file or a README none.
The renders are kept (`Changes.cache`, with the ignore rules and the two commits' SourceInfo)
for the offline diffs that follow, which then need no git at all.

Environments are rendered `parallel` at a time, from one snapshot per commit shared by the
threads (config/gitrepo.py `Snapshot`): the commit's file list is read once, each file's
content once for both commits, and its files are written to disk once, for every kustomize
and Helm run. docs/fleet.md#performance has the measures."""

from __future__ import annotations

import contextvars
import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from gitdeploy.config.environments import ENVIRONMENTS_DIR, Environment, load_environment
from gitdeploy.config.gitrepo import BlobReader, Snapshot
from gitdeploy.config.sources import SourceTree, normalise, reading
from gitdeploy.errors import GitdeployError, SettingsError
from gitdeploy.fleet.run import OpenSession
from gitdeploy.objects.ignore import IgnoreRule
from gitdeploy.objects.manifests import Manifest, ObjectKey
from gitdeploy.pin.images import pin_rendered
from gitdeploy.render import helm, kustomize
from gitdeploy.render.environment import RenderedSet, render_environment
from gitdeploy.results.environment import SourceInfo


@dataclass(frozen=True)
class Render:
    """An environment's objects at one commit, rendered without keys and pinned to the lock
    file's digests, as offline diffs do; with the ignore rules of its settings there."""

    objects: dict[ObjectKey, Manifest]
    variables: tuple[str, ...]
    rules: tuple[IgnoreRule, ...] = ()


@dataclass
class RenderCache:
    """Renders by (commit SHA, environment), shared by the workers."""

    found: dict[tuple[str, str], Render] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, sha: str, name: str, manifests: list[Manifest],
            variables: tuple[str, ...], rules: tuple[IgnoreRule, ...] = ()) -> None:
        with self.lock:
            self.found[(sha, name)] = Render({m.key: m for m in manifests}, variables, rules)

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
    # the two commits as the offline diffs' plans describe them
    base_info: SourceInfo | None = None
    head_info: SourceInfo | None = None

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
        git_repo = session.git
        if git_repo is None:
            raise SettingsError(f"--changed --base {base}: {session.repo_root} is not in a git "
                                "repository")
        base_commit, head_commit = git_repo.resolve(base), git_repo.resolve(head)
        prefix = git_repo.prefix
        output = git_repo.repo.git.diff("--name-only", "-z", "--no-renames",
                                        base_commit.hexsha, head_commit.hexsha, "--",
                                        "." if str(prefix) == "." else str(prefix))
        changes = Changes(base=base, head=head, base_sha=base_commit.hexsha,
                          head_sha=head_commit.hexsha,
                          base_info=git_repo.source_info(base_commit, ref=base,
                                                         dirty_files=[]),
                          head_info=git_repo.source_info(head_commit, ref=head,
                                                         dirty_files=[]))
        paths = {PurePosixPath(name).relative_to(prefix) if str(prefix) != "." else
                 PurePosixPath(name) for name in output.split("\0") if name}
        changes.changed_files = len(paths)
        if not paths or not candidates:
            return changes
        blobs = BlobReader(git_repo.repo)
        with closing(Snapshot(git_repo, head_commit, head, blobs)) as head_tree, \
                closing(Snapshot(git_repo, base_commit, base, blobs)) as base_tree:
            checker = _Checker(head_tree, base_tree, base, head, paths, changes.cache)
            workers = max(1, min(parallel, len(candidates)))
            with ThreadPoolExecutor(max_workers=workers,
                                    thread_name_prefix="gitdeploy-changed") as pool:
                # the run's context (its Secret masker) goes along
                futures = [pool.submit(contextvars.copy_context().run, checker.check, name)
                           for name in candidates]
                results = [future.result() for future in futures]
    for name, (why, renders) in zip(candidates, results, strict=True):
        changes.renders += renders
        if why:
            changes.changed.append(ChangedEnvironment(name, why))
    changes.changed.sort(key=lambda env: env.name)
    return changes


class _Checker:
    """Renders environments at both commits, from two snapshots shared by the threads."""

    def __init__(self, head_tree: Snapshot, base_tree: Snapshot, base: str, head: str,
                 paths: set[PurePosixPath], cache: RenderCache) -> None:
        self.head_tree, self.base_tree = head_tree, base_tree
        self.base_sha, self.head_sha = base_tree.commit.hexsha, head_tree.commit.hexsha
        self.base, self.head = base, head
        self.paths, self.cache = paths, cache

    def check(self, name: str) -> tuple[str, int]:
        """Why the environment changed ("" when it did not), and how many renders it took."""
        head_tree, base_tree = self.head_tree, self.base_tree
        try:
            env = load_environment(head_tree, name)
        except GitdeployError as error:
            return self._broken(name, f"cannot read its settings at {self.head}: "
                                f"{error.message}", 0)
        if not self._touched(head_tree, env):
            return "", 0
        try:
            rendered = _render(head_tree, env)
        except GitdeployError as error:
            return self._broken(name, f"cannot render at {self.head}: "
                                f"{error.message}", 1)
        self.cache.put(self.head_sha, name, rendered.manifests, rendered.variables,
                       env.settings.ignore_rules)
        try:
            old_env = load_environment(base_tree, name)
        except SettingsError:
            self.cache.put(self.base_sha, name, [], ())
            return f"new since {self.base}", 1
        try:
            old = _render(base_tree, old_env)
        except GitdeployError:
            return f"cannot render at {self.base}", 2
        self.cache.put(self.base_sha, name, old.manifests, old.variables,
                       old_env.settings.ignore_rules)
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

    def _broken(self, name: str, why: str, renders: int) -> tuple[str, int]:
        """Broken at the target: changed if its folder changed or it rendered at the base."""
        if any(path.is_relative_to(ENVIRONMENTS_DIR / name) for path in self.paths):
            return why, renders
        try:
            _render(self.base_tree, load_environment(self.base_tree, name))
        except GitdeployError:
            return "", renders + 1  # broken before too
        return why, renders + 1


def _render(snapshot: Snapshot, env: Environment) -> RenderedSet:
    """The environment's objects as `diff --offline` renders them: without keys (encrypted
    values compared as their ciphertext), images pinned by the commit's own lock file. The
    engines read the snapshot's files on disk, shared by every thread, except when kustomize
    inflates Helm charts: it writes them into the files, and gets a copy of its own."""
    tree = snapshot.own_disk() if env.settings.kustomize.enable_helm else snapshot
    with reading(tree):
        return pin_rendered(tree, render_environment(tree, env, decrypt=False))


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
