"""End-to-end: ApplySet inventory, prune, adoption and orphans, the same on the test API server
and a real cluster."""

from __future__ import annotations

import json
from typing import Any

from kubernetes import client as k8s

from gitdeploy import __version__
from tests import manifests as objects
from tests.conftest import ConfigRepo
from tests.e2e.conftest import Cluster, Sent, Wire, eventually

HOLD = "e2e.gitdeploy.io/hold"  # a finalizer nobody but the scenario removes


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


def identity(cluster: Cluster, name: str) -> tuple[str, str, object]:
    """uid, resourceVersion and deletionTimestamp of a ConfigMap of the scenario."""
    found = configmap(cluster, name)
    assert found is not None and found.metadata is not None
    return (str(found.metadata.uid), str(found.metadata.resource_version),
            found.metadata.deletion_timestamp)


def plan_of(cli, *args: str) -> dict[str, Any]:
    result = cli("diff", "e2e", "-o", "json", *args)
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def outcomes(result: Any) -> list[tuple[str, str, str, str]]:
    return [(r["kind"], r["name"], r["action"], r["outcome"])
            for r in json.loads(result.stdout)["results"]]


def test_parent_prune_protection_and_unlabelled_survivor(repo: ConfigRepo, cluster: Cluster,
                                                         cli) -> None:
    write_env(repo, cluster, "a", "b", "c", "d")
    assert cli("apply", "e2e", "--yes").exit_code == 0
    parent = configmap(cluster, "gitdeploy-applyset-e2e")
    assert parent is not None
    set_id = cluster.set_id
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
    assert outcomes(pruned) == [("ConfigMap", "b", "delete", "deleted")]
    assert configmap(cluster, "b") is None
    assert configmap(cluster, "c") is not None  # protected by its annotation
    by_hand = configmap(cluster, "d")
    assert by_hand is not None
    assert by_hand.data == {"by": "hand"}  # never had the label
    assert configmap(cluster, "a") is not None
    after = plan_of(cli)
    assert [(c["kind"], c["name"], c["action"], c["kept"]) for c in after["changes"]] == [
        ("ConfigMap", "a", "unchanged", None), ("Namespace", cluster.namespace, "unchanged", None),
        ("ConfigMap", "c", "delete", "gitdeploy.io/prune: disabled")]
    assert after["summary"]["changes"] == 0  # a kept object is no change


def test_empty_render_and_cap_refuse(repo: ConfigRepo, cluster: Cluster, cli) -> None:
    write_env(repo, cluster, "a", "b", "c", "d", pruneSafety={"maxDeletions": 2})
    assert cli("apply", "e2e", "--yes").exit_code == 0
    write_env(repo, cluster, "a", pruneSafety={"maxDeletions": 2})
    capped = cli("apply", "e2e", "--yes", "--prune")
    assert capped.exit_code == 1
    assert capped.stderr == (
        "error: apply to e2e refused: pruning is not safe\n"
        "  3 deletion(s), 60% of the 5 object(s) the environment owns: more than pruneSafety "
        "allows (2 objects, 50%); pass --allow-mass-delete if that is intended\n")
    assert configmap(cluster, "d") is not None
    cluster.settings(repo)
    for path in (repo.root / "environments/e2e").glob("*.yaml"):
        if path.name != "gitdeploy.yaml":
            path.unlink()
    repo.commit("nothing left")
    empty = cli("apply", "e2e", "--yes", "--prune", "--allow-mass-delete")
    assert empty.exit_code == 1
    assert empty.stderr == (
        "error: apply to e2e refused: pruning is not safe\n"
        "  the environment renders no objects: pruning would delete all 5 object(s) it owns; "
        "an empty render never prunes\n"
        f"  Namespace {cluster.namespace} holds gitdeploy's own records and lock "
        "(state.namespace): it is never pruned\n")
    assert all(configmap(cluster, name) is not None for name in "abcd")


def test_adoption_and_orphans(repo: ConfigRepo, cluster: Cluster, cli) -> None:
    write_env(repo, cluster, "a", orphans={"ignore": ["ConfigMap/ignored"]})
    assert cli("apply", "e2e", "--yes").exit_code == 0
    core = cluster.core()
    for name in ("made-by-hand", "ignored", "adopt-me"):
        core.create_namespaced_config_map(
            cluster.namespace, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=name)),
            field_manager="kubectl-create")
    report = json.loads(cli("orphans", "e2e", "-o", "json").stdout)
    # not "a" (in git), "ignored", kube-root-ca.crt, the default ServiceAccount, nor gitdeploy's
    # own parent, records and lock
    assert [(o["kind"], o["namespace"], o["name"]) for o in report["items"]] == [
        ("ConfigMap", cluster.namespace, "adopt-me"),
        ("ConfigMap", cluster.namespace, "made-by-hand")]
    assert report["unchecked"] == []
    write_env(repo, cluster, "a", "adopt-me", orphans={"ignore": ["ConfigMap/ignored"]})
    change = next(c for c in plan_of(cli)["changes"] if c["name"] == "adopt-me")
    assert (change["action"], change["note"], change["drift"]) == (
        "adopt", "exists in the cluster, not yet managed by this environment: apply takes it "
        "over", [])
    # without apiVersion and kind, which the diff shows moved (a gitdeploy bug, pinned by
    # tests/plan/test_plan.py::test_an_object_read_by_a_list_diffs_without_apiversion_and_kind)
    assert [line for line in change["diff"].splitlines() if line[:1] in "-+"
            and line[1:].split(":")[0] not in ("apiVersion", "kind")] == [
        f"--- live/ConfigMap/{cluster.namespace}/adopt-me",
        f"+++ git/ConfigMap/{cluster.namespace}/adopt-me",
        "+  labels:", f"+    applyset.kubernetes.io/part-of: {cluster.set_id}", "+data:",
        "+  n: adopt-me"]
    assert cli("apply", "e2e", "--yes").exit_code == 0
    assert labels(cluster, "adopt-me") == {"applyset.kubernetes.io/part-of": cluster.set_id}
    after = json.loads(cli("orphans", "e2e", "-o", "json").stdout)
    assert [(o["kind"], o["name"]) for o in after["items"]] == [("ConfigMap", "made-by-hand")]


def test_namespaces_and_crds_are_pruned_only_when_allowed(repo: ConfigRepo, cluster: Cluster,
                                                          cli) -> None:
    """gitdeploy deletes a pruned Namespace and returns; it does not wait for finalizers
    (docs/pruning.md). What follows is the cluster's: the namespace is Terminating while
    anything in it still has a finalizer, then gone. A ConfigMap held by a finalizer of the
    scenario's own makes that the same on every cluster (an empty namespace may be finalized
    before the first look, or seconds later)."""
    scratch = f"{cluster.namespace}-scratch"
    group = f"{cluster.namespace}.e2e.gitdeploy.io"
    crd = objects.crd(group, "Gadget", "gadgets")
    crd_name = crd["metadata"]["name"]
    cluster.crds.append(crd_name)
    extensions = k8s.ApiextensionsV1Api(cluster.api)
    write_env(repo, cluster, "a")
    repo.write("environments/e2e/extra.yaml", [objects.namespace(scratch), crd])
    repo.commit("extra")
    try:
        assert cli("apply", "e2e", "--yes").exit_code == 0
        cluster.core().create_namespaced_config_map(scratch, k8s.V1ConfigMap(
            metadata=k8s.V1ObjectMeta(name="held", finalizers=[HOLD])))
        (repo.root / "environments/e2e/extra.yaml").unlink()
        repo.commit("drop extra")
        refused = cli("apply", "e2e", "--yes", "--prune", "--allow-mass-delete")
        assert refused.exit_code == 1
        assert refused.stderr == (
            "error: apply to e2e refused: pruning is not safe\n"
            f"  Namespace {scratch}: pruning a namespace deletes everything in it; allow it "
            "with pruneSafety.namespaces: true\n"
            f"  CustomResourceDefinition {crd_name}: pruning a CRD deletes all its objects; "
            "allow it with pruneSafety.customResourceDefinitions: true\n")
        before = cluster.core().read_namespace(scratch)
        assert before.status is not None and before.metadata is not None
        assert (before.status.phase, before.metadata.deletion_timestamp) == ("Active", None)
        crd_before = extensions.read_custom_resource_definition(crd_name)
        assert crd_before.metadata is not None
        assert crd_before.metadata.deletion_timestamp is None
        cluster.settings(repo, pruneSafety={"namespaces": True,
                                            "customResourceDefinitions": True})
        repo.commit("allow")
        allowed = cli("apply", "e2e", "--yes", "--prune", "--allow-mass-delete", "-o", "json")
        assert allowed.exit_code == 0, allowed.output
        assert outcomes(allowed) == [("Namespace", scratch, "delete", "deleted"),
                                     ("CustomResourceDefinition", crd_name, "delete", "deleted")]
        terminating = cluster.core().read_namespace(scratch)
        assert terminating.status is not None and terminating.metadata is not None
        assert terminating.status.phase == "Terminating"
        assert terminating.metadata.deletion_timestamp is not None
        # the CRD had no objects: its cleanup finalizer goes at once, and the CRD with it
        eventually(lambda: True if _crd_gone(extensions, crd_name) else None)
        release(cluster, scratch)
        eventually(lambda: _namespace_gone(cluster, scratch))
    finally:
        release(cluster, scratch)
        try:
            cluster.core().delete_namespace(scratch)
        except k8s.ApiException as error:
            if error.status not in (404, 409):
                raise


def release(cluster: Cluster, scratch: str) -> None:
    """Remove the scenario's finalizer from the held ConfigMap, if it is still there."""
    try:
        cluster.core().patch_namespaced_config_map("held", scratch,
                                                   {"metadata": {"finalizers": None}})
    except k8s.ApiException as error:
        if error.status != 404:
            raise


def _crd_gone(extensions: k8s.ApiextensionsV1Api, name: str) -> bool:
    try:
        extensions.read_custom_resource_definition(name)
    except k8s.ApiException as error:
        if error.status == 404:
            return True
        raise
    return False


def _namespace_gone(cluster: Cluster, name: str) -> bool | None:
    """True once the namespace is gone; None while it is still Terminating (never Active)."""
    try:
        namespace = cluster.core().read_namespace(name)
    except k8s.ApiException as error:
        if error.status == 404:
            return True
        raise
    assert namespace.status is not None
    assert namespace.status.phase == "Terminating"
    return None


def _read_only(sent: list[Sent]) -> list[Sent]:
    """What is not a read: anything but a GET, or a PATCH with dryRun=All in its query."""
    return [s for s in sent if s.method != "GET"
            and not (s.method == "PATCH" and s.dry_run_in_query)]


def test_no_dry_run_deletes_anything(repo: ConfigRepo, cluster: Cluster, cli,
                                     wire: Wire) -> None:
    """`diff` in every form (and `status`, `orphans`, which diff too) on an environment with prune
    candidates sends no DELETE at all, nor any write: only GETs and server-side applies with
    dryRun=All. There is no `apply --dry-run`. kube-apiserver v1.36 deletes for real when a
    DELETE carries dryRun=All in its query but a DeleteOptions body without it
    (delete-dry-run.jsonl#14-#24), so a dry run must never rely on a DELETE."""
    write_env(repo, cluster, "a", "b", "c", prune=True)
    assert cli("apply", "e2e", "--yes").exit_code == 0
    before = {name: identity(cluster, name) for name in "abc"}
    write_env(repo, cluster, "a", prune=True)  # b and c are prune candidates now
    with wire.recording() as sent:
        doc = plan_of(cli)
        assert doc["prune"] is True
        assert [(c["name"], c["action"]) for c in doc["changes"] if c["action"] == "delete"] \
            == [("b", "delete"), ("c", "delete")]
        assert plan_of(cli, "--prune")["summary"]["delete"] == 2
        for args in (("diff", "e2e"), ("diff", "e2e", "--full"),
                     ("diff", "e2e", "--prune", "-o", "markdown"),
                     ("diff", "e2e", "--orphans"), ("status", "e2e"), ("orphans", "e2e")):
            result = cli(*args)
            assert result.exit_code == 0, (args, result.output)
        changes = cli("diff", "e2e", "--exit-code", "--out-plan", str(repo.root.parent / "p.json"))
        assert changes.exit_code == 2, changes.output
        refused = cli("apply", "e2e", "--yes", "--dry-run")  # a usage error (exit 1)
        assert (refused.exit_code, refused.stdout) == (1, "")
        assert refused.stderr.splitlines()[-1] == (
            "Error: No such option: --dry-run (Possible options: --no-prune, --prune)")
    assert [s for s in sent if s.method == "DELETE"] == []
    assert _read_only(sent) == []
    # it did dry-run (--full: unchanged objects are otherwise not dry-run, docs/performance.md)
    assert any(s.method == "PATCH" and s.dry_run_in_query for s in sent)
    assert {name: identity(cluster, name) for name in "abc"} == before  # same uid, untouched


def test_a_prune_deletes_with_preconditions_and_no_dry_run(repo: ConfigRepo, cluster: Cluster,
                                                           cli, wire: Wire) -> None:
    """The only DELETEs gitdeploy sends are real ones (apply --prune): DeleteOptions with
    propagationPolicy Background and preconditions on the uid and resourceVersion read just
    before (docs/pruning.md), dryRun neither in the query nor in the body. Any future DELETE
    meant as a dry run must carry dryRun=All in both: the server reads DeleteOptions from the
    body when there is one (delete-dry-run.jsonl#14: query only, with a body, deletes)."""
    write_env(repo, cluster, "a", "b", "c")
    assert cli("apply", "e2e", "--yes").exit_code == 0
    live = {name: identity(cluster, name) for name in "bc"}
    write_env(repo, cluster, "a")
    with wire.recording() as sent:
        pruned = cli("apply", "e2e", "--yes", "--prune", "-o", "json")
    assert pruned.exit_code == 0, pruned.output
    assert outcomes(pruned) == [("ConfigMap", "b", "delete", "deleted"),
                                ("ConfigMap", "c", "delete", "deleted")]
    deletes = sorted((s for s in sent if s.method == "DELETE"), key=lambda s: s.path)
    base = f"/api/v1/namespaces/{cluster.namespace}/configmaps"
    assert deletes == [
        Sent("DELETE", f"{base}/{name}", {}, {
            "kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background",
            "preconditions": {"uid": live[name][0], "resourceVersion": live[name][1]}})
        for name in "bc"]
    for request in sent:
        if request.method == "DELETE":
            assert request.dry_run_in_query == request.dry_run_in_body
    assert configmap(cluster, "b") is None and configmap(cluster, "c") is None
