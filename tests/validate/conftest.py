"""Fixtures of the validate tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The schema cache of this test (GITDEPLOY_SCHEMA_CACHE)."""
    path = tmp_path / "schema-cache"
    monkeypatch.setenv("GITDEPLOY_SCHEMA_CACHE", str(path))
    return path
