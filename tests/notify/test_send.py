"""Notifications against a local HTTP server that records what it receives: the payload of
each service, the HMAC signature, no secret values, timeouts and 5xx answers."""

from __future__ import annotations

import hashlib
import hmac
import time

from gitdeploy.config.settings import NotifyTarget
from gitdeploy.notify import announce
from gitdeploy.notify.message import notice
from gitdeploy.notify.send import SIGNATURE_HEADER, send_all
from gitdeploy.objects.secrets import SecretMasker, masking_scope, remember
from gitdeploy.results import Action, Outcome
from tests import builders
from tests.builders import COMMIT
from tests.notify.recorder import recording

PASSWORD = "hunter2-database-password"


def _report(failed: bool = False):
    secret = builders.change("Secret", "db", content=builders.body(
        "Secret", "db", stringData={"PASSWORD": PASSWORD}), action=Action.CREATE)
    web = builders.change("Deployment", "web", action=Action.UPDATE)
    results = [(secret, Outcome.APPLIED, ""),
               (web, Outcome.FAILED if failed else Outcome.APPLIED,
                f"admission webhook denied: env PASSWORD={PASSWORD}" if failed else "")]
    return builders.report(results, deploy_record=builders.record(42))


def _notice(failed: bool = False):
    return notice(_report(failed), kind="deploy", duration=12.34,
                  deployed_by="alice@laptop", ci_url="https://ci.example.com/run/7")


def _log() -> tuple[list[str], object]:
    lines: list[str] = []
    return lines, lines.append


def test_slack_teams_and_webhook_payloads(tmp_path) -> None:
    targets = (NotifyTarget("slack", url_from="SLACK_URL", where="notify[0]"),
               NotifyTarget("teams", url_from="TEAMS_URL", where="notify[1]"),
               NotifyTarget("webhook", url_from="HOOK_URL", secret_from="HOOK_KEY",
                            where="notify[2]"))
    with recording() as server:
        environ = {"SLACK_URL": f"{server.url}/services/T000/B000/slack-token-xyz",
                   "TEAMS_URL": f"{server.url}/workflows/teams-sig-abc",
                   "HOOK_URL": f"{server.url}/hook", "HOOK_KEY": "signing-key-123"}
        lines, log = _log()
        results = send_all(targets, _notice(), log=log, environ=environ)  # type: ignore[arg-type]
    assert [r.sent for r in results] == [True, True, True], results
    slack, teams, hook = server.received
    assert slack.path == "/services/T000/B000/slack-token-xyz"
    assert slack.json["text"].startswith(":white_check_mark: Deploy to dev succeeded: "
                                         "1a2b3c4 Change the app")
    fields = " ".join(f["text"] for b in slack.json["blocks"] for f in b.get("fields", []))
    assert "1 created, 1 updated" in fields and "12s" in fields and "alice@laptop" in fields
    assert "<https://ci.example.com/run/7|CI job>" in str(slack.json["blocks"])
    card = teams.json["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard"
    facts = {f["title"]: f["value"] for f in card["content"]["body"][1]["facts"]}
    assert facts["Environment"] == "dev" and facts["Outcome"] == "succeeded"
    assert card["content"]["actions"][0]["url"] == "https://ci.example.com/run/7"
    document = hook.json
    assert document["kind"] == "DeployNotification" and document["commit"] == COMMIT
    assert document["counts"] == {"created": 1, "updated": 1, "deleted": 0, "failed": 0}
    assert document["durationSeconds"] == 12.3 and document["record"] == 42
    expected = hmac.new(b"signing-key-123", hook.body, hashlib.sha256).hexdigest()
    assert hook.headers[SIGNATURE_HEADER] == f"sha256={expected}"
    # -v shows each request, the URL's secret part and no secret
    assert len(lines) == 3 and all(" 200 " in line for line in lines)
    assert all("<masked>" in line for line in lines)
    for secret in ("slack-token-xyz", "teams-sig-abc", "signing-key-123"):
        assert not any(secret in line for line in lines)


def test_failure_reason_without_secret_values() -> None:
    with masking_scope():
        remember(SecretMasker([PASSWORD]))
        with recording() as server:
            lines, log = _log()
            [result] = send_all((NotifyTarget("webhook", url_from="HOOK", where="n"),),
                                _notice(failed=True), log=log,  # type: ignore[arg-type]
                                environ={"HOOK": f"{server.url}/hook"})
    assert result.sent
    document = server.received[0].json
    assert document["outcome"] == "failed" and document["succeeded"] is False
    assert document["reasons"] == ["Deployment shop/web: admission webhook denied: env "
                                   "PASSWORD=<masked>"]
    assert PASSWORD not in server.received[0].body.decode()
    assert not any(PASSWORD in line for line in lines)


def test_events_choose_what_is_sent() -> None:
    with recording() as server:
        results = send_all((NotifyTarget("webhook", url_from="HOOK", events=("failure",),
                                         where="notify[0]"),),
                           _notice(), log=lambda line: None,
                           environ={"HOOK": f"{server.url}/hook"})
    assert results[0].skipped == "not sent on success" and server.received == []


def test_5xx_is_retried_then_a_warning_never_a_failure() -> None:
    with recording() as server:
        server.answers["/flaky"] = [(503, {}, 0.0), (200, {}, 0.0)]
        server.answers["/down"] = [(500, {"message": "boom"}, 0.0)]
        environ = {"FLAKY": f"{server.url}/flaky", "DOWN": f"{server.url}/down"}
        warnings: list[str] = []
        results = announce((NotifyTarget("slack", url_from="FLAKY", where="notify[0]"),
                            NotifyTarget("webhook", url_from="DOWN", where="notify[1]")),
                           _report(), kind="deploy", duration=1.0, log=lambda line: None,
                           warning=warnings.append, environ=environ)
    assert [r.sent for r in results] == [True, False]
    assert server.paths().count("/flaky") == 2 and server.paths().count("/down") == 3
    assert warnings == [f"notification webhook (notify[1]) failed: POST "
                        f"{server.url}/<masked>: the service answered 500 (the deploy "
                        "itself is not affected)"]


def test_timeout_is_bounded() -> None:
    with recording() as server:
        server.answers["/slow"] = [(200, {}, 3.0)]
        started = time.monotonic()
        [result] = send_all((NotifyTarget("teams", url_from="SLOW", timeout=1, where="n"),),
                            _notice(), log=lambda line: None,
                            environ={"SLOW": f"{server.url}/slow"})
        elapsed = time.monotonic() - started
    assert not result.sent and "no answer within 1s" in result.error
    assert elapsed < 8


def test_missing_variable_and_unreachable_service() -> None:
    results = send_all((NotifyTarget("slack", url_from="NOT_SET", where="notify[0]"),
                        NotifyTarget("webhook", url_from="CLOSED", where="notify[1]")),
                       _notice(), log=lambda line: None,
                       environ={"CLOSED": "http://127.0.0.1:9/closed-secret"})
    assert results[0].error == "$NOT_SET (the webhook URL) is not set"
    assert "could not connect" in results[1].error
    assert "closed-secret" not in results[1].error


def test_github_deployment_and_statuses() -> None:
    with recording() as server:
        server.answers["/repos/acme/config/deployments"] = [(201, {"id": 77}, 0.0)]
        environ = {"GITHUB_TOKEN": "ghs_secret_token", "GITHUB_REPOSITORY": "acme/config",
                   "GITHUB_API_URL": server.url}
        lines, log = _log()
        [result] = send_all((NotifyTarget("github", where="notify[0]"),), _notice(failed=True),
                            log=log, environ=environ)  # type: ignore[arg-type]
    assert result.sent, result
    deployment, status, commit_status = server.received
    assert deployment.path == "/repos/acme/config/deployments"
    assert deployment.json["ref"] == COMMIT and deployment.json["environment"] == "dev"
    assert deployment.json["required_contexts"] == []
    assert deployment.headers["Authorization"] == "Bearer ghs_secret_token"
    assert deployment.headers["Accept"] == "application/vnd.github+json"
    assert status.path == "/repos/acme/config/deployments/77/statuses"
    assert status.json["state"] == "failure"
    assert status.json["log_url"] == "https://ci.example.com/run/7"
    assert commit_status.path == f"/repos/acme/config/statuses/{COMMIT}"
    assert commit_status.json["context"] == "gitdeploy/dev"
    assert commit_status.json["state"] == "failure"
    assert not any("ghs_secret_token" in line for line in lines)
