"""What a deploy notification says, and how each service wants it said: a Slack incoming
webhook's `text` and blocks, a Microsoft Teams workflow's Adaptive Card, and gitdeploy's own
JSON document for generic webhooks (docs/notifications.md). Never a Secret value: only counts,
names, the commit and the (masked) reason of a failure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitdeploy.objects.secrets import SecretMasker, known
from gitdeploy.results import API_VERSION, Outcome
from gitdeploy.results.apply import ApplyReport

SUCCEEDED, FAILED, NOT_READY, INTERRUPTED = "succeeded", "failed", "not ready", "interrupted"
MAX_REASONS = 5


@dataclass(frozen=True)
class DeployNotice:
    environment: str
    kind: str  # deploy | rollback
    outcome: str  # SUCCEEDED | FAILED | NOT_READY | INTERRUPTED
    commit: str  # full SHA, "" when not from a commit
    ref: str
    subject: str
    author: str
    deployed_by: str
    counts: dict[str, int]
    duration: float  # seconds, from the start of the deploy to the end of the wait
    ci_url: str = ""
    record: int = 0  # the deploy record's number, 0 when none was written
    reasons: tuple[str, ...] = field(default=())  # why it failed, masked

    @property
    def succeeded(self) -> bool:
        return self.outcome == SUCCEEDED

    @property
    def event(self) -> str:
        """The `events` of the settings this notice is for."""
        return "success" if self.succeeded else "failure"

    @property
    def short(self) -> str:
        return self.commit[:7] if self.commit else "no commit"

    def headline(self) -> str:
        what = "Rollback of" if self.kind == "rollback" else "Deploy to"
        return f"{what} {self.environment} {self.outcome}: {self.short} {self.subject}".rstrip()

    def counts_text(self) -> str:
        return ", ".join(f"{count} {name}" for name, count in self.counts.items() if count) \
            or "no changes"


def notice(report: ApplyReport, *, kind: str, duration: float, deployed_by: str,
           ci_url: str) -> DeployNotice:
    """The notice of a finished deploy (apply, record, readiness)."""
    plan, readiness = report.plan, report.readiness
    reasons: list[str] = []
    if report.interrupted:
        outcome = INTERRUPTED
        reasons.append(f"interrupted by {report.interrupted}")
    elif not report.succeeded:
        outcome = FAILED
        reasons.extend(f"{r.change.title()}: {r.error}" for r in report.results if r.error)
    elif report.problems:
        outcome = FAILED
    elif readiness is not None and not readiness.ready:
        outcome = NOT_READY
        reasons.extend(f"{item.title}: {item.readiness.message}"
                       for item in readiness.not_ready)
    else:
        outcome = SUCCEEDED
    reasons.extend(report.problems)
    # the server's and the engines' messages may quote what a Secret holds
    masker = known() | SecretMasker.of_secrets([c.manifest.body for c in plan.changes])
    reasons = masker.mask_lines(reasons)
    counts = {
        "created": sum(1 for r in report.results if r.outcome is Outcome.APPLIED
                       and r.change.action.value == "create"),
        "updated": sum(1 for r in report.results if r.outcome is Outcome.APPLIED
                       and r.change.action.value != "create"),
        "deleted": report.count(Outcome.DELETED),
        "failed": report.count(Outcome.FAILED),
    }
    source = plan.source
    return DeployNotice(
        environment=plan.environment, kind=kind, outcome=outcome, commit=source.commit or "",
        ref=source.ref_name, subject=masker.mask_text(source.subject), author=source.author,
        deployed_by=deployed_by, counts=counts, duration=round(duration, 1), ci_url=ci_url,
        record=report.record.sequence if report.record else 0,
        reasons=tuple(reasons[:MAX_REASONS]))


def _facts(notice: DeployNotice) -> list[tuple[str, str]]:
    facts = [("Environment", notice.environment), ("Outcome", notice.outcome),
             ("Commit", f"{notice.short} {notice.subject}".strip()),
             ("Author", notice.author or "-"), ("Deployed by", notice.deployed_by),
             ("Changes", notice.counts_text()), ("Duration", f"{notice.duration:.0f}s")]
    if notice.reasons:
        facts.append(("Reason", "; ".join(notice.reasons)))
    return facts


def slack(notice: DeployNotice) -> dict[str, Any]:
    """A Slack incoming webhook's message: `text` (notifications, fallbacks) and blocks."""
    icon = ":white_check_mark:" if notice.succeeded else ":x:"
    fields = [{"type": "mrkdwn", "text": f"*{name}*\n{_slack_escape(value)}"}
              for name, value in _facts(notice) if name != "Reason"]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn",
                                     "text": f"{icon} *{_slack_escape(notice.headline())}*"}},
        {"type": "section", "fields": fields[:10]},
    ]
    if notice.reasons:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "*Reason*\n" + (
            "\n".join(f"• {_slack_escape(r)}" for r in notice.reasons))}})
    if notice.ci_url:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"<{notice.ci_url}|CI job>"}]})
    return {"text": f"{icon} {notice.headline()}", "blocks": blocks}


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def teams(notice: DeployNotice) -> dict[str, Any]:
    """A Microsoft Teams workflow webhook's message: one Adaptive Card."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": notice.headline(), "weight": "Bolder", "size": "Medium",
         "wrap": True, "color": "Good" if notice.succeeded else "Attention"},
        {"type": "FactSet", "facts": [{"title": name, "value": value}
                                      for name, value in _facts(notice)]},
    ]
    card: dict[str, Any] = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                            "type": "AdaptiveCard", "version": "1.4", "body": body}
    if notice.ci_url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "CI job", "url": notice.ci_url}]
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
         "content": card}]}


def webhook(notice: DeployNotice) -> dict[str, Any]:
    """gitdeploy's own document, for generic webhooks (docs/notifications.md)."""
    return {"apiVersion": API_VERSION, "kind": "DeployNotification",
            "environment": notice.environment, "type": notice.kind, "outcome": notice.outcome,
            "succeeded": notice.succeeded, "commit": notice.commit or None, "ref": notice.ref,
            "subject": notice.subject, "author": notice.author,
            "deployedBy": notice.deployed_by, "counts": notice.counts,
            "durationSeconds": notice.duration, "ciUrl": notice.ci_url or None,
            "record": notice.record or None, "reasons": list(notice.reasons)}
