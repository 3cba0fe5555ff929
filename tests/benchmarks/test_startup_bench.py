"""The start-up benchmark (benchmarks/startup.py) runs, with few runs and environments, so that it
cannot rot. No assertion on time: the numbers are for people to read (docs/performance.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.benchmarks import ROOT, needs_kubectl


@pytest.mark.timeout(300)
@needs_kubectl
def test_benchmark_runs_with_few_runs(tmp_path: Path) -> None:
    measures = tmp_path / "measures.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "startup.py"),
                           "--runs", "2", "--environments", "3", "--json", str(measures)],
                          capture_output=True, text=True, cwd=tmp_path, check=False, timeout=280)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Start-up, best of 2 runs (and median), envs on 3 environments" in done.stdout
    rows = {row["command"]: row for row in json.loads(measures.read_text())["measures"]}
    assert {"gitdeploy --help", "gitdeploy envs", "kubectl version --client",
            "kubectl --help"} <= set(rows)
    # every command ran to its end (`envs` exits 1 on broken settings: the generated ones are
    # valid), and was measured
    assert all(row["exit_code"] == 0 and row["peak_kib"] > 0 and row["best"] > 0
               for row in rows.values()), rows
