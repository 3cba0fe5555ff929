"""`--changed --base REF`: the environments whose rendered objects differ between REF and the
target commit, offline (docs/fleet.md#changed)."""

from __future__ import annotations

import json

import pytest

from tests import manifests as objects
from tests.cli.test_startup import imported
from tests.conftest import ConfigRepo


@pytest.fixture
def shared_base(repo: ConfigRepo) -> ConfigRepo:
    """`base/` (a kustomize base), `one` and `two` built on it, `plain` without it."""
    repo.write("environments/base/kustomization.yaml", {"resources": ["web.yaml"]})
    repo.write("environments/base/web.yaml", objects.deployment("web", image="nginx:1.27"))
    for name in ("one", "two"):
        repo.settings(name, context="kind-dev", namespace=name)
        repo.write(f"environments/{name}/kustomization.yaml",
                   {"resources": ["../base"], "namespace": name})
    repo.settings("plain", context="kind-dev", namespace="plain")
    repo.write("environments/plain/app.yaml", objects.configmap("plain", {"v": "1"}))
    repo.commit("start")
    return repo


def changed(cli, *extra: str) -> list[str]:
    result = cli("diff", "--changed", "--offline", "--base", "HEAD~1", "-o", "json", *extra)
    assert result.exit_code == 0, result.output
    return [s["name"] for s in json.loads(result.stdout)["environments"]]


def test_a_readme_change_selects_none(shared_base: ConfigRepo, cli) -> None:
    shared_base.write("README.md", "# the config repository\n")
    shared_base.write("environments/base/README.md", "the shared base\n")
    shared_base.commit("docs")
    assert changed(cli) == []
    result = cli("diff", "--changed", "--offline", "--base", "HEAD~1", "-o", "markdown")
    assert "No environment selected: nothing changes." in result.stdout
    assert result.stdout.startswith("<!-- gitdeploy-report:diff part 1 of 1 -->")


def test_a_shared_base_change_selects_every_environment_using_it(shared_base: ConfigRepo,
                                                                 cli) -> None:
    shared_base.write("environments/base/web.yaml", objects.deployment("web",
                                                                       image="nginx:1.28"))
    shared_base.commit("new image")
    assert changed(cli) == ["one", "two"]
    result = cli("diff", "--changed", "--offline", "--base", "HEAD~1", "--exit-code")
    assert result.exit_code == 2
    assert "2 environment(s): 2 with changes" in result.stdout


def test_a_change_that_renders_the_same_selects_none(shared_base: ConfigRepo, cli) -> None:
    """A comment and a reordered key in the base: the files differ, the objects do not."""
    text = (shared_base.root / "environments/base/web.yaml").read_text()
    shared_base.write("environments/base/web.yaml", "# the web server\n" + text)
    shared_base.commit("comment")
    assert changed(cli) == []


def test_one_environment_and_a_new_one(shared_base: ConfigRepo, cli) -> None:
    shared_base.write("environments/plain/app.yaml", objects.configmap("plain", {"v": "2"}))
    shared_base.settings("fresh", context="kind-dev", namespace="fresh")
    shared_base.write("environments/fresh/app.yaml", objects.configmap("fresh", {"v": "1"}))
    shared_base.commit("plain and fresh")
    assert changed(cli) == ["fresh", "plain"]
    # the selection narrows what --changed considers
    assert changed(cli, "-l", "missing-label") == []


def test_changed_needs_a_base(shared_base: ConfigRepo, cli) -> None:
    result = cli("render", "--changed")
    assert result.exit_code == 1
    assert "--changed needs --base REF" in result.stderr


def test_changed_for_validate_and_the_matrix(shared_base: ConfigRepo, cli) -> None:
    shared_base.write("environments/base/web.yaml", objects.deployment("web", replicas=5))
    shared_base.commit("replicas")
    result = cli("validate", "--changed", "--base", "HEAD~1", "--matrix", "github")
    assert json.loads(result.stdout) == {"environment": ["one", "two"]}


OLD_DIGEST = "sha256:" + "1" * 64
NEW_DIGEST = "sha256:" + "2" * 64


def test_a_re_pin_is_a_change(shared_base: ConfigRepo, cli) -> None:
    """An environment's lock file pins its images, at each commit its own (docs/pinning.md):
    a change of digest alone selects it, and its diff shows the digests."""
    lock = "environments/one/gitdeploy-images.lock"
    shared_base.write(lock, f"images:\n  nginx:1.27: {OLD_DIGEST}\n")
    shared_base.commit("pinned")
    shared_base.write(lock, f"images:\n  nginx:1.27: {NEW_DIGEST}\n")
    shared_base.commit("re-pinned")
    result = cli("diff", "--changed", "--offline", "--base", "HEAD~1", "-o", "json")
    assert result.exit_code == 0, result.output
    [one] = json.loads(result.stdout)["environments"]
    assert one["name"] == "one"
    [change] = [c for c in one["document"]["changes"] if c["action"] != "unchanged"]
    diff = change["diff"].splitlines()
    assert any(line.startswith("-") and line.endswith(f"image: nginx:1.27@{OLD_DIGEST}")
               for line in diff)
    assert any(line.startswith("+") and line.endswith(f"image: nginx:1.27@{NEW_DIGEST}")
               for line in diff)


def test_each_environment_diffs_as_it_does_alone(shared_base: ConfigRepo, cli) -> None:
    """The renders --changed made, from commit snapshots shared by its threads, give each
    environment the document `diff ENV --offline --base` gives it alone, at any --parallel:
    ignore rules, pinned images, a new environment, a removed object."""
    for index in range(5):
        name = f"extra-{index}"
        shared_base.settings(name, context="kind-dev", namespace=name, ignoreDifferences=[
            {"kind": "ConfigMap", "jsonPointers": ["/data/build"]}])
        shared_base.write(f"environments/{name}/kustomization.yaml",
                          {"resources": ["../base", "config.yaml"], "namespace": name})
        shared_base.write(f"environments/{name}/config.yaml",
                          [objects.configmap("settings", {"build": "1", "mode": "a"}),
                           objects.configmap("gone", {"v": "1"})])
    shared_base.write("environments/extra-0/gitdeploy-images.lock",
                      f"images:\n  nginx:1.28: {OLD_DIGEST}\n")
    shared_base.commit("extras")
    shared_base.write("environments/base/web.yaml", objects.deployment("web",
                                                                       image="nginx:1.28"))
    for index in range(5):
        shared_base.write(f"environments/extra-{index}/config.yaml",
                          [objects.configmap("settings", {"build": "2", "mode": str(index)})])
    shared_base.settings("fresh", context="kind-dev", namespace="fresh")
    shared_base.write("environments/fresh/app.yaml", objects.configmap("fresh", {"v": "1"}))
    shared_base.commit("change")

    def documents(*extra: str) -> dict[str, object]:
        result = cli("diff", "--changed", "--offline", "--base", "HEAD~1", "-o", "json", *extra)
        assert result.exit_code == 0, result.output
        return {env["name"]: env["document"] for env in json.loads(result.stdout)["environments"]}

    found = documents()
    assert sorted(found) == ["extra-0", "extra-1", "extra-2", "extra-3", "extra-4", "fresh",
                             "one", "two"]
    assert documents("--parallel", "1") == found == documents("--parallel", "8")
    for name, document in found.items():
        alone = cli("diff", name, "--offline", "--base", "HEAD~1", "-o", "json")
        assert alone.exit_code == 0, alone.output
        assert json.loads(alone.stdout) == document, name


def test_offline_runs_over_many_environments_need_no_kubernetes_client(shared_base: ConfigRepo
                                                                       ) -> None:
    """`render --all` and `diff --changed --offline` start without the Kubernetes client's
    import time (docs/fleet.md#performance): no cluster is reached."""
    shared_base.write("environments/base/web.yaml", objects.deployment("web",
                                                                       image="nginx:1.28"))
    shared_base.commit("new image")
    heavy = ("kubernetes", "urllib3", "tenacity")
    assert imported("render", "--all", cwd=shared_base.root, heavy=heavy) == []
    assert imported("diff", "--changed", "--offline", "--base", "HEAD~1", cwd=shared_base.root,
                    heavy=heavy) == []
