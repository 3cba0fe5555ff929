"""Who is deploying: the local user and host, the CI job (from the usual CI variables), and the
kube user when the API server says who it is (SelfSubjectReview)."""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Mapping

from gitdeploy.errors import KubeError
from gitdeploy.kube.client import KubeClient
from gitdeploy.objects.kinds import api_path
from gitdeploy.results.state import Identity

SELF_SUBJECT_REVIEWS = api_path("authentication.k8s.io/v1", "selfsubjectreviews")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def ci_job(environ: Mapping[str, str]) -> tuple[str, str]:
    """(description, URL) of the CI job this runs in, or ("", "")."""
    get = environ.get
    if get("GITHUB_ACTIONS") == "true":
        repo, run = get("GITHUB_REPOSITORY", ""), get("GITHUB_RUN_ID", "")
        url = f"{get('GITHUB_SERVER_URL', 'https://github.com')}/{repo}/actions/runs/{run}"
        return f"GitHub Actions {repo} run {run} by {get('GITHUB_ACTOR', '?')}", url
    if get("GITLAB_CI") == "true":
        return (f"GitLab CI {get('CI_PROJECT_PATH', '')} job {get('CI_JOB_ID', '')} by "
                f"{get('GITLAB_USER_LOGIN', '?')}", get("CI_JOB_URL", ""))
    if get("JENKINS_URL"):
        return f"Jenkins {get('JOB_NAME', '')} build {get('BUILD_NUMBER', '')}", get(
            "BUILD_URL", "")
    if get("BUILDKITE") == "true":
        return (f"Buildkite {get('BUILDKITE_PIPELINE_SLUG', '')} build "
                f"{get('BUILDKITE_BUILD_NUMBER', '')}", get("BUILDKITE_BUILD_URL", ""))
    if get("CIRCLECI") == "true":
        return (f"CircleCI {get('CIRCLE_PROJECT_REPONAME', '')} build "
                f"{get('CIRCLE_BUILD_NUM', '')}", get("CIRCLE_BUILD_URL", ""))
    if get("CI", "").lower() in {"true", "1", "yes"}:
        return "CI", ""
    return "", ""


def local_identity(environ: Mapping[str, str] | None = None) -> Identity:
    ci, url = ci_job(os.environ if environ is None else environ)
    return Identity(local_user=_user(), host=socket.gethostname(), ci=ci, ci_url=url)


def kube_user(client: KubeClient) -> str:
    """The user name the API server authenticates us as, or "" when it will not say (older
    servers, or RBAC without access to selfsubjectreviews)."""
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    try:
        answer = client.request("POST", SELF_SUBJECT_REVIEWS, body=review)
    except KubeError:
        return ""
    user = ((answer.get("status") or {}).get("userInfo") or {}).get("username")
    return str(user) if user else ""
