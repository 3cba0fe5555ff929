"""The `faults` marker: the fault-injection suite runs with the rest (`pytest`), and alone
with `pytest -m faults` (or without it: `-m "not faults"`)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "faults: fault-injection scenarios through the seeded fault proxy "
                   "(tests/faults)")
