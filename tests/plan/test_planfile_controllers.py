"""Plan files and controllers: a plan goes stale when what was reviewed moves (the objects'
specs, the inventory, the commit), not when a controller writes only an object's status."""

from __future__ import annotations

import json
from pathlib import Path

from tests import manifests as objects
from tests.conftest import MakeEnvironment
from tests.kubeapi import controllers
from tests.kubeapi.server import TestApiServer


def test_a_status_written_by_a_controller_does_not_stale_the_plan(
        environment: MakeEnvironment, cli, api_server: TestApiServer, tmp_path: Path) -> None:
    repo = environment([objects.configmap("a", {"v": "1"}), objects.deployment("web")])
    assert cli("apply", "dev", "--yes", "--no-wait").exit_code == 0
    repo.write("environments/dev/app.yaml", [objects.configmap("a", {"v": "2"}),
                                             objects.deployment("web")])
    repo.commit()
    path = tmp_path / "plan.json"
    assert cli("diff", "dev", "--out-plan", str(path)).exit_code == 0
    key = ("apps", "deployments", "default", "web")
    version = api_server.cluster.objects[key]["metadata"]["resourceVersion"]
    assert controllers.write_status(api_server.cluster, key, {"observedGeneration": 1,
                                                              "replicas": 7})
    assert api_server.cluster.objects[key]["metadata"]["resourceVersion"] != version
    result = cli("apply", "dev", "--plan", str(path), "--yes", "--no-wait", "-o", "json")
    assert result.exit_code == 0, result.output
    assert [r["name"] for r in json.loads(result.stdout)["results"]] == ["a"]


def test_a_spec_change_by_a_controller_stales_the_plan(
        environment: MakeEnvironment, cli, api_server: TestApiServer, tmp_path: Path) -> None:
    environment([objects.deployment("web")])
    assert cli("apply", "dev", "--yes", "--no-wait").exit_code == 0
    path = tmp_path / "plan.json"
    assert cli("diff", "dev", "--out-plan", str(path)).exit_code == 0
    doc = json.loads(path.read_text())
    assert doc["inventory"]["members"] == 1
    api_server.cluster.update_scale(
        api_server.cluster.types[("apps", "deployments")], "v1", "default", "web",
        lambda scale: {**scale, "spec": {"replicas": 6}}, "kube-controller-manager", False)
    result = cli("apply", "dev", "--plan", str(path), "--yes", "--no-wait")
    assert result.exit_code == 1
    assert "/Deployment/default/web: changed in the cluster since the plan" in result.stderr
