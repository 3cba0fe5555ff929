"""`gitdeploy pin ENV` against a real registry on loopback, and the lock file at work: render,
diff and apply use the digests; validate fails for an image the lock file lacks when the
environment asks for pinning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests import manifests as objects
from tests.conftest import ConfigRepo
from tests.registry.local import local_registry

LOCK = "environments/dev/gitdeploy-images.lock"


def _deployment(image: str) -> dict[str, Any]:
    web = objects.deployment("web")
    web["spec"]["template"]["spec"]["containers"][0]["image"] = image
    return web


def test_pin_writes_the_lock_file_and_render_uses_it(repo: ConfigRepo, cli,
                                                     tmp_path: Path) -> None:
    with local_registry(tmp_path) as registry:
        web = registry.push("acme/web", "1.5.0")
        image = f"{registry.host}/acme/web:1.5.0"
        repo.settings("dev", context="kind-dev", namespace="shop", pinImages=True)
        repo.write("environments/dev/app.yaml", [_deployment(image)])
        repo.commit()
        unpinned = cli("validate", "dev")
        assert unpinned.exit_code == 1
        assert f"image {image} has no digest in gitdeploy-images.lock" in unpinned.output
        result = cli("pin", "dev", "-v")
        assert result.exit_code == 0, result.output
        assert f"HEAD http://{registry.host}/v2/acme/web/manifests/1.5.0 200" in result.stderr
    lock = yaml.safe_load((repo.root / LOCK).read_text())
    assert lock == {"images": {image: web}}
    assert "gitdeploy pin dev" in (repo.root / LOCK).read_text()  # says where it comes from
    rendered = cli("render", "dev", "-o", "json")
    assert rendered.exit_code == 0, rendered.output
    [body] = [o["object"] for o in json.loads(rendered.stdout)["objects"]]
    assert body["spec"]["template"]["spec"]["containers"][0]["image"] == f"{image}@{web}"
    repo.commit("pinned")
    assert cli("validate", "dev").exit_code == 0
    again = cli("pin", "dev", "-o", "json")  # the registry is gone: pin fails, lock kept
    assert again.exit_code == 1 and "could not connect" in again.stderr
    assert yaml.safe_load((repo.root / LOCK).read_text()) == lock


def test_diff_and_apply_use_the_digest(environment, cli, tmp_path: Path) -> None:
    digest = "sha256:" + "5" * 64
    repo = environment([_deployment("registry.example.com/acme/web:2.0")], namespace="shop",
                       createNamespace=True)
    repo.write(LOCK, f"images:\n  registry.example.com/acme/web:2.0: '{digest}'\n")
    repo.commit("pinned")
    diff = cli("diff", "dev")
    assert diff.exit_code == 0, diff.output
    assert f"image: registry.example.com/acme/web:2.0@{digest}" in diff.stdout
    applied = cli("apply", "dev", "--yes", "--no-wait")
    assert applied.exit_code == 0, applied.output
    repo.write(LOCK, f"images:\n  registry.example.com/acme/web:2.0: '{'sha256:' + '6' * 64}'\n")
    dirty = cli("apply", "dev", "--yes", "--no-wait")
    assert dirty.exit_code == 1 and "gitdeploy-images.lock" in dirty.stderr


def test_broken_lock_file_names_the_file(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="kind-dev", namespace="shop")
    repo.write("environments/dev/app.yaml", [_deployment("redis:7")])
    repo.write(LOCK, "images:\n  redis:7: latest\n")
    result = cli("render", "dev")
    assert result.exit_code == 1
    assert "environments/dev/gitdeploy-images.lock: must hold `images:`" in result.stderr
