"""`gitdeploy report merge`: the JSON of separate CI jobs (a --matrix fan-out, one job per
environment) merged into one FleetReport, as one run over them all would have written it."""

from __future__ import annotations

import json
from pathlib import Path

from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment


def test_per_environment_jobs_merge_into_one_report(environment: MakeEnvironment, cli,
                                                    tmp_path: Path) -> None:
    environment([objects.configmap("a", {"v": "1"})], name="dev")
    repo: ConfigRepo = environment([objects.configmap("b", {"v": "1"})], name="prod",
                                   context="prod")
    matrix = json.loads(cli("diff", "--all", "--matrix", "github").stdout)
    assert matrix == {"environment": ["dev", "prod"]}
    files = []
    for name in matrix["environment"]:  # what each matrix job runs
        result = cli("diff", name, "-o", "json")
        (tmp_path / f"{name}.json").write_text(result.stdout)
        files.append(str(tmp_path / f"{name}.json"))
    repo.settings("broken", context="no-such-context")
    repo.commit("broken")
    failed = cli("diff", "broken", "-o", "json")  # a failed job writes an Error document
    assert failed.exit_code == 1
    (tmp_path / "out.json").write_text(failed.stdout)
    files.append(f"broken={tmp_path / 'out.json'}")

    merged = cli("report", "merge", *files, "-o", "json", "--exit-code")
    assert merged.exit_code == 1, merged.output
    document = json.loads(merged.stdout)
    assert document["kind"] == "FleetReport" and document["command"] == "diff"
    assert [(s["name"], s["state"], s["exitCode"]) for s in document["environments"]] == [
        ("broken", "failed", 1), ("dev", "changes", 2), ("prod", "changes", 2)]
    assert document["summary"]["withChanges"] == 2 and document["summary"]["failed"] == 1
    assert document["environments"][1]["document"]["kind"] == "Plan"

    # the merged report renders like one run's: the table, and the comments
    whole = json.loads(cli("diff", "dev", "prod", "-o", "json", "--exit-code").stdout)
    remerged = json.loads(cli("report", "merge", files[0], files[1], "-o", "json",
                              "--exit-code").stdout)
    assert [s["state"] for s in remerged["environments"]] == \
        [s["state"] for s in whole["environments"]]
    assert remerged["summary"] == whole["summary"]
    text = cli("report", "merge", *files)
    assert "3 environment(s): 2 with changes, 1 failed; exit code 1" in text.stdout
    markdown = cli("report", "merge", *files, "-o", "markdown", "--key", "matrix",
                   "--split-dir", str(tmp_path / "comments"))
    assert markdown.stdout.startswith("<!-- gitdeploy-report:matrix part 1 of 1 -->")
    assert (tmp_path / "comments" / "comment-1.md").read_text() == markdown.stdout


def test_merging_a_fleet_report_and_refusing_what_is_not_one(environment: MakeEnvironment,
                                                             cli, tmp_path: Path) -> None:
    environment([objects.configmap("a", {"v": "1"})], name="dev")
    report = tmp_path / "fleet.json"
    report.write_text(cli("render", "--all", "-o", "json").stdout)
    merged = json.loads(cli("report", "merge", str(report), "-o", "json").stdout)
    assert merged["command"] == "render"
    assert [s["name"] for s in merged["environments"]] == ["dev"]
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"kind": "Plan"}))
    result = cli("report", "merge", str(other))
    assert result.exit_code == 1
    assert "not a gitdeploy document" in result.stderr
