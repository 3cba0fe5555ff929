"""Wrong types in built-in kinds: a server-side apply of a Deployment whose replicas are text is
a 500 naming the field, as structured-merge-diff words it (crd-establish-and-cr.jsonl shows the
message for a custom resource); the right types pass."""

from __future__ import annotations

import pytest
from kubernetes import client as k8s

from tests import manifests as objects
from tests.kubeapi.server import TestApiServer
from tests.kubeapi.test_server import api, apply, error_body, server  # noqa: F401 - fixtures


def test_a_wrong_type_in_a_builtin_kind_is_a_500_naming_the_field(
        api: k8s.ApiClient, server: TestApiServer) -> None:  # noqa: F811
    server.cluster.create_namespace("shop")
    body = objects.deployment("web", namespace="shop")
    body["spec"]["replicas"] = "two"
    body["spec"]["paused"] = False
    body["spec"]["template"]["metadata"]["annotations"] = {"a": "b"}
    with pytest.raises(k8s.ApiException) as raised:
        apply(api, body, dry_run=True)
    assert raised.value.status == 500
    assert error_body(raised)["message"] == (
        "failed to create typed patch object (shop/web; apps/v1, Kind=Deployment): "
        ".spec.replicas: expected numeric (int or float), got string")
    body["spec"]["replicas"] = 2
    assert apply(api, body, dry_run=True).spec.replicas == 2
