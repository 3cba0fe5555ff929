"""Where configuration files are read from.

The pipeline reads files only through a `SourceTree`, so that the work tree and (later) a git
ref are interchangeable. Paths are POSIX paths relative to the repository root.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol


class SourceTree(Protocol):
    """Read-only view of a config repository."""

    def describe(self) -> str: ...

    def is_dir(self, path: PurePosixPath) -> bool: ...

    def list_dirs(self, path: PurePosixPath) -> list[PurePosixPath]: ...

    def walk_files(self, path: PurePosixPath) -> list[PurePosixPath]: ...

    def read(self, path: PurePosixPath) -> bytes: ...

    def on_disk(self) -> AbstractContextManager[Path]:
        """The files as a folder on disk, for engines that read files themselves (kustomize,
        Helm): the folder that holds the repository root's files."""
        ...


@dataclass(frozen=True)
class WorkTree:
    """The files on disk under `root`."""

    root: Path

    def describe(self) -> str:
        return "work tree"

    def is_dir(self, path: PurePosixPath) -> bool:
        return (self.root / path).is_dir()

    def list_dirs(self, path: PurePosixPath) -> list[PurePosixPath]:
        base = self.root / path
        return sorted(path / p.name for p in base.iterdir() if p.is_dir())

    def walk_files(self, path: PurePosixPath) -> list[PurePosixPath]:
        base = self.root / path
        found = [
            PurePosixPath(p.relative_to(self.root).as_posix())
            for p in base.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(base).parts)
        ]
        return sorted(found)

    def read(self, path: PurePosixPath) -> bytes:
        return (self.root / path).read_bytes()

    @contextmanager
    def on_disk(self) -> Iterator[Path]:
        yield self.root


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
