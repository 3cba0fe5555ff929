"""Prune with the ApplySet inventory: what is deleted, what never is, and in which order."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from gitdeploy import __version__
from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import Fault, TestApiServer

CM = ("", "configmaps")
PARENT = ("", "configmaps", "shop", "gitdeploy-applyset-dev")


def expected_id(name: str, namespace: str) -> str:
    digest = hashlib.sha256(f"{name}.{namespace}.ConfigMap.".encode()).digest()
    return "applyset-" + base64.urlsafe_b64encode(digest).decode().rstrip("=") + "-v1"


SET_ID = expected_id("gitdeploy-applyset-dev", "shop")


@pytest.fixture
def dev(environment: MakeEnvironment) -> ConfigRepo:
    return environment(namespace="shop", message="first", files={
        "ns.yaml": objects.namespace("shop"),
        "keep.yaml": objects.configmap("keep", {"k": "1"}),
        "old.yaml": [objects.configmap("old", {"o": "1"}), objects.deployment("legacy")]})


def apply(cli, *args: str) -> dict[str, Any]:
    result = cli("apply", "dev", "--yes", "-o", "json", *args)
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def plan(cli, *args: str) -> dict[str, Any]:
    result = cli("diff", "dev", "-o", "json", *args)
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def exists(api_server: TestApiServer, group: str, plural: str, ns: str, name: str) -> bool:
    return (group, plural, ns, name) in api_server.cluster.objects


def remove_old(repo: ConfigRepo) -> None:
    (repo.root / "environments/dev/old.yaml").unlink()
    repo.commit("remove old")


def block(text: str, title: str) -> list[str]:
    """The lines of one object in `diff`'s text output: from the line naming it (`delete
    ConfigMap shop/old  (origin)`) to the blank line that ends its diff."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title + "  "))
    return lines[start:lines.index("", start)]


OLD_DIFF = ["--- live/ConfigMap/shop/old", "+++ git/ConfigMap/shop/old", "@@ -1,9 +0,0 @@",
            "-metadata:", "-  name: old", "-  namespace: shop", "-  labels:",
            f"-    applyset.kubernetes.io/part-of: {SET_ID}", "-data:", "-  o: '1'",
            "-apiVersion: v1", "-kind: ConfigMap"]


def test_the_parent_follows_the_applyset_spec_field_by_field(dev: ConfigRepo, cli,
                                                             api_server: TestApiServer) -> None:
    apply(cli)
    parent = api_server.cluster.objects[PARENT]
    labels, annotations = parent["metadata"]["labels"], parent["metadata"]["annotations"]
    assert labels["applyset.kubernetes.io/id"] == SET_ID
    assert annotations["applyset.kubernetes.io/tooling"] == f"gitdeploy/v{__version__}"
    assert annotations["applyset.kubernetes.io/contains-group-kinds"] == (
        "ConfigMap,Deployment.apps,Namespace")
    assert annotations["applyset.kubernetes.io/additional-namespaces"] == ""
    for key in (("", "namespaces", "", "shop"), ("", "configmaps", "shop", "keep"),
                ("apps", "deployments", "shop", "legacy")):
        assert api_server.cluster.objects[key]["metadata"]["labels"][
            "applyset.kubernetes.io/part-of"] == SET_ID
    # objects in another namespace are listed as additional namespaces
    dev.write("environments/dev/elsewhere.yaml", [objects.namespace("other"),
                                                  objects.configmap("x", {}, namespace="other")])
    dev.commit("elsewhere")
    apply(cli)
    annotations = api_server.cluster.objects[PARENT]["metadata"]["annotations"]
    assert annotations["applyset.kubernetes.io/additional-namespaces"] == "other"


def test_a_removed_object_is_a_delete_in_diff_and_pruned_only_when_asked(
        dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    apply(cli)
    remove_old(dev)
    diff = cli("diff", "dev")
    assert block(diff.stdout, "delete ConfigMap shop/old")[1:] == [
        "  removed from git: apply leaves it in place (pruning is off; --prune deletes it)",
        *OLD_DIFF]
    assert block(cli("diff", "dev", "--prune").stdout, "delete ConfigMap shop/old")[1:] == [
        "  removed from git: apply deletes it", *OLD_DIFF]
    doc = plan(cli)
    assert doc["summary"]["delete"] == 2
    old = next(c for c in doc["changes"] if c["name"] == "old")
    assert (old["action"], old["source"], old["kept"], old["drift"]) == (
        "delete", "(not in git)", None, [])
    assert old["diff"] == "".join(f"{line}\n" for line in OLD_DIFF)
    kept = apply(cli)  # prune is off by default
    assert kept["results"] == []
    assert exists(api_server, *CM, "shop", "old")
    pruned = apply(cli, "--prune")
    assert sorted((r["kind"], r["outcome"]) for r in pruned["results"]) == [
        ("ConfigMap", "deleted"), ("Deployment", "deleted")]
    assert pruned["record"]["counts"]["deleted"] == 2
    assert not exists(api_server, *CM, "shop", "old")
    assert not exists(api_server, "apps", "deployments", "shop", "legacy")
    assert exists(api_server, *CM, "shop", "keep")
    contains = api_server.cluster.objects[PARENT]["metadata"]["annotations"][
        "applyset.kubernetes.io/contains-group-kinds"]
    assert contains == "ConfigMap,Namespace"
    assert plan(cli)["summary"]["changes"] == 0


def test_the_line_naming_a_deletion_says_not_in_git_once(dev: ConfigRepo, cli) -> None:
    apply(cli)
    remove_old(dev)
    text = cli("diff", "dev").stdout
    assert block(text, "delete ConfigMap shop/old")[0] == "delete ConfigMap shop/old  (not in git)"


def test_no_dry_run_sends_a_delete(dev: ConfigRepo, cli, api_server: TestApiServer,
                                   tmp_path: Path) -> None:
    """With prune candidates in the cluster (and pruning on in the settings), nothing but apply
    deletes: every form of `diff`, `status` and `orphans` sends only GETs and server-side
    applies with dryRun=All, never a DELETE (a DELETE with dryRun=All in its query and a
    DeleteOptions body without it deletes on kube-apiserver v1.36: delete-dry-run.jsonl#14).
    RequestRecord.dry_run reads only the query, so DELETEs are looked for whatever their
    flags. `apply` has no --dry-run."""
    apply(cli)
    dev.settings("dev", context="kind-dev", namespace="shop", prune=True)
    remove_old(dev)
    stored = {key: obj["metadata"]["resourceVersion"]
              for key, obj in api_server.cluster.objects.items()}
    start = len(api_server.requests)
    for args in (("diff", "dev"), ("diff", "dev", "-o", "json"), ("diff", "dev", "--prune"),
                 ("diff", "dev", "-o", "markdown"), ("diff", "dev", "--orphans"),
                 ("diff", "dev", "--out-plan", str(tmp_path / "plan.json")),
                 ("status", "dev"), ("orphans", "dev"),
                 ("diff", "dev", "--full")):  # objects unchanged since the apply: --full dry-runs
        result = cli(*args)
        assert result.exit_code == 0, (args, result.output)
    assert cli("diff", "dev", "--exit-code").exit_code == 2  # the deletions are changes
    assert plan(cli)["summary"]["delete"] == 2
    usage = cli("apply", "dev", "--yes", "--dry-run")
    assert (usage.exit_code, usage.stdout) == (1, "")
    assert usage.stderr.splitlines()[-1] == (
        "Error: No such option: --dry-run (Possible options: --no-prune, --prune)")
    sent = api_server.requests[start:]
    assert [r for r in sent if r.method == "DELETE"] == []
    assert [(r.method, r.path) for r in sent if r.method != "GET"
            and not (r.method == "PATCH" and r.query.get("dryRun") == ["All"])] == []
    assert any(r.method == "PATCH" and r.dry_run for r in sent)
    assert not any(r.is_write for r in sent)  # nor any bookkeeping: no lock, no record
    assert {key: obj["metadata"]["resourceVersion"]
            for key, obj in api_server.cluster.objects.items()} == stored
    pruned = apply(cli)  # the setting: apply prunes, with real DELETEs
    assert sorted((r["kind"], r["outcome"]) for r in pruned["results"]) == [
        ("ConfigMap", "deleted"), ("Deployment", "deleted")]
    deletes = [r for r in api_server.requests if r.method == "DELETE"]
    assert sorted((r.path, r.query, r.status) for r in deletes) == [
        ("/api/v1/namespaces/shop/configmaps/old", {}, 200),
        ("/apis/apps/v1/namespaces/shop/deployments/legacy", {}, 200)]


def test_prune_setting_and_no_prune_override(dev: ConfigRepo, cli,
                                             api_server: TestApiServer) -> None:
    apply(cli)
    dev.settings("dev", context="kind-dev", namespace="shop", prune=True)
    remove_old(dev)
    assert apply(cli, "--no-prune")["results"] == []
    assert exists(api_server, *CM, "shop", "old")
    apply(cli)
    assert not exists(api_server, *CM, "shop", "old")


def test_a_same_named_object_without_the_label_survives(dev: ConfigRepo, cli,
                                                        api_server: TestApiServer) -> None:
    apply(cli)
    remove_old(dev)
    key = ("", "configmaps", "shop", "old")
    del api_server.cluster.objects[key]["metadata"]["labels"]["applyset.kubernetes.io/part-of"]
    doc = plan(cli)
    assert [c["name"] for c in doc["changes"] if c["action"] == "delete"] == ["legacy"]
    apply(cli, "--prune")
    assert exists(api_server, *key)


def test_the_protection_annotation_keeps_an_object(dev: ConfigRepo, cli,
                                                   api_server: TestApiServer) -> None:
    apply(cli)
    remove_old(dev)
    live = api_server.cluster.objects[("", "configmaps", "shop", "old")]
    live["metadata"]["annotations"] = {"gitdeploy.io/prune": "disabled"}
    text = cli("diff", "dev").stdout
    assert "keep ConfigMap shop/old  removed from git, not pruned: gitdeploy.io/prune: " \
           "disabled" in text
    doc = apply(cli, "--prune")
    assert [r["name"] for r in doc["results"]] == ["legacy"]
    assert exists(api_server, *CM, "shop", "old")
    assert plan(cli)["summary"]["kept"] == 1


def test_an_empty_render_never_prunes(dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    apply(cli)
    for name in ("ns", "keep", "old"):
        (dev.root / f"environments/dev/{name}.yaml").unlink()
    dev.commit("oops, everything is gone")
    writes = len(api_server.writes(state=True))
    result = cli("apply", "dev", "--yes", "--prune", "--allow-mass-delete")
    assert result.exit_code == 1
    assert "the environment renders no objects" in result.stderr
    assert len(api_server.writes(state=True)) == writes
    assert exists(api_server, *CM, "shop", "keep")


def test_a_cap_on_deletions_needs_an_explicit_flag(repo: ConfigRepo, kubeconfig, cli,
                                                   api_server: TestApiServer) -> None:
    repo.settings("dev", context="kind-dev", namespace="default",
                  pruneSafety={"maxDeletions": 3, "maxPercent": 50})
    repo.write("environments/dev/many.yaml",
               [objects.configmap(f"cm-{n}", {}) for n in range(8)])
    repo.commit()
    apply(cli)
    repo.write("environments/dev/many.yaml",
               [objects.configmap(f"cm-{n}", {}) for n in range(4)])
    repo.commit("drop four")
    refused = cli("apply", "dev", "--yes", "--prune")
    assert refused.exit_code == 1
    assert refused.stderr == (
        "error: apply to dev refused: pruning is not safe\n"
        "  4 deletion(s), 50% of the 8 object(s) the environment owns: more than pruneSafety "
        "allows (3 objects, 50%); pass --allow-mass-delete if that is intended\n")
    assert not any(r.method == "DELETE" for r in api_server.requests)
    assert exists(api_server, *CM, "default", "cm-7")
    assert apply(cli, "--prune", "--allow-mass-delete")["record"]["counts"]["deleted"] == 4
    assert not exists(api_server, *CM, "default", "cm-7")


def test_namespaces_and_crds_need_permission_and_the_state_namespace_is_never_pruned(
        dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    dev.write("environments/dev/extra.yaml", [objects.namespace("scratch"),
                                              objects.crd("example.com", "Gadget", "gadgets")])
    dev.commit("extra")
    apply(cli)
    (dev.root / "environments/dev/extra.yaml").unlink()
    dev.commit("drop extra")
    refused = cli("apply", "dev", "--yes", "--prune")
    assert refused.exit_code == 1
    assert refused.stderr == (
        "error: apply to dev refused: pruning is not safe\n"
        "  Namespace scratch: pruning a namespace deletes everything in it; allow it with "
        "pruneSafety.namespaces: true\n"
        "  CustomResourceDefinition gadgets.example.com: pruning a CRD deletes all its objects; "
        "allow it with pruneSafety.customResourceDefinitions: true\n")
    assert exists(api_server, "", "namespaces", "", "scratch")
    dev.settings("dev", context="kind-dev", namespace="shop",
                 pruneSafety={"namespaces": True, "customResourceDefinitions": True})
    dev.commit("allow")
    apply(cli, "--prune")
    assert not exists(api_server, "", "namespaces", "", "scratch")
    assert not exists(api_server, "apiextensions.k8s.io", "customresourcedefinitions", "",
                      "gadgets.example.com")
    (dev.root / "environments/dev/ns.yaml").unlink()
    dev.commit("drop the state namespace")
    state = cli("apply", "dev", "--yes", "--prune")
    assert state.exit_code == 1
    assert state.stderr == (
        "error: apply to dev refused: pruning is not safe\n"
        "  Namespace shop holds gitdeploy's own records and lock (state.namespace): it is never "
        "pruned\n")


def test_deletions_run_in_reverse_order(dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    dev.settings("dev", context="kind-dev", namespace="shop", prune=True,
                 pruneSafety={"namespaces": True, "customResourceDefinitions": True,
                              "maxPercent": 100})
    dev.write("environments/dev/extra.yaml", [
        objects.namespace("scratch"),
        objects.crd("example.com", "Gadget", "gadgets"),
        objects.custom("example.com", "Gadget", "g1", {"size": 1}),
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": "scratch-reader"}, "rules": []},
        objects.configmap("in-scratch", {}, namespace="scratch"),
    ])
    dev.commit("extra")
    apply(cli)
    (dev.root / "environments/dev/extra.yaml").unlink()
    dev.commit("drop extra")
    start = len(api_server.requests)
    apply(cli)
    deletes = [r.path for r in api_server.requests[start:] if r.method == "DELETE"
               and r.status < 400]
    rank = [3 if p[-19:] == "/namespaces/scratch" else 2 if "customresourcedefinitions" in p
            else 1 if "clusterroles" in p else 0 for p in deletes]
    assert len(deletes) == 5
    assert rank == sorted(rank)
    assert rank[-1] == 3 and rank[-2] == 2


def test_an_object_made_by_kubectl_is_adopted(dev: ConfigRepo, cli,
                                              api_server: TestApiServer) -> None:
    apply(cli)
    api_server.cluster.create(api_server.cluster.find_type("", "v1", "configmaps"), "v1",
                              "shop", objects.configmap("handmade", {"h": "1"}), "kubectl",
                              False)
    dev.write("environments/dev/handmade.yaml", objects.configmap("handmade", {"h": "2"}))
    dev.commit("adopt it")
    change = next(c for c in plan(cli)["changes"] if c["name"] == "handmade")
    assert change["action"] == "adopt"
    assert change["note"] == ("exists in the cluster, not yet managed by this environment: "
                              "apply takes it over")
    # apiVersion and kind are left out here: the diff shows them moved (the bug that
    # tests/plan/test_plan.py::test_an_object_read_by_a_list_diffs_without_apiversion_and_kind
    # pins), which moves the hunk header too
    assert [line for line in change["diff"].splitlines() if line[:1] in "-+"
            and line[1:].split(":")[0] not in ("apiVersion", "kind")] == [
        "--- live/ConfigMap/shop/handmade", "+++ git/ConfigMap/shop/handmade",
        "+  labels:", f"+    applyset.kubernetes.io/part-of: {SET_ID}", "-  h: '1'", "+  h: '2'"]
    assert block(cli("diff", "dev").stdout, "adopt ConfigMap shop/handmade")[:2] == [
        "adopt ConfigMap shop/handmade  (environments/dev/handmade.yaml:1)",
        "  exists in the cluster, not yet managed by this environment: apply takes it over"]
    apply(cli)
    live = api_server.cluster.objects[("", "configmaps", "shop", "handmade")]
    assert live["metadata"]["labels"]["applyset.kubernetes.io/part-of"] == SET_ID
    assert live["data"] == {"h": "2"}
    assert plan(cli)["summary"]["changes"] == 0


def test_a_label_set_in_git_is_an_error(dev: ConfigRepo, cli) -> None:
    bad = objects.configmap("bad", {})
    bad["metadata"]["labels"] = {"applyset.kubernetes.io/part-of": "applyset-other-v1"}
    dev.write("environments/dev/bad.yaml", bad)
    dev.commit("bad")
    result = cli("diff", "dev")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: environments/dev/bad.yaml:1: ConfigMap shop/bad sets the label "
        "applyset.kubernetes.io/part-of\n"
        "  gitdeploy sets it to the environment's ApplySet; remove it from the manifest\n")


def test_interruption_between_apply_and_prune_leaves_the_parent_listing_every_child(
        dev: ConfigRepo, api_server: TestApiServer) -> None:
    from tests.state.test_lock import start, wait_for
    subprocess.run([sys.executable, "-m", "gitdeploy", "apply", "dev", "--yes"],
                   cwd=dev.root, check=True, capture_output=True)
    (dev.root / "environments/dev/old.yaml").unlink()  # Deployment legacy and ConfigMap old
    dev.write("environments/dev/svc.yaml", objects.service("web"))  # a new kind
    dev.commit("swap")
    api_server.inject(Fault("DELETE", "/deployments/legacy", delay=30))
    process = start(dev.root, "apply", "dev", "--yes", "--prune")
    wait_for(lambda: any(r.method == "PATCH" and r.path.endswith("/services/web")
                         and not r.dry_run for r in api_server.requests))
    time.sleep(0.5)
    process.kill()  # as if the machine died
    process.communicate(timeout=30)
    annotations = api_server.cluster.objects[PARENT]["metadata"]["annotations"]
    listed = set(annotations["applyset.kubernetes.io/contains-group-kinds"].split(","))
    live_members = {obj["kind"] for obj in api_server.cluster.objects.values()
                    if (obj["metadata"].get("labels") or {}).get(
                        "applyset.kubernetes.io/part-of") == SET_ID}
    assert live_members == {"Namespace", "ConfigMap", "Deployment", "Service"}
    assert {k.split(".")[0] for k in listed} >= live_members
