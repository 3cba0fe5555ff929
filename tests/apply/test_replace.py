"""Immutable fields (immutable-fields.jsonl: the API server refuses the change with a 422 at
dry run): shown as a replacement, refused by default, delete + create when the object's
annotation or --replace asks for it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import TestApiServer


def moved_selector(annotated: bool = False) -> dict[str, Any]:
    web = objects.deployment("web")
    web["spec"]["selector"]["matchLabels"] = {"app": "web2"}
    web["spec"]["template"]["metadata"]["labels"] = {"app": "web2"}
    if annotated:
        web["metadata"]["annotations"] = {"gitdeploy.io/replace": "true"}
    return web


@pytest.fixture
def deployed(environment: MakeEnvironment, cli) -> ConfigRepo:
    repo = environment([objects.deployment("web")], namespace="shop",
                       files={"ns.yaml": objects.namespace("shop")})
    assert cli("apply", "dev", "--yes").exit_code == 0
    return repo


def uid(api_server: TestApiServer) -> str:
    return str(api_server.cluster.objects[("apps", "deployments", "shop", "web")]
               ["metadata"]["uid"])


def test_a_changed_selector_is_shown_as_a_replacement_and_refused(
        deployed: ConfigRepo, cli, api_server: TestApiServer) -> None:
    deployed.write("environments/dev/app.yaml", [moved_selector()])
    deployed.commit()
    doc = json.loads(cli("diff", "dev", "-o", "json").stdout)
    web = next(c for c in doc["changes"] if c["kind"] == "Deployment")
    assert (web["action"], web["verified"]) == ("update", False)
    assert web["replace"] == {"fields": ["spec.selector: field is immutable"],
                              "allowed": False, "by": None}
    assert "  replace: spec.selector: field is immutable: the object must be replaced; apply " \
           "refuses unless" in cli("diff", "dev").stdout
    before, writes = uid(api_server), len(api_server.writes())
    refused = cli("apply", "dev", "--yes")
    assert refused.exit_code == 1
    assert "Deployment shop/web (environments/dev/app.yaml:1) must be replaced: spec.selector: " \
           "field is immutable" in refused.stderr
    assert "gitdeploy.io/replace" in refused.stderr and "--replace" in refused.stderr
    assert len(api_server.writes()) == writes and uid(api_server) == before


@pytest.mark.parametrize("how", ["flag", "annotation"])
def test_replace_deletes_waits_and_creates(deployed: ConfigRepo, cli,
                                           api_server: TestApiServer, how: str) -> None:
    deployed.write("environments/dev/app.yaml", [moved_selector(annotated=how == "annotation")])
    deployed.commit()
    args = ["--replace"] if how == "flag" else []
    doc = json.loads(cli("diff", "dev", "-o", "json", *args).stdout)
    web = next(c for c in doc["changes"] if c["kind"] == "Deployment")
    assert web["replace"]["allowed"] is True
    text = cli("diff", "dev", *args).stdout
    assert "apply deletes the object, waits until it is gone, and creates it again" in text
    before = uid(api_server)
    result = cli("apply", "dev", "--yes", *args)
    assert result.exit_code == 0, result.output
    after = api_server.cluster.objects[("apps", "deployments", "shop", "web")]
    assert after["metadata"]["uid"] != before
    assert after["spec"]["selector"]["matchLabels"] == {"app": "web2"}
    methods = [(r.method, r.path.rsplit("/", 1)[-1]) for r in api_server.writes()
               if "deployments" in r.path]
    assert methods[-2:] == [("DELETE", "web"), ("PATCH", "web")]
    assert json.loads(cli("diff", "dev", "-o", "json").stdout)["summary"]["changes"] == 0
