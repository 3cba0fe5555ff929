"""The conformance table (test_conformance.py) at the end of the pytest run."""

from __future__ import annotations

from collections.abc import Callable

import pytest

_TABLE = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def conformance_summary(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Publish the conformance table: pytest prints it in its terminal summary."""

    def publish(table: str) -> None:
        request.config.stash[_TABLE] = table

    return publish


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int,
                            config: pytest.Config) -> None:
    table = config.stash.get(_TABLE, None)
    if table:
        terminalreporter.section("conformance of the test API server with kube-apiserver")
        terminalreporter.write_line(table)
