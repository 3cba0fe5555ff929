"""What the API server refuses although the schemas allow it: names, label and annotation
syntax, base64 in Secret data, objects defined twice, namespaces that exist nowhere."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from gitdeploy.validate.checks import object_findings
from tests import manifests as objects
from tests.conftest import ConfigRepo


def found(cli: Any) -> list[tuple[str, str, str]]:
    doc = json.loads(cli("validate", "-o", "json").stdout)
    return [(p["source"].split("/")[-1], p["path"], p["message"])
            for env in doc["environments"] for p in env["problems"]]


@pytest.mark.parametrize(("kind", "group", "name", "valid"), [
    ("ConfigMap", "", "app.config-1", True),
    ("ConfigMap", "", "App", False),
    ("ConfigMap", "", "a" * 254, False),
    ("Namespace", "", "team.a", False),  # a label: no dots
    ("Service", "", "1web", False),  # RFC 1035: starts with a letter
    ("Service", "", "web-1", True),
    ("ClusterRole", "rbac.authorization.k8s.io", "system:aggregate-to-view", True),
    ("ClusterRole", "rbac.authorization.k8s.io", "a/b", False),
])
def test_names_follow_the_api_servers_rule_for_the_kind(kind: str, group: str, name: str,
                                                        valid: bool) -> None:
    body = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}
    assert (object_findings(group, kind, body) == []) is valid


def test_names_labels_and_annotations_at_their_lines(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="x")
    repo.write("environments/dev/app.yaml", """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: Settings_1
  namespace: Team_A
  labels:
    app.kubernetes.io/name: web
    -bad: x
    ok: "value with spaces"
  annotations:
    example.com/fine: anything at all
    Not_A.Domain/x: y
""")
    assert found(cli) == [
        ("app.yaml:4:9", "metadata.name", "name 'Settings_1' is not valid: it must be a "
         "lowercase RFC 1123 subdomain: at most 253 characters of a-z, 0-9, '-' and '.', "
         "starting and ending with a letter or digit"),
        ("app.yaml:5:14", "metadata.namespace", "namespace 'Team_A' is not valid: it must be "
         "a lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and '-', starting and "
         "ending with a letter or digit"),
        ("app.yaml:8:5", "metadata.labels.-bad", "label key '-bad': the name must be at most "
         "63 characters of letters, digits, '-', '_' and '.', starting and ending with a "
         "letter or digit"),
        ("app.yaml:9:9", "metadata.labels.ok", "label value 'value with spaces' is not valid: "
         "at most 63 characters of letters, digits, '-', '_' and '.', starting and ending "
         "with a letter or digit (or empty)"),
        ("app.yaml:12:5", "metadata.annotations.Not_A.Domain/x", "annotation key "
         "'Not_A.Domain/x': the prefix before '/' must be a lowercase RFC 1123 subdomain: at "
         "most 253 characters of a-z, 0-9, '-' and '.', starting and ending with a letter or "
         "digit"),
    ]


def test_pod_template_labels_are_checked_too(repo: ConfigRepo, cli) -> None:
    deployment = objects.deployment("web")
    deployment["spec"]["template"]["metadata"]["labels"]["tier"] = "front end"
    repo.settings("dev", context="x")
    repo.write("environments/dev/app.yaml", deployment)
    assert [path for _, path, _ in found(cli)] == ["spec.template.metadata.labels.tier"]


def test_secret_data_must_be_base64_and_sops_ciphertext_is_left_alone(repo: ConfigRepo,
                                                                      cli) -> None:
    repo.settings("dev", context="x")
    repo.write("environments/dev/secret.yaml", {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "data": {"good": "aGVsbG8=", "wrapped": "aGVs\nbG8=", "bad": "p@ss word",
                 "encrypted": "ENC[AES256_GCM,data:Zm9v,iv:YWJj,tag:ZGVm,type:str]"}})
    assert found(cli) == [("secret.yaml:10:8", "data.bad", "not valid base64: Secret data "
                           "values are base64-encoded (put plain text under stringData "
                           "instead); the value is not shown")]


def test_an_object_defined_twice_in_one_environment(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="x")
    repo.write("environments/dev/a.yaml", objects.configmap("same", {}))
    repo.write("environments/dev/b.yaml", [objects.configmap("other", {}),
                                           objects.configmap("same", {})])
    second = (repo.root / "environments/dev/b.yaml").read_text().splitlines().index("---") + 2
    doc = json.loads(cli("validate", "-o", "json").stdout)
    problem = doc["environments"][0]["problems"][0]
    assert (problem["source"], problem["object"], problem["check"]) == (
        f"environments/dev/b.yaml:{second}", "ConfigMap default/same", "duplicates")
    assert problem["message"] == ("defined in environments/dev/a.yaml:1 and in "
                                  f"environments/dev/b.yaml:{second}")


def test_a_namespace_that_no_environment_creates(repo: ConfigRepo, cli) -> None:
    repo.settings("platform", context="x")
    repo.write("environments/platform/namespaces.yaml", {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    repo.settings("dev", context="x", namespace="shop")
    repo.write("environments/dev/app.yaml", [
        objects.configmap("in-shop", {}), objects.configmap("in-kube-system", {}, "kube-system"),
        objects.configmap("a", {}, "nowhere"), objects.configmap("b", {}, "nowhere"),
        objects.crd("example.com", "Widget", "widgets", scope="Cluster"),
        objects.custom("example.com", "Widget", "cluster-wide", {})])
    assert found(cli) == [
        ("app.yaml:18:14", "metadata.namespace", "namespace 'nowhere' is not created by any "
         "environment of the repository (and 1 more object(s)): add a Namespace object for "
         "it (or check the name)")]
    repo.settings("dev", context="x", namespace="elsewhere")
    # the environment's own namespace is its default: offline it is taken to exist (with
    # --cluster it must exist there, as apply requires: tests/validate/test_cluster.py)
    assert [(path, message.split(" is ")[0]) for _, path, message in found(cli)] == [
        ("metadata.namespace", "namespace 'nowhere'")]


def test_pre_check_of_diff_loads_no_schema_engine() -> None:
    """`diff` and `apply` run the API server's rules before their first request: that needs
    neither jsonschema-rs nor the schemas (3.6 MiB of memory, docs/performance.md)."""
    probe = ("import sys, gitdeploy.validate.precheck\n"
             "print(sorted(m for m in ('jsonschema_rs', 'jsonschema', 'kubernetes_validate')"
             " if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
