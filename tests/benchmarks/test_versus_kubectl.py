"""The benchmark against kubectl (benchmarks/versus_kubectl.py) runs, at N = 100, so that it
cannot rot. No assertion on time: the numbers are for people to read (docs/performance.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.benchmarks import ROOT, needs_kubectl


@pytest.mark.timeout(900)
@needs_kubectl
def test_benchmark_runs_at_100_objects(tmp_path: Path) -> None:
    measures = tmp_path / "measures.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "versus_kubectl.py"),
                           "--objects", "100", "--json", str(measures)],
                          capture_output=True, text=True, cwd=ROOT, check=False, timeout=840)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "N = 100 objects, 20 ms per request" in done.stdout
    rows = json.loads(measures.read_text())["100"]
    cases = {(row["case"], row["tool"]) for row in rows}
    assert {("first deploy", "gitdeploy diff"), ("first deploy", "kubectl apply"),
            ("nothing changed", "gitdeploy diff"),
            ("nothing changed", "kubectl diff --concurrency=16"),
            ("10% changed", "gitdeploy diff")} <= cases
    # every run did its work against the server and ended as expected (0, or 1 for
    # kubectl diff's "differences found")
    assert all(row["requests"] > 0 and row["exit_code"] in (0, 1) for row in rows), rows
    # the time before the first request is a part of each run
    assert all(0 < row["start_seconds"] < row["seconds"] for row in rows), rows
