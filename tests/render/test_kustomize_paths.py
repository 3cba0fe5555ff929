"""What a kustomization may read: never a file outside the repository, whatever its
`loadRestrictor`; and YAML aliases in the files it reads stay bounded when gitdeploy reads them
itself (for the masking of kustomize's errors)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import pytest

from gitdeploy.config.environments import load_environment
from gitdeploy.config.sources import WorkTree
from gitdeploy.errors import LoadError
from gitdeploy.render import kustomize
from gitdeploy.render.environment import render_environment
from tests.conftest import ConfigRepo

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n"
    for i in range(8))


def kustomization(repo: ConfigRepo, content: dict[str, Any], restrictor: str = "none") -> None:
    repo.settings("dev", context="kind-dev", kustomize={"loadRestrictor": restrictor})
    repo.write("environments/dev/kustomization.yaml", content)
    repo.write("environments/dev/cm.yaml", {"apiVersion": "v1", "kind": "ConfigMap",
                                            "metadata": {"name": "a"}})


@pytest.mark.parametrize("content", [
    {"resources": ["cm.yaml", "../../../outside"]},
    {"resources": ["cm.yaml"], "patches": [{"path": "../../../../etc/patch.yaml"}]},
    {"resources": ["cm.yaml"], "secretGenerator": [{"name": "s",
                                                     "envs": ["../../../secrets.env"]}]},
    {"resources": ["cm.yaml"], "configMapGenerator": [{"name": "c",
                                                        "files": ["k=../../../../x.txt"]}]},
    {"resources": ["cm.yaml", "/etc/kubernetes"]},
], ids=["resource", "patch", "env file", "generator file", "absolute"])
@pytest.mark.parametrize("restrictor", ["none", "rootOnly"])
def test_a_path_leading_outside_the_repository_is_refused(repo: ConfigRepo,
                                                          content: dict[str, Any],
                                                          restrictor: str) -> None:
    kustomization(repo, content, restrictor)
    tree = WorkTree(repo.root)
    with pytest.raises(LoadError) as raised:
        render_environment(tree, load_environment(tree, "dev"))
    assert raised.value.message.startswith(
        "environments/dev/kustomization.yaml: '")
    assert "leads outside the repository" in raised.value.message


def test_a_path_that_stays_inside_the_repository_is_read(repo: ConfigRepo) -> None:
    repo.write("shared/patch.yaml", {"apiVersion": "v1", "kind": "ConfigMap",
                                     "metadata": {"name": "a"}, "data": {"from": "patch"}})
    kustomization(repo, {"resources": ["cm.yaml"],
                         "patches": [{"path": "../../shared/patch.yaml"}]})
    tree = WorkTree(repo.root)
    inputs = kustomize.kustomize_inputs(tree, PurePosixPath("environments/dev"))
    assert PurePosixPath("shared/patch.yaml") in inputs
    rendered = render_environment(tree, load_environment(tree, "dev"))
    assert rendered.manifests[0].body["data"] == {"from": "patch"}


def test_documents_read_for_masking_are_alias_bounded(repo: ConfigRepo) -> None:
    repo.write("bomb.yaml", BOMB)
    # refused (left out) rather than expanded: the build's own check reports the file
    assert kustomize._documents(WorkTree(repo.root), PurePosixPath("bomb.yaml")) == []
