"""Writing to git (through GitPython, beside the read side in gitrepo.py): files as one commit on
a new branch, made from git objects with a private index, so that neither the work tree nor
the index nor the current branch changes (`promote --commit`, `--branch`)."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable
from pathlib import PurePosixPath

import git
from git.index.typ import BaseIndexEntry
from gitdb import IStream  # type: ignore[import-untyped]  # GitPython's object store

from gitdeploy.config.gitrepo import GitRepo
from gitdeploy.errors import SettingsError

FILE_MODE = 0o100644


def check_branch_name(repo: GitRepo, name: str) -> None:
    """Refuse a name git would refuse, or a branch that exists."""
    try:
        repo.repo.git.check_ref_format("--branch", name)
    except git.GitCommandError:
        raise SettingsError(f"--branch {name}: not a valid branch name") from None
    if name in repo.repo.heads:
        raise SettingsError(f"--branch {name}: the branch exists",
                            ["pick another name, or delete the branch first"])


def commit_on_new_branch(repo: GitRepo, parent: git.Commit, branch: str,
                         files: Iterable[tuple[PurePosixPath, bytes]], message: str
                         ) -> git.Commit:
    """A commit of `parent`'s tree with `files` (paths relative to the config root) written,
    on the new branch `branch`. Author and committer come from git's configuration."""
    check_branch_name(repo, branch)
    handle, index_path = tempfile.mkstemp(prefix="gitdeploy-index-")
    os.close(handle)
    try:
        index = git.IndexFile.from_tree(repo.repo, parent)
        index_file = git.IndexFile(repo.repo, index_path)
        index_file.entries = index.entries
        entries = []
        for path, data in files:
            stream = repo.repo.odb.store(IStream(git.Blob.type, len(data), io.BytesIO(data)))
            full = str(repo.prefix / path) if str(repo.prefix) != "." else str(path)
            mode = FILE_MODE
            existing = index_file.entries.get((full, 0))
            if existing is not None:
                mode = existing.mode
            entries.append(BaseIndexEntry((mode, stream.binsha, 0, full)))
        index_file.add(entries, write=False)
        tree = index_file.write_tree()
        commit = git.Commit.create_from_tree(repo.repo, tree, message,
                                             parent_commits=[parent], head=False)
        repo.repo.create_head(branch, commit)
        return commit
    finally:
        os.unlink(index_path)
