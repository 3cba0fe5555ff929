"""Start-up: `gitdeploy --help` and `gitdeploy envs` import neither the Kubernetes client nor
GitPython nor the schema machinery nor the libraries of ignore rules, and `envs` only its own
result types; the commands that need them import them when they run (docs/performance.md).
Checked by what is imported, not by a clock; benchmarks/startup.py measures the time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ConfigRepo, MakeEnvironment

HEAVY = ("kubernetes", "git", "jsonschema", "jsonschema_rs", "kubernetes_validate",
         "tenacity", "urllib3", "jsonpath_ng", "jsonpointer")
# What every command that runs needs, but `gitdeploy --help` does not: typer parses the values
# of options through pydantic (30% of the start-up of `envs`), the output is rich's, the
# settings are YAML.
RUN_ONLY = ("pydantic", "rich", "yaml")
# The result types of the other stages (src/gitdeploy/results/): `envs` needs its own only.
OTHER_RESULTS = tuple(f"gitdeploy.results.{stage}"
                      for stage in ("plan", "apply", "state", "validate"))

# Run a gitdeploy command in a fresh interpreter, then print its exit code and the heavy
# packages (or modules) it imported.
_PROBE = ("import json, sys\n"
          "from gitdeploy.cli.app import app\n"
          "code = 0\n"
          "try:\n"
          "    app(sys.argv[2:], prog_name='gitdeploy')\n"
          "except SystemExit as stop:\n"
          "    code = stop.code or 0\n"
          "heavy = set(sys.argv[1].split(','))\n"
          "found = sorted(({m.split('.')[0] for m in sys.modules} | set(sys.modules)) & heavy)\n"
          "print(json.dumps([code, found]), file=sys.stderr)\n")


def imported(*args: str, cwd: Path | None = None, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    """The packages and modules of `heavy` that `gitdeploy ARGS` imported; the command must
    succeed."""
    done = subprocess.run([sys.executable, "-c", _PROBE, ",".join(heavy), *args],
                          capture_output=True, text=True, cwd=cwd, check=False)
    code, found = json.loads(done.stderr.strip().splitlines()[-1])
    assert code == 0, done.stdout + done.stderr
    return list(found)


def test_help_imports_no_heavy_library() -> None:
    assert imported("--help", heavy=HEAVY + RUN_ONLY) == []


def test_envs_imports_no_heavy_library(environment: MakeEnvironment) -> None:
    repo: ConfigRepo = environment([])
    assert imported("envs", cwd=repo.root, heavy=HEAVY + OTHER_RESULTS) == []


def test_probe_sees_result_modules(environment: MakeEnvironment) -> None:
    """The probe itself: `validate` does import its own results."""
    repo: ConfigRepo = environment([])
    assert imported("validate", cwd=repo.root, heavy=OTHER_RESULTS) != []


@pytest.mark.parametrize("command", ["diff", "apply", "status", "render", "validate"])
def test_command_help_imports_no_heavy_library(command: str) -> None:
    assert imported(command, "--help") == []
