"""An apply whose answer was lost on one attempt and whose last attempt was refused (a 5xx
after the retries): the outcome is unknown, so the object is read back; the apply counts as
applied when the object already is as the apply would make it."""

from __future__ import annotations

import json
from typing import Any

from tests import manifests as objects
from tests.apply.test_prune_read_back import outcomes, through_faults  # noqa: F401
from tests.conftest import MakeEnvironment
from tests.faults.proxy import FaultProxy, Request
from tests.kubeapi.server import TestApiServer

PATH = "/api/v1/namespaces/shop/configmaps/settings"


def test_a_lost_answer_then_a_refusal_is_read_back(
        environment: MakeEnvironment, cli, api_server: TestApiServer,
        proxy: FaultProxy, through_faults: None) -> None:  # noqa: F811
    dev = environment(namespace="shop", files={"ns.yaml": objects.namespace("shop"),
                                               "app.yaml": objects.configmap("settings",
                                                                             {"v": "1"})})
    assert cli("apply", "dev", "--yes").exit_code == 0
    dev.write("environments/dev/app.yaml", objects.configmap("settings", {"v": "2"}))
    dev.commit("v2")
    fired: list[Request] = []

    def choose(request: Request) -> str | None:
        if request.method == "PATCH" and request.path == PATH and not request.dry_run:
            fired.append(request)
            # the server applies the first, whose answer is lost; the retry is refused
            return "reset-after" if len(fired) == 1 else "503" if len(fired) == 2 else None
        return None

    proxy.choose = choose
    result = cli("apply", "dev", "--yes", "--retries", "1", "-o", "json")
    report: dict[str, Any] = json.loads(result.stdout)
    assert len(fired) == 2  # the proxy answered the retry 503 without passing it on
    assert [r.status for r in api_server.requests
            if r.method == "PATCH" and r.path == PATH and not r.dry_run][-1:] == [200]
    assert result.exit_code == 0, result.output
    assert outcomes(report) == [("settings", "applied", "")]
    assert api_server.cluster.objects[("", "configmaps", "shop", "settings")]["data"] == {
        "v": "2"}
    assert report["record"]["outcome"] == "succeeded"
