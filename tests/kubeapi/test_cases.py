"""The test API server answers the cases of cases.py as the real kube-apiserver did.

Cases it does not answer so yet are expected failures (strict): when a fix makes one pass, its
mark has to go.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.kubeapi import conformance
from tests.kubeapi.cases import CASES, Case
from tests.kubeapi.server import TestApiServer


def _at(value: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def _age(difference: conformance.Difference) -> bool:
    """The `Age` cell of a Table row: seconds since the object was made, whatever the test
    server does (a slow run may make it "1s")."""
    return difference.timing and difference.path.rsplit(".", 1)[-1].startswith("cells[")


def _differences(case: Case) -> list[str]:
    found: list[str] = []
    with TestApiServer() as server:
        if case.recorded_world:
            server.cluster.nodes = 0
            server.cluster.scheduler = False
        replayer = conformance.Replayer(server)
        previous: conformance.Answer | None = None
        try:
            for seq, step in enumerate(case.steps, start=1):
                exchange = step.exchange(case.name, seq)
                answer = replayer.send(exchange)
                label = f"step {seq} ({step.method} {step.path})"
                if step.check and answer.status != step.status:
                    found.append(f"{label}: status {answer.status}, expected {step.status}: "
                                 f"{answer.body}")
                elif step.check and step.answer is not None:
                    normal = replayer.normaliser().answer(answer)
                    found += [f"{label}: {d.describe()}"
                              for d in conformance.compare(exchange, normal)
                              if not _age(d)]
                for path in step.unchanged:
                    assert previous is not None, "`unchanged` needs a step before"
                    before, after = _at(previous.body, path), _at(answer.body, path)
                    if before != after:
                        found.append(f"{label}: {path} changed from {before!r} to {after!r}")
                previous = answer
        finally:
            replayer.close()
    return found


@pytest.mark.parametrize("case", [
    pytest.param(case, id=case.name, marks=[pytest.mark.xfail(strict=True, reason=case.xfail)]
                 if case.xfail else [])
    for case in CASES
])
def test_the_test_server_answers_as_kube_apiserver(case: Case) -> None:
    differences = _differences(case)
    assert not differences, f"{case.name} ({case.source}):\n" + "\n".join(differences)


def test_the_cases_cover_at_least_twenty_recorded_pairs() -> None:
    assert sum(1 for case in CASES for step in case.steps if step.check) >= 20
