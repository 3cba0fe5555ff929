"""Selecting environments by name, pattern and label, and ordering them in waves."""

from __future__ import annotations

import pytest

from gitdeploy.config.sources import WorkTree
from gitdeploy.errors import SettingsError
from gitdeploy.fleet.selection import parse_selector, select, waves
from tests.conftest import ConfigRepo


@pytest.fixture
def envs(repo: ConfigRepo) -> WorkTree:
    repo.settings("dev", context="c", labels={"tier": "test", "region": "eu"})
    repo.settings("prod-eu", context="c", labels={"tier": "prod", "region": "eu"},
                  dependsOn=["staging"])
    repo.settings("prod-us", context="c", labels={"tier": "prod", "region": "us"},
                  dependsOn=["prod-eu"])
    repo.settings("staging", context="c", labels={"tier": "test"}, wave=1)
    return WorkTree(repo.root)


@pytest.mark.parametrize(("patterns", "selectors", "chosen"), [
    (["prod-*"], [], ("prod-eu", "prod-us")),
    (["staging", "dev"], [], ("dev", "staging")),
    ([], ["tier=prod"], ("prod-eu", "prod-us")),
    ([], ["tier=prod,region=eu"], ("prod-eu",)),
    ([], ["tier=prod", "region!=eu"], ("prod-us",)),
    ([], ["region in (eu, us)"], ("dev", "prod-eu", "prod-us")),
    ([], ["region notin (eu)"], ("prod-us", "staging")),
    ([], ["!region"], ("staging",)),
    (["*"], ["region"], ("dev", "prod-eu", "prod-us")),
])
def test_selection(envs: WorkTree, patterns: list[str], selectors: list[str],
                   chosen: tuple[str, ...]) -> None:
    assert select(envs, patterns, selectors=selectors).names == chosen


def test_all_and_errors(envs: WorkTree) -> None:
    assert len(select(envs, [], everything=True).names) == 4
    with pytest.raises(SettingsError, match="no environment 'prod'"):
        select(envs, ["prod"])
    with pytest.raises(SettingsError, match="cannot read"):
        parse_selector("tier=(")


def test_waves_follow_depends_on_among_the_selected(envs: WorkTree) -> None:
    everything = select(envs, [], everything=True).names
    assert waves(envs, everything) == {"dev": 0, "staging": 1, "prod-eu": 2, "prod-us": 3}
    # staging not selected: prod-eu does not wait for it
    assert waves(envs, ("prod-eu", "prod-us")) == {"prod-eu": 0, "prod-us": 1}


def test_a_dependency_cycle_is_an_error(repo: ConfigRepo) -> None:
    repo.settings("a", context="c", dependsOn=["b"])
    repo.settings("b", context="c", dependsOn=["a"])
    with pytest.raises(SettingsError, match="cycle: a -> b -> a"):
        waves(WorkTree(repo.root), ("a", "b"))
    repo.settings("b", context="c", dependsOn=["nowhere"])
    with pytest.raises(SettingsError, match="'nowhere', which is no environment"):
        waves(WorkTree(repo.root), ("a", "b"))
