"""The settings of runs over several environments (docs/fleet.md): labels, wave, dependsOn."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitdeploy.config.settings import parse_settings as parse
from gitdeploy.errors import SettingsError


def test_labels_wave_and_depends_on() -> None:
    """The keys of runs over several environments (docs/fleet.md)."""
    settings = parse("context: c\nlabels: {tier: prod, example.com/region: eu}\nwave: 3\n"
                     "dependsOn: [staging]\n", Path("gitdeploy.yaml"))
    assert settings.labels == (("example.com/region", "eu"), ("tier", "prod"))
    assert (settings.wave, settings.depends_on) == (3, ("staging",))
    for bad, expected in [("labels: {tier: 1}", "'labels' must be a mapping of label names"),
                          ("wave: -1", "'wave' must be a whole number from 0 to 100"),
                          ("dependsOn: staging", "'dependsOn' must be a list of environment")]:
        with pytest.raises(SettingsError, match=expected):
            parse(f"context: c\n{bad}\n", Path("gitdeploy.yaml"))
