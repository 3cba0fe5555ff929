"""Objects with `generateName` and no name cannot be tracked by a declarative deploy: they are
an error that names the object, says why, and gives the ways out; objects annotated
`gitdeploy.io/skip: "true"` (or kustomize's `config.kubernetes.io/local-config: "true"`) stay
in the repository and are not applied."""

from __future__ import annotations

import json
from typing import Any

from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import TestApiServer


def job(annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"generateName": "migrate-"}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": "m", "image": "busybox:1.36"}]}}}}


def test_generate_name_is_an_error_with_the_ways_out(environment: MakeEnvironment, cli,
                                                     api_server: TestApiServer) -> None:
    environment([objects.configmap("settings", {}), job()])
    for args in (("render", "dev"), ("diff", "dev"), ("apply", "dev", "--yes")):
        result = cli(*args)
        assert result.exit_code == 1, result.output
        assert ("environments/dev/app.yaml:7: Job has metadata.generateName 'migrate-' and no "
                "name") in result.stderr
        assert "give it a metadata.name" in result.stderr
        assert 'gitdeploy.io/skip: "true"' in result.stderr
        assert "exclude" not in result.stderr  # the file is a manifest: exclude is no way out
    assert not any(r.is_write for r in api_server.requests)


def test_skipped_objects_stay_in_git_and_are_not_applied(environment: MakeEnvironment,
                                                         cli, api_server: TestApiServer
                                                         ) -> None:
    local = objects.configmap("kustomize-only", {})
    local["metadata"]["annotations"] = {"config.kubernetes.io/local-config": "true"}
    repo: ConfigRepo = environment([objects.configmap("settings", {}),
                                    job({"gitdeploy.io/skip": "true"}), local])
    rendered = json.loads(cli("render", "dev", "-o", "json").stdout)
    assert [o["object"]["metadata"]["name"] for o in rendered["objects"]] == ["settings"]
    applied = cli("apply", "dev", "--yes", "-o", "json")
    assert applied.exit_code == 0, applied.output
    assert [r["name"] for r in json.loads(applied.stdout)["results"]] == ["settings"]
    assert ("", "configmaps", "default", "kustomize-only") not in api_server.cluster.objects
    assert repo.root.joinpath("environments/dev/app.yaml").read_text().count("migrate-") == 1
