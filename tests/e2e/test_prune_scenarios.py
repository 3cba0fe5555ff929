"""End-to-end: ApplySet inventory, prune, adoption and orphans, the same on the test API server
and a real cluster."""

from __future__ import annotations

import base64
import hashlib
import json

from kubernetes import client as k8s

from gitdeploy import __version__
from tests import manifests as objects
from tests.conftest import ConfigRepo
from tests.e2e.conftest import Cluster


def write_env(repo: ConfigRepo, target: Cluster, *names: str, **settings: object) -> None:
    ns = target.namespace
    target.settings(repo, **settings)
    for path in (repo.root / "environments/e2e").glob("*.yaml"):
        if path.name != "gitdeploy.yaml":
            path.unlink()
    repo.write("environments/e2e/namespace.yaml", objects.namespace(ns))
    repo.write("environments/e2e/app.yaml", [objects.configmap(n, {"n": n}) for n in names])
    repo.commit(f"configmaps {' '.join(names)}")


def configmap(cluster: Cluster, name: str) -> k8s.V1ConfigMap | None:
    try:
        return cluster.core().read_namespaced_config_map(name, cluster.namespace)
    except k8s.ApiException as error:
        if error.status == 404:
            return None
        raise


def labels(cluster: Cluster, name: str) -> dict[str, str]:
    found = configmap(cluster, name)
    assert found is not None
    assert found.metadata is not None
    assert found.metadata.labels is not None
    return found.metadata.labels


def test_parent_prune_protection_and_unlabelled_survivor(repo: ConfigRepo, cluster: Cluster,
                                                         cli) -> None:
    write_env(repo, cluster, "a", "b", "c", "d")
    assert cli("apply", "e2e", "--yes").exit_code == 0
    parent = configmap(cluster, "gitdeploy-applyset-e2e")
    assert parent is not None
    digest = hashlib.sha256(
        f"gitdeploy-applyset-e2e.{cluster.namespace}.ConfigMap.".encode()).digest()
    set_id = "applyset-" + base64.urlsafe_b64encode(digest).decode().rstrip("=") + "-v1"
    assert parent.metadata is not None
    assert parent.metadata.labels is not None
    assert parent.metadata.annotations is not None
    assert parent.metadata.labels["applyset.kubernetes.io/id"] == set_id
    assert parent.metadata.annotations["applyset.kubernetes.io/tooling"] == (
        f"gitdeploy/v{__version__}")
    assert parent.metadata.annotations["applyset.kubernetes.io/contains-group-kinds"] == (
        "ConfigMap,Namespace")
    assert labels(cluster, "a")["applyset.kubernetes.io/part-of"] == set_id

    core = cluster.core()
    core.patch_namespaced_config_map("c", cluster.namespace, {"metadata": {"annotations": {
        "gitdeploy.io/prune": "disabled"}}})
    core.delete_namespaced_config_map("d", cluster.namespace)
    core.create_namespaced_config_map(cluster.namespace, k8s.V1ConfigMap(
        metadata=k8s.V1ObjectMeta(name="d"), data={"by": "hand"}))
    write_env(repo, cluster, "a")
    plan = json.loads(cli("diff", "e2e", "-o", "json").stdout)
    assert sorted((c["name"], c["action"], c["kept"]) for c in plan["changes"]
                  if c["action"] == "delete") == [
        ("b", "delete", None), ("c", "delete", "gitdeploy.io/prune: disabled")]
    pruned = cli("apply", "e2e", "--yes", "--prune", "-o", "json")
    assert pruned.exit_code == 0, pruned.output
    assert configmap(cluster, "b") is None
    assert configmap(cluster, "c") is not None  # protected by its annotation
    by_hand = configmap(cluster, "d")
    assert by_hand is not None
    assert by_hand.data == {"by": "hand"}  # never had the label
    assert configmap(cluster, "a") is not None


def test_empty_render_and_cap_refuse(repo: ConfigRepo, cluster: Cluster, cli) -> None:
    write_env(repo, cluster, "a", "b", "c", "d", pruneSafety={"maxDeletions": 2})
    assert cli("apply", "e2e", "--yes").exit_code == 0
    write_env(repo, cluster, "a", pruneSafety={"maxDeletions": 2})
    capped = cli("apply", "e2e", "--yes", "--prune")
    assert capped.exit_code == 1 and "--allow-mass-delete" in capped.stderr
    assert configmap(cluster, "d") is not None
    cluster.settings(repo)
    for path in (repo.root / "environments/e2e").glob("*.yaml"):
        if path.name != "gitdeploy.yaml":
            path.unlink()
    repo.commit("nothing left")
    empty = cli("apply", "e2e", "--yes", "--prune", "--allow-mass-delete")
    assert empty.exit_code == 1 and "renders no objects" in empty.stderr
    assert configmap(cluster, "a") is not None


def test_adoption_and_orphans(repo: ConfigRepo, cluster: Cluster, cli) -> None:
    write_env(repo, cluster, "a", orphans={"ignore": ["ConfigMap/ignored"]})
    assert cli("apply", "e2e", "--yes").exit_code == 0
    core = cluster.core()
    for name in ("made-by-hand", "ignored", "adopt-me"):
        core.create_namespaced_config_map(
            cluster.namespace, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=name)),
            field_manager="kubectl-create")
    report = json.loads(cli("orphans", "e2e", "-o", "json").stdout)
    names = {o["name"] for o in report["items"] if o["kind"] == "ConfigMap"}
    assert {"made-by-hand", "adopt-me"} <= names
    assert not names & {"a", "ignored", "kube-root-ca.crt", "gitdeploy-applyset-e2e"}
    write_env(repo, cluster, "a", "adopt-me", orphans={"ignore": ["ConfigMap/ignored"]})
    change = next(c for c in json.loads(cli("diff", "e2e", "-o", "json").stdout)["changes"]
                  if c["name"] == "adopt-me")
    assert change["action"] == "adopt"
    assert cli("apply", "e2e", "--yes").exit_code == 0
    assert "applyset.kubernetes.io/part-of" in labels(cluster, "adopt-me")
    after = json.loads(cli("orphans", "e2e", "-o", "json").stdout)
    assert "adopt-me" not in {o["name"] for o in after["items"]}


def test_namespaces_and_crds_are_pruned_only_when_allowed(repo: ConfigRepo, cluster: Cluster,
                                                          cli) -> None:
    scratch = f"{cluster.namespace}-scratch"
    group = f"{cluster.namespace}.e2e.gitdeploy.io"
    crd = objects.crd(group, "Gadget", "gadgets")
    cluster.crds.append(crd["metadata"]["name"])
    write_env(repo, cluster, "a")
    repo.write("environments/e2e/extra.yaml", [objects.namespace(scratch), crd])
    repo.commit("extra")
    try:
        assert cli("apply", "e2e", "--yes").exit_code == 0
        (repo.root / "environments/e2e/extra.yaml").unlink()
        repo.commit("drop extra")
        refused = cli("apply", "e2e", "--yes", "--prune", "--allow-mass-delete")
        assert refused.exit_code == 1
        assert f"Namespace {scratch}: pruning a namespace" in refused.stderr
        assert "pruneSafety.customResourceDefinitions: true" in refused.stderr
        status = cluster.core().read_namespace(scratch).status
        assert status is not None
        assert status.phase == "Active"
        cluster.settings(repo, pruneSafety={"namespaces": True,
                                            "customResourceDefinitions": True})
        repo.commit("allow")
        allowed = cli("apply", "e2e", "--yes", "--prune", "--allow-mass-delete")
        assert allowed.exit_code == 0, allowed.output
        try:
            status = cluster.core().read_namespace(scratch).status
        except k8s.ApiException as error:
            assert error.status == 404
        else:
            assert status is not None
            assert status.phase == "Terminating"  # a real cluster finalizes namespaces later
    finally:
        try:
            cluster.core().delete_namespace(scratch)
        except k8s.ApiException as error:
            if error.status not in (404, 409):
                raise
