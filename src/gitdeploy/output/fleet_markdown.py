"""Pull-request comments of a run over several environments, made from its `FleetReport`
document: a summary table of every environment first, then one collapsed block per
environment with its changed objects' diffs (Secret values are masked in the document).

A comment may hold 65,536 characters: the report is split into as many comments as it needs,
each starting with the marker `<!-- gitdeploy-report:KEY part I of N -->`, so that a CI step
finds the comments it posted before (by the marker's KEY) and updates them in place instead of
adding new ones (fleet/publish.py). An environment's block that does not fit in one comment
has its longest diffs shortened first."""

from __future__ import annotations

import re
from typing import Any

from gitdeploy.output.fleet import ACTIONS, rows, totals
from gitdeploy.output.markdown import truncate

COMMENT_LIMIT = 65_536  # characters GitHub accepts in a comment
MARKER_PREFIX = "<!-- gitdeploy-report:"
_MARKER = re.compile(r"<!-- gitdeploy-report:(?P<key>[A-Za-z0-9_.-]+) part (?P<part>\d+) of "
                     r"(?P<parts>\d+) -->")
_MARKER_ROOM = 80  # the longest marker line, with the part numbers
OMITTED = "(diff left out to fit the comment limit)\n"
STATE_ICON = {"ok": "✅", "changes": "🟡", "not-ready": "⏳", "failed": "❌",
              "interrupted": "⛔", "skipped": "⏭️"}


def marker(key: str, part: int, parts: int) -> str:
    return f"{MARKER_PREFIX}{key} part {part} of {parts} -->"


def parse_marker(body: str) -> tuple[str, int, int] | None:
    """(key, part, parts) of a comment that starts with a marker, else None."""
    found = _MARKER.match(body.lstrip())
    if found is None:
        return None
    return found.group("key"), int(found.group("part")), int(found.group("parts"))


def check_key(key: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", key):
        raise ValueError(f"a report key is 1-40 letters, digits, '.', '_' or '-', not {key!r}")
    return key


def comments(doc: dict[str, Any], *, key: str = "", limit: int = COMMENT_LIMIT
             ) -> list[str]:
    """The report as comments, each under `limit` characters, each starting with its marker
    (whose key is the command, e.g. `diff`, unless given)."""
    key = check_key(key or str(doc["command"]))
    budget = limit - _MARKER_ROOM - 2
    pieces = [_title(doc), *_table(doc, budget), *(_environment(s, budget)
                                                   for s in doc["environments"])]
    parts: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + len(piece) > budget:
            parts.append(current)
            current = ""
        current += piece
    parts.append(current)
    total = len(parts)
    return [f"{marker(key, index, total)}\n"
            + (f"_gitdeploy {doc['command']}, continued ({index} of {total})._\n\n"
               if index > 1 else "") + body
            for index, body in enumerate(parts, start=1)]


def _title(doc: dict[str, Any]) -> str:
    count = len(doc["environments"])
    lines = [f"### gitdeploy {doc['command']}: {count} environment(s)", ""]
    how = []
    if doc.get("selection"):
        how.append(f"selected by `{_code(doc['selection'])}`")
    if doc.get("base"):
        how.append(f"compared with `{_code(doc['base'])}`")
    if how:
        text = ", ".join(how)
        lines += [text[0].upper() + text[1:] + ".", ""]
    lines += [f"_{line}_" for line in doc.get("notes") or []]
    if not count:
        lines += ["**No environment selected: nothing changes.**", ""]
    return "\n".join(lines) + "\n"


def _table(doc: dict[str, Any], budget: int) -> list[str]:
    """The summary table, in pieces that each fit a comment (each with the table's head)."""
    if not doc["environments"]:
        return []
    head = ("| environment | result | " + " | ".join(ACTIONS) + " | |\n"
            + "|---|---|" + "---:|" * len(ACTIONS) + "---|\n")
    lines = []
    for row in rows(doc):
        counts = " | ".join("-" if row.counts[a] is None else str(row.counts[a])
                            for a in ACTIONS)
        lines.append(f"| `{_code(row.environment)}` | {STATE_ICON.get(row.state, '')} "
                     f"{row.state} | {counts} | {_cell(row.detail)} |\n")
    tail = f"\n**{totals(doc)}**\n\n"
    pieces, current = [], head
    for line in lines:
        if len(current) + len(line) + len(tail) > budget // 2:
            pieces.append(current + "\n")
            current = head
        current += line
    pieces.append(current + tail)
    return pieces


def _environment(s: dict[str, Any], budget: int) -> str:
    """One environment's collapsed block: its error, or its changed objects' diffs."""
    inner = s.get("document") or {}
    changes = [c for c in inner.get("changes") or inner.get("results") or []
               if c.get("action") != "unchanged" and not c.get("kept")]
    if inner.get("kind") == "Status":
        changes = list((inner.get("drift") or {}).get("changes") or [])
    summary = f"<b>{_html(s['name'])}</b>: {s['state']}"
    if s.get("summary"):
        summary += f", {s['summary'].get('changes', 0)} change(s)"
    head = f"<details><summary>{summary}</summary>\n\n"
    if s.get("error"):
        head += f"**{_html(s['error']['type'])}**: {_cell(s['error']['message'])}\n\n"
        head += "".join(f"- {_cell(line)}\n" for line in s["error"].get("details") or [])
        head += "\n" if s["error"].get("details") else ""
    if s.get("skipped"):
        head += f"{_cell(s['skipped'])}\n\n"
    if inner.get("kind") == "Plan" and inner.get("base") is None and inner.get("target"):
        target = inner["target"]
        head += (f"Context `{_code(target.get('context', ''))}`, commit "
                 f"`{_code(str((inner.get('source') or {}).get('commit') or '')[:7])}`.\n\n")
    if not changes and not s.get("error") and not s.get("skipped"):
        head += "No changes.\n\n"
    tail = "</details>\n\n"
    diffs = [str(c.get("diff") or "") for c in changes]
    room = budget - len(head) - len(tail) - 200
    blocks = [_object(c, d) for c, d in zip(changes, diffs, strict=True)]
    shortened = 0
    while blocks and sum(map(len, blocks)) > room:
        longest = max(range(len(diffs)), key=lambda i: len(diffs[i]))
        if len(diffs[longest]) <= len(OMITTED):
            break
        keep = len(diffs[longest]) - (sum(map(len, blocks)) - room) - 100
        diffs[longest] = truncate(diffs[longest], keep) if keep > 200 else OMITTED
        blocks[longest] = _object(changes[longest], diffs[longest])
        shortened += 1
    dropped = 0
    while blocks and sum(map(len, blocks)) > room:
        blocks.pop()
        dropped += 1
    note = ""
    if dropped:
        note += f"\n... and {dropped} more object(s) not shown.\n"
    if shortened or dropped:
        note += ("\n_Diffs shortened to fit the comment limit; run `gitdeploy diff "
                 f"{_code(s['name'])}` for the full output._\n\n")
    return head + "".join(blocks) + note + tail


def _object(change: dict[str, Any], diff: str) -> str:
    title = change["kind"] + " " + (f"{change['namespace']}/" if change.get("namespace")
                                    else "") + change["name"]
    action = change.get("action", "")
    if change.get("outcome"):
        action = f"{change['outcome']}: {action}"
    notes = [f"- drift: `{_code(d['field'])}` by {_html(d['manager'])}"
             for d in change.get("drift") or []]
    notes += [f"- conflict: `{_code(c['field'])}` held by {_html(c['manager'])} "
              f"({c['resolution']})" for c in change.get("conflicts") or []]
    if change.get("error"):
        notes.append(f"- error: {_cell(change['error'])}")
    fence = "````" if "```" in diff else "```"
    body = "\n".join(notes) + ("\n\n" if notes else "")
    if diff:
        body += f"{fence}diff\n{diff}{'' if diff.endswith(chr(10)) else chr(10)}{fence}\n"
    return (f"<details><summary><code>{_html(action)}</code> {_html(title)}</summary>\n\n"
            f"{body}\n</details>\n")


def _cell(text: str) -> str:
    return _html(text).replace("|", "\\|").replace("\n", " ")[:500]


def _code(text: str) -> str:
    return text.replace("`", "'")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
