"""The `/status` subresource of workloads, as controllers write it: only the status changes,
the generation stays, and the writer's managedFields entry is for the status subresource."""

from __future__ import annotations

from kubernetes import client as k8s

from tests import manifests as objects
from tests.kubeapi.server import TestApiServer
from tests.kubeapi.test_server import api, apply, server  # noqa: F401 - fixtures


def test_a_status_write_changes_only_the_status(api: k8s.ApiClient,  # noqa: F811
                                                server: TestApiServer) -> None:  # noqa: F811
    server.cluster.create_namespace("shop")
    applied = apply(api, objects.deployment("web", namespace="shop"))
    generation = applied.metadata.generation
    written = k8s.AppsV1Api(api).patch_namespaced_deployment_status(
        "web", "shop", {"spec": {"replicas": 9},
                        "status": {"observedGeneration": generation, "replicas": 0}},
        field_manager="kube-controller-manager")
    assert written.spec is not None and written.metadata is not None
    assert written.status is not None
    assert written.spec.replicas == 2  # the spec is not written through /status
    assert written.metadata.generation == generation
    assert written.status.observed_generation == generation
    entry = next(m for m in written.metadata.managed_fields or []
                 if m.manager == "kube-controller-manager")
    assert (entry.operation, entry.subresource) == ("Update", "status")
