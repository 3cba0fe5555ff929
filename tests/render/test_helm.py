"""Helm charts declared in the settings, rendered by Helm's own engine: the suite's own chart
and podinfo's real one, with default and per-environment values, a pinned chart from a chart
repository over HTTP, hooks and tests, and environments that mix plain YAML, a kustomization
and several charts."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python
import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo, Input, git


@dataclass(frozen=True)
class Chart:
    """A chart with the layout these tests rely on: a Deployment and a Service named after the
    release (`<release>-<name>`, or the release alone when it holds the chart's name), an
    autoscaler and a Redis cache (`<fullname>-redis`) turned on by values-prod.yaml, hook Jobs
    under `hooks.<hook>.job`, and Helm tests."""

    input: Input
    name: str  # the chart's name, and its folder's in the config repository
    version: str
    image: str  # how the image of the main container starts
    test_pod: str  # a Helm test of the release named `name`
    message_variable: str  # the container's environment variable that carries ui.message

    @property
    def folder(self) -> str:
        return f"charts/{self.name}"


GREETER = Chart(Input("charts/greeter"), "greeter", "2.3.0", "ghcr.io/example/greeter:",
                "greeter-smoke-test", "GREETER_UI_MESSAGE")
PODINFO = Chart(Input("podinfo/charts/podinfo", realworld=True), "podinfo", "6.14.1",
                "ghcr.io/stefanprodan/podinfo:", "podinfo-grpc-test", "PODINFO_UI_MESSAGE")


def rendered(cli, env: str, *args: str) -> list[dict[str, Any]]:
    result = cli("render", env, "-o", "json", *args)
    assert result.exit_code == 0, result.output
    found: list[dict[str, Any]] = json.loads(result.stdout)["objects"]
    return found


def names(found: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    return [(o["object"]["kind"], o["object"]["metadata"]["name"],
             o["object"]["metadata"].get("namespace")) for o in found]


@pytest.fixture(params=[pytest.param(GREETER, id="greeter"), pytest.param(PODINFO, id="podinfo")])
def chart(request: pytest.FixtureRequest) -> Chart:
    param: Chart = request.param
    return param


@pytest.fixture
def chart_repo(repo: ConfigRepo, chart: Chart) -> ConfigRepo:
    chart.input.copy(repo.root / chart.folder)
    return repo


def test_chart_with_default_values(chart_repo: ConfigRepo, chart: Chart, cli) -> None:
    chart_repo.settings("dev", context="kind-dev", namespace="web", charts=[
        {"release": chart.name, "chart": f"../../{chart.folder}"}])
    result = cli("render", "dev", "-o", "json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)["objects"]
    assert names(found) == [("Deployment", chart.name, "web"), ("Service", chart.name, "web")]
    assert found[0]["source"] == (f"{chart.folder}/templates/deployment.yaml "
                                  f"(helm release {chart.name})")
    deployment = found[0]["object"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].startswith(
        chart.image)
    # Helm tests are never applied, and say so
    assert chart.test_pod not in result.stdout
    assert "is not applied: a Helm test" in result.stderr


def test_chart_with_per_environment_values(chart_repo: ConfigRepo, chart: Chart, cli) -> None:
    chart_repo.write("environments/prod/values.yaml", {"replicaCount": 3})
    chart_repo.settings("prod", context="prod", namespace="shop", charts=[{
        "release": "web", "chart": f"../../{chart.folder}", "namespace": "frontend",
        "valuesFiles": [f"../../{chart.folder}/values-prod.yaml", "values.yaml"],
        "values": {"ui": {"message": "hello prod"}}}])
    found = rendered(cli, "prod")
    full = f"web-{chart.name}"
    assert sorted(names(found)) == sorted([
        ("Deployment", full, "frontend"), ("HorizontalPodAutoscaler", full, "frontend"),
        ("ConfigMap", f"{full}-redis", "frontend"), ("Deployment", f"{full}-redis", "frontend"),
        ("Service", f"{full}-redis", "frontend"), ("Service", full, "frontend")])
    deployment = next(o["object"] for o in found if o["object"]["metadata"]["name"]
                      == full and o["object"]["kind"] == "Deployment")
    env = {e["name"]: e.get("value") for e in
           deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env[chart.message_variable] == "hello prod"  # inline values win over the files
    hpa = next(o["object"] for o in found if o["object"]["kind"] == "HorizontalPodAutoscaler")
    assert hpa["spec"]["maxReplicas"] == 5  # from values-prod.yaml
    assert hpa["spec"]["minReplicas"] == 3  # values.yaml comes later and wins


def test_hooks_are_left_out_unless_the_chart_says_apply(chart_repo: ConfigRepo, chart: Chart,
                                                         cli) -> None:
    hooks = {"hooks": {"preUpgrade": {"job": {"enabled": True}}}}
    chart_repo.settings("dev", context="kind-dev", charts=[
        {"release": chart.name, "chart": f"../../{chart.folder}", "values": hooks}])
    result = cli("render", "dev", "-o", "json")
    assert (f"Job {chart.name}-pre-upgrade ({chart.folder}/templates/hooks/job.yaml) is not "
            "applied: a Helm pre-upgrade hook (hooks: skip)") in result.stderr
    assert "pre-upgrade" not in result.stdout
    chart_repo.settings("dev", context="kind-dev", charts=[
        {"release": chart.name, "chart": f"../../{chart.folder}", "values": hooks,
         "hooks": "apply"}])
    assert ("Job", f"{chart.name}-pre-upgrade", "default") in names(rendered(cli, "dev"))


def test_template_and_values_errors_name_the_chart_and_write_nothing(
        chart_repo: ConfigRepo, chart: Chart, cli, kubeconfig, api_server) -> None:
    chart_repo.settings("dev", context="kind-dev", charts=[
        {"release": chart.name, "chart": f"../../{chart.folder}",
         "values": {"hpa": "broken"}}])
    chart_repo.commit()
    result = cli("apply", "dev", "--yes")
    assert result.exit_code == 1
    assert (f"Helm could not render {chart.folder} (release {chart.name})"
            in result.stderr)
    assert f"{chart.name}/templates/hpa.yaml" in result.stderr
    chart_repo.settings("dev", context="kind-dev", charts=[
        {"release": chart.name, "chart": f"../../{chart.folder}",
         "valuesFiles": ["nope.yaml"]}])
    result = cli("render", "dev")
    assert result.exit_code == 1
    assert (f"values file environments/dev/nope.yaml of release '{chart.name}' does not "
            "exist") in result.stderr
    chart_repo.settings("dev", context="kind-dev", charts=[
        {"release": chart.name, "chart": "../../charts"}])
    result = cli("render", "dev")
    assert "charts is not a chart folder (it has no Chart.yaml)" in result.stderr
    assert api_server.writes() == []


def test_chart_at_a_git_ref_and_dirty_chart_files(chart_repo: ConfigRepo, chart: Chart, cli,
                                                  kubeconfig) -> None:
    chart_repo.settings("dev", context="kind-dev", charts=[
        {"release": chart.name, "chart": f"../../{chart.folder}"}])
    chart_repo.commit()
    git(chart_repo.root, "tag", "v1")
    values = chart_repo.root / chart.folder / "values.yaml"
    values.write_text(values.read_text().replace("replicaCount: 1", "replicaCount: 5"))
    at_tag = rendered(cli, "dev", "--ref", "v1")
    assert at_tag[0]["object"]["spec"]["replicas"] == 1
    assert rendered(cli, "dev")[0]["object"]["spec"]["replicas"] == 5
    refused = cli("apply", "dev", "--yes")
    assert refused.exit_code == 1
    assert f"{chart.folder}/values.yaml" in refused.stderr


def test_mixed_environment_is_deterministic_and_shows_origins(chart_repo: ConfigRepo,
                                                               chart: Chart, cli) -> None:
    chart_repo.settings("dev", context="kind-dev", namespace="shop", charts=[
        {"release": "api", "chart": f"../../{chart.folder}", "namespace": "api"},
        {"release": "ui", "chart": f"../../{chart.folder}"}])
    chart_repo.write("environments/dev/namespaces.yaml",
                     [objects.namespace("shop"), objects.namespace("api")])
    chart_repo.write("environments/dev/overlay/kustomization.yaml",
                     {"resources": ["config.yaml"], "namePrefix": "k-"})
    chart_repo.write("environments/dev/overlay/config.yaml", objects.configmap("settings", {}))
    first = cli("render", "dev")
    assert first.exit_code == 0, first.output
    assert first.stdout == cli("render", "dev").stdout
    sources = [line for line in first.stdout.splitlines() if line.startswith("# Source:")]
    assert sources == [
        "# Source: environments/dev/namespaces.yaml:1",
        "# Source: environments/dev/namespaces.yaml:6",
        "# Source: environments/dev/overlay/kustomization.yaml (kustomize)",
        f"# Source: {chart.folder}/templates/deployment.yaml (helm release api)",
        f"# Source: {chart.folder}/templates/service.yaml (helm release api)",
        f"# Source: {chart.folder}/templates/deployment.yaml (helm release ui)",
        f"# Source: {chart.folder}/templates/service.yaml (helm release ui)",
    ]
    assert [n for n in names(rendered(cli, "dev")) if n[0] == "Deployment"] == [
        ("Deployment", f"api-{chart.name}", "api"), ("Deployment", f"ui-{chart.name}", "shop")]


def test_chart_objects_apply_like_any_other(chart_repo: ConfigRepo, chart: Chart, cli,
                                            kubeconfig, api_server) -> None:
    chart_repo.settings("dev", context="kind-dev", namespace="web", wait={"enabled": False},
                        charts=[{"release": chart.name, "chart": f"../../{chart.folder}"}])
    chart_repo.write("environments/dev/namespace.yaml", objects.namespace("web"))
    chart_repo.commit()
    result = cli("apply", "dev", "--yes")
    assert result.exit_code == 0, result.output
    stored = api_server.cluster.objects
    assert ("apps", "deployments", "web", chart.name) in stored
    assert ("", "services", "web", chart.name) in stored
    # no Helm release record (a Secret sh.helm.release.v1...): only the objects themselves
    assert not [key for key in stored if key[1] == "secrets"]
    again = cli("diff", "dev", "--exit-code")
    assert again.exit_code == 0, again.output


@pytest.fixture
def http_chart_repository(tmp_path: Path, chart: Chart
                          ) -> Iterator[tuple[str, threading.Event]]:
    """A real chart repository over HTTP: the chart packaged, with an index.yaml. The event
    counts as set once any request arrives."""
    folder = tmp_path / "chart-repository"
    folder.mkdir()
    helm_python.package(str(chart.input.path), destination=str(folder))
    requested = threading.Event()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            requested.set()

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    url = f"http://127.0.0.1:{server.server_address[1]}"
    helm_python.repo_index_generate(str(folder), base_url=url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url, requested
    finally:
        server.shutdown()
        server.server_close()


def test_pinned_chart_from_a_chart_repository_is_downloaded_once(
        repo: ConfigRepo, chart: Chart, cli, http_chart_repository, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    url, requested = http_chart_repository
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    repo.settings("dev", context="kind-dev", charts=[
        {"release": chart.name, "repo": url, "chart": chart.name, "version": chart.version}])
    found = rendered(cli, "dev")
    assert names(found) == [("Deployment", chart.name, "default"),
                            ("Service", chart.name, "default")]
    assert found[0]["source"] == (f"{url}/{chart.name}:{chart.version}/templates/"
                                  f"deployment.yaml (helm release {chart.name})")
    assert requested.is_set()
    requested.clear()
    assert rendered(cli, "dev") == found
    assert not requested.is_set()  # the pinned version came from the cache
    repo.settings("dev", context="kind-dev", charts=[
        {"release": chart.name, "repo": url, "chart": chart.name, "version": "9.9.9"}])
    missing = cli("render", "dev")
    assert missing.exit_code == 1
    assert f"could not download chart {url}/{chart.name}:9.9.9" in missing.stderr
    assert 'version "9.9.9" not found' in missing.stderr


def test_a_chart_from_a_repository_needs_a_pinned_version(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="kind-dev", charts=[
        {"release": "podinfo", "repo": "https://charts.example.com", "chart": "podinfo"}])
    result = cli("render", "dev")
    assert result.exit_code == 1
    assert ("environments/dev/gitdeploy.yaml:3: 'charts[0].version' is required for a chart "
            "from a repository or registry") in result.stderr  # at the chart's entry


def test_a_deprecated_chart_is_said(repo: ConfigRepo, cli) -> None:
    repo.write("charts/old/Chart.yaml", {"apiVersion": "v2", "name": "old", "version": "1.0.0",
                                          "deprecated": True})
    repo.write("charts/old/templates/cm.yaml", objects.configmap("old", {}))
    repo.settings("dev", context="kind-dev", charts=[{"release": "old",
                                                        "chart": "../../charts/old"}])
    repo.commit()
    result = cli("render", "dev")
    assert result.exit_code == 0, result.output
    assert ("note: charts/old: the chart old 1.0.0 is deprecated (deprecated: true in its "
            "Chart.yaml)") in result.stderr.splitlines()
