"""diff -o markdown: a pull-request comment with a summary, collapsible diffs and orphans."""

from __future__ import annotations

from tests import manifests as objects
from tests.conftest import ConfigRepo

CANARY = "markdown-canary-value"


def test_markdown_comment_with_deletions_and_orphans(repo: ConfigRepo, kubeconfig, cli,
                                                     api_server) -> None:
    repo.settings("dev", context="kind-dev", namespace="default")
    repo.write("environments/dev/app.yaml", [objects.configmap("a", {"x": "1"}),
                                             objects.configmap("b", {"y": "2"}),
                                             objects.secret("s", {"p": CANARY})])
    repo.commit()
    assert cli("apply", "dev", "--yes").exit_code == 0
    repo.write("environments/dev/app.yaml", [objects.configmap("a", {"x": "2"}),
                                             objects.secret("s", {"p": CANARY + "2"})])
    repo.commit("change")
    cluster = api_server.cluster
    cluster.create(cluster.find_type("", "v1", "configmaps"), "v1", "default",
                   objects.configmap("stray", {"k": "v"}), "kubectl", False)
    result = cli("diff", "dev", "--orphans", "-o", "markdown")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("### gitdeploy diff: `dev`")
    assert "| update | 2 |" in text and "| delete | 1 |" in text
    assert "<details><summary><code>delete</code> ConfigMap default/b</summary>" in text
    assert "```diff\n--- live/ConfigMap/default/a" in text
    assert "Deletions are shown but not applied: pruning is off." in text
    assert "| ConfigMap | default | stray | kubectl |" in text
    assert CANARY not in text


def test_markdown_stays_under_the_comment_limit(repo: ConfigRepo, kubeconfig, cli) -> None:
    repo.settings("dev", context="kind-dev", namespace="default")
    repo.write("environments/dev/big.yaml", [
        objects.configmap(f"big-{n}", {f"k{i}": "v" * 80 for i in range(n * 60)})
        for n in range(1, 8)] + [objects.configmap("small", {"a": "1"})])
    repo.commit()
    text = cli("diff", "dev", "-o", "markdown").stdout
    assert len(text) <= 65_536
    assert "shortened or left out to stay under GitHub's 65,536-character" in text
    assert "cut to fit the comment limit" in text
    assert "<code>create</code> ConfigMap default/small" in text
    assert "+  a: '1'" in text  # the small diff is kept whole


def test_github_step_summary_gets_the_diff_and_the_apply(repo: ConfigRepo, kubeconfig, cli,
                                                        tmp_path, monkeypatch) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    repo.settings("dev", context="kind-dev", namespace="default")
    repo.write("environments/dev/app.yaml", [objects.configmap("a", {"x": "1"}),
                                             objects.secret("s", {"p": CANARY})])
    repo.commit()
    assert cli("diff", "dev").exit_code == 0
    assert cli("apply", "dev", "--yes", "-o", "json").exit_code == 0
    text = summary.read_text()
    assert text.count("### gitdeploy diff: `dev`") == 1
    assert "### gitdeploy apply: `dev`" in text
    assert "| applied | create | ConfigMap default/a |  |" in text
    assert "Deploy 1 of commit" in text and "**succeeded**" in text
    assert CANARY not in text
