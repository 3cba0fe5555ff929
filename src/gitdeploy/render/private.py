"""A private copy of the files an engine reads, for kustomize to build from when some of them
are SOPS-encrypted: the encrypted files decrypted (or, without keys, their metadata left out),
the others as they are, in a temporary folder only the current user can open (mode 0700, in
memory where the system offers /dev/shm), removed as soon as the build is over. The work tree
is never written to."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from gitdeploy.config.sources import SourceTree
from gitdeploy.render.sops import Opener, sops_format

_MEMORY = Path("/dev/shm")


def encrypted_inputs(tree: SourceTree, files: Iterable[PurePosixPath]) -> list[PurePosixPath]:
    """Which of `files` are SOPS-encrypted (files that cannot be read are left to the
    engine to report)."""
    found = []
    for path in files:
        try:
            text = tree.read(path)
        except (OSError, KeyError):
            continue
        if sops_format(path, text) is not None:
            found.append(path)
    return found


@contextmanager
def private_copy(tree: SourceTree, files: Iterable[PurePosixPath], opener: Opener
                 ) -> Iterator[Path]:
    """A temporary folder holding `files` (paths relative to the repository root) at the same
    paths, encrypted ones opened by `opener`; removed on leaving, whatever happened."""
    base = _MEMORY if _MEMORY.is_dir() and os.access(_MEMORY, os.W_OK | os.X_OK) else None
    folder = Path(tempfile.mkdtemp(prefix="gitdeploy-decrypted-", dir=base))  # mode 0700
    try:
        os.chmod(folder, 0o700)
        for path in files:
            try:
                text = tree.read(path)
            except (OSError, KeyError):
                continue  # not a file of the tree: the engine says so
            target = folder / path
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(opener.open(path, text).text)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
