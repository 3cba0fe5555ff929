"""Where configuration files are read from.

The pipeline reads files only through a `SourceTree`, so that the work tree and (later) a git
ref are interchangeable. Paths are POSIX paths relative to the repository root.

Symbolic links are followed as long as they stay inside the repository: a link to a file
outside it (or to an absolute path) would deploy what no commit holds, so reading through one
raises `LinkOutsideError`, in the work tree and at a ref alike.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from gitdeploy.errors import GitdeployError, LoadError

MAX_LINKS = 40  # symbolic links followed for one path, as Linux does
WORK_TREE = "work tree"


@contextmanager
def reading(tree: SourceTree) -> Iterator[None]:
    """Errors raised while reading files of a commit (--ref, --base, the live commit) say
    which commit: `<message>, at commit 3f2a1b0 (HEAD~1)`. The work tree needs no saying."""
    try:
        yield
    except GitdeployError as error:
        where = tree.describe()
        if where != WORK_TREE and not error.where:
            error.message = f"{error.message}, at {where}"
            error.args = (error.message,)
            error.where = where
        raise


class SourceTree(Protocol):
    """Read-only view of a config repository."""

    def describe(self) -> str: ...

    def is_dir(self, path: PurePosixPath) -> bool: ...

    def list_dirs(self, path: PurePosixPath) -> list[PurePosixPath]: ...

    def walk_files(self, path: PurePosixPath) -> list[PurePosixPath]: ...

    def read(self, path: PurePosixPath) -> bytes:
        """The file's bytes, through symbolic links inside the repository (LinkOutsideError
        for one that leaves it; FileNotFoundError, or another OSError, when there is no such
        file)."""
        ...

    def resolve(self, path: PurePosixPath) -> PurePosixPath:
        """`path` with the symbolic links along it followed; LinkOutsideError when one leads
        outside the repository."""
        ...

    def check_links(self, path: PurePosixPath) -> None:
        """LinkOutsideError when a symbolic link under the folder `path` (to a file or a
        folder), or along `path` itself, leads outside the repository: for engines that read
        the files on disk themselves."""
        ...

    def on_disk(self) -> AbstractContextManager[Path]:
        """The files as a folder on disk, for engines that read files themselves (kustomize,
        Helm): the folder that holds the repository root's files."""
        ...


@dataclass(frozen=True)
class WorkTree:
    """The files on disk under `root`."""

    root: Path

    def describe(self) -> str:
        return WORK_TREE

    def is_dir(self, path: PurePosixPath) -> bool:
        return (self.root / path).is_dir()

    def list_dirs(self, path: PurePosixPath) -> list[PurePosixPath]:
        base = self.root / path
        return sorted(path / p.name for p in base.iterdir() if p.is_dir())

    def walk_files(self, path: PurePosixPath) -> list[PurePosixPath]:
        """The files under `path`, hidden ones left out. A symbolic link to a file counts, and
        so does one leading outside the repository, whatever it points to on this machine
        (reading it is refused); links to folders are not entered."""
        base = self.root / path
        found = []
        for p in base.rglob("*"):
            if any(part.startswith(".") for part in p.relative_to(base).parts):
                continue
            relative = PurePosixPath(p.relative_to(self.root).as_posix())
            if self._links_to_file(relative) if p.is_symlink() else p.is_file():
                found.append(relative)
        return sorted(found)

    def _links_to_file(self, path: PurePosixPath) -> bool:
        try:
            return (self.root / self.resolve(path)).is_file()
        except LinkOutsideError:
            return True
        except LoadError:  # a loop
            return False

    def _link(self, path: PurePosixPath) -> str | None:
        full = self.root / path
        return os.readlink(full) if full.is_symlink() else None

    def resolve(self, path: PurePosixPath) -> PurePosixPath:
        return follow_links(path, self._link)

    def read(self, path: PurePosixPath) -> bytes:
        return (self.root / self.resolve(path)).read_bytes()

    def check_links(self, path: PurePosixPath) -> None:
        folder = self.resolve(path)
        for current, dirs, files in os.walk(self.root / folder):  # links to folders not entered
            base = PurePosixPath(Path(current).relative_to(self.root).as_posix())
            for name in [*dirs, *files]:
                if (Path(current) / name).is_symlink():
                    follow_links(base / name, self._link)

    @contextmanager
    def on_disk(self) -> Iterator[Path]:
        yield self.root


class LinkOutsideError(LoadError):
    """A symbolic link of the repository leads outside it (or is an absolute path)."""

    def __init__(self, link: PurePosixPath, target: str, path: PurePosixPath) -> None:
        via = f" (reading {path})" if path != link else ""
        super().__init__(
            f"{link} is a symbolic link to {target}, outside the repository{via}",
            ["copy the file into the repository instead of linking to it, or point the link at "
             "a file inside the repository (relative to the link): gitdeploy deploys only what "
             "the repository's commits hold"])
        self.link, self.target = link, target


_Link = tuple[PurePosixPath, str] | None  # the link (and its target) a part of a path came from


def follow_links(path: PurePosixPath, read_link: Callable[[PurePosixPath], str | None]
                 ) -> PurePosixPath:
    """`path` (relative to the repository root) with every symbolic link along it followed:
    `read_link` gives a path's link target, or None when it is not a link. A link may lead
    anywhere inside the repository, through other links; an absolute target, or one that goes
    above the repository root, raises LinkOutsideError naming the link."""
    def parts(text: PurePosixPath, link: _Link) -> list[tuple[str, _Link]]:
        return [(part, link) for part in reversed(text.parts) if part != "."]

    pending = parts(path, None)  # a stack: the next part last
    resolved = PurePosixPath()
    followed = 0
    while pending:
        part, link = pending.pop()
        if part == "..":
            if not resolved.parts:
                raise LinkOutsideError(*(link or (path, str(path))), path)
            resolved = resolved.parent
            continue
        candidate = resolved / part
        target = read_link(candidate)
        if target is None:
            resolved = candidate
            continue
        if PurePosixPath(target).is_absolute():
            raise LinkOutsideError(candidate, target, path)
        followed += 1
        if followed > MAX_LINKS:
            raise LoadError(f"{path}: too many levels of symbolic links",
                            ["a link leads back to itself: correct or remove it"])
        pending.extend(parts(PurePosixPath(target), (candidate, target)))
    return resolved


def normalise(path: PurePosixPath) -> PurePosixPath:
    """`a/./b/../c` -> `a/c`; a `..` above the top is dropped."""
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return PurePosixPath(*parts)
