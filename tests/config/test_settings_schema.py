"""The JSON Schema of gitdeploy.yaml (editors): shipped in the package as generated from the
parser's key tables; the bundled examples validate against it; it refuses what the settings
parser refuses (misspelt keys, wrong types) and accepts what it accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from gitdeploy.config.schema import dumps, settings_schema, shipped
from gitdeploy.config.settings import parse_settings
from gitdeploy.errors import SettingsError
from tests.conftest import EXAMPLE, FIXTURES

VALIDATOR = jsonschema.Draft202012Validator(json.loads(shipped()))


def parser_accepts(data: dict[str, Any]) -> bool:
    try:
        parse_settings(yaml.safe_dump(data), Path("gitdeploy.yaml"))
    except SettingsError:
        return False
    return True


def test_the_shipped_schema_is_the_generated_one() -> None:
    """Regenerate with: python -c 'from gitdeploy.config.schema import *;
    print(dumps(settings_schema()), end="")' > src/gitdeploy/config/gitdeploy.schema.json"""
    assert shipped() == dumps(settings_schema())
    jsonschema.Draft202012Validator.check_schema(json.loads(shipped()))


def test_the_command_prints_it(cli) -> None:
    result = cli("schemas", "settings")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"].startswith("gitdeploy environment settings")


@pytest.mark.parametrize("path", sorted([*EXAMPLE.glob("*/gitdeploy.yaml"),
                                         *FIXTURES.glob("**/gitdeploy.yaml")]),
                         ids=lambda path: str(path.relative_to(path.parents[2])))
def test_the_bundled_settings_validate(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    if not parser_accepts(data):
        pytest.skip("a fixture the parser refuses on purpose")
    assert [error.message for error in VALIDATOR.iter_errors(data)] == []


GOOD = {"context": "kind-dev", "namespace": "shop", "cluster": {"server": "https://x:6443"},
        "protected": True, "prune": True, "suspend": "release freeze",
        "pruneSafety": {"maxDeletions": 5, "maxPercent": 30}, "wait": {"timeout": "5m"},
        "retries": {"max": 3, "maxTime": 30}, "kubernetesVersion": "1.34",
        "charts": [{"release": "cache", "chart": "../charts/cache", "values": {"a": 1}}],
        "labels": {"tier": "prod", "example.com/region": "eu-1"}, "wave": 2,
        "dependsOn": ["staging"], "conflicts": {"policy": "leave"},
        "ignoreDifferences": [{"kind": "Deployment", "jsonPointers": ["/spec/replicas"]}],
        "substitute": {"NAME": "x", "COUNT": 3}, "substituteFrom": ["a.env",
                                                                    {"path": "b.env"}],
        "validation": {"skipKinds": ["ServiceMonitor"]},
        "notify": [{"type": "slack", "urlFrom": "SLACK_URL"}]}

BAD = [
    {"context": "x", "namespce": "shop"},  # misspelt key
    {"context": "x", "prune": "yes"},  # wrong type
    {"namespace": "shop"},  # context missing
    {"context": "x", "wave": 101},
    {"context": "x", "wave": "1"},
    {"context": "x", "labels": {"tier": 1}},
    {"context": "x", "labels": {"bad key!": "x"}},
    {"context": "x", "dependsOn": "staging"},
    {"context": "x", "wait": {"timeout": "soon"}},
    {"context": "x", "wait": {"enabeld": True}},
    {"context": "x", "charts": [{"release": "Cache", "chart": "c"}]},
    {"context": "x", "charts": [{"chart": "c"}]},
    {"context": "x", "conflicts": {"policy": "maybe"}},
    {"context": "x", "ignoreDifferences": [{"kinds": "Deployment"}]},
    {"context": "x", "notify": [{"type": "email"}]},
    {"context": "x", "validation": {"skipKind": ["X"]}},
    {"context": "x", "history": {"keep": 0}},
    {"context": "x", "kubernetesVersion": "2.0"},
]


def test_it_accepts_what_the_parser_accepts() -> None:
    assert parser_accepts(GOOD)
    assert [error.message for error in VALIDATOR.iter_errors(GOOD)] == []


@pytest.mark.parametrize("data", BAD, ids=lambda data: json.dumps(data)[:60])
def test_it_refuses_what_the_parser_refuses(data: dict[str, Any]) -> None:
    assert not parser_accepts(data)
    assert list(VALIDATOR.iter_errors(data)), "the schema accepts what the parser refuses"
