"""End-to-end: refs, deploy records, status, history, rollback, the lock and the freeze, the
same on the test API server and a real cluster."""

from __future__ import annotations

import datetime
import json
from typing import Any

from kubernetes import client as k8s

from tests import manifests as objects
from tests.conftest import ConfigRepo, git
from tests.e2e.conftest import Cluster

CANARY = "e2e-record-canary"


def write_env(repo: ConfigRepo, target: Cluster, level: str, **settings: object) -> str:
    ns = target.namespace
    target.settings(repo, **settings)
    repo.write("environments/e2e/namespace.yaml", objects.namespace(ns))
    repo.write("environments/e2e/app.yaml", [
        objects.configmap("settings", {"LOG_LEVEL": level}),
        objects.secret("credentials", {"password": CANARY}),
    ])
    return repo.commit(f"log level {level}")


NO_DRIFT: dict[str, Any] = {"checked": True, "drifted": False, "note": None, "changes": []}
NOTHING_DEPLOYED: dict[str, Any] = {"checked": False, "drifted": None,
                                    "note": "nothing deployed yet", "changes": []}


def status(cli) -> dict[str, Any]:
    result = cli("status", "e2e", "-o", "json")
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def planned(cli) -> dict[str, tuple[str, list[dict[str, str]]]]:
    """Each object of the plan: its action and its drift."""
    result = cli("diff", "e2e", "-o", "json")
    assert result.exit_code == 0, result.output
    return {c["kind"]: (c["action"], c["drift"]) for c in json.loads(result.stdout)["changes"]}


def level(cluster: Cluster) -> str:
    settings = cluster.core().read_namespaced_config_map("settings", cluster.namespace)
    assert settings.data is not None
    return str(settings.data["LOG_LEVEL"])


def test_records_status_history_and_rollback(repo: ConfigRepo, cluster: Cluster, cli) -> None:
    first = write_env(repo, cluster, "info", history={"keep": 2})
    assert cli("apply", "e2e", "--yes").exit_code == 0
    second = write_env(repo, cluster, "debug", history={"keep": 2})
    assert cli("apply", "e2e", "--yes").exit_code == 0
    write_env(repo, cluster, "trace", history={"keep": 2})  # committed, not deployed
    doc = status(cli)
    assert doc["live"]["commit"] == second
    assert (doc["commitsBehind"], doc["commitsAhead"]) == (1, 0)
    assert doc["drift"] == NO_DRIFT  # the cluster is as the live commit has it
    assert doc["lock"] is None

    # the record is a ConfigMap that kubectl can read, with no Secret value in it
    stored = cluster.core().list_namespaced_config_map(
        cluster.namespace, label_selector="gitdeploy.io/environment=e2e,gitdeploy.io/record")
    commits = []
    for cm in stored.items:
        assert cm.data is not None
        commits.append(cm.data["commit"])
    assert sorted(commits) == sorted([first, second])
    assert all(CANARY not in json.dumps(cm.data) for cm in stored.items)

    rolled = cli("rollback", "e2e", "--yes", "-o", "json")
    assert rolled.exit_code == 0, rolled.output
    assert json.loads(rolled.stdout)["record"]["commit"] == first
    assert level(cluster) == "info"
    history = json.loads(cli("history", "e2e", "-o", "json").stdout)["records"]
    assert [(r["sequence"], r["kind"], r["commit"]) for r in history] == [
        (3, "rollback", first), (2, "deploy", second)]  # capped at keep: 2
    assert cli("rollback", "e2e", "--to", second, "--yes").exit_code == 0
    assert level(cluster) == "debug"


def test_ref_deploys_a_tag_while_the_work_tree_is_dirty(repo: ConfigRepo, cluster: Cluster,
                                                       cli) -> None:
    write_env(repo, cluster, "info")
    git(repo.root, "tag", "release-1")
    write_env(repo, cluster, "debug")
    repo.write("environments/e2e/app.yaml", objects.configmap("settings", {"LOG_LEVEL": "wip"}))
    refused = cli("apply", "e2e", "--yes")
    assert refused.exit_code == 1
    assert refused.stderr == (
        "error: apply to e2e refused: 1 file(s) it would deploy have uncommitted changes\n"
        "  environments/e2e/app.yaml\n"
        "  commit them, deploy a commit with --ref, or pass --allow-dirty (the deploy is "
        "recorded as dirty)\n")
    assert not cluster.namespace_exists()
    status_before = git(repo.root, "status", "--porcelain")
    applied = cli("apply", "e2e", "--ref", "release-1", "--yes")
    assert applied.exit_code == 0, applied.output
    assert level(cluster) == "info"
    assert git(repo.root, "status", "--porcelain") == status_before


def _lease(cluster: Cluster, holder: str, renewed: datetime.datetime) -> None:
    cluster.core().create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(
        name=cluster.namespace)))
    # a dict body (the client accepts one) keeps the timestamps in the exact wire format that
    # kubectl writes; a V1Lease model would serialize its datetimes with isoformat()
    k8s.CoordinationV1Api(cluster.api).create_namespaced_lease(cluster.namespace, {  # type: ignore[arg-type]
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "gitdeploy-lock-e2e"},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 60,
                 "acquireTime": renewed.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                 "renewTime": renewed.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                 "leaseTransitions": 0}})


def _holder(cluster: Cluster) -> str | None:
    lease = k8s.CoordinationV1Api(cluster.api).read_namespaced_lease("gitdeploy-lock-e2e",
                                                                     cluster.namespace)
    assert lease.spec is not None
    return lease.spec.holder_identity


def test_a_held_lock_refuses_and_unlock_clears_it(repo: ConfigRepo, cluster: Cluster,
                                                 cli) -> None:
    write_env(repo, cluster, "info")
    acquired = datetime.datetime.now(datetime.UTC)
    _lease(cluster, "alice@laptop pid 7", acquired)
    held = status(cli)
    assert held["drift"] == NOTHING_DEPLOYED
    assert held["lock"]["holder"] == "alice@laptop pid 7"
    # the namespace exists (the lock is in it), made by someone else: apply adopts it
    expected_plan: dict[str, tuple[str, list[Any]]] = {
        "Namespace": ("adopt", []), "ConfigMap": ("create", []), "Secret": ("create", [])}
    assert planned(cli) == expected_plan
    refused = cli("apply", "e2e", "--yes")
    assert refused.exit_code == 1
    assert refused.stderr == (
        f"error: e2e is locked by alice@laptop pid 7 since {acquired:%Y-%m-%d %H:%M:%S} UTC\n"
        f"  another deploy holds Lease {cluster.namespace}/gitdeploy-lock-e2e\n"
        "  wait for it to finish, or pass --lock-timeout 10m to wait for it\n"
        "  the lock expires 60s after its last renewal; if its holder is gone for good: "
        "gitdeploy unlock e2e\n")
    assert cluster.core().list_namespaced_config_map(
        cluster.namespace, label_selector="gitdeploy.io/record").items == []
    assert status(cli)["drift"] == NOTHING_DEPLOYED  # the refused apply wrote nothing
    assert planned(cli) == expected_plan
    unlocked = cli("unlock", "e2e", "--yes")
    assert unlocked.exit_code == 0, unlocked.output
    assert unlocked.stderr == "Released the lock of e2e held by alice@laptop pid 7.\n"
    assert _holder(cluster) is None
    assert status(cli)["drift"] == NOTHING_DEPLOYED
    assert cli("apply", "e2e", "--yes").exit_code == 0
    assert _holder(cluster) is None  # released after the apply
    deployed = status(cli)
    assert deployed["drift"] == NO_DRIFT
    assert deployed["lock"] is None
    assert planned(cli) == {kind: ("unchanged", []) for kind in expected_plan}


def test_an_expired_lock_is_taken_over(repo: ConfigRepo, cluster: Cluster, cli) -> None:
    write_env(repo, cluster, "info")
    stale = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=10)
    _lease(cluster, "ghost@gone pid 1", stale)
    expired = status(cli)
    assert expired["drift"] == NOTHING_DEPLOYED
    assert expired["lock"]["holder"] == "ghost@gone pid 1"
    applied = cli("apply", "e2e", "--yes")
    assert applied.exit_code == 0, applied.output
    assert applied.stderr.splitlines()[0] == (
        f"took over the expired lock of ghost@gone pid 1 (held since "
        f"{stale:%Y-%m-%d %H:%M:%S} UTC, last renewed {stale:%Y-%m-%d %H:%M:%S} UTC)")
    lease = k8s.CoordinationV1Api(cluster.api).read_namespaced_lease("gitdeploy-lock-e2e",
                                                                     cluster.namespace)
    assert lease.spec is not None
    assert lease.spec.lease_transitions == 1 and lease.spec.holder_identity is None
    deployed = status(cli)
    assert deployed["drift"] == NO_DRIFT
    assert deployed["lock"] is None


def test_freeze_refuses_apply_but_not_diff(repo: ConfigRepo, cluster: Cluster, cli) -> None:
    write_env(repo, cluster, "info", suspend="change freeze")
    result = cli("apply", "e2e", "--yes")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: apply to e2e refused: deployments are suspended\n"
        "  suspend is set in environments/e2e/gitdeploy.yaml: change freeze\n"
        "  diff and status still work; lift the suspension in git to deploy again "
        "(docs/configuration.md)\n")
    assert not cluster.namespace_exists()
    assert planned(cli) == {"Namespace": ("create", []), "ConfigMap": ("create", []),
                            "Secret": ("create", [])}
    assert status(cli)["drift"] == NOTHING_DEPLOYED
