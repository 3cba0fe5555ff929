"""validate: offline, every environment, every object against the Kubernetes schemas; every
error of an object, each at the line and column of its field."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo, Input

HPA_V2BETA2 = {"apiVersion": "autoscaling/v2beta2", "kind": "HorizontalPodAutoscaler",
               "metadata": {"name": "web"},
               "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                           "name": "web"}, "maxReplicas": 3}}


def test_the_bundled_example_is_valid(example_repo: ConfigRepo, cli) -> None:
    result = cli("validate", cwd=example_repo.root)
    assert result.exit_code == 0, result.output
    assert "All 3 environment(s) are valid." in result.stdout
    assert "16 document(s), 16 object(s), 0 error(s), 0 warning(s), 0 skipped." in (
        result.stdout)


@dataclass(frozen=True)
class Examples:
    """A tree of separate examples, and problems validate finds in it: (source, object,
    message), the object None for a file that is not valid YAML."""

    input: Input
    removed: tuple[str, str, str]  # an API version removed from Kubernetes: source, object
    wrong_type: tuple[str, str, str]  # a field of the wrong type
    yaml_problem: tuple[str, None, str]
    unknown_field: str  # a field no schema has, as the text output shows it
    problems: int  # at least this many, all reported at once


EXAMPLES = [
    pytest.param(Examples(
        input=Input("examples"),
        removed=("_archived/volumes/flex/daemonset.yaml:1:13", "DaemonSet default/flex-installer",
                 "DaemonSet extensions/v1beta1 was removed in Kubernetes 1.16"),
        wrong_type=("_archived/volumes/fibre-channel/pod.yaml:17:14",
                    "Pod default/fibre-channel-reader",
                    '"<the LUN number>" is not of types "null", "integer"'),
        yaml_problem=("_archived/batch-queue/worker-controller.yaml:13", None,
                      "duplicate key 'selector'"),
        unknown_field="_archived/volumes/rbd/pod.yaml:20:9: Pod default/rbd-reader: "
                      'spec.volumes[0].rbd.imageformat: unknown field "imageformat"',
        problems=13,
    ), id="examples"),
    pytest.param(Examples(
        input=Input("kubernetes-examples", realworld=True),
        removed=("_archived/volumes/flexvolume/deploy/ds.yaml:1:13", "DaemonSet default/flex-ds",
                 "DaemonSet extensions/v1beta1 was removed in Kubernetes 1.16"),
        wrong_type=("_archived/volumes/fibre_channel/fc.yaml:", "Pod default/fibre-channel-"
                    "example-pod", '"<ADD LUN ID Here>" is not of types "null", "integer"'),
        yaml_problem=("_archived/openshift-origin/etcd-controller.yaml:12", None,
                      "duplicate key 'selector'"),
        unknown_field='_archived/volumes/rbd/rbd.yaml:', problems=51,
    ), id="kubernetes-examples"),
]


@pytest.mark.parametrize("examples", EXAMPLES)
def test_examples_report_removed_versions_invalid_fields_and_yaml_errors(
        repo: ConfigRepo, cli, examples: Examples) -> None:
    examples.input.copy(repo.root / "environments/examples")
    repo.settings("examples", context="x")
    repo.settings("good", context="x")
    repo.write("environments/good/app.yaml", objects.deployment("web"))
    result = cli("validate", "-o", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["kind"] == "Validation" and doc["valid"] is False
    envs = {env["name"]: env for env in doc["environments"]}
    assert envs["good"]["problems"] == [] and envs["good"]["objects"] == 1
    problems = envs["examples"]["problems"]
    root = "environments/examples"
    source, name, message = examples.removed
    removed = next(p for p in problems if p["source"] == f"{root}/{source}")
    assert (removed["object"], removed["path"], removed["check"]) == (name, "apiVersion",
                                                                      "api-versions")
    assert removed["message"].startswith(message) and removed["message"].endswith(
        "use apps/v1")
    source, name, message = examples.wrong_type
    assert any(p["source"].startswith(f"{root}/{source}") and p["object"] == name
               and p["message"] == message and p["path"] == "spec.volumes[0].fc.lun"
               for p in problems)
    source, _, message = examples.yaml_problem
    assert {"source": f"{root}/{source}", "object": None, "message": message} in [
        {key: p[key] for key in ("source", "object", "message")} for p in problems]
    errors = [p for p in problems if p["severity"] == "error"]
    assert len(errors) == doc["problems"] >= examples.problems  # all reported at once
    text = cli("validate", "examples")
    assert text.exit_code == 1
    assert f"{root}/{examples.unknown_field}" in text.stdout


def test_every_schema_error_of_an_object_at_the_line_and_column_of_its_field(
        repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="x")
    repo.write("environments/dev/app.yaml", """\
apiVersion: v1
kind: ConfigMap
metadata: {name: first}
data: {a: "1"}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: three
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx
          imagePullPolicy: [Always]
          bogus: 1
""")
    doc = json.loads(cli("validate", "-o", "json").stdout)
    found = [(p["line"], p["column"], p["path"], p["message"])
             for p in doc["environments"][0]["problems"]]
    assert found == [
        (10, 1, "spec", '"selector" is a required property'),
        (11, 13, "spec.replicas", '"three" is not of types "null", "integer"'),
        (19, 11, "spec.template.spec.containers[0].imagePullPolicy",
         '["Always"] is not of types "null", "string"'),
        (20, 11, "spec.template.spec.containers[0].bogus", 'unknown field "bogus"'),
    ]
    problem = doc["environments"][0]["problems"][1]
    assert problem["source"] == "environments/dev/app.yaml:11:13"
    assert (problem["file"], problem["object"], problem["severity"], problem["check"]) == (
        "environments/dev/app.yaml", "Deployment default/web", "error", "schema")
    text = cli("validate").stdout
    assert ("environments/dev/app.yaml:20:11: Deployment default/web: "
            'spec.template.spec.containers[0].bogus: unknown field "bogus"') in text


def test_an_item_of_a_list_document_is_located_in_the_list(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="x")
    repo.write("environments/dev/list.yaml", """\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: a}
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: b}
    extra: 1
""")
    problem = json.loads(cli("validate", "-o", "json").stdout)["environments"][0]["problems"][0]
    assert (problem["line"], problem["column"], problem["object"], problem["path"]) == (
        10, 5, "ConfigMap default/b", "extra")


def test_objects_an_engine_rendered_name_the_engine_and_the_field(repo: ConfigRepo,
                                                                  cli) -> None:
    repo.settings("dev", context="x")
    repo.write("environments/dev/kustomization.yaml", {"resources": ["cm.yaml"]})
    repo.write("environments/dev/cm.yaml", {"apiVersion": "v1", "kind": "ConfigMap",
                                            "metadata": {"name": "a"}, "extra": 1})
    problem = json.loads(cli("validate", "-o", "json").stdout)["environments"][0]["problems"][0]
    assert problem["renderedBy"] == "kustomize" and problem["path"] == "extra"
    assert problem["source"] == "environments/dev/kustomization.yaml (kustomize)"


def test_custom_resources_are_checked_against_crds_in_the_repository(repo: ConfigRepo,
                                                                     cli) -> None:
    crd = objects.crd("example.com", "Widget", "widgets")
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"] = {
        "type": "object", "required": ["size"],
        "properties": {"size": {"type": "integer", "minimum": 1},
                       "port": {"x-kubernetes-int-or-string": True},
                       "note": {"type": "string", "nullable": True}}}
    repo.settings("platform", context="x")
    repo.write("environments/platform/crd.yaml", crd)
    repo.settings("dev", context="x")
    repo.write("environments/dev/widgets.yaml", [
        objects.custom("example.com", "Widget", "good", {"size": 2, "port": "http",
                                                          "note": None}),
        objects.custom("example.com", "Widget", "bad", {"size": 0, "colour": "red"}),
        objects.custom("example.com", "Gadget", "unknown", {}),
    ])
    doc = json.loads(cli("validate", "-o", "json").stdout)
    dev = next(env for env in doc["environments"] if env["name"] == "dev")
    assert [(p["object"], p["path"], p["message"]) for p in dev["problems"]] == [
        ("Widget default/bad", "spec.size", "0 is less than the minimum of 1"),
        ("Widget default/bad", "spec.colour", 'unknown field "colour"'),
        ("Gadget default/unknown", "kind", dev["problems"][2]["message"])]
    assert dev["problems"][2]["message"].startswith(
        "no schema for Gadget in example.com/v1: Kubernetes 1.37 has no such kind")


def test_the_kubernetes_version_is_set_per_environment(repo: ConfigRepo, cli) -> None:
    repo.settings("old", context="x", kubernetesVersion="1.25")
    repo.write("environments/old/hpa.yaml", HPA_V2BETA2)
    repo.settings("new", context="x")
    repo.write("environments/new/hpa.yaml", HPA_V2BETA2)
    doc = json.loads(cli("validate", "-o", "json").stdout)
    by_name = {env["name"]: env for env in doc["environments"]}
    old, new = by_name["old"], by_name["new"]
    assert (old["kubernetesVersion"], old["kubernetesVersionFrom"]) == ("1.25", "settings")
    assert [(p["severity"], p["message"]) for p in old["problems"]] == [
        ("warning", "HorizontalPodAutoscaler autoscaling/v2beta2 is deprecated since "
                    "Kubernetes 1.23, and is removed in 1.26: use autoscaling/v2")]
    assert new["kubernetesVersionFrom"] == "default"
    assert [(p["severity"], p["message"]) for p in new["problems"]] == [
        ("error", "HorizontalPodAutoscaler autoscaling/v2beta2 was removed in Kubernetes 1.26 "
                  f"(this environment runs {new['kubernetesVersion']}): use autoscaling/v2")]
    repo.settings("old", context="x", kubernetesVersion="1.12")
    unknown = cli("validate", "old")
    assert unknown.exit_code == 1
    assert "kubernetesVersion: Kubernetes 1.12 has no schemas" in unknown.stderr


def test_secret_values_never_appear_in_validation_errors(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="x")
    repo.write("environments/dev/secret.yaml", {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "data": {"token": 123456789987654321, "text": "hunter2 is not base64!"},
        "stringData": {"n": ["987654321123456789"]}})
    result = cli("validate")
    assert result.exit_code == 1
    assert "data.token: invalid value (Secret values are not shown)" in result.stdout
    assert "data.text: not valid base64" in result.stdout
    assert "stringData.n: invalid value (Secret values are not shown)" in result.stdout
    for value in ("123456789987654321", "hunter2", "987654321123456789"):
        assert value not in result.output


def test_settings_problems_are_reported_with_the_rest(repo: ConfigRepo, cli) -> None:
    repo.write("environments/broken/gitdeploy.yaml", "context: x\nreplicas: 3\n")
    repo.settings("dev", context="x")
    repo.write("environments/dev/bad.yaml", "kind: [\n")
    result = cli("validate")
    assert result.exit_code == 1
    assert "unknown key 'replicas'" in result.stdout
    assert "environments/dev/bad.yaml:2" in result.stdout


def test_a_bad_validation_setting_names_the_key(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="x", validation={"skipKinds": ["not a kind"]})
    result = cli("validate", "-o", "json")
    problem = json.loads(result.stdout)["environments"][0]["problems"][0]
    assert "'validation.skipKinds' must be a list of kinds" in problem["message"]
    assert cli("validate", "--skip-kind", "lower/case/kind").exit_code == 1
