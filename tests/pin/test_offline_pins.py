"""The offline diff uses each commit's own lock file: a change that only re-pins an image shows
the image moving from one digest to the other."""

from __future__ import annotations

import json

from tests import manifests as objects
from tests.conftest import MakeEnvironment

OLD = "sha256:" + "1" * 64
NEW = "sha256:" + "2" * 64


def lock(digest: str) -> str:
    return f"images:\n  nginx:1.27: {digest}\n"


def test_a_re_pin_shows_in_the_offline_diff(environment: MakeEnvironment, cli) -> None:
    repo = environment([objects.deployment("web", image="nginx:1.27")], namespace="shop")
    repo.write("environments/dev/gitdeploy-images.lock", lock(OLD))
    repo.commit("pinned")
    repo.write("environments/dev/gitdeploy-images.lock", lock(NEW))
    repo.commit("re-pinned")
    result = cli("diff", "dev", "--offline", "--base", "HEAD~1", "-o", "json")
    assert result.exit_code == 0, result.output
    [change] = [c for c in json.loads(result.stdout)["changes"] if c["action"] != "unchanged"]
    assert change["kind"] == "Deployment"
    assert f"-        image: nginx:1.27@{OLD}" in change["diff"].splitlines()
    assert f"+        image: nginx:1.27@{NEW}" in change["diff"].splitlines()
