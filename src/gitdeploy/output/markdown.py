"""Markdown for pull-request comments: a summary table, then one collapsible block per changed
object, kept under GitHub's comment limit by shortening the longest diffs first. Secret values
are already masked in every diff."""

from __future__ import annotations

from gitdeploy.output.fieldnotes import change_notes, plan_notes
from gitdeploy.results import Action
from gitdeploy.results.apply import ApplyReport
from gitdeploy.results.plan import Change, Plan
from gitdeploy.results.state import OrphanReport

COMMENT_LIMIT = 65_536  # characters GitHub accepts in a comment
_RESERVE = 400  # room for the truncation notes
OMITTED = "(diff left out to fit the comment limit)\n"


def _block(change: Change, diff: str) -> str:
    fence = "````" if "```" in diff else "```"
    extra = f" ({change.kept})" if change.kept else ""
    notes = "".join(f"- {label}: {_cell(text)}\n" for label, text in change_notes(change))
    return (f"<details><summary><code>{change.action.value}</code> "
            f"{change.title()}{extra}</summary>\n\n{notes}{chr(10) if notes else ''}"
            f"{fence}diff\n{diff}{fence}\n\n</details>\n")


def truncate(diff: str, keep: int) -> str:
    """The first lines of `diff` that fit in `keep` characters, and how many were cut."""
    lines = diff.splitlines(keepends=True)
    kept, size = [], 0
    for line in lines:
        if size + len(line) > keep:
            break
        kept.append(line)
        size += len(line)
    dropped = len(lines) - len(kept)
    return "".join(kept) + f"... {dropped} more line(s) cut to fit the comment limit\n"


def plan(plan: Plan, orphans: OrphanReport | None = None, limit: int = COMMENT_LIMIT) -> str:
    source = plan.source.describe()
    where = (f"Offline diff (no cluster): `{plan.base.describe()}` to `{source}`."
             if plan.base is not None else
             f"Context `{plan.target.context}`, commit `{source}`.")
    head = [f"### gitdeploy diff: `{plan.environment}`", "", where, ""]
    if plan.variables:  # names and where their values came from, never the values
        head += ["Variables: " + ", ".join(f"`{_cell(v)}`" for v in plan.variables), ""]
    head += ["| action | objects |", "|---|---:|"]
    head += [f"| {action.value} | {plan.count(action)} |" for action in Action]
    pending = plan.pending
    head += ["", f"**{len(pending)} change(s)**" if pending else "**No changes.**", ""]
    if plan.to_delete and not plan.prune and plan.base is None:
        head += ["Deletions are shown but not applied: pruning is off.", ""]
    for line in plan_notes(plan):
        head += [f"_{_cell(line)}_", ""]
    tail = _orphans(orphans) if orphans is not None else ""
    budget = limit - len("\n".join(head)) - len(tail) - _RESERVE
    blocks, cut = _fit(pending, budget)
    note = (f"\n_{cut} diff(s) shortened or left out to stay under GitHub's {limit:,}-character "
            "comment limit; run `gitdeploy diff` for the full output._\n") if cut else ""
    return "\n".join(head) + "".join(blocks) + note + tail


def _fit(changes: list[Change], budget: int) -> tuple[list[str], int]:
    """One block per change, the longest diffs shortened first until all fit in `budget`."""
    diffs = [change.diff for change in changes]
    blocks = [_block(c, d) for c, d in zip(changes, diffs, strict=True)]
    shortened: set[int] = set()
    while sum(map(len, blocks)) > budget:
        longest = max(range(len(diffs)), key=lambda i: len(diffs[i]))
        excess = sum(map(len, blocks)) - budget
        if len(diffs[longest]) <= len(OMITTED):
            break  # every diff is already as short as it gets
        keep = len(diffs[longest]) - excess - 100
        diffs[longest] = truncate(diffs[longest], keep) if keep > 200 else OMITTED
        blocks[longest] = _block(changes[longest], diffs[longest])
        shortened.add(longest)
    while blocks and sum(map(len, blocks)) > budget:  # too many objects even without diffs
        blocks.pop()
    dropped = len(changes) - len(blocks)
    if dropped:
        blocks.append(f"\n... and {dropped} more object(s) not shown.\n")
    shown_shortened = sum(1 for index in shortened if index < len(changes) - dropped)
    return blocks, shown_shortened + dropped


def apply_report(report: ApplyReport) -> str:
    env = report.plan.environment
    lines = [f"### gitdeploy apply: `{env}`", ""]
    if report.record is not None:
        record = report.record
        lines += [f"{record.kind.capitalize()} {record.sequence} of commit `{record.short}`"
                  f"{' (dirty)' if record.dirty else ''}: **{record.outcome}**.", ""]
    if report.results:
        lines += ["| result | action | object | error |", "|---|---|---|---|"]
        lines += [f"| {r.outcome.value} | {r.change.action.value} | {r.change.title()} | "
                  f"{_cell(r.error)} |" for r in report.results]
    else:
        lines.append("Nothing to apply.")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:500]


def _orphans(report: OrphanReport) -> str:
    lines = ["", f"#### Orphans in {', '.join(report.namespaces)}", ""]
    if not report.orphans:
        lines.append("None.")
    else:
        lines += ["| kind | namespace | name | written by |", "|---|---|---|---|"]
        lines += [f"| {o.kind} | {o.namespace} | {o.name} | {', '.join(o.managers) or '-'} |"
                  for o in report.orphans]
    lines += [f"- not checked: {line}" for line in report.unchecked]
    return "\n".join(lines) + "\n"
