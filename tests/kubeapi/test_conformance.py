"""The test API server against answers recorded from a real kube-apiserver v1.36.2.

The recording (../shared/apiserver-traces, beside the repository) is replayed scenario by
scenario (tests/kubeapi/conformance.py); the numbers of pairs answered like the real server
(conforming, and matching exactly) must not fall below the floor kept in
tests/kubeapi/conformance-floor.json, so that they can only grow. The table is printed in
pytest's terminal summary, written under the test's tmp dir and shown with a failure;
`nox -s conformance` prints it on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.kubeapi import conformance

pytestmark = pytest.mark.skipif(
    not conformance.TRACES_DIR.is_dir(),
    reason=f"the recorded kube-apiserver answers are not beside the repository "
           f"({conformance.TRACES_DIR}); they come with the project's shared folder",
)


@pytest.fixture(scope="module")
def report() -> conformance.Report:
    return conformance.run_all(conformance.TRACES_DIR)


def test_every_scenario_is_replayed(report: conformance.Report) -> None:
    files = conformance.scenario_files(conformance.TRACES_DIR)
    recorded = sum(len(conformance.load_scenario(path)) for path in files)
    assert [s.name for s in report.scenarios] == [path.stem for path in files]
    assert len(report.pairs) == recorded  # nothing dropped: timing-dependent pairs included


def test_conformance_does_not_fall_below_the_floor(
        report: conformance.Report, tmp_path: Path,
        conformance_summary: Callable[[str], None]) -> None:
    table = report.table()
    (tmp_path / "conformance.txt").write_text(table + "\n\n" + report.details() + "\n",
                                              encoding="utf-8")
    conformance_summary(table)
    floor = conformance.read_floor()
    assert floor, f"no floor recorded in {conformance.FLOOR_FILE}"
    problems = conformance.below_floor(report, floor)
    assert not problems, (
        "the test API server answers fewer recorded requests like kube-apiserver than it "
        "did:\n" + "\n".join(problems) + f"\n\n{table}\n\n(every difference: "
        f"{tmp_path / 'conformance.txt'})")
