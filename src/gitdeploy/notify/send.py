"""Send a finished deploy's notice to every target of the environment's `notify:` settings:
Slack, Teams, generic webhooks (HMAC-signed when a key is named) and GitHub (a deployment with
its status, and a commit status). URLs, tokens and keys come from the environment variables the
settings name. A failure is returned (and shown as a warning), never raised: a notification
never fails a deploy (docs/notifications.md)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from gitdeploy.config.settings import NotifyTarget
from gitdeploy.notify import message
from gitdeploy.notify.http import HttpClient, NotifyError
from gitdeploy.notify.message import DeployNotice
from gitdeploy.objects.secrets import SecretMasker, known
from gitdeploy.release_results import NotificationResult

SIGNATURE_HEADER = "X-Gitdeploy-Signature-256"
GITHUB_API = "https://api.github.com"
GITHUB_HEADERS = {"Accept": "application/vnd.github+json",
                  "X-GitHub-Api-Version": "2022-11-28"}


def send_all(targets: tuple[NotifyTarget, ...], notice: DeployNotice, *,
             log: Callable[[str], None], environ: Mapping[str, str] | None = None
             ) -> list[NotificationResult]:
    env = os.environ if environ is None else environ
    return [_send(target, notice, log, env) for target in targets]


def _send(target: NotifyTarget, notice: DeployNotice, log: Callable[[str], None],
          environ: Mapping[str, str]) -> NotificationResult:
    name = f"{target.type} ({target.where})"
    if notice.event not in target.events:
        return NotificationResult(name, sent=False, skipped=f"not sent on {notice.event}")
    secrets = [environ.get(v, "") for v in (target.url_from, target.secret_from,
                                            target.token_from if target.type == "github"
                                            else "") if v]
    masker = known() | SecretMasker([s for s in secrets if s])
    try:
        if target.type == "github":
            _github(target, notice, environ, HttpClient(target.timeout, log, masker))
        else:
            _webhook(target, notice, environ, HttpClient(target.timeout, log, masker))
    except NotifyError as error:
        return NotificationResult(name, sent=False, error=masker.mask_text(error.message))
    except _Skipped as skipped:
        return NotificationResult(name, sent=False, skipped=str(skipped))
    return NotificationResult(name, sent=True)


class _Skipped(Exception):
    pass


def _variable(environ: Mapping[str, str], variable: str, what: str) -> str:
    value = environ.get(variable, "").strip()
    if not value:
        raise NotifyError(f"${variable} ({what}) is not set")
    return value


def _webhook(target: NotifyTarget, notice: DeployNotice, environ: Mapping[str, str],
             client: HttpClient) -> None:
    url = _variable(environ, target.url_from, "the webhook URL")
    document: dict[str, Any] = {"slack": message.slack, "teams": message.teams,
                                "webhook": message.webhook}[target.type](notice)
    body = json.dumps(document).encode("utf-8")
    headers: dict[str, str] = {}
    if target.secret_from:
        key = _variable(environ, target.secret_from, "the signing key")
        headers[SIGNATURE_HEADER] = "sha256=" + hmac.new(key.encode("utf-8"), body,
                                                         hashlib.sha256).hexdigest()
    client.post(url, document, headers=headers, body=body,
                secret_path=True)  # a webhook URL holds its token


def _github(target: NotifyTarget, notice: DeployNotice, environ: Mapping[str, str],
            client: HttpClient) -> None:
    """A deployment of the commit to the environment with its status, and a commit status
    (GitHub's REST API, as in GitHub Actions: GITHUB_TOKEN, GITHUB_REPOSITORY,
    GITHUB_API_URL)."""
    if not notice.commit:
        raise _Skipped("the deploy is not of a commit")
    token = _variable(environ, target.token_from, "the GitHub token")
    repository = target.repository or environ.get("GITHUB_REPOSITORY", "")
    if not repository:
        raise NotifyError("no repository: set notify[].repository or $GITHUB_REPOSITORY")
    api = (target.api_url or environ.get("GITHUB_API_URL") or GITHUB_API).rstrip("/")
    headers = {**GITHUB_HEADERS, "Authorization": f"Bearer {token}"}
    state = "success" if notice.succeeded else ("error" if notice.outcome ==
                                                message.INTERRUPTED else "failure")
    description = f"{notice.outcome}: {notice.counts_text()}"[:140]
    deployment = client.post(f"{api}/repos/{repository}/deployments", {
        "ref": notice.commit, "environment": notice.environment, "auto_merge": False,
        "required_contexts": [], "description": f"gitdeploy {notice.kind}"[:140],
        "payload": {"record": notice.record or None}}, headers=headers)
    deployment_id = (deployment.body or {}).get("id") if isinstance(deployment.body,
                                                                       dict) else None
    if deployment_id is None:
        raise NotifyError("GitHub did not return the deployment's id")
    status: dict[str, Any] = {"state": state, "description": description,
                              "environment": notice.environment}
    if notice.ci_url:
        status["log_url"] = notice.ci_url
    client.post(f"{api}/repos/{repository}/deployments/{deployment_id}/statuses", status,
                headers=headers)
    commit_status: dict[str, Any] = {"state": "success" if notice.succeeded else "failure",
                                     "description": description,
                                     "context": f"gitdeploy/{notice.environment}"}
    if notice.ci_url:
        commit_status["target_url"] = notice.ci_url
    client.post(f"{api}/repos/{repository}/statuses/{notice.commit}", commit_status,
                headers=headers)
