"""Pull-request comments of a report (`gitdeploy report publish`): the one wrapper for the
comments APIs of GitHub (issue comments of a pull request) and GitLab (notes of a merge
request). The comments this step posted before are found by their marker
(output/fleet_markdown.py: `<!-- gitdeploy-report:KEY part I of N -->`) and updated in place,
in part order; parts beyond them are added, and old parts beyond the new count are deleted, so
that a pull request keeps one set of comments per KEY however often the pipeline runs.

Where to post comes from the CI job's environment: GitHub's `GITHUB_API_URL`,
`GITHUB_REPOSITORY`, `GITHUB_EVENT_PATH` (the pull request's number) and a token
(`GITHUB_TOKEN`); GitLab's `CI_API_V4_URL`, `CI_PROJECT_ID`, `CI_MERGE_REQUEST_IID` and a
token (`GITLAB_TOKEN`, sent as PRIVATE-TOKEN; or `CI_JOB_TOKEN`). The token never appears in
messages or in the `-v` log."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import urllib3

from gitdeploy.errors import GitdeployError

USER_AGENT = "gitdeploy"
PAGE_SIZE = 100
MAX_PAGES = 50


class PublishError(GitdeployError):
    """The comments could not be read or written."""


@dataclass
class Published:
    """What `publish` did: comment ids updated, created, deleted and left as they were."""

    updated: list[int] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    where: str = ""


@dataclass(frozen=True)
class Target:
    """A pull request's (or merge request's) comments API."""

    provider: str  # github | gitlab
    list_url: str  # the comments of the pull request (GET, and POST to add one)
    item_url: str  # one comment, with {id}
    update_method: str  # PATCH (GitHub) | PUT (GitLab)
    headers: dict[str, str]
    where: str  # "acme/config#12", for messages


def github_target(environ: Mapping[str, str], *, number: int | None = None,
                  token_variable: str = "GITHUB_TOKEN") -> Target:
    api = environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    repository = environ.get("GITHUB_REPOSITORY", "")
    if not repository:
        raise PublishError("GITHUB_REPOSITORY is not set: run in GitHub Actions, or set it "
                           "to owner/name")
    if number is None:
        number = _github_number(environ)
    token = environ.get(token_variable, "")
    if not token:
        raise PublishError(f"{token_variable} is not set: the comments API needs a token",
                           ["in the workflow: env: {GITHUB_TOKEN: ${{ github.token }}}, with "
                            "permissions: pull-requests: write"])
    base = f"{api}/repos/{repository}/issues"
    return Target("github", f"{base}/{number}/comments", f"{base}/comments/{{id}}", "PATCH",
                  {"Authorization": f"Bearer {token}",
                   "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": "2022-11-28"}, f"{repository}#{number}")


def _github_number(environ: Mapping[str, str]) -> int:
    path = environ.get("GITHUB_EVENT_PATH", "")
    try:
        with open(path, encoding="utf-8") as file:
            event = json.load(file)
    except (OSError, ValueError):
        event = {}
    number = (event.get("pull_request") or {}).get("number") or event.get("number")
    if not isinstance(number, int):
        raise PublishError("no pull request number: the event (GITHUB_EVENT_PATH) is not a "
                           "pull request's", ["pass --pr NUMBER"])
    return number


def gitlab_target(environ: Mapping[str, str], *, number: int | None = None,
                  token_variable: str = "GITLAB_TOKEN") -> Target:
    api = environ.get("CI_API_V4_URL", "").rstrip("/")
    project = environ.get("CI_PROJECT_ID", "")
    if not api or not project:
        raise PublishError("CI_API_V4_URL and CI_PROJECT_ID are not set: run in GitLab CI")
    if number is None:
        text = environ.get("CI_MERGE_REQUEST_IID", "")
        if not text.isdigit():
            raise PublishError("CI_MERGE_REQUEST_IID is not set: run in a merge request "
                               "pipeline", ["pass --pr NUMBER"])
        number = int(text)
    token = environ.get(token_variable, "")
    if token:
        headers = {"PRIVATE-TOKEN": token}
    elif environ.get("CI_JOB_TOKEN"):
        headers = {"JOB-TOKEN": environ["CI_JOB_TOKEN"]}
    else:
        raise PublishError(f"{token_variable} is not set: the notes API needs a token with "
                           "the api scope (a project access token in a masked variable)")
    base = f"{api}/projects/{quote(project, safe='')}/merge_requests/{number}/notes"
    return Target("gitlab", base, f"{base}/{{id}}", "PUT", headers,
                  f"project {project} !{number}")


class Client:
    """JSON over HTTP, with a timeout and a few retries of what passes (connection errors,
    429, 5xx)."""

    def __init__(self, target: Target, *, timeout: float = 30.0,
                 log: Callable[[str], None] = lambda line: None, attempts: int = 3) -> None:
        self.target, self.log, self.attempts = target, log, attempts
        self.pool = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(
            connect=timeout, read=timeout))

    def call(self, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
        headers = {"User-Agent": USER_AGENT, **self.target.headers}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        for attempt in range(1, self.attempts + 1):
            started = time.monotonic()
            try:
                answer = self.pool.request(method, url, body=data, headers=headers,
                                           redirect=False)
            except urllib3.exceptions.HTTPError as error:
                self.log(f"{method} {url} failed: {type(error).__name__}")
                if attempt == self.attempts:
                    raise PublishError(f"{method} {url}: {type(error).__name__}") from None
                time.sleep(0.5 * attempt)
                continue
            self.log(f"{method} {url} {answer.status} "
                     f"{(time.monotonic() - started) * 1000:.0f}ms")
            if answer.status in (429, 500, 502, 503, 504) and attempt < self.attempts:
                time.sleep(0.5 * attempt)
                continue
            if answer.status >= 400:
                raise PublishError(f"{method} {url}: {answer.status} {_message(answer.data)}",
                                   _hints(self.target, answer.status))
            return json.loads(answer.data) if answer.data else None
        raise PublishError(f"{method} {url}: no answer")  # not reached

    def comments(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            batch = self.call("GET", f"{self.target.list_url}?per_page={PAGE_SIZE}&page={page}")
            if not isinstance(batch, list):
                raise PublishError(f"GET {self.target.list_url}: not a list of comments")
            found.extend(batch)
            if len(batch) < PAGE_SIZE:
                break
        return found


def _message(data: bytes) -> str:
    try:
        answer = json.loads(data)
    except ValueError:
        return data[:200].decode("utf-8", errors="replace")
    if isinstance(answer, dict):
        return str(answer.get("message") or answer.get("error") or "")[:200]
    return ""


def _hints(target: Target, status: int) -> list[str]:
    if status in (401, 403):
        return ["the token may not write comments: give the job permissions: pull-requests: "
                "write" if target.provider == "github" else
                "the token may not write notes: use a token with the api scope"]
    if status == 404:
        return [f"no such pull request or repository: {target.where}"]
    return []


def publish(client: Client, parts: list[str], key: str,
            parse: Callable[[str], tuple[str, int, int] | None]) -> Published:
    """Post `parts` in order, updating the comments a previous run posted under `key`."""
    ours = []
    for comment in client.comments():
        marker = parse(str(comment.get("body") or ""))
        if marker is not None and marker[0] == key:
            ours.append((marker[1], int(comment["id"]), str(comment.get("body") or "")))
    ours.sort()
    done = Published(where=client.target.where)
    for index, body in enumerate(parts):
        if index < len(ours):
            _, comment_id, old = ours[index]
            if old == body:
                done.unchanged.append(comment_id)
                continue
            client.call(client.target.update_method,
                        client.target.item_url.format(id=comment_id), {"body": body})
            done.updated.append(comment_id)
        else:
            answer = client.call("POST", client.target.list_url, {"body": body})
            done.created.append(int((answer or {}).get("id", 0)))
    for _, comment_id, _ in ours[len(parts):]:
        client.call("DELETE", client.target.item_url.format(id=comment_id))
        done.deleted.append(comment_id)
    return done
