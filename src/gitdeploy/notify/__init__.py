"""Notifications after a deploy: Slack, Microsoft Teams, generic webhooks and GitHub deployment
and commit statuses (docs/notifications.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from gitdeploy.config.settings import NotifyTarget
from gitdeploy.notify.message import notice
from gitdeploy.notify.send import send_all
from gitdeploy.release_results import NotificationResult
from gitdeploy.results.apply import ApplyReport
from gitdeploy.state.identity import local_identity


def announce(targets: tuple[NotifyTarget, ...], report: ApplyReport, *, kind: str,
             duration: float, log: Callable[[str], None], warning: Callable[[str], None],
             environ: Mapping[str, str] | None = None) -> list[NotificationResult]:
    """Send the deploy's notice to every target; each failure becomes a warning, never an
    error: the deploy's outcome is what it is."""
    if not targets:
        return []
    identity = report.record.deployed_by if report.record else local_identity(environ)
    results = send_all(targets, notice(report, kind=kind, duration=duration,
                                       deployed_by=identity.describe(),
                                       ci_url=identity.ci_url),
                       log=log, environ=environ)
    for result in results:
        if result.error:
            warning(f"notification {result.target} failed: {result.error} (the deploy "
                    "itself is not affected)")
    return results
