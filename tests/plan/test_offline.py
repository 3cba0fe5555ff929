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
    diffs = {c["name"]: c["diff"] for c in doc["changes"]}
    assert diffs["a"] == ("--- base/ConfigMap/shop/a\n+++ head/ConfigMap/shop/a\n"
                          "@@ -4,4 +4,4 @@\n   name: a\n   namespace: shop\n data:\n"
                          "-  v: '1'\n+  v: '2'\n")
    assert diffs["s"] == ("--- base/Secret/shop/s\n+++ head/Secret/shop/s\n"
                          "@@ -5,4 +5,4 @@\n   namespace: shop\n type: Opaque\n stringData:\n"
                          "-  p: '<masked: old value>'\n+  p: '<masked: new value>'\n")
    b_diff = ["--- base/ConfigMap/shop/b", "+++ head/ConfigMap/shop/b", "@@ -1,6 +0,0 @@",
              "-apiVersion: v1", "-kind: ConfigMap", "-metadata:", "-  name: b",
              "-  namespace: shop", "-data: {}"]
    assert diffs["b"] == "".join(f"{line}\n" for line in b_diff)
    assert next(c for c in doc["changes"] if c["name"] == "b")["source"] == (
        f"environments/dev/app.yaml:8 at {base}")
    text = cli("diff", "dev", "--offline", "--base", base)
    assert text.exit_code == 0
    lines = [line.rstrip() for line in text.stdout.splitlines()]
    assert lines[:4] == ["environment  dev", "mode         offline: git only, no cluster",
                         f"base         {base[:7]} ({base})", f"head         {head[:7]} (HEAD)"]
    start = lines.index(f"delete ConfigMap shop/b  (environments/dev/app.yaml:8 at {base})")
    assert lines[start + 1:start + 1 + len(b_diff)] == b_diff  # offline: no pruning note
    markdown = cli("diff", "dev", "--offline", "--base", "HEAD~1", "-o", "markdown").stdout
    assert "Offline diff (no cluster)" in markdown
    for output in (result.stdout, text.output, markdown):
        assert CANARY not in output


def test_offline_diff_of_the_same_ref_and_of_a_new_environment(repo: ConfigRepo, cli) -> None:
    _, head = two_commits(repo)
    same = cli("diff", "dev", "--offline", "--base", head, "--exit-code")
    assert same.exit_code == 0
    assert same.stdout.splitlines()[-1] == "No changes: dev matches git."
    git(repo.root, "checkout", "-q", "-b", "new-env")
    repo.settings("qa", context="kind-dev", namespace="qa")
    repo.write("environments/qa/app.yaml", objects.configmap("q", {}))
    repo.commit("qa")
    doc = json.loads(cli("diff", "qa", "--offline", "--base", "main", "-o", "json").stdout)
    assert [c["action"] for c in doc["changes"]] == ["create"]


def test_offline_diff_errors(repo: ConfigRepo, cli) -> None:
    two_commits(repo)
    missing = cli("diff", "dev", "--offline")
    assert missing.exit_code == 1
    assert missing.stderr == ("error: an offline diff takes --offline and --base REF together, "
                              "and no --orphans (they need a cluster)\n")
    unknown = cli("diff", "dev", "--offline", "--base", "nope")
    assert unknown.exit_code == 1
    assert unknown.stderr == (
        f"error: 'nope' is not a commit, tag or branch of the repository at {repo.root}\n"
        "  fetch it first (git fetch), or check the spelling\n")


def test_offline_diff_leaves_out_ignored_fields_and_autoscaled_replicas(repo: ConfigRepo,
                                                                        cli) -> None:
    """The same ignore rules as the server diff (docs/real-clusters.md)."""
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": "web"},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                       "name": "web"}, "maxReplicas": 5}}
    rules = [{"kind": "ConfigMap", "jsonPointers": ["/data/build"]}]
    repo.settings("dev", context="kind-dev", namespace="shop", ignoreDifferences=rules)
    repo.write("environments/dev/app.yaml", [objects.configmap("a", {"build": "1"}),
                                             objects.deployment("web", replicas=2), hpa])
    base = repo.commit("base")
    repo.write("environments/dev/app.yaml", [objects.configmap("a", {"build": "2"}),
                                             objects.deployment("web", replicas=4), hpa])
    repo.commit("head")
    result = cli("diff", "dev", "--offline", "--base", base, "-o", "json", "--exit-code")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {c["name"]: c["action"] for c in doc["changes"] if c["kind"] != "Namespace"} == {
        "a": "unchanged", "web": "unchanged"}
