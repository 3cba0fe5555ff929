"""The JSON documents of `compare`, `promote` and `pin`: the envelope and the fields
docs/promotion.md and docs/pinning.md describe."""

from __future__ import annotations

from gitdeploy.output.promotion import (
    comparison_document,
    pins_document,
    promotion_document,
)
from gitdeploy.release_results import (
    ChartDifference,
    ConfigKeyDifference,
    EnvironmentComparison,
    FileEdit,
    ImageDifference,
    ObjectDifference,
    PinnedImage,
    PinReport,
    Promotion,
)
from gitdeploy.results import API_VERSION
from tests import builders


def test_environment_comparison_document() -> None:
    document = comparison_document(EnvironmentComparison(
        "staging", "prod", [ObjectDifference("Deployment web", "differs", "a.yaml:1",
                                             "b.yaml:1", "--- diff")],
        images=[ImageDifference("Deployment web", "web", "r/web", "r/web:2", "r/web:1")],
        charts=[ChartDifference("db", "postgres", "15.2.0", "")],
        config_keys=[ConfigKeyDifference("ConfigMap app", "LEVEL", "missing")],
        ignored=["metadata.namespace"]))
    assert document == {
        "apiVersion": API_VERSION, "kind": "EnvironmentComparison",
        "gitdeployVersion": document["gitdeployVersion"], "source": "staging",
        "target": "prod", "targetLacks": True, "ignored": ["metadata.namespace"],
        "objects": [{"title": "Deployment web", "state": "differs", "source": "a.yaml:1",
                     "target": "b.yaml:1", "diff": "--- diff"}],
        "images": [{"object": "Deployment web", "container": "web", "repository": "r/web",
                    "source": "r/web:2", "target": "r/web:1"}],
        "charts": [{"release": "db", "chart": "postgres", "source": "15.2.0",
                    "target": None}],
        "configKeys": [{"object": "ConfigMap app", "key": "LEVEL", "state": "missing"}]}


def test_promotion_and_pins_documents() -> None:
    promotion = Promotion("staging", "prod", [FileEdit("environments/prod/a.yaml", None, b"x",
                                                       ("copied",))],
                          skipped=["why"], plan=builders.plan(environment="prod"),
                          written="work tree")
    document = promotion_document(promotion)
    assert document["kind"] == "Promotion" and document["written"] == "work tree"
    assert document["files"] == [{"path": "environments/prod/a.yaml", "created": True,
                                  "changes": ["copied"]}]
    assert document["skipped"] == ["why"] and document["plan"]["kind"] == "Plan"
    pins = pins_document(PinReport("prod", "environments/prod/gitdeploy-images.lock",
                                   [PinnedImage("redis:7", "sha256:" + "a" * 64, True)]))
    assert pins["kind"] == "ImagePins" and pins["images"][0]["changed"] is True
