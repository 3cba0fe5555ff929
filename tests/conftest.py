"""Shared fixtures: tripwires against the user's real kubeconfig and home, real git
repositories in tmp_path, the local test API server, a CLI runner, and the test inputs: the
suite's own in tests/fixtures, and the real-world ones beside the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest
import yaml
from typer.testing import CliRunner

from gitdeploy.cli.app import app
from tests.faults.proxy import FaultConfig, FaultProxy
from tests.kubeapi.server import TestApiServer

if TYPE_CHECKING:
    from kubernetes import client as k8s

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLE = PROJECT / "environments"
FIXTURES = PROJECT / "tests" / "fixtures"
REALWORLD = PROJECT.parent / "shared" / "realworld"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def realworld_path(relative: str) -> Path:
    """A real-world input of ../shared/realworld. The calling test skips when it is absent, as
    in a clone of the repository on its own."""
    path = REALWORLD / relative
    if not path.exists():
        pytest.skip(f"real-world input {relative}: {path} is not beside the repository: the "
                    f"real-world inputs come with the project's shared folder")
    return path


def large_crd() -> str:
    """A CustomResourceDefinition of about 400 KB, as operators generate them: a schema of many
    documented fields. Written when the monitoring input is copied, rather than kept."""
    sections: dict[str, Any] = {}
    for section in range(40):
        settings = {
            f"setting{index:02d}": {
                "description": (f"Setting {index} of section {section}. It applies to every "
                                f"recording of the collector; when it is unset the collector "
                                f"keeps its default, and a change takes effect at the next "
                                f"reload of its configuration."),
                "type": "string" if index % 3 else "integer",
            }
            for index in range(40)
        }
        sections[f"section{section:02d}"] = {
            "description": f"Settings of section {section}.", "type": "object",
            "properties": settings}
    body = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "recorders.monitoring.example.com"},
        "spec": {
            "group": "monitoring.example.com",
            "names": {"kind": "Recorder", "listKind": "RecorderList", "plural": "recorders",
                      "singular": "recorder"},
            "scope": "Namespaced",
            "versions": [{
                "name": "v1", "served": True, "storage": True,
                "schema": {"openAPIV3Schema": {
                    "description": "A Recorder keeps series of the collector's samples.",
                    "type": "object",
                    "properties": {
                        "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                        "metadata": {"type": "object"},
                        "spec": {"type": "object", "properties": sections}}}},
            }],
        },
    }
    return yaml.safe_dump(body, sort_keys=False, width=100)


# Files of tests/fixtures that are written when their folder is copied, not kept in it.
GENERATED: dict[str, Callable[[], str]] = {
    "monitoring/manifests/setup/0recorders-crd.yaml": large_crd,
}


@dataclass(frozen=True)
class Input:
    """A folder of test input: one of the suite's own in tests/fixtures, or with `realworld`
    one of ../shared/realworld (the test skips when it is absent)."""

    relative: str
    realworld: bool = False

    @property
    def path(self) -> Path:
        return realworld_path(self.relative) if self.realworld else FIXTURES / self.relative

    def child(self, relative: str) -> Input:
        return Input(f"{self.relative}/{relative}", self.realworld)

    def copy(self, target: Path) -> Path:
        """Copy the folder to `target`, with the files that are generated rather than kept."""
        shutil.copytree(self.path, target, dirs_exist_ok=True)
        if not self.realworld:
            for relative, content in GENERATED.items():
                path = Path(relative)
                if path.is_relative_to(self.relative):
                    (target / path.relative_to(self.relative)).write_text(content())
        return target


@pytest.fixture(autouse=True)
def tripwires(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any use of the real home directory or kubeconfig fails: HOME points at a folder that
    does not exist and KUBECONFIG is unset."""
    missing_home = tmp_path_factory.mktemp("tripwire") / "no-home-here"
    monkeypatch.setenv("HOME", str(missing_home))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    for name in ("XDG_CONFIG_HOME", "GITHUB_STEP_SUMMARY", "CI", "GITDEPLOY_CACHE_DIR",
                 "GITDEPLOY_DISCOVERY_TTL"):
        monkeypatch.delenv(name, raising=False)
    # Caches (API discovery, charts, schemas) of this test only: nothing carries over.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True, env={**os.environ, **GIT_ENV}).stdout


@dataclass
class ConfigRepo:
    """A real git repository holding an environments/ tree."""

    root: Path

    def write(self, relative: str, content: str | dict[str, Any] | list[Any]) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content)
        elif isinstance(content, list):
            path.write_text(yaml.safe_dump_all(content, sort_keys=False))
        else:
            path.write_text(yaml.safe_dump(content, sort_keys=False))
        return path

    def settings(self, env: str, **settings: Any) -> Path:
        return self.write(f"environments/{env}/gitdeploy.yaml", settings)

    def commit(self, message: str = "change") -> str:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "--allow-empty", "-m", message)
        return git(self.root, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path) -> ConfigRepo:
    root = tmp_path / "config"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "environments").mkdir()
    return ConfigRepo(root)


@pytest.fixture
def example_repo(tmp_path: Path) -> ConfigRepo:
    """The bundled example environments/, committed in a fresh repository."""
    root = tmp_path / "example"
    root.mkdir()
    shutil.copytree(EXAMPLE, root / "environments")
    git(root, "init", "-q", "-b", "main")
    config = ConfigRepo(root)
    config.commit("example")
    return config


@pytest.fixture
def api_server() -> Iterator[TestApiServer]:
    with TestApiServer() as server:
        yield server


@pytest.fixture
def proxy(api_server: TestApiServer) -> Iterator[FaultProxy]:
    """The fault proxy in front of the test API server, failing nothing until a test picks a
    request (`FaultProxy.choose`; tests/faults/lost.py)."""
    with FaultProxy(api_server.url, FaultConfig(rate=0.0)) as running:
        yield running


@pytest.fixture
def kubeconfig(api_server: TestApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
               ) -> Path:
    """KUBECONFIG with contexts `test`, `kind-dev`, `kind-staging` and `prod`, all reaching the
    test server."""
    path = api_server.kubeconfig(tmp_path / "kubeconfig", context="test",
                                 extra_contexts={"kind-dev": api_server.url,
                                                 "kind-staging": api_server.url,
                                                 "prod": api_server.url})
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path


@pytest.fixture
def kube(kubeconfig: Path) -> Iterator[k8s.ApiClient]:
    """The Kubernetes client, as another tool would use it, straight to the test server
    (context `test`)."""
    from kubernetes import config as k8s_config

    api: k8s.ApiClient = k8s_config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(kubeconfig), context="test", persist_config=False)
    yield api
    api.close()  # type: ignore[no-untyped-call]


class MakeEnvironment(Protocol):
    def __call__(self, objects: list[dict[str, Any]] | None = None, *, name: str = "dev",
                 context: str = "kind-dev", namespace: str = "default",
                 files: dict[str, list[dict[str, Any]] | dict[str, Any]] | None = None,
                 message: str = "change", **settings: Any) -> ConfigRepo: ...


@pytest.fixture
def environment(repo: ConfigRepo, kubeconfig: Path) -> MakeEnvironment:
    """Build an environment of `repo` and commit it: its gitdeploy.yaml (context `kind-dev` of
    the test server, namespace `default`, plus any other settings), `objects` in app.yaml, and
    any other `files` (a name in the environment's folder, one or more objects)."""

    def make(objects: list[dict[str, Any]] | None = None, *, name: str = "dev",
             context: str = "kind-dev", namespace: str = "default",
             files: dict[str, list[dict[str, Any]] | dict[str, Any]] | None = None,
             message: str = "change", **settings: Any) -> ConfigRepo:
        repo.settings(name, context=context, namespace=namespace, **settings)
        for file, content in (files or {}).items():
            repo.write(f"environments/{name}/{file}", content)
        if objects is not None:
            repo.write(f"environments/{name}/app.yaml", objects)
        repo.commit(message)
        return repo

    return make


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def cli(repo: ConfigRepo) -> Any:
    """Run gitdeploy in-process, in the config repository, without a terminal."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None, cwd: Path | None = None) -> CliResult:
        old = Path.cwd()
        os.chdir(cwd or repo.root)
        try:
            result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
        finally:
            os.chdir(old)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return run
