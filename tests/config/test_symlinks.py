"""Symbolic links: followed inside the repository, refused when they lead outside it (or are
absolute), in the work tree and at a ref alike, for plain YAML, kustomize and Helm."""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from gitdeploy.config.gitrepo import GitRepo
from gitdeploy.config.sources import LinkOutsideError, SourceTree, WorkTree, follow_links
from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import TestApiServer

REFS = [pytest.param((), id="work-tree"), pytest.param(("--ref", "HEAD"), id="ref")]
FIX = "copy the file into the repository instead of linking to it"


def link(repo: ConfigRepo, relative: str, target: str | Path) -> None:
    path = repo.root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)


@pytest.fixture
def outside(repo: ConfigRepo) -> Path:
    """A file beside the repository, never committed: what a link out of it would deploy."""
    path = repo.root.parent / "outside" / "cm.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(objects.configmap("from-outside", {"secret": "s3cr3t"})))
    return path


def names(cli, *args: str) -> list[str]:
    result = cli("render", "dev", "-o", "json", *args)
    assert result.exit_code == 0, result.output
    found: list[dict[str, Any]] = json.loads(result.stdout)["objects"]
    return sorted(o["object"]["metadata"]["name"] for o in found)


@pytest.mark.parametrize("ref", REFS)
def test_a_link_to_a_file_outside_the_repository_is_refused(
        environment: MakeEnvironment, outside: Path, cli, ref: tuple[str, ...]) -> None:
    repo = environment([objects.configmap("in-git", {})], namespace="shop")
    link(repo, "environments/dev/cm.yaml", "../../../outside/cm.yaml")
    repo.commit("link out")
    result = cli("render", "dev", *ref)
    assert result.exit_code == 1, result.output
    assert ("environments/dev/cm.yaml is a symbolic link to ../../../outside/cm.yaml, outside "
            "the repository") in result.stderr
    assert FIX in result.stderr
    assert "s3cr3t" not in result.output


@pytest.mark.parametrize("ref", REFS)
def test_an_absolute_link_is_refused_even_to_a_file_of_the_repository(
        environment: MakeEnvironment, cli, ref: tuple[str, ...]) -> None:
    repo = environment([objects.configmap("in-git", {})], namespace="shop")
    target = repo.root / "shared" / "cm.yaml"
    repo.write("shared/cm.yaml", objects.configmap("shared", {}))
    link(repo, "environments/dev/cm.yaml", target)
    repo.commit("absolute link")
    result = cli("render", "dev", *ref)
    assert result.exit_code == 1, result.output
    assert f"environments/dev/cm.yaml is a symbolic link to {target}, outside" in result.stderr


def test_nothing_is_deployed_or_recorded_through_a_link_out(
        environment: MakeEnvironment, outside: Path, api_server: TestApiServer, cli) -> None:
    repo = environment([objects.namespace("shop"), objects.configmap("in-git", {})],
                       namespace="shop")
    link(repo, "environments/dev/cm.yaml", "../../../outside/cm.yaml")
    repo.commit("link out")
    for args in (["apply", "dev", "--yes"], ["diff", "dev"], ["validate", "dev"],
                 ["apply", "dev", "--yes", "--ref", "HEAD"]):
        result = cli(*args)
        assert result.exit_code == 1, (args, result.output)
        assert "outside the repository" in result.output
    assert api_server.writes(state=True) == []


@pytest.mark.parametrize("ref", REFS)
def test_links_inside_the_repository_keep_working(
        environment: MakeEnvironment, cli, ref: tuple[str, ...]) -> None:
    repo = environment([objects.configmap("in-git", {})], namespace="shop")
    repo.write("shared/cm.yaml", objects.configmap("shared", {}))
    repo.write("shared/more/other.yaml", objects.configmap("other", {}))
    link(repo, "environments/dev/shared.yaml", "../../shared/cm.yaml")
    link(repo, "shared/via.yaml", "more/other.yaml")
    link(repo, "environments/dev/chain.yaml", "../../shared/via.yaml")  # a link to a link
    link(repo, "environments/dev/folder", "../../shared/more")  # folders are not entered
    link(repo, "environments/dev/nowhere.yaml", "missing.yaml")  # nor links to nothing
    repo.commit("links inside")
    assert names(cli, *ref) == ["in-git", "other", "shared"]


@pytest.mark.parametrize("ref", REFS)
def test_an_excluded_link_out_is_not_read(environment: MakeEnvironment, outside: Path, cli,
                                         ref: tuple[str, ...]) -> None:
    repo = environment([objects.configmap("in-git", {})], namespace="shop",
                       exclude=["local/"])
    link(repo, "environments/dev/local/cm.yaml", "../../../../outside/cm.yaml")
    repo.commit("excluded")
    assert names(cli, *ref) == ["in-git"]


@pytest.mark.parametrize("ref", REFS)
def test_a_linked_folder_is_not_entered(environment: MakeEnvironment, outside: Path, cli,
                                        ref: tuple[str, ...]) -> None:
    repo = environment([objects.configmap("in-git", {})], namespace="shop")
    link(repo, "environments/dev/external", "../../../outside")
    link(repo, "environments/dev/external.yaml", "../../../outside")
    repo.commit("linked folder")
    result = cli("render", "dev", *ref)
    assert result.exit_code == 1, result.output
    assert "environments/dev/external.yaml is a symbolic link to ../../../outside" in result.stderr
    assert "environments/dev/external is" not in result.stderr
    (repo.root / "environments/dev/external.yaml").unlink()
    repo.commit("only the folder")
    assert names(cli, *ref) == ["in-git"]


@pytest.mark.parametrize("ref", REFS)
def test_a_link_loop_is_an_error_not_a_crash(environment: MakeEnvironment, cli,
                                             ref: tuple[str, ...]) -> None:
    repo = environment([objects.configmap("in-git", {})], namespace="shop")
    link(repo, "environments/dev/a.yaml", "b.yaml")
    link(repo, "environments/dev/b.yaml", "a.yaml")
    repo.commit("loop")
    assert names(cli, *ref) == ["in-git"]  # never a crash: a loop leads to no file


@pytest.mark.parametrize("ref", REFS)
def test_kustomize_is_not_run_on_a_link_out(environment: MakeEnvironment, outside: Path, cli,
                                            ref: tuple[str, ...]) -> None:
    repo = environment(namespace="shop")
    repo.write("environments/dev/kustomization.yaml", "resources: [cm.yaml, local.yaml]\n")
    repo.write("environments/dev/local.yaml", objects.configmap("local", {}))
    link(repo, "environments/dev/cm.yaml", "../../../outside/cm.yaml")
    repo.commit("kustomize link out")
    result = cli("render", "dev", *ref)
    assert result.exit_code == 1, result.output
    assert ("environments/dev/cm.yaml is a symbolic link to ../../../outside/cm.yaml, outside "
            "the repository") in result.stderr
    assert FIX in result.stderr
    assert "s3cr3t" not in result.output


@pytest.mark.parametrize("ref", REFS)
def test_kustomize_follows_links_inside_the_repository(environment: MakeEnvironment, cli,
                                                       ref: tuple[str, ...]) -> None:
    repo = environment(namespace="shop")
    repo.write("environments/dev/kustomization.yaml", "resources: [cm.yaml, local.yaml]\n")
    repo.write("environments/dev/generated/cm.yaml", objects.configmap("generated", {}))
    repo.write("environments/dev/local-file.yml", objects.configmap("local", {}))
    link(repo, "environments/dev/cm.yaml", "generated/cm.yaml")
    link(repo, "environments/dev/local.yaml", "local-file.yml")
    repo.commit("kustomize links inside its folder")
    assert names(cli, *ref) == ["generated", "local"]
    # beyond its folder, kustomize's own load restrictor decides (rootOnly: refused)
    repo.write("shared/cm.yaml", objects.configmap("shared", {}))
    (repo.root / "environments/dev/cm.yaml").unlink()
    link(repo, "environments/dev/cm.yaml", "../../shared/cm.yaml")
    repo.settings("dev", context="kind-dev", namespace="shop",
                  kustomize={"loadRestrictor": "none"})
    repo.commit("kustomize link to the repository's shared folder")
    assert names(cli, *ref) == ["local", "shared"]


@pytest.mark.parametrize("ref", REFS)
def test_kustomize_is_not_run_on_a_linked_folder_out(
        environment: MakeEnvironment, outside: Path, cli, ref: tuple[str, ...]) -> None:
    repo = environment(namespace="shop")
    (outside.parent / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    repo.write("environments/dev/kustomization.yaml", "resources: [external]\n")
    link(repo, "environments/dev/external", "../../../outside")
    repo.commit("kustomize linked folder out")
    result = cli("render", "dev", *ref)
    assert result.exit_code == 1, result.output
    assert "environments/dev/external is a symbolic link to ../../../outside" in result.stderr
    assert "s3cr3t" not in result.output


@pytest.mark.parametrize("ref", REFS)
def test_a_local_chart_with_a_link_out_is_not_rendered(
        repo: ConfigRepo, outside: Path, cli, ref: tuple[str, ...]) -> None:
    repo.write("charts/small/Chart.yaml", "apiVersion: v2\nname: small\nversion: 0.1.0\n")
    repo.write("charts/small/templates/cm.yaml",
               "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: small}\n")
    link(repo, "charts/small/templates/secret.yaml", "../../../../outside/cm.yaml")
    repo.settings("dev", context="kind-dev", namespace="shop",
                  charts=[{"release": "s", "chart": "../../charts/small"}])
    repo.commit("chart link out")
    result = cli("render", "dev", *ref)
    assert result.exit_code == 1, result.output
    assert ("charts/small/templates/secret.yaml is a symbolic link to "
            "../../../../outside/cm.yaml, outside the repository") in result.stderr
    assert "s3cr3t" not in result.output


def test_the_settings_file_linked_out_is_refused(repo: ConfigRepo, outside: Path, cli) -> None:
    (outside.parent / "gitdeploy.yaml").write_text("context: kind-dev\n")
    link(repo, "environments/dev/gitdeploy.yaml", "../../../outside/gitdeploy.yaml")
    repo.commit("settings out")
    for args in (("render", "dev"), ("render", "dev", "--ref", "HEAD")):
        result = cli(*args)
        assert result.exit_code == 1, result.output
        assert "environments/dev/gitdeploy.yaml is a symbolic link" in result.stderr


def test_the_work_tree_and_the_ref_resolve_alike(repo: ConfigRepo, outside: Path) -> None:
    repo.write("a/b/file.yaml", "x: 1\n")
    link(repo, "a/up.yaml", "b/../b/file.yaml")
    link(repo, "a/folder", "b")
    link(repo, "a/out.yaml", "../../outside/cm.yaml")
    link(repo, "a/deep/escape.yaml", "../folder/../../../x")
    repo.commit("links")
    with GitRepo.open(repo.root) as git_repo:
        assert git_repo is not None
        head = git_repo.head()
        assert head is not None
        trees: list[SourceTree] = [WorkTree(repo.root), git_repo.tree(head, "HEAD")]
        for tree in trees:
            assert tree.read(PurePosixPath("a/up.yaml")) == b"x: 1\n"
            assert tree.read(PurePosixPath("a/folder/file.yaml")) == b"x: 1\n"
            assert tree.resolve(PurePosixPath("a/folder/file.yaml")) == PurePosixPath(
                "a/b/file.yaml")
            with pytest.raises(LinkOutsideError) as caught:
                tree.read(PurePosixPath("a/out.yaml"))
            assert (caught.value.link, caught.value.target) == (
                PurePosixPath("a/out.yaml"), "../../outside/cm.yaml")
            with pytest.raises(LinkOutsideError) as caught:
                tree.resolve(PurePosixPath("a/deep/escape.yaml"))
            assert caught.value.link == PurePosixPath("a/deep/escape.yaml")
        assert [sorted(map(str, tree.walk_files(PurePosixPath("a")))) for tree in trees] == [
            ["a/b/file.yaml", "a/deep/escape.yaml", "a/out.yaml", "a/up.yaml"]] * 2


def test_the_link_that_leaves_is_named_not_the_one_it_passes_through() -> None:
    links = {"a/in": "../b", "b": "c/../../..", "c": None}

    def read_link(path: PurePosixPath) -> str | None:
        return links.get(str(path))

    with pytest.raises(LinkOutsideError) as caught:
        follow_links(PurePosixPath("a/in/x.yaml"), read_link)
    assert (caught.value.link, caught.value.target) == (PurePosixPath("b"), "c/../../..")
    assert "(reading a/in/x.yaml)" in caught.value.message


def test_links_are_read_with_the_os_not_by_name(repo: ConfigRepo) -> None:
    # a file whose content looks like a link target is a file
    repo.write("a/file.yaml", "../../etc/passwd")
    assert WorkTree(repo.root).read(PurePosixPath("a/file.yaml")) == b"../../etc/passwd"
    assert os.path.islink(repo.root / "a/file.yaml") is False
