"""What the git repository says about the files being deployed (through GitPython)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import git


@dataclass(frozen=True)
class SourceInfo:
    commit: str | None  # full SHA of HEAD, None outside a git repository
    dirty: bool  # the environment's files differ from HEAD (or are untracked)
    branch: str | None = None

    @property
    def short(self) -> str:
        return self.commit[:7] if self.commit else "no commit"

    def describe(self) -> str:
        return self.short + (" (dirty)" if self.dirty else "")


def source_info(repo_root: Path, env_path: str) -> SourceInfo:
    try:
        repo = git.Repo(repo_root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return SourceInfo(commit=None, dirty=True)
    with repo:
        try:
            commit = repo.head.commit.hexsha
        except ValueError:  # no commit yet
            return SourceInfo(commit=None, dirty=True)
        work_tree = Path(repo.working_tree_dir or repo_root)
        relative = (repo_root / env_path).resolve().relative_to(work_tree.resolve()).as_posix()
        dirty = repo.is_dirty(index=True, working_tree=True, untracked_files=True, path=relative)
        branch = None if repo.head.is_detached else repo.active_branch.name
    return SourceInfo(commit=commit, dirty=dirty, branch=branch)
