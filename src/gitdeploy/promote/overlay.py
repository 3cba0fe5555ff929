"""A source tree with a promotion's edits laid over it: the target environment as it will be,
rendered before anything is written."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gitdeploy.config.sources import SourceTree
from gitdeploy.release_results import FileEdit


@dataclass(frozen=True)
class OverlayTree:
    base: SourceTree
    edits: dict[PurePosixPath, bytes]

    @classmethod
    def of(cls, base: SourceTree, edits: list[FileEdit]) -> OverlayTree:
        return cls(base, {PurePosixPath(edit.path): edit.after for edit in edits})

    def describe(self) -> str:
        return f"{self.base.describe()} with the promotion's edits"

    def is_dir(self, path: PurePosixPath) -> bool:
        return self.base.is_dir(path) or any(path in p.parents for p in self.edits)

    def list_dirs(self, path: PurePosixPath) -> list[PurePosixPath]:
        found = set(self.base.list_dirs(path)) if self.base.is_dir(path) else set()
        for edited in self.edits:
            if path in edited.parents and edited.parent != path:
                found.add(path / edited.relative_to(path).parts[0])
        return sorted(found)

    def walk_files(self, path: PurePosixPath) -> list[PurePosixPath]:
        found = set(self.base.walk_files(path)) if self.base.is_dir(path) else set()
        found.update(p for p in self.edits if path in p.parents)
        return sorted(found)

    def read(self, path: PurePosixPath) -> bytes:
        if path in self.edits:
            return self.edits[path]
        return self.base.read(path)

    def resolve(self, path: PurePosixPath) -> PurePosixPath:
        return path if path in self.edits else self.base.resolve(path)

    def check_links(self, path: PurePosixPath) -> None:
        if self.base.is_dir(path):
            self.base.check_links(path)

    def on_disk(self) -> AbstractContextManager[Path]:
        return self._on_disk()

    @contextmanager
    def _on_disk(self) -> Iterator[Path]:
        with self.base.on_disk() as root, tempfile.TemporaryDirectory(
                prefix="gitdeploy-promote-") as folder:
            copy = Path(folder) / "repo"
            shutil.copytree(root, copy, symlinks=True, ignore=shutil.ignore_patterns(".git"))
            for path, data in self.edits.items():
                (copy / path).parent.mkdir(parents=True, exist_ok=True)
                (copy / path).write_bytes(data)
            yield copy

