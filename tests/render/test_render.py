"""Loading plain YAML: recursion, multi-document files, lists, defaults, and every loading
error, on the suite's own trees of examples and manifests and on real-world ones written by
other projects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo, Input


def rendered(cli, env: str) -> list[dict[str, Any]]:
    result = cli("render", env, "-o", "json")
    assert result.exit_code == 0, result.output
    found: list[dict[str, Any]] = json.loads(result.stdout)["objects"]
    return found


def test_recursive_sorted_multi_document_with_lists_and_defaults(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="dev", namespace="shop")
    repo.write("environments/dev/b/nested/z.yml", objects.configmap("z", {"a": "1"}))
    repo.write("environments/dev/a.yaml", [objects.namespace("shop"),
                                           objects.configmap("a", {"k": "v"}, namespace="other")])
    repo.write("environments/dev/list.yaml", {"apiVersion": "v1", "kind": "List", "items": [
        objects.service("web"), objects.configmap("from-list", {})]})
    repo.write("environments/dev/empty.yaml", "# only a comment\n---\n---\n")
    repo.write("environments/dev/README.md", "not yaml, not read\n")
    found = rendered(cli, "dev")
    names = [(o["object"]["kind"], o["object"]["metadata"]["name"],
              o["object"]["metadata"].get("namespace")) for o in found]
    assert names == [
        ("Namespace", "shop", None),
        ("ConfigMap", "a", "other"),
        ("ConfigMap", "z", "shop"),
        ("Service", "web", "shop"),
        ("ConfigMap", "from-list", "shop"),
    ]
    assert found[1]["source"] == "environments/dev/a.yaml:6"  # after the ---


def test_cluster_scoped_objects_get_no_namespace(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="dev", namespace="shop")
    repo.write("environments/dev/crd.yaml", [
        objects.crd("example.com", "Widget", "widgets", scope="Cluster"),
        objects.custom("example.com", "Widget", "w", {}),
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": "reader"}, "rules": []},
    ])
    found = rendered(cli, "dev")
    assert all("namespace" not in o["object"]["metadata"] for o in found)


def test_dates_stay_strings_and_crlf_is_read(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="dev")
    (repo.root / "environments/dev/cm.yaml").write_bytes(
        b"apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: dates\r\n"
        b"data:\r\n  released: 2024-01-02\r\n")
    found = rendered(cli, "dev")
    assert found[0]["object"]["data"] == {"released": "2024-01-02"}


FIX = "fix the files at the lines shown"
EXCLUDE = "list them under 'exclude'"


@pytest.mark.parametrize(
    ("content", "message", "hint"),
    [
        ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n",
         "environments/dev/bad.yaml:5: duplicate key 'name'", FIX),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [a\n",
         "environments/dev/bad.yaml:4: did not find expected ',' or ']' (a flow sequence that "
         "starts on this line is never closed)", FIX),
        ("foo: bar\n", "environments/dev/bad.yaml:1: not a Kubernetes object: no apiVersion or "
                       "kind", EXCLUDE),
        ("apiVersion: v1\nkind: ConfigMap\n", "ConfigMap has no metadata", FIX),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", "ConfigMap has no metadata.name",
         FIX),
        ("- a\n- b\n", "expected a Kubernetes object (a mapping), found a list", EXCLUDE),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .name }}\n",
         "environments/dev/bad.yaml:4", FIX),
    ],
)
def test_loading_errors_name_file_and_line(repo: ConfigRepo, cli, content: str,
                                           message: str, hint: str) -> None:
    """Each with the hint that fits it: `exclude` for a file that is not a manifest, the
    file's own fix for a manifest that is wrong (never the other)."""
    repo.settings("dev", context="dev")
    repo.write("environments/dev/bad.yaml", content)
    result = cli("render", "dev")
    assert result.exit_code == 1
    assert message in result.stderr
    assert hint in result.stderr
    assert ({FIX, EXCLUDE} - {hint}).pop() not in result.stderr


def test_duplicate_objects_name_both_files(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="dev", namespace="shop")
    repo.write("environments/dev/one.yaml", objects.configmap("app", {}))
    repo.write("environments/dev/two.yaml", objects.configmap("app", {}, namespace="shop"))
    result = cli("render", "dev")
    assert result.exit_code == 1
    assert ("ConfigMap shop/app: defined in environments/dev/one.yaml:1 and in "
            "environments/dev/two.yaml:1") in result.stderr


def test_same_name_in_other_namespace_or_kind_is_not_a_duplicate(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="dev", namespace="shop")
    repo.write("environments/dev/one.yaml", [objects.configmap("app", {}),
                                             objects.configmap("app", {}, namespace="other"),
                                             objects.secret("app", {})])
    assert len(rendered(cli, "dev")) == 3


def test_exclude_skips_paths(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="dev", exclude=["templates", "*.tmpl.yaml"])
    repo.write("environments/dev/templates/x.yaml", "name: {{ x }}\n")
    repo.write("environments/dev/a.tmpl.yaml", "name: {{ x }}\n")
    repo.write("environments/dev/ok.yaml", objects.configmap("ok", {}))
    assert [o["object"]["metadata"]["name"] for o in rendered(cli, "dev")] == ["ok"]


@dataclass(frozen=True)
class Examples:
    """A tree of separate examples that nobody made into one environment, and where its
    tricky files are."""

    input: Input
    duplicate_keys: tuple[str, ...]  # "file:line: duplicate key ..." as reported
    template: str  # a template file that is not YAML
    not_an_object: str  # YAML that is not a Kubernetes object, as "file:"
    exclude: tuple[str, ...]  # settings that leave out every file that is not a manifest
    clashes: int  # objects that separate examples both define
    clash: str  # one of them, naming both files
    crlf: str  # a folder of files with CRLF line endings
    crlf_objects: tuple[tuple[str, str], ...]  # what it renders: (source, kind)


EXAMPLES = [
    pytest.param(Examples(
        input=Input("examples"),
        duplicate_keys=("_archived/batch-queue/worker-controller.yaml:13: duplicate key "
                        "'selector'",
                        "credentials-secret.yaml:8: duplicate key 'type'"),
        template="agent-config-template.yaml",
        not_an_object="databases/keyvalue/image/files/keyvalue.yaml:",
        exclude=("*template*.yaml", "_archived/batch-queue", "*/credentials-secret.yaml",
                 "*/object-store/claim.yaml", "databases/keyvalue/image/files"),
        clashes=5,
        clash=("Service default/search: defined in "
               "environments/examples/_archived/search/production/service.yaml:1 and in "
               "environments/examples/_archived/search/service.yaml:1"),
        crlf="_archived/metrics-agent",
        crlf_objects=(("environments/crlf/agent-daemonset.yaml:3", "DaemonSet"),
                      ("environments/crlf/agent-rc.yaml:3", "ReplicationController")),
    ), id="examples"),
    pytest.param(Examples(
        input=Input("kubernetes-examples", realworld=True),
        duplicate_keys=("_archived/openshift-origin/etcd-controller.yaml:12: duplicate key "
                        "'selector'",
                        "quobyte-admin-secret.yaml:9: duplicate key 'type'"),
        template="newrelic-config-template.yaml",
        not_an_object="databases/cassandra/image/files/cassandra.yaml:",
        exclude=("*template*.yaml", "_archived/openshift-origin", "*/quobyte-admin-secret.yaml",
                 "*/scaleio/sc-pvc.yaml", "databases/cassandra/image/files",
                 "databases/cassandra/java"),
        clashes=51,
        clash=("Service default/elasticsearch: defined in "
               "environments/examples/_archived/elasticsearch/es-svc.yaml:1 and in "
               "environments/examples/_archived/elasticsearch/production_cluster/es-svc.yaml:1"),
        crlf="_archived/sysdig-cloud",
        crlf_objects=(("environments/crlf/sysdig-daemonset.yaml:3", "DaemonSet"),
                      ("environments/crlf/sysdig-rc.yaml:3", "ReplicationController")),
    ), id="kubernetes-examples"),
]


@pytest.mark.parametrize("examples", EXAMPLES)
def test_examples_report_every_tricky_file(repo: ConfigRepo, cli, examples: Examples) -> None:
    examples.input.copy(repo.root / "environments/examples")
    repo.settings("examples", context="dev")
    result = cli("render", "examples")
    assert result.exit_code == 1
    err = result.stderr
    # duplicate keys, with file and line
    for duplicate in examples.duplicate_keys:
        assert duplicate in err
    # template files that are not YAML objects
    assert examples.template in err
    # YAML that is not a Kubernetes object
    assert examples.not_an_object in err
    assert "not a Kubernetes object" in err


@pytest.mark.parametrize("examples", EXAMPLES)
def test_examples_load_once_tricky_files_are_excluded(repo: ConfigRepo, cli,
                                                      examples: Examples) -> None:
    examples.input.copy(repo.root / "environments/examples")
    repo.settings("examples", context="dev", exclude=list(examples.exclude))
    result = cli("render", "examples", "-o", "json")
    # What is left: separate examples reuse object names; each clash names both files.
    assert result.exit_code == 1
    assert f"{examples.clashes} object(s) defined more than once" in result.stderr
    assert examples.clash in result.stderr
    assert "duplicate key" not in result.stderr and "not a Kubernetes object" not in result.stderr


@pytest.mark.parametrize("examples", EXAMPLES)
def test_examples_crlf_files_load(repo: ConfigRepo, cli, examples: Examples) -> None:
    examples.input.child(examples.crlf).copy(repo.root / "environments/crlf")
    for source, _ in examples.crlf_objects:
        assert b"\r\n" in (repo.root / source.rsplit(":", 1)[0]).read_bytes()
    repo.settings("crlf", context="dev")
    found = rendered(cli, "crlf")
    assert [(o["source"], o["object"]["kind"]) for o in found] == list(examples.crlf_objects)


@pytest.mark.parametrize(("monitoring", "crds"), [
    pytest.param(Input("monitoring/manifests"), 3, id="monitoring"),
    pytest.param(Input("kube-prometheus/manifests", realworld=True), 10, id="kube-prometheus"),
])
def test_manifests_with_lists_and_large_crds(repo: ConfigRepo, cli, monitoring: Input,
                                             crds: int) -> None:
    monitoring.copy(repo.root / "environments/monitoring")
    repo.settings("monitoring", context="dev", namespace="monitoring")
    found = rendered(cli, "monitoring")
    kinds = [o["object"]["kind"] for o in found]
    assert "ConfigMapList" not in kinds and "RoleList" not in kinds
    assert {"ConfigMap", "Role", "RoleBinding"} <= set(kinds)  # the lists' items
    assert kinds.count("CustomResourceDefinition") >= crds
    sizes = [len(json.dumps(o["object"])) for o in found]
    assert max(sizes) > 300_000  # the large CRDs arrive whole
    secrets = [o for o in found if o["object"]["kind"] == "Secret"]
    assert secrets and all(set((s["object"].get("stringData") or s["object"].get("data") or {})
                               .values()) <= {"<masked>"} for s in secrets)
