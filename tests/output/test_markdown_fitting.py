"""Markdown for pull-request comments: the plan (summary table, one collapsible diff per change,
kept under the comment limit by shortening the longest diffs first) and the apply report."""

from __future__ import annotations

import re

import pytest

from gitdeploy.output import markdown
from gitdeploy.results import Action, Outcome
from gitdeploy.results.plan import Change, Plan
from gitdeploy.results.state import FAILED, ROLLBACK, Orphan, OrphanReport
from tests import builders

LINE = "v" * 40


def diff(name: str, lines: int) -> str:
    """A create diff of `lines` added lines of 55 characters each."""
    head = (f"--- live/ConfigMap/shop/{name}\n+++ git/ConfigMap/shop/{name}\n"
            f"@@ -0,0 +1,{lines} @@\n")
    return head + "".join(f"+  key-{i:04d}: {LINE}\n" for i in range(lines))


def changed(name: str, lines: int, action: Action = Action.UPDATE) -> Change:
    return builders.change("ConfigMap", name, action=action, diff=diff(name, lines))


def block_of(text: str, title: str) -> str:
    """The collapsible block of one object."""
    match = re.search(rf"<details><summary><code>\w+</code> {re.escape(title)}</summary>\n"
                      r".*?</details>\n", text, re.DOTALL)
    assert match is not None, f"no block for {title}"
    return match.group(0)


SUMMARY = ("| action | objects |\n|---|---:|\n| create | 1 |\n| update | 2 |\n| adopt | 0 |\n"
           "| unchanged | 1 |\n| delete | 1 |\n")


def mixed() -> Plan:
    return builders.plan([
        changed("big", 400),
        changed("medium", 60),
        changed("small", 3, Action.CREATE),
        builders.change("ConfigMap", "same", action=Action.UNCHANGED),
        builders.delete("ConfigMap", "old"),
    ])


def test_a_plan_that_fits_is_shown_whole() -> None:
    text = markdown.plan(mixed())
    assert text.startswith("### gitdeploy diff: `dev`\n\nContext `kind-dev`, commit "
                           "`1a2b3c4`.\n\n")
    assert SUMMARY in text
    assert "**4 change(s)**" in text
    assert "Deletions are shown but not applied: pruning is off." in text
    assert diff("big", 400) in block_of(text, "ConfigMap shop/big")
    assert block_of(text, "ConfigMap shop/small").startswith(
        "<details><summary><code>create</code> ConfigMap shop/small</summary>\n\n```diff\n")
    assert "<code>delete</code> ConfigMap shop/old" in text
    assert "shop/same" not in text  # unchanged objects have no block
    assert "cut to fit" not in text and "shortened" not in text


@pytest.mark.parametrize("limit", [20_000, 12_000, 8_000, 5_000, 3_000])
def test_the_comment_stays_under_the_limit_and_keeps_the_summary(limit: int) -> None:
    text = markdown.plan(mixed(), limit=limit)
    assert len(text) <= limit
    assert SUMMARY in text
    assert "**4 change(s)**" in text
    assert (f"to stay under GitHub's {limit:,}-character comment limit; run `gitdeploy diff` "
            "for the full output._") in text


def test_the_longest_diff_is_shortened_first() -> None:
    text = markdown.plan(mixed(), limit=12_000)
    big = block_of(text, "ConfigMap shop/big")
    assert "cut to fit the comment limit" in big
    assert diff("medium", 60) in block_of(text, "ConfigMap shop/medium")
    assert diff("small", 3) in block_of(text, "ConfigMap shop/small")
    assert "_1 diff(s) shortened or left out" in text


def test_a_shortened_diff_keeps_its_first_lines_and_says_how_many_were_cut() -> None:
    text = markdown.plan(mixed(), limit=12_000)
    big = block_of(text, "ConfigMap shop/big")
    body = big.split("```diff\n", 1)[1].split("```", 1)[0]
    shown = body.splitlines()[:-1]
    match = re.fullmatch(r"\.\.\. (\d+) more line\(s\) cut to fit the comment limit",
                         body.splitlines()[-1])
    assert match is not None
    assert diff("big", 400).startswith("\n".join(shown) + "\n")
    assert len(shown) + int(match.group(1)) == len(diff("big", 400).splitlines())


def test_diffs_too_long_to_shorten_are_left_out_longest_first() -> None:
    text = markdown.plan(mixed(), limit=2_500)
    assert len(text) <= 2_500
    assert "(diff left out to fit the comment limit)" in block_of(text, "ConfigMap shop/big")
    assert diff("small", 3) in block_of(text, "ConfigMap shop/small")
    assert "+  key-0000" in block_of(text, "ConfigMap shop/medium")


def test_objects_are_left_out_when_even_empty_blocks_do_not_fit() -> None:
    plan = builders.plan([changed(f"cm-{n:02d}", 2) for n in range(30)])
    text = markdown.plan(plan, limit=2_000)
    assert len(text) <= 2_000
    shown = text.count("<details>")
    assert 0 < shown < 30
    assert f"\n... and {30 - shown} more object(s) not shown.\n" in text
    assert "<code>update</code> ConfigMap shop/cm-00" in text  # the first ones stay
    assert "ConfigMap shop/cm-29" not in text
    assert "| update | 30 |" in text
    assert "**30 change(s)**" in text


def test_the_note_counts_each_object_once() -> None:
    plan = builders.plan([changed(f"cm-{n:02d}", 2) for n in range(30)])
    text = markdown.plan(plan, limit=3_000)
    shown = text.count("<details>")
    assert text.count("(diff left out to fit the comment limit)") == shown
    assert f"... and {30 - shown} more object(s) not shown." in text
    match = re.search(r"_(\d+) diff\(s\) shortened or left out", text)
    assert match is not None
    assert int(match.group(1)) == 30  # every object: its diff left out, or not shown at all


def test_a_diff_holding_a_code_fence_gets_a_longer_fence() -> None:
    change = builders.change("ConfigMap", "docs", diff="+  readme: |\n+    ```sh\n+    make\n")
    text = markdown.plan(builders.plan([change]))
    assert "````diff\n+  readme: |\n+    ```sh\n+    make\n````\n" in text


def test_no_changes() -> None:
    text = markdown.plan(builders.plan([builders.change(action=Action.UNCHANGED)]))
    assert "**No changes.**" in text
    assert "| unchanged | 1 |" in text
    assert "<details>" not in text


def test_deletions_with_pruning_on_have_no_note() -> None:
    plan = builders.plan([builders.delete("ConfigMap", "old")], prune=True)
    text = markdown.plan(plan)
    assert "| delete | 1 |" in text
    assert "pruning is off" not in text


def test_kept_objects_are_not_counted_as_deletions() -> None:
    plan = builders.plan([builders.delete("ConfigMap", "old", kept="gitdeploy.io/prune: "
                                          "disabled")])
    text = markdown.plan(plan)
    assert "| delete | 0 |" in text
    assert "**No changes.**" in text


def test_an_offline_diff_names_both_commits_and_no_context() -> None:
    plan = builders.plan([changed("a", 2)], base=builders.source(builders.OTHER_COMMIT,
                                                                  ref="origin/main"),
                         source_info=builders.source(dirty=True))
    plan.changes.append(builders.delete("ConfigMap", "old"))
    text = markdown.plan(plan)
    assert "Offline diff (no cluster): `9f8e7d6 (origin/main)` to `1a2b3c4 (dirty)`." in text
    assert "kind-dev" not in text
    assert "pruning is off" not in text


def test_orphans_come_after_the_diffs_and_count_in_the_limit() -> None:
    report = OrphanReport(environment="dev", target=builders.TARGET, namespaces=["shop", "web"],
                          orphans=[Orphan("v1", "ConfigMap", "shop", "stray", "2025-01-01",
                                          ("kubectl-create",)),
                                   Orphan("v1", "Secret", "web", "manual", "2025-01-01", ())],
                          unchecked=["Lease.coordination.k8s.io (forbidden)"])
    text = markdown.plan(mixed(), report, limit=5_000)
    assert len(text) <= 5_000
    assert text.endswith("#### Orphans in shop, web\n\n| kind | namespace | name | written by |\n"
                         "|---|---|---|---|\n| ConfigMap | shop | stray | kubectl-create |\n"
                         "| Secret | web | manual | - |\n"
                         "- not checked: Lease.coordination.k8s.io (forbidden)\n")


def test_no_orphans() -> None:
    report = OrphanReport(environment="dev", target=builders.TARGET, namespaces=["shop"])
    assert markdown.plan(builders.plan([]), report).endswith(
        "#### Orphans in shop\n\nNone.\n")


# The apply report


def test_apply_report_with_its_record() -> None:
    report = builders.report(
        [(changed("settings", 2), Outcome.APPLIED, ""),
         (builders.delete("ConfigMap", "old"), Outcome.DELETED, "")],
        deploy_record=builders.record(7))
    assert markdown.apply_report(report) == (
        "### gitdeploy apply: `dev`\n\n"
        "Deploy 7 of commit `1a2b3c4`: **succeeded**.\n\n"
        "| result | action | object | error |\n|---|---|---|---|\n"
        "| applied | update | ConfigMap shop/settings |  |\n"
        "| deleted | delete | ConfigMap shop/old |  |\n")


def test_apply_report_of_a_failed_dirty_rollback() -> None:
    report = builders.report(
        [(changed("settings", 2), Outcome.FAILED, "admission webhook \"x\" denied: a|b\nline 2"),
         (changed("later", 2, Action.CREATE), Outcome.NOT_ATTEMPTED, "")],
        deploy_record=builders.record(8, outcome=FAILED, kind=ROLLBACK, dirty=True))
    text = markdown.apply_report(report)
    assert "Rollback 8 of commit `1a2b3c4` (dirty): **failed**.\n" in text
    assert ("| failed | update | ConfigMap shop/settings | admission webhook \"x\" denied: "
            "a\\|b line 2 |\n") in text
    assert "| not-attempted | create | ConfigMap shop/later |  |\n" in text


def test_apply_report_of_a_deploy_without_a_commit() -> None:
    report = builders.report([(changed("a", 1), Outcome.APPLIED, "")],
                             deploy_record=builders.record(1, ""))
    assert "Deploy 1 of commit `no commit`: **succeeded**." in markdown.apply_report(report)


def test_a_long_error_is_cut_to_one_cell() -> None:
    report = builders.report([(changed("a", 1), Outcome.FAILED, "x" * 2000)])
    row = markdown.apply_report(report).splitlines()[-1]
    assert row == f"| failed | update | ConfigMap shop/a | {'x' * 500} |"


def test_apply_report_with_nothing_to_apply() -> None:
    report = builders.report([], deploy_record=builders.record(2))
    assert markdown.apply_report(report) == (
        "### gitdeploy apply: `dev`\n\nDeploy 2 of commit `1a2b3c4`: **succeeded**.\n\n"
        "Nothing to apply.\n")
