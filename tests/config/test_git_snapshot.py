"""A commit's snapshot (what `--changed` renders from, shared by its threads) reads the files
exactly as the commit's tree does: the same files, folders, links followed or refused, errors;
and its files are written to disk once for all the engines that run meanwhile."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path, PurePosixPath

import pytest

from gitdeploy.config.gitrepo import BlobReader, GitRepo, GitTree, Snapshot
from tests.conftest import git

PATHS = [".", "env", "env/app.yaml", "env/.hidden.yaml", "env/.git-like/x.yaml", "env/sub",
         "env/sub/deep.yaml", "env/script.sh", "env/up.yaml", "env/linked", "env/linked/deep.yaml",
         "env/out.yaml", "env/absolute.yaml", "env/loop.yaml", "env/dangling.yaml", "missing",
         "env/missing.yaml", "env/app.yaml/under-a-file", "env/../env/app.yaml", "base",
         "base/kustomization.yaml", "empty-name"]


def _outcome(call: Callable[[], object]) -> object:
    try:
        return call()
    except Exception as error:  # the same error, with the same words, is the same outcome
        return (type(error).__name__, str(error))


def _build(root: Path) -> None:
    """Files, hidden ones, an executable, and links: to a file, to a folder, out of the
    repository, absolute, in a loop, to nothing."""
    files = {"env/app.yaml": "a: 1\n", "env/.hidden.yaml": "h: 1\n",
             "env/.git-like/x.yaml": "x: 1\n", "env/sub/deep.yaml": "d: 1\n",
             "env/script.sh": "#!/bin/sh\n", "base/kustomization.yaml": "resources: []\n",
             "README.md": "# docs\n"}
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    (root / "env/script.sh").chmod(0o755)
    links = {"env/up.yaml": "sub/../app.yaml", "env/linked": "sub",
             "env/out.yaml": "../../outside.yaml", "env/absolute.yaml": "/etc/hostname",
             "env/loop.yaml": "loop.yaml", "env/dangling.yaml": "nothing.yaml"}
    for relative, target in links.items():
        os.symlink(target, root / relative)


@pytest.fixture(params=[".", "config"], ids=["at-the-root", "in-a-subfolder"])
def opened(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[GitRepo]:
    top = tmp_path / "repo"
    config = top / request.param
    config.mkdir(parents=True)
    _build(config)
    git(top, "init", "-q", "-b", "main")
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "files and links")
    with GitRepo.open(config) as git_repo:
        assert git_repo is not None
        yield git_repo


def test_a_snapshot_reads_as_the_commit_tree(opened: GitRepo) -> None:
    head = opened.resolve("HEAD")
    tree = opened.tree(head, "HEAD")
    with closing(Snapshot(opened, head, "HEAD", BlobReader(opened.repo))) as snapshot:
        assert snapshot.describe() == tree.describe()
        for text in PATHS:
            path = PurePosixPath(text)
            for method in ("is_dir", "list_dirs", "walk_files", "read", "resolve",
                           "check_links"):
                expected = _outcome(lambda: getattr(tree, method)(path))  # noqa: B023
                found = _outcome(lambda: getattr(snapshot, method)(path))  # noqa: B023
                assert found == expected, f"{method}({text})"


def test_a_commit_without_the_config_folder_has_no_files(opened: GitRepo) -> None:
    first = opened.resolve("HEAD")
    git(Path(opened.repo.working_tree_dir or "."), "rm", "-rq", ".")
    git(Path(opened.repo.working_tree_dir or "."), "commit", "-q", "--allow-empty", "-m",
        "nothing")
    empty = opened.resolve("HEAD")
    blobs = BlobReader(opened.repo)
    with closing(Snapshot(opened, empty, "HEAD", blobs)) as snapshot, \
            closing(Snapshot(opened, first, "HEAD~1", blobs)) as before:
        tree = opened.tree(empty, "HEAD")
        for text in (".", "env", "env/app.yaml"):
            path = PurePosixPath(text)
            assert _outcome(lambda: snapshot.walk_files(path)) == _outcome(  # noqa: B023
                lambda: tree.walk_files(path))  # noqa: B023
            assert snapshot.is_dir(path) == tree.is_dir(path)
        # the other commit's snapshot, sharing the blob reader, still has its files
        assert before.read(PurePosixPath("env/app.yaml")) == b"a: 1\n"


def test_the_files_are_written_once_for_every_thread(opened: GitRepo) -> None:
    head = opened.resolve("HEAD")
    snapshot = Snapshot(opened, head, "HEAD", BlobReader(opened.repo))
    folders: list[Path] = []
    contents: list[bytes] = []
    lock = threading.Lock()

    def engine() -> None:
        with snapshot.on_disk() as root, lock:
            folders.append(root)
            contents.append((root / "env/sub/deep.yaml").read_bytes())

    threads = [threading.Thread(target=engine) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(folders)) == 1 and contents == [b"d: 1\n"] * 6
    [root] = set(folders)
    # as GitTree writes them: the link inside kept, the ones leading out left out
    with GitTree(head, opened.prefix, "HEAD").on_disk() as expected:
        assert sorted(p.relative_to(root) for p in root.rglob("*")) == sorted(
            p.relative_to(expected) for p in expected.rglob("*"))
    assert (root / "env/up.yaml").read_bytes() == b"a: 1\n"
    assert os.access(root / "env/script.sh", os.X_OK)
    snapshot.close()
    assert not root.exists()


def test_an_engine_that_writes_into_the_files_gets_its_own(opened: GitRepo) -> None:
    """kustomize inflating Helm charts writes them into the kustomization's folder: each of
    its runs gets the files to itself, removed after it, and the shared folder stays as it
    was."""
    head = opened.resolve("HEAD")
    with closing(Snapshot(opened, head, "HEAD", BlobReader(opened.repo))) as snapshot:
        own = snapshot.own_disk()
        assert own.read(PurePosixPath("env/app.yaml")) == b"a: 1\n"
        with snapshot.on_disk() as shared, own.on_disk() as first, own.on_disk() as second:
            assert len({shared, first, second}) == 3
            (first / "base/charts").mkdir()
            assert not (second / "base/charts").exists()
            assert not (shared / "base/charts").exists()
            assert (second / "env/sub/deep.yaml").read_bytes() == b"d: 1\n"
        assert not first.exists() and not second.exists() and shared.exists()
