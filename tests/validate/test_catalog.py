"""Schema catalogs: folders and URL templates in kubeconform's layout, fetched over real HTTP
from a local server and cached, so that the next run needs no network."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gitdeploy.objects.manifests import iter_documents
from gitdeploy.validate.catalog import CATALOG_LAYOUT, expand
from gitdeploy.validate.crds import custom_kinds
from tests import manifests as objects
from tests.conftest import ConfigRepo, Input

TEMPLATE = "{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
WIDGET_SCHEMA = {"type": "object", "properties": {
    "apiVersion": {"type": "string"}, "kind": {"type": "string"},
    "metadata": {"type": "object"},
    "spec": {"type": "object", "additionalProperties": False,
             "properties": {"size": {"type": "integer", "minimum": 1}}}}}


@dataclass
class CatalogServer:
    """A real HTTP server on the loopback serving `root`; `requests` lists the paths asked."""

    root: Path
    url: str = ""
    requests: list[str] = field(default_factory=list)
    server: http.server.ThreadingHTTPServer | None = None

    def start(self) -> CatalogServer:
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                super().do_GET()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(self.root)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def catalog_server(tmp_path: Path) -> Iterator[CatalogServer]:
    root = tmp_path / "catalog"
    root.mkdir()
    server = CatalogServer(root).start()
    yield server
    if server.server is not None:
        server.stop()


def widgets(repo: ConfigRepo, **settings: Any) -> None:
    repo.settings("dev", context="x", **settings)
    repo.write("environments/dev/widgets.yaml", [
        objects.custom("example.com", "Widget", "good", {"size": 2}),
        objects.custom("example.com", "Widget", "bad", {"size": 0}),
    ])


def messages(cli: Any, *args: str) -> list[tuple[str, str]]:
    doc = json.loads(cli("validate", "-o", "json", *args).stdout)
    return [(p["path"], p["message"]) for p in doc["environments"][0]["problems"]]


def test_the_template_variables_are_kubeconforms() -> None:
    assert expand(TEMPLATE, "monitoring.coreos.com/v1", "ServiceMonitor", "1.34") == (
        "monitoring.coreos.com/servicemonitor_v1.json")
    assert expand("{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/"
                  "{{ .ResourceKind }}{{ .KindSuffix }}.json", "apps/v1", "Deployment",
                  "1.34") == "v1.34-standalone-strict/deployment-apps-v1.json"
    assert expand(TEMPLATE, "v1", "ConfigMap", "1.34") == "v1/configmap_v1.json"
    assert CATALOG_LAYOUT == TEMPLATE


def test_a_catalog_folder_in_the_repository(repo: ConfigRepo, cli, cache: Path) -> None:
    repo.write("schemas/example.com/widget_v1.json", json.dumps(WIDGET_SCHEMA))
    widgets(repo, validation={"schemaLocations": ["schemas"]})
    assert messages(cli) == [("spec.size", "0 is less than the minimum of 1")]


def test_a_url_template_is_fetched_once_then_read_from_the_cache(
        repo: ConfigRepo, cli, catalog_server: CatalogServer, cache: Path) -> None:
    (catalog_server.root / "example.com").mkdir()
    (catalog_server.root / "example.com/widget_v1.json").write_text(json.dumps(WIDGET_SCHEMA))
    widgets(repo, validation={"schemaLocations": [f"{catalog_server.url}/{TEMPLATE}"]})
    assert messages(cli) == [("spec.size", "0 is less than the minimum of 1")]
    assert catalog_server.requests == ["/example.com/widget_v1.json"]  # once per kind
    catalog_server.stop()  # offline from now on
    assert messages(cli) == [("spec.size", "0 is less than the minimum of 1")]
    assert len(list((cache / "http").iterdir())) == 1


def test_a_location_given_on_the_command_line(repo: ConfigRepo, cli,
                                              catalog_server: CatalogServer,
                                              cache: Path) -> None:
    (catalog_server.root / "example.com").mkdir()
    (catalog_server.root / "example.com/widget_v1.json").write_text(json.dumps(WIDGET_SCHEMA))
    widgets(repo)
    assert messages(cli, "--schema-location", catalog_server.url) == [
        ("spec.size", "0 is less than the minimum of 1")]


def test_a_kind_no_location_has_stays_missing_and_an_unreachable_one_is_a_warning(
        repo: ConfigRepo, cli, catalog_server: CatalogServer, cache: Path) -> None:
    url = catalog_server.url
    catalog_server.stop()
    widgets(repo, validation={"schemaLocations": [f"{url}/{TEMPLATE}"]})
    doc = json.loads(cli("validate", "-o", "json").stdout)
    problems = doc["environments"][0]["problems"]
    assert [(p["severity"], p["check"]) for p in problems] == [
        ("error", "missing-schema"), ("warning", "schema-catalog")]
    assert "not reachable" in problems[1]["message"]


def test_an_unknown_template_variable_is_an_error(repo: ConfigRepo, cli, cache: Path) -> None:
    widgets(repo, validation={"schemaLocations": ["https://example.invalid/{{.Kind}}.json"]})
    result = cli("validate")
    assert result.exit_code == 1
    assert "unknown variable(s) Kind" in result.stderr


def test_kube_prometheus_from_a_catalog_of_its_crds(repo: ConfigRepo, cli, cache: Path,
                                                    catalog_server: CatalogServer) -> None:
    """The operator's custom resources, without their CRDs in the repository: the CRDs are
    served as a catalog (as the public CRDs catalog serves them), and every kind is found."""
    source = Input("kube-prometheus", realworld=True)
    for crd_file in sorted((source.path / "manifests/setup").glob("*CustomResourceDefinition*")):
        for _, crd in iter_documents(crd_file.read_bytes()):
            for kind in custom_kinds(crd, crd_file.name):
                target = catalog_server.root / kind.catalog_path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(json.dumps(kind.schema))
    source.child("manifests").copy(repo.root / "environments/monitoring")
    for crd_file in (repo.root / "environments/monitoring/setup").glob("*CustomResource*"):
        crd_file.unlink()
    repo.settings("monitoring", context="x",
                  validation={"schemaLocations": [catalog_server.url]})
    result = cli("validate", "-o", "json")
    doc = json.loads(result.stdout)
    assert doc["problems"] == 0, result.stdout
    assert doc["summary"]["skipped"] == 0 and doc["summary"]["objects"] > 100
    assert any(path.endswith("/servicemonitor_v1.json") for path in catalog_server.requests)
