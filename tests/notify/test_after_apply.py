"""Notifications are sent by `apply` after the record and the readiness wait; one that fails is
a warning, never a failed deploy; `-v` shows the requests with their bodies masked."""

from __future__ import annotations

from tests import manifests as objects
from tests.kubeapi.server import Fault, TestApiServer
from tests.notify.recorder import recording


def test_apply_notifies_and_a_failed_notification_is_a_warning(environment, cli,
                                                               monkeypatch) -> None:
    environment([objects.configmap("app", {"a": "1"})], notify=[
        {"type": "webhook", "urlFrom": "DEPLOY_HOOK"},
        {"type": "slack", "urlFrom": "SLACK_HOOK"},
    ])
    with recording() as server:
        server.answers["/slack"] = [(500, {}, 0.0)]
        monkeypatch.setenv("DEPLOY_HOOK", f"{server.url}/hook/secret-part")
        monkeypatch.setenv("SLACK_HOOK", f"{server.url}/slack/T0/B0/token")
        result = cli("apply", "dev", "--yes", "-v")
    assert result.exit_code == 0, result.output
    hook = next(r for r in server.received if r.path.startswith("/hook"))
    document = hook.json
    assert document["environment"] == "dev" and document["outcome"] == "succeeded"
    assert document["counts"]["created"] == 1 and document["record"] == 1
    assert document["author"] == "Test Author <author@example.com>"
    assert "warning: notification slack (notify[1]) failed" in result.stderr
    assert "the deploy itself is not affected" in result.stderr
    assert "POST http://127.0.0.1" in result.stderr and "/<masked> 200" in result.stderr
    assert "secret-part" not in result.output and "T0/B0/token" not in result.output


def test_no_notification_without_an_apply(environment, cli, monkeypatch) -> None:
    environment([objects.configmap("app", {"a": "1"})],
                notify=[{"type": "webhook", "urlFrom": "HOOK"}], suspend="frozen")
    with recording() as server:
        monkeypatch.setenv("HOOK", f"{server.url}/hook")
        result = cli("apply", "dev", "--yes")
    assert result.exit_code == 1 and server.received == []


def test_a_failed_apply_is_notified_with_its_reason(environment, cli, monkeypatch,
                                                    api_server: TestApiServer) -> None:
    environment([objects.configmap("app", {"a": "1"})],
                notify=[{"type": "webhook", "urlFrom": "HOOK", "events": ["failure"]}])
    api_server.inject(Fault(method="PATCH", path="/configmaps/app", status=500, dry_run=False,
                            message="etcdserver: request timed out"))
    with recording() as server:
        monkeypatch.setenv("HOOK", f"{server.url}/hook")
        result = cli("apply", "dev", "--yes", "--retries", "0")
    assert result.exit_code == 1, result.output  # the apply's outcome
    [hook] = server.received
    assert hook.json["outcome"] == "failed" and hook.json["counts"]["failed"] == 1
    assert "etcdserver: request timed out" in hook.json["reasons"][0]
