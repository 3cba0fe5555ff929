"""API discovery kept on disk between runs per API server (as kubectl does): a second diff
sends no discovery request; a kind installed since (a new CRD) is fetched again rather than
called unknown; `-v` shows the cache; GITDEPLOY_DISCOVERY_TTL=0 turns it off."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from gitdeploy.kube.concurrency import map_bounded
from gitdeploy.kube.discovery_cache import (
    DiscoveryCache,
    known_scopes,
    remember_scopes,
    server_folder,
)
from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import TestApiServer


def discovery_requests(api_server: TestApiServer, start: int = 0) -> list[str]:
    return [r.path for r in api_server.requests[start:] if r.method == "GET" and (
        r.path in ("/api", "/apis") or (r.path.count("/") == 2 and r.path.startswith("/api/"))
        or (r.path.startswith("/apis/") and r.path.count("/") == 3))]


@pytest.fixture
def dev(environment: MakeEnvironment) -> ConfigRepo:
    return environment([objects.configmap("settings", {"v": "1"}),
                        objects.deployment("web", namespace="default")])


def test_a_second_run_reads_discovery_from_the_cache(dev: ConfigRepo, cli,
                                                     api_server: TestApiServer) -> None:
    first = cli("diff", "dev")
    assert first.exit_code == 0, first.output
    fetched = discovery_requests(api_server)
    assert "/apis/apps/v1" in fetched and "/api/v1" in fetched
    start = len(api_server.requests)
    second = cli("diff", "dev", "-v")
    assert second.exit_code == 0, second.output
    assert discovery_requests(api_server, start) == []
    assert "discovery cache: resources/apps/v1" in second.stderr
    assert second.stdout == first.stdout  # the same plan
    folder = (Path(os.environ["XDG_CACHE_HOME"]) / "gitdeploy" / "discovery"
              / server_folder(api_server.url))
    files = sorted(path.name for path in folder.iterdir())
    assert "resources_apps_v1.json" in files and "resources_v1.json" in files
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in folder.iterdir())


def test_a_kind_installed_since_the_cache_was_written_is_found(
        environment: MakeEnvironment, cli, api_server: TestApiServer) -> None:
    widget = objects.custom("example.com", "Widget", "w1", {"size": 1}, "default")
    environment([widget])
    unknown = cli("diff", "dev")  # the cache now says example.com/v1 is not served
    assert unknown.exit_code == 1 and "unknown kind" in unknown.stderr
    environment([objects.crd("example.com", "Widget", "widgets")], name="crds")
    assert cli("apply", "crds", "--yes").exit_code == 0  # installed by another environment
    start = len(api_server.requests)
    result = cli("diff", "dev", "-o", "json")
    assert result.exit_code == 0, result.output
    [change] = json.loads(result.stdout)["changes"]
    assert (change["kind"], change["action"]) == ("Widget", "create")
    assert "/apis/example.com/v1" in discovery_requests(api_server, start)  # asked again


def test_ttl_zero_turns_the_cache_off(dev: ConfigRepo, cli, api_server: TestApiServer,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITDEPLOY_DISCOVERY_TTL", "0")
    assert cli("diff", "dev").exit_code == 0
    start = len(api_server.requests)
    assert cli("diff", "dev").exit_code == 0
    assert "/apis/apps/v1" in discovery_requests(api_server, start)
    assert not (Path(os.environ["XDG_CACHE_HOME"]) / "gitdeploy" / "discovery").exists()


def test_entries_expire_and_damaged_files_are_ignored(tmp_path: Path) -> None:
    cache = DiscoveryCache(tmp_path, ttl=60)
    cache.store("resources/apps/v1", {"found": True, "resources": []})
    assert cache.load("resources/apps/v1") == {"found": True, "resources": []}
    assert DiscoveryCache(tmp_path, ttl=0).load("resources/apps/v1") is None
    entry = tmp_path / "resources_apps_v1.json"
    old = json.loads(entry.read_text())
    old["fetched"] -= 120
    entry.write_text(json.dumps(old))
    assert cache.load("resources/apps/v1") is None  # older than the TTL
    entry.write_text("{not json")
    assert cache.load("resources/apps/v1") is None
    blocked = DiscoveryCache(tmp_path / "file" / "below", ttl=60)
    (tmp_path / "file").write_text("a file where a folder would be")
    blocked.store("groups", [])  # cannot be written: only slower, never an error
    assert blocked.load("groups") is None


def test_kinds_remembered_from_many_threads_at_once_are_all_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan's discovery runs in several threads: none drops the kinds another added."""
    monkeypatch.setenv("GITDEPLOY_CACHE_DIR", str(tmp_path))
    kinds = [(f"group{n}.example.com", f"Kind{n}") for n in range(40)]
    map_bounded(lambda key: remember_scopes({key: True}), kinds, 16)
    assert known_scopes() == dict.fromkeys(kinds, True)
