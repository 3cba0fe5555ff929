"""Pull-request comments of a report over several environments: the summary table first,
collapsed details per environment, split under GitHub's 65,536-character limit, each comment
with a stable marker (docs/fleet.md#pull-request-comments)."""

from __future__ import annotations

from typing import Any

from gitdeploy.output import fleet
from gitdeploy.output.fleet_markdown import COMMENT_LIMIT, comments, parse_marker


def plan_section(name: str, objects: int, diff_lines: int, state: str = "changes"
                 ) -> dict[str, Any]:
    diff = "".join(f"+  line {index}: {'x' * 60}\n" for index in range(diff_lines))
    changes = [{"action": "update", "apiVersion": "v1", "kind": "ConfigMap",
                "namespace": name, "name": f"config-{index}", "diff": diff, "drift": [],
                "conflicts": []} for index in range(objects)]
    summary = {"create": 0, "update": objects, "adopt": 0, "unchanged": 1, "delete": 0,
               "kept": 0, "changes": objects}
    return {"name": name, "state": state, "exitCode": 2, "wave": 0, "seconds": 0.1,
            "summary": summary, "error": None, "skipped": None,
            "document": {"kind": "Plan", "environment": name, "base": {"ref": "main"},
                         "summary": summary, "changes": changes}}


def failed_section(name: str) -> dict[str, Any]:
    return {"name": name, "state": "failed", "exitCode": 1, "wave": 0, "seconds": 0.0,
            "summary": None, "skipped": None, "document": None,
            "error": {"type": "TargetError", "message": "context 'x' | not found",
                      "details": ["check the kubeconfig"]}}


def test_a_small_report_is_one_comment_with_the_table_first() -> None:
    doc = fleet.build("diff", [plan_section("dev", 2, 3), failed_section("prod")],
                      base="origin/main")
    parts = comments(doc)
    assert len(parts) == 1
    body = parts[0]
    assert parse_marker(body) == ("diff", 1, 1)
    table = body.index("| environment | result |")
    assert table < body.index("<details><summary><b>dev</b>")
    assert "| `prod` | ❌ failed | - | - | - | - | - | context 'x' \\| not found |" in body
    assert "**TargetError**: context 'x' \\| not found" in body
    assert "2 environment(s): 1 with changes, 1 failed; exit code 1" in body


def test_a_long_report_is_split_under_the_limit_with_numbered_markers() -> None:
    sections = [plan_section(f"env-{index:02d}", 5, 80) for index in range(30)]
    doc = fleet.build("diff", sections)
    parts = comments(doc, key="preview")
    assert len(parts) > 3
    for index, part in enumerate(parts, start=1):
        assert len(part) < COMMENT_LIMIT
        assert parse_marker(part) == ("preview", index, len(parts))
    text = "".join(parts)
    assert text.index("| environment | result |") < text.index("<details>")
    for index in range(30):  # every environment, whole: nothing needed cutting
        assert f"<b>env-{index:02d}</b>" in text
    assert "cut to fit" not in text


def test_an_environment_larger_than_a_comment_has_its_longest_diffs_shortened() -> None:
    doc = fleet.build("diff", [plan_section("huge", 3, 2000), plan_section("small", 1, 2)])
    parts = comments(doc)
    assert all(len(part) < COMMENT_LIMIT for part in parts)
    text = "".join(parts)
    assert "cut to fit the comment limit" in text
    assert "run `gitdeploy diff huge` for the full output" in text
    assert "<b>small</b>" in text and "config-0" in text


def test_the_same_report_gives_the_same_comments() -> None:
    doc = fleet.build("diff", [plan_section("dev", 2, 3)])
    assert comments(doc) == comments(doc)
    assert parse_marker("no marker here") is None
