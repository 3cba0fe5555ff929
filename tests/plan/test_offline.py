"""diff --offline --base: two git refs compared without any cluster or kubeconfig."""

from __future__ import annotations

import json
import os

from tests import manifests as objects
from tests.conftest import ConfigRepo, git

CANARY = "offline-canary-value"


def two_commits(repo: ConfigRepo) -> tuple[str, str]:
    repo.settings("dev", context="kind-dev", namespace="shop")
    repo.write("environments/dev/app.yaml", [objects.configmap("a", {"v": "1"}),
                                             objects.configmap("b", {}),
                                             objects.secret("s", {"p": CANARY})])
    base = repo.commit("base")
    repo.write("environments/dev/app.yaml", [objects.configmap("a", {"v": "2"}),
                                             objects.configmap("c", {}),
                                             objects.secret("s", {"p": CANARY + "x"})])
    head = repo.commit("head")
    return base, head


def test_offline_diff_needs_no_cluster_or_kubeconfig(repo: ConfigRepo, cli) -> None:
    assert "KUBECONFIG" not in os.environ
    base, head = two_commits(repo)
    result = cli("diff", "dev", "--offline", "--base", base, "-o", "json", "--exit-code")
    assert result.exit_code == 2, result.output
    doc = json.loads(result.stdout)
    assert doc["base"]["commit"] == base and doc["source"]["commit"] == head
    assert doc["target"] == {"context": "(offline)", "server": "(none)", "clusterUID": "(none)"}
    actions = {c["name"]: c["action"] for c in doc["changes"]}
    assert actions == {"a": "update", "b": "delete", "c": "create", "s": "update"}
    a = next(c for c in doc["changes"] if c["name"] == "a")
    assert a["diff"].startswith("--- base/ConfigMap/shop/a\n+++ head/ConfigMap/shop/a\n")
    assert "-  v: '1'\n+  v: '2'" in a["diff"]
    secret = next(c for c in doc["changes"] if c["name"] == "s")
    assert "<masked: old value>" in secret["diff"]
    text = cli("diff", "dev", "--offline", "--base", base)
    assert text.exit_code == 0
    assert "offline: git only, no cluster" in text.stdout
    assert "delete ConfigMap shop/b" in text.stdout
    markdown = cli("diff", "dev", "--offline", "--base", "HEAD~1", "-o", "markdown").stdout
    assert "Offline diff (no cluster)" in markdown
    for output in (result.stdout, text.output, markdown):
        assert CANARY not in output


def test_offline_diff_of_the_same_ref_and_of_a_new_environment(repo: ConfigRepo, cli) -> None:
    _, head = two_commits(repo)
    same = cli("diff", "dev", "--offline", "--base", head, "--exit-code")
    assert same.exit_code == 0 and "No changes" in same.stdout
    git(repo.root, "checkout", "-q", "-b", "new-env")
    repo.settings("qa", context="kind-dev", namespace="qa")
    repo.write("environments/qa/app.yaml", objects.configmap("q", {}))
    repo.commit("qa")
    doc = json.loads(cli("diff", "qa", "--offline", "--base", "main", "-o", "json").stdout)
    assert [c["action"] for c in doc["changes"]] == ["create"]


def test_offline_diff_errors(repo: ConfigRepo, cli) -> None:
    two_commits(repo)
    missing = cli("diff", "dev", "--offline")
    assert missing.exit_code == 1 and "--offline and --base REF together" in missing.stderr
    unknown = cli("diff", "dev", "--offline", "--base", "nope")
    assert unknown.exit_code == 1 and "'nope' is not a commit, tag or branch" in unknown.stderr
