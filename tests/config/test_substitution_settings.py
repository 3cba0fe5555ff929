"""The settings of substitution and SOPS: `substitute`, `substituteFrom`,
`substituteUnresolved` and `sops.binary`, strictly checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitdeploy.config.settings import SubstituteSource, parse_settings
from gitdeploy.errors import SettingsError

PATH = Path("environments/dev/gitdeploy.yaml")


def test_defaults() -> None:
    settings = parse_settings("context: x\n", PATH)
    assert not settings.substitution.enabled
    assert settings.substitution.unresolved == "error"
    assert settings.sops.binary is None


def test_all_keys() -> None:
    settings = parse_settings(
        "context: x\n"
        "substitute: {CLUSTER: prod, REPLICAS: 3, DEBUG: false}\n"
        "substituteFrom: [cluster.env, {path: secrets.enc.yaml, optional: true}]\n"
        "substituteUnresolved: empty\n"
        "sops: {binary: /opt/sops}\n", PATH)
    assert settings.substitution.variables == (("CLUSTER", "prod"), ("REPLICAS", "3"),
                                               ("DEBUG", "false"))
    assert settings.substitution.sources == (SubstituteSource("cluster.env"),
                                             SubstituteSource("secrets.enc.yaml", True))
    assert settings.substitution.unresolved == "empty"
    assert settings.substitution.enabled
    assert settings.sops.binary == "/opt/sops"


@pytest.mark.parametrize(("text", "message"), [
    ("substitute: [a]", "'substitute' must be a mapping of variable names to values"),
    ("substitute: {1X: a}", "'substitute.1X' is not a variable name"),
    ("substitute: {A: {b: c}}", "'substitute.A' must be a string, a number or a boolean"),
    ("substituteFrom: a.env", "'substituteFrom' must be a list of files of variables"),
    ("substituteFrom: [3]", "'substituteFrom[0]' must be a file path or a mapping"),
    ("substituteFrom: [{optional: true}]", "'substituteFrom[0].path' is required"),
    ("substituteFrom: [{path: a, other: 1}]", "unknown key 'substituteFrom[0].other'"),
    ("substituteUnresolved: keep", "'substituteUnresolved' must be error or empty"),
    ("sops: {path: x}", "unknown key 'sops.path'"),
])
def test_errors_name_the_key_and_the_file(text: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        parse_settings(f"context: x\n{text}\n", PATH)
    assert raised.value.message.startswith(f"{PATH}:")  # and the line, where known
    assert message in raised.value.message
