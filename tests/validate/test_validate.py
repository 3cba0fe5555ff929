"""validate: offline, every environment, every object against the Kubernetes schemas."""

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


@dataclass(frozen=True)
class Examples:
    """A tree of separate examples, and problems validate finds in it: (source, object,
    message), the object None for a file that is not valid YAML."""

    input: Input
    removed: tuple[str, str, str]  # an API version removed from Kubernetes ("Kind in version")
    wrong_type: tuple[str, str, str]  # a field of the wrong type
    yaml_problem: tuple[str, None, str]
    unknown_field: str  # a field no schema has, as the text output shows it
    problems: int  # at least this many, all reported at once


EXAMPLES = [
    pytest.param(Examples(
        input=Input("examples"),
        removed=("_archived/volumes/flex/daemonset.yaml:1", "DaemonSet default/flex-installer",
                 "DaemonSet in extensions/v1beta1"),
        wrong_type=("_archived/volumes/fibre-channel/pod.yaml:1",
                    "Pod default/fibre-channel-reader",
                    "spec.volumes[0].fc.lun: '<the LUN number>' is not of type 'integer', "
                    "'null'"),
        yaml_problem=("_archived/batch-queue/worker-controller.yaml:13", None,
                      "duplicate key 'selector'"),
        unknown_field="_archived/volumes/rbd/pod.yaml:1: Pod default/rbd-reader: "
                      "spec.volumes[0].rbd: Additional properties are not allowed",
        problems=13,
    ), id="examples"),
    pytest.param(Examples(
        input=Input("kubernetes-examples", realworld=True),
        removed=("_archived/volumes/flexvolume/deploy/ds.yaml:1", "DaemonSet default/flex-ds",
                 "DaemonSet in extensions/v1beta1"),
        wrong_type=("_archived/volumes/fibre_channel/fc.yaml:1",
                    "Pod default/fibre-channel-example-pod",
                    "spec.volumes[0].fc.lun: '<ADD LUN ID Here>' is not of type 'integer', "
                    "'null'"),
        yaml_problem=("_archived/openshift-origin/etcd-controller.yaml:12", None,
                      "duplicate key 'selector'"),
        unknown_field="_archived/volumes/rbd/rbd.yaml:1: Pod default/rbd: spec.volumes[0].rbd: "
                      "Additional properties are not allowed",
        problems=51,
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
    problems = {(p["source"], p["object"], p["message"]) for p in envs["examples"]["problems"]}
    root = "environments/examples"
    source, name, kind = examples.removed
    assert (f"{root}/{source}", name,
            f"unknown kind {kind} for Kubernetes {envs['examples']['kubernetesVersion']} (an "
            "API version removed from Kubernetes, or a CRD that is not in this repository)"
            ) in problems
    source, name, message = examples.wrong_type
    assert (f"{root}/{source}", name, message) in problems
    source, _, message = examples.yaml_problem
    assert (f"{root}/{source}", None, message) in problems
    assert len(problems) == doc["problems"] >= examples.problems  # all reported at once
    text = cli("validate", "examples")
    assert text.exit_code == 1
    assert f"{root}/{examples.unknown_field}" in text.stdout


def test_custom_resources_are_checked_against_crds_in_the_repository(repo: ConfigRepo,
                                                                     cli) -> None:
    crd = objects.crd("example.com", "Widget", "widgets")
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"] = {
        "type": "object", "required": ["size"],
        "properties": {"size": {"type": "integer", "minimum": 1}}}
    repo.settings("platform", context="x")
    repo.write("environments/platform/crd.yaml", crd)
    repo.settings("dev", context="x")
    repo.write("environments/dev/widgets.yaml", [
        objects.custom("example.com", "Widget", "good", {"size": 2}),
        objects.custom("example.com", "Widget", "bad", {"size": 0}),
        objects.custom("example.com", "Gadget", "unknown", {}),
    ])
    doc = json.loads(cli("validate", "-o", "json").stdout)
    dev = next(env for env in doc["environments"] if env["name"] == "dev")
    assert [(p["object"], p["message"]) for p in dev["problems"]] == [
        ("Widget default/bad", "spec.size: 0 is less than the minimum of 1"),
        ("Gadget default/unknown", "unknown kind Gadget in example.com/v1 for Kubernetes "
         f"{dev['kubernetesVersion']} (an API version removed from Kubernetes, or a CRD that "
         "is not in this repository)")]


def test_the_kubernetes_version_is_set_per_environment(repo: ConfigRepo, cli) -> None:
    repo.settings("old", context="x", kubernetesVersion="1.25")
    repo.write("environments/old/hpa.yaml", HPA_V2BETA2)
    repo.settings("new", context="x")
    repo.write("environments/new/hpa.yaml", HPA_V2BETA2)
    doc = json.loads(cli("validate", "-o", "json").stdout)
    by_name = {env["name"]: env for env in doc["environments"]}
    assert by_name["old"]["kubernetesVersion"] == "1.25" and by_name["old"]["problems"] == []
    assert "unknown kind HorizontalPodAutoscaler in autoscaling/v2beta2" in (
        by_name["new"]["problems"][0]["message"])
    repo.settings("old", context="x", kubernetesVersion="1.12")
    unknown = cli("validate", "old")
    assert unknown.exit_code == 1
    assert "kubernetesVersion 1.12 has no schemas" in unknown.stderr


def test_secret_values_never_appear_in_validation_errors(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="x")
    repo.write("environments/dev/secret.yaml", {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "data": {"token": 123456789987654321}})
    result = cli("validate")
    assert result.exit_code == 1
    assert "data.token: invalid value (Secret values are not shown)" in result.stdout
    assert "123456789987654321" not in result.output


def test_settings_problems_are_reported_with_the_rest(repo: ConfigRepo, cli) -> None:
    repo.write("environments/broken/gitdeploy.yaml", "context: x\nreplicas: 3\n")
    repo.settings("dev", context="x")
    repo.write("environments/dev/bad.yaml", "kind: [\n")
    result = cli("validate")
    assert result.exit_code == 1
    assert "unknown key 'replicas'" in result.stdout
    assert "environments/dev/bad.yaml:2" in result.stdout
