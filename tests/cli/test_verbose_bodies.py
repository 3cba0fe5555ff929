"""`-v` logs each API request; `-vv` adds the body of each write, with every Secret value
masked (as `diff` masks them), and nothing more."""

from __future__ import annotations

from tests import manifests as objects
from tests.conftest import MakeEnvironment

CANARY = "canary-0f9e8d-vv"


def test_vv_shows_the_bodies_of_writes_masked(environment: MakeEnvironment, cli) -> None:
    environment([objects.configmap("settings", {"mode": "blue"}),
                 objects.secret("creds", {"password": CANARY})])
    once = cli("apply", "dev", "--yes", "--no-wait", "-v")
    assert once.exit_code == 0, once.output
    assert "» PATCH /api/v1/namespaces/default/configmaps/settings" in once.stderr
    assert "  data:\n    mode: blue" not in once.stderr  # -v: no bodies
    environment([objects.configmap("settings", {"mode": "green"}),
                 objects.secret("creds", {"password": CANARY + "-2"})])
    twice = cli("apply", "dev", "--yes", "--no-wait", "-vv")
    assert twice.exit_code == 0, twice.output
    assert "  data:\n    mode: green" in twice.stderr  # the body under its request
    assert "  stringData:\n    password: <masked>" in twice.stderr
    for output in (once.stdout, once.stderr, twice.stdout, twice.stderr):
        assert CANARY not in output
