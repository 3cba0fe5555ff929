"""The one wrapper around git (through GitPython): which commit the files come from, whether
they are dirty, history distances, and a read-only view of the files at any ref that never
touches the work tree or the index."""

from __future__ import annotations

import bisect
import contextlib
import copy
import io
import tarfile
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import git

from gitdeploy.config.sources import LinkOutsideError, follow_links
from gitdeploy.errors import LoadError, SettingsError
from gitdeploy.results.environment import SourceInfo

SYMLINK_MODE = 0o120000
SHALLOW_FIXES = [
    "fetch more history: git fetch --deepen=50 (or git fetch --unshallow)",
    "in CI, check out with enough history (GitHub Actions: actions/checkout with "
    "fetch-depth: 0; GitLab CI: GIT_DEPTH: 0)",
]


@dataclass
class GitRepo:
    """An open repository; `prefix` is the config root's path inside the work tree."""

    repo: git.Repo
    prefix: PurePosixPath

    @classmethod
    @contextlib.contextmanager
    def open(cls, config_root: Path) -> Iterator[GitRepo | None]:
        try:
            repo = git.Repo(config_root, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            yield None
            return
        with repo:
            top = Path(repo.working_tree_dir or config_root).resolve()
            prefix = PurePosixPath(config_root.resolve().relative_to(top).as_posix())
            yield cls(repo, prefix)

    def _path(self, relative: PurePosixPath) -> str:
        return str(self.prefix / relative) if str(self.prefix) != "." else str(relative)

    def resolve(self, ref: str) -> git.Commit:
        """The commit `ref` names. In a shallow clone a commit beyond the depth may be known by
        name only (HEAD~1 is the parent of a shallow commit): it is fetched, that one commit,
        from the repository's remote (`-v` shows the fetch), or the error says how to get it."""
        try:
            commit = self.repo.commit(ref)
        except (git.BadName, git.BadObject, ValueError, git.GitCommandError):
            commit = None
        if commit is not None and not self._present(commit.hexsha):
            commit = self._fetch(commit.hexsha)
            if commit is None:
                raise SettingsError(
                    f"'{ref}' is commit {self.repo.commit(ref).hexsha[:7]}, which is not in "
                    f"this clone: it is shallow (cloned with --depth) and the commit could not "
                    f"be fetched", SHALLOW_FIXES) from None
        if commit is None:
            shallow = self.is_shallow()
            raise SettingsError(
                f"'{ref}' is not a commit, tag or branch of the repository at "
                f"{self.repo.working_tree_dir}"
                + (" (a shallow clone: older commits are not in it)" if shallow else ""),
                SHALLOW_FIXES if shallow else ["fetch it first (git fetch), or check the "
                                               "spelling"],
            ) from None
        return commit

    def is_shallow(self) -> bool:
        return Path(self.repo.git_dir, "shallow").is_file()

    def _present(self, sha: str) -> bool:
        try:
            self.repo.git.cat_file("-e", f"{sha}^{{commit}}")
        except git.GitCommandError:
            return False
        return True

    def _fetch(self, sha: str) -> git.Commit | None:
        """Fetch one missing commit (and its files) from the first remote that has it."""
        remotes = sorted(self.repo.remotes, key=lambda remote: remote.name != "origin")
        for remote in remotes:
            try:
                self.repo.git.fetch("--quiet", "--no-tags", "--no-write-fetch-head",
                                    "--depth=1", remote.name, sha)
            except git.GitCommandError:
                continue
            if self._present(sha):
                return self.repo.commit(sha)
        return None

    def head(self) -> git.Commit | None:
        try:
            return self.repo.head.commit
        except ValueError:  # no commit yet
            return None

    def has_commit(self, sha: str) -> bool:
        try:
            self.repo.commit(sha)
        except (git.BadName, git.BadObject, ValueError, git.GitCommandError):
            return False
        return True

    def tree(self, commit: git.Commit, label: str) -> GitTree:
        return GitTree(commit, self.prefix, label)

    def changed_files(self, folder: PurePosixPath) -> dict[str, str]:
        """Uncommitted changes under `folder`, ignored files included: path (relative to the
        config root) -> git's two-letter status."""
        output = self.repo.git.status("--porcelain=v1", "-z", "--untracked-files=all",
                                      "--ignored=matching", "--", self._path(folder))
        changes: dict[str, str] = {}
        entries = iter(output.split("\0"))
        for entry in entries:
            if len(entry) < 4:
                continue
            code, path = entry[:2], entry[3:]
            if "R" in code or "C" in code:
                next(entries, None)  # the rename's source path follows
            relative = PurePosixPath(path)
            if str(self.prefix) != ".":
                relative = relative.relative_to(self.prefix)
            changes[str(relative)] = code
        return changes

    def source_info(self, commit: git.Commit | None, *, ref: str | None, dirty_files: list[str]
                    ) -> SourceInfo:
        branch = None
        if ref is None and not self.repo.head.is_detached:
            branch = self.repo.active_branch.name
        if commit is None:
            return SourceInfo(commit=None, dirty=True, branch=branch,
                              dirty_files=tuple(dirty_files))
        return SourceInfo(
            commit=commit.hexsha, dirty=bool(dirty_files), branch=branch, ref=ref,
            subject=commit.summary if isinstance(commit.summary, str) else "",
            author=f"{commit.author.name} <{commit.author.email}>",
            dirty_files=tuple(dirty_files),
        )

    def distance(self, live: str, head: git.Commit,
                 paths: Iterable[PurePosixPath] = ()) -> tuple[int, int] | None:
        """(commits `head` has that `live` lacks, commits `live` has that `head` lacks), or
        None when `live` is not in the local history. With `paths` (relative to the config
        root), only commits that change one of them count."""
        if not self.has_commit(live):
            return None
        specs = sorted({self._path(path) for path in paths})
        counts = self.repo.git.rev_list("--left-right", "--count", f"{head.hexsha}...{live}",
                                        *(["--", *specs] if specs else []))
        behind, ahead = (int(n) for n in counts.split())
        return behind, ahead


def _inside_links_only(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """tarfile's `data` filter, except that a symbolic link leading out of the files is left
    out rather than failing the whole extraction: reading through it is refused
    (LinkOutsideError) before an engine is run, and other environments are unaffected."""
    try:
        return tarfile.data_filter(member, dest)
    except (tarfile.AbsoluteLinkError, tarfile.LinkOutsideDestinationError):
        return None


@dataclass(frozen=True)
class GitTree:
    """The files of the config root at one commit, read from git objects."""

    commit: git.Commit
    prefix: PurePosixPath
    label: str

    def describe(self) -> str:
        return f"commit {self.commit.hexsha[:7]} ({self.label})"

    def _node(self, path: PurePosixPath) -> object | None:
        full = str(self.prefix / path)
        if full in ("", "."):
            return self.commit.tree
        try:
            return self.commit.tree / full
        except KeyError:
            return None

    def _folder(self, path: PurePosixPath) -> object | None:
        """The node at `path`, a linked folder followed (inside the tree) as the work tree
        does."""
        node = self._node(path)
        if node is None or (isinstance(node, git.Blob) and node.mode == SYMLINK_MODE):
            node = self._node(self.resolve(path))
        return node

    def is_dir(self, path: PurePosixPath) -> bool:
        return isinstance(self._folder(path), git.Tree)

    def list_dirs(self, path: PurePosixPath) -> list[PurePosixPath]:
        node = self._folder(path)
        if not isinstance(node, git.Tree):
            return []
        return sorted(path / tree.name for tree in node.trees)

    def walk_files(self, path: PurePosixPath) -> list[PurePosixPath]:
        """The files under `path`, as the work tree lists them: a symbolic link to a file
        counts (one leading outside the repository too: reading it is refused), a link to a
        folder or to nothing does not."""
        node = self._folder(path)
        if not isinstance(node, git.Tree):
            return []
        found = []
        for item in node.traverse():
            if not isinstance(item, git.Blob):
                continue
            relative = PurePosixPath(item.path).relative_to(node.path)
            if any(part.startswith(".") for part in relative.parts):
                continue
            if item.mode == SYMLINK_MODE and not self._links_to_file(path / relative):
                continue
            found.append(path / relative)
        return sorted(found)

    def _links_to_file(self, path: PurePosixPath) -> bool:
        try:
            return isinstance(self._node(self.resolve(path)), git.Blob)
        except LoadError as error:
            return isinstance(error, LinkOutsideError)

    def _link(self, path: PurePosixPath) -> str | None:
        node = self._node(path)
        if isinstance(node, git.Blob) and node.mode == SYMLINK_MODE:
            return bytes(node.data_stream.read()).decode("utf-8", errors="surrogateescape")
        return None

    def resolve(self, path: PurePosixPath) -> PurePosixPath:
        return follow_links(path, self._link)

    def check_links(self, path: PurePosixPath) -> None:
        node = self._folder(path)
        if not isinstance(node, git.Tree):
            return
        for item in node.traverse():
            if isinstance(item, git.Blob) and item.mode == SYMLINK_MODE:
                self.resolve(path / PurePosixPath(item.path).relative_to(node.path))

    @contextlib.contextmanager
    def on_disk(self) -> Iterator[Path]:
        """The config root's files at this commit, written to a temporary folder (removed
        afterwards) with `git archive`; the work tree and the index are not touched."""
        with tempfile.TemporaryDirectory(prefix="gitdeploy-") as folder:
            archive = io.BytesIO()
            paths = [] if str(self.prefix) == "." else [str(self.prefix)]
            self.commit.repo.archive(archive, self.commit.hexsha, path=paths)
            archive.seek(0)
            with tarfile.open(fileobj=archive) as tar:
                tar.extractall(folder, filter=_inside_links_only)
            root = Path(folder) / self.prefix
            root.mkdir(parents=True, exist_ok=True)
            yield root

    def read(self, path: PurePosixPath) -> bytes:
        node = self._node(path)
        if not isinstance(node, git.Blob) or node.mode == SYMLINK_MODE:
            # a link, or a path through a linked folder: followed inside the tree only
            node = self._node(self.resolve(path))
        if not isinstance(node, git.Blob):
            raise FileNotFoundError(f"{path} is not a file at {self.describe()}")
        data: bytes = node.data_stream.read()
        return data


@dataclass(frozen=True)
class _Entry:
    mode: int
    kind: str  # "blob", "tree" or "commit" (a submodule)
    sha: str


class BlobReader:
    """Blob contents by SHA, each read once from the repository and kept: shared by the
    snapshots of several commits (a file unchanged between them is read once) and by threads
    (the repository's `git cat-file` process is used by one at a time)."""

    def __init__(self, repo: git.Repo) -> None:
        self._repo = repo
        self._found: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def read(self, sha: str) -> bytes:
        with self._lock:
            data = self._found.get(sha)
            if data is None:
                data = bytes(self._repo.odb.stream(bytes.fromhex(sha)).read())
                self._found[sha] = data
            return data


class Snapshot:
    """The files of the config root at one commit, as GitTree reads them, for many readers at
    once: the commit's file list is read once (`git ls-tree`), file contents through a shared
    BlobReader, and the files are written to disk once, on first need, for every engine run
    of every thread (`on_disk`), until `close`. Used by `--changed`, which renders every
    environment at two commits (fleet/changed.py)."""

    def __init__(self, git_repo: GitRepo, commit: git.Commit, label: str,
                 blobs: BlobReader) -> None:
        self.commit, self.label, self.prefix = commit, label, git_repo.prefix
        self._blobs = blobs
        self._entries: dict[str, _Entry] = {}
        self._files: list[str] = []  # the blobs' paths, sorted, for walk_files
        self._folders: dict[str, list[str]] = {}  # a folder's key -> its folders' names
        self._root_exists = self._list(git_repo.repo, commit.hexsha)
        self._disk_lock = threading.Lock()
        self._disk: Path | None = None
        self._stack = contextlib.ExitStack()
        self._shared_disk = True

    def _list(self, repo: git.Repo, sha: str) -> bool:
        treeish = f"{sha}^{{tree}}" if str(self.prefix) == "." else f"{sha}:{self.prefix}"
        try:
            output: bytes = repo.git.ls_tree("-r", "-t", "-z", "--full-tree", treeish,
                                             stdout_as_string=False)
        except git.GitCommandError:
            return False  # the config root is not in the commit: as GitTree, no files
        for record in output.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, kind, sha_hex = meta.decode().split(" ")
            path = raw_path.decode("utf-8", errors="surrogateescape")
            self._entries[path] = _Entry(int(mode, 8), kind, sha_hex)
            if kind == "blob":
                self._files.append(path)
            elif kind == "tree":
                parent, _, name = path.rpartition("/")
                self._folders.setdefault(parent, []).append(name)
        self._files.sort()
        return True

    def describe(self) -> str:
        return f"commit {self.commit.hexsha[:7]} ({self.label})"

    def _key(self, path: PurePosixPath) -> str | None:
        """`path` as a key of the entries ("" for the root), None for a path that cannot be
        one ("a/../b": not a name of the tree, as GitPython finds none)."""
        text = str(path)
        if text == ".":
            return ""
        return None if ".." in path.parts or "." in path.parts else text

    def _node(self, path: PurePosixPath) -> _Entry | None:
        key = self._key(path)
        if key is None:
            return None
        if key == "":
            return _Entry(0o040000, "tree", "") if self._root_exists else None
        return self._entries.get(key)

    def _folder(self, path: PurePosixPath) -> tuple[_Entry | None, PurePosixPath]:
        """The node at `path`, a linked folder followed, and the path it was found at."""
        node = self._node(path)
        if node is None or (node.kind == "blob" and node.mode == SYMLINK_MODE):
            resolved = self.resolve(path)
            return self._node(resolved), resolved
        return node, path

    def is_dir(self, path: PurePosixPath) -> bool:
        node, _ = self._folder(path)
        return node is not None and node.kind == "tree"

    def list_dirs(self, path: PurePosixPath) -> list[PurePosixPath]:
        node, found_at = self._folder(path)
        if node is None or node.kind != "tree":
            return []
        return sorted(path / name for name in self._folders.get(self._key(found_at) or "", []))

    def _under(self, folder: PurePosixPath) -> list[str]:
        """The blobs' paths under `folder`, relative to it."""
        if self._key(folder) == "":
            return self._files
        start = f"{folder}/"
        first = bisect.bisect_left(self._files, start)
        last = bisect.bisect_left(self._files, f"{folder}0")  # "0" follows "/"
        return [key[len(start):] for key in self._files[first:last]]

    def walk_files(self, path: PurePosixPath) -> list[PurePosixPath]:
        node, found_at = self._folder(path)
        if node is None or node.kind != "tree":
            return []
        found = []
        for key in self._under(found_at):
            relative = PurePosixPath(key)
            if any(part.startswith(".") for part in relative.parts):
                continue
            entry = self._entries[str(found_at / relative)]
            if entry.mode == SYMLINK_MODE and not self._links_to_file(path / relative):
                continue
            found.append(path / relative)
        return sorted(found)

    def _links_to_file(self, path: PurePosixPath) -> bool:
        try:
            node = self._node(self.resolve(path))
        except LoadError as error:
            return isinstance(error, LinkOutsideError)
        return node is not None and node.kind == "blob"

    def _link(self, path: PurePosixPath) -> str | None:
        node = self._node(path)
        if node is not None and node.kind == "blob" and node.mode == SYMLINK_MODE:
            return self._blobs.read(node.sha).decode("utf-8", errors="surrogateescape")
        return None

    def resolve(self, path: PurePosixPath) -> PurePosixPath:
        return follow_links(path, self._link)

    def check_links(self, path: PurePosixPath) -> None:
        node, found_at = self._folder(path)
        if node is None or node.kind != "tree":
            return
        for key in self._under(found_at):
            if self._entries[str(found_at / key)].mode == SYMLINK_MODE:
                self.resolve(path / key)

    def read(self, path: PurePosixPath) -> bytes:
        node = self._node(path)
        if node is None or node.kind != "blob" or node.mode == SYMLINK_MODE:
            node = self._node(self.resolve(path))
        if node is None or node.kind != "blob":
            raise FileNotFoundError(f"{path} is not a file at {self.describe()}")
        return self._blobs.read(node.sha)

    def own_disk(self) -> Snapshot:
        """The same snapshot, except that each engine run gets the files written anew, for
        itself alone (removed after it): for an engine that writes into them (kustomize
        inflating Helm charts into a kustomization's chart folder), which two runs must not
        do in one folder at once. Close the snapshot, not this."""
        view = copy.copy(self)
        view._shared_disk = False
        return view

    @contextlib.contextmanager
    def on_disk(self) -> Iterator[Path]:
        """The files on disk, written by the first caller (as GitTree.on_disk writes them) and
        kept for the others until `close`."""
        if not self._shared_disk:
            with GitTree(self.commit, self.prefix, self.label).on_disk() as root:
                yield root
            return
        with self._disk_lock:
            if self._disk is None:
                self._disk = self._stack.enter_context(
                    GitTree(self.commit, self.prefix, self.label).on_disk())
        yield self._disk

    def close(self) -> None:
        """Remove the files written to disk."""
        self._stack.close()
