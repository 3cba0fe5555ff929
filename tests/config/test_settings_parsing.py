"""parse_settings: an environment's gitdeploy.yaml, every key, its default, and every error a
user can get (each naming the file)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gitdeploy.config.settings import (
    ChartSpec,
    ClusterGuard,
    KustomizeOptions,
    PruneSafety,
    Settings,
    WaitOptions,
    parse_settings,
)
from gitdeploy.errors import SettingsError

SETTINGS = Path("environments/prod/gitdeploy.yaml")


def error_of(text: str, path: Path = SETTINGS, *, line: bool = False) -> str:
    """The message of the one problem of `text`; without `line`, `path:N: ...` is shown as
    `path: ...` (the lines have tests of their own)."""
    with pytest.raises(SettingsError) as caught:
        parse_settings(text, path)
    message = caught.value.message
    return message if line else re.sub(rf"^{re.escape(str(path))}:\d+: ", f"{path}: ",
                                       message)


def test_only_the_context_gives_every_default() -> None:
    settings = parse_settings("context: kind-prod\n", SETTINGS)
    assert settings == Settings(context="kind-prod")
    assert settings.namespace == "default"
    assert settings.cluster == ClusterGuard(server=None, uid=None)
    assert (settings.protected, settings.prune, settings.suspend) == (False, False, False)
    assert settings.suspend_reason == ""
    assert settings.exclude == ()
    assert settings.state_namespace is None
    assert settings.store_namespace == "default"
    assert settings.keep_records == 20
    assert settings.lock_duration == 60
    assert settings.prune_safety == PruneSafety(max_deletions=20, max_percent=50,
                                                namespaces=False, crds=False)
    assert settings.orphan_ignores == ()
    assert settings.kubernetes_version is None
    assert settings.kustomize == KustomizeOptions(load_restrictor="rootOnly", enable_helm=False,
                                                  helm_command=None, binary=None)
    assert settings.charts == ()
    assert settings.wait == WaitOptions(enabled=True, timeout=300)


FULL = """\
context: kind-prod
namespace: shop
cluster:
  server: https://prod.example.com:6443
  uid: 0b1c2d3e
protected: true
prune: true
suspend: release freeze until Monday
exclude: [templates, "*.tmpl.yaml"]
state:
  namespace: gitdeploy-state
history:
  keep: 5
lock:
  duration: 120
pruneSafety:
  maxDeletions: 3
  maxPercent: 10
  namespaces: true
  customResourceDefinitions: true
orphans:
  ignore: [ConfigMap/istio-ca-root-cert, "Secret/*/sh.helm.release.v1.*"]
kubernetesVersion: "1.31"
kustomize:
  loadRestrictor: none
  enableHelm: true
  helmCommand: /usr/local/bin/helm
  binary: /usr/local/bin/kustomize
charts:
  - release: cache
    chart: ../charts/cache
    namespace: cache
    valuesFiles: [values/cache.yaml]
    values:
      replicas: 2
    includeCRDs: false
    hooks: apply
  - release: podinfo
    chart: podinfo
    repo: https://stefanprodan.github.io/podinfo
    version: 6.5.0
wait:
  enabled: false
  timeout: 10m
"""


def test_every_key_is_read() -> None:
    settings = parse_settings(FULL, SETTINGS)
    assert settings.context == "kind-prod"
    assert settings.namespace == "shop"
    assert settings.cluster == ClusterGuard(server="https://prod.example.com:6443",
                                            uid="0b1c2d3e")
    assert settings.protected is True
    assert settings.prune is True
    assert settings.suspend is True
    assert settings.suspend_reason == "release freeze until Monday"
    assert settings.exclude == ("templates", "*.tmpl.yaml")
    assert settings.state_namespace == "gitdeploy-state"
    assert settings.store_namespace == "gitdeploy-state"
    assert settings.keep_records == 5
    assert settings.lock_duration == 120
    assert settings.prune_safety == PruneSafety(max_deletions=3, max_percent=10,
                                                namespaces=True, crds=True)
    assert settings.orphan_ignores == ("ConfigMap/istio-ca-root-cert",
                                       "Secret/*/sh.helm.release.v1.*")
    assert settings.kubernetes_version == "1.31"
    assert settings.kustomize == KustomizeOptions(
        load_restrictor="none", enable_helm=True, helm_command="/usr/local/bin/helm",
        binary="/usr/local/bin/kustomize")
    assert settings.charts == (
        ChartSpec(release="cache", chart="../charts/cache", namespace="cache",
                  values_files=("values/cache.yaml",), values={"replicas": 2},
                  include_crds=False, hooks="apply"),
        ChartSpec(release="podinfo", chart="podinfo",
                  repo="https://stefanprodan.github.io/podinfo", version="6.5.0"),
    )
    assert settings.wait == WaitOptions(enabled=False, timeout=600)


def test_chart_defaults() -> None:
    settings = parse_settings("context: x\ncharts:\n  - release: web\n    chart: ./web\n",
                              SETTINGS)
    (chart,) = settings.charts
    assert chart == ChartSpec(release="web", chart="./web")
    assert chart.namespace is None  # the environment's namespace
    assert chart.include_crds is True
    assert chart.hooks == "skip"
    assert chart.is_remote is False


@pytest.mark.parametrize(
    ("value", "suspended", "reason"),
    [
        ("true", True, ""),
        ("false", False, ""),
        ("'  release freeze  '", True, "release freeze"),
    ],
)
def test_suspend_is_a_switch_or_a_reason(value: str, suspended: bool, reason: str) -> None:
    settings = parse_settings(f"context: x\nsuspend: {value}\n", SETTINGS)
    assert settings.suspend is suspended
    assert settings.suspend_reason == reason


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("90s", 90), ("90", 90), ("5m", 300), ("1h", 3600), ("1m30s", 90), ("1s", 1),
     ("24h", 86400), ("'120'", 120)],
)
def test_wait_timeout_durations(written: str, seconds: int) -> None:
    settings = parse_settings(f"context: x\nwait:\n  timeout: {written}\n", SETTINGS)
    assert settings.wait.timeout == seconds


@pytest.mark.parametrize(
    ("written", "shown"),
    [("0s", "'0s'"), ("0", "0"), ("25h", "'25h'"), ("24h1s", "'24h1s'"), ("soon", "'soon'"),
     ("5 minutes", "'5 minutes'"), ("1.5", "1.5"), ("true", "True"), ("''", "''"),
     ("[5m]", "['5m']"), ("-5m", "'-5m'")],
)
def test_bad_wait_timeout_names_the_key_the_format_and_the_value(written: str,
                                                                  shown: str) -> None:
    message = error_of(f"context: x\nwait:\n  timeout: {written}\n")
    assert message == (f"{SETTINGS}: 'wait.timeout' must be a duration like 90s, 5m or 1h "
                       f"(at most 24h), got {shown}")


def test_unknown_top_level_key_lists_the_known_keys() -> None:
    message = error_of("context: x\nnodes: 3\n")
    assert message.startswith(
        f"{SETTINGS}: unknown key 'nodes' (known keys: context, namespace, cluster, "
        "protected, prune, suspend, exclude, state, history, lock, pruneSafety, orphans, "
        "kubernetesVersion, ")  # and the keys of every part of the settings, in that order
    known = message.removeprefix(f"{SETTINGS}: unknown key 'nodes' (known keys: ")[:-1]
    documented = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    for key in known.split(", "):  # each in the table of docs/configuration.md, or its keys
        assert f"`{key}`" in documented or f"`{key}." in documented, (
            f"the settings key '{key}' is not documented")


@pytest.mark.parametrize(("text", "line", "message"), [
    ("context: x\nnamspace: shop\n", 2, "unknown key 'namspace' (did you mean 'namespace'?)"),
    ("context: x\nwait:\n  timeuot: 5m\n", 3,
     "unknown key 'wait.timeuot' (did you mean 'wait.timeout'?)"),
    ("context: x\ncharts:\n  - release: web\n    chart: ./web\n    valueFiles: [a]\n", 5,
     "unknown key 'charts[0].valueFiles' (did you mean 'charts[0].valuesFiles'?)"),
    ("context: x\n\n\nprune: maybe\n", 4, "'prune' must be true or false, got 'maybe'"),
    ("context: x\ncharts:\n  - chart: ./web\n", 3, "'charts[0].release' is required"),
])
def test_a_problem_names_its_line_and_a_misspelt_key_the_one_meant(text: str, line: int,
                                                                    message: str) -> None:
    assert error_of(text, line=True) == f"{SETTINGS}:{line}: {message}"


def test_every_problem_of_a_file_comes_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings("namspace: shop\nprune: maybe\nkustomize:\n  loadRestrictor: nope\n"
                       "  enableHlem: true\nwait: {timeout: soon}\n", SETTINGS)
    assert caught.value.message == f"{SETTINGS}: 6 problems"
    assert caught.value.details == [
        f"{SETTINGS}:1: unknown key 'namspace' (did you mean 'namespace'?)",
        f"{SETTINGS}:2: 'prune' must be true or false, got 'maybe'",
        f"{SETTINGS}: missing required key 'context' (the kube context to use)",
        f"{SETTINGS}:4: 'kustomize.loadRestrictor' must be rootOnly or none, got 'nope'",
        f"{SETTINGS}:5: unknown key 'kustomize.enableHlem' (did you mean "
        "'kustomize.enableHelm'?)",
        f"{SETTINGS}:6: 'wait.timeout' must be a duration like 90s, 5m or 1h (at most 24h), "
        "got 'soon'"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("context: x\ncluster:\n  url: https://x\n",
         "unknown key 'cluster.url' (known keys: cluster.server, cluster.uid)"),
        ("context: x\npruneSafety:\n  crds: true\n",
         "unknown key 'pruneSafety.crds' (known keys: pruneSafety.maxDeletions, "
         "pruneSafety.maxPercent, pruneSafety.namespaces, "
         "pruneSafety.customResourceDefinitions)"),
        ("context: x\nwait:\n  seconds: 5\n",
         "unknown key 'wait.seconds' (known keys: wait.enabled, wait.timeout)"),
        ("context: x\nhistory:\n  max: 5\n", "unknown key 'history.max' (known keys: "
         "history.keep)"),
        ("context: x\ncharts:\n  - release: web\n    chart: ./web\n    wait: true\n",
         "unknown key 'charts[0].wait' (known keys: charts[0].release, charts[0].chart, "
         "charts[0].repo, charts[0].version, charts[0].namespace, charts[0].valuesFiles, "
         "charts[0].values, charts[0].includeCRDs, charts[0].hooks)"),
    ],
)
def test_unknown_nested_key_is_named_with_its_full_path(text: str, message: str) -> None:
    assert error_of(text) == f"{SETTINGS}: {message}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("context: 3\n", "'context' must be a non-empty string, got 3"),
        ("context: '  '\n", "'context' must be a non-empty string, got '  '"),
        ("context: x\nnamespace:\n", "'namespace' must be a non-empty string, got None"),
        ("context: x\nprotected: 'yes'\n", "'protected' must be true or false, got 'yes'"),
        ("context: x\nprune: 1\n", "'prune' must be true or false, got 1"),
        ("context: x\nsuspend: []\n",
         "'suspend' must be true, false, or the reason as text, got []"),
        ("context: x\ncluster: https://x\n", "'cluster' must be a mapping, got 'https://x'"),
        ("context: x\ncluster:\n  uid: 7\n",
         "'cluster.uid' must be a non-empty string (the UID of the kube-system namespace), "
         "got 7"),
        ("context: x\nexclude: templates\n",
         "'exclude' must be a list of path patterns, got 'templates'"),
        ("context: x\nexclude: [templates, '']\n",
         "'exclude' must be a list of path patterns, got ['templates', '']"),
        ("context: x\nstate:\n  namespace: ''\n",
         "'state.namespace' must be a non-empty string (an existing or planned namespace), "
         "got ''"),
        ("context: x\nhistory:\n  keep: 0\n",
         "'history.keep' must be a whole number from 1 to 1000, got 0"),
        ("context: x\nhistory:\n  keep: 1001\n",
         "'history.keep' must be a whole number from 1 to 1000, got 1001"),
        ("context: x\nhistory:\n  keep: true\n",
         "'history.keep' must be a whole number from 1 to 1000, got True"),
        ("context: x\nlock:\n  duration: 4\n",
         "'lock.duration' must be a whole number of seconds from 5 to 3600, got 4"),
        ("context: x\nlock:\n  duration: 1m\n",
         "'lock.duration' must be a whole number of seconds from 5 to 3600, got '1m'"),
        ("context: x\nlock: 60\n", "'lock' must be a mapping, got 60"),
        ("context: x\npruneSafety:\n  maxPercent: 120\n",
         "'pruneSafety.maxPercent' must be a whole number from 0 to 100, got 120"),
        ("context: x\npruneSafety:\n  maxDeletions: -1\n",
         "'pruneSafety.maxDeletions' must be a whole number (0 or more), got -1"),
        ("context: x\npruneSafety:\n  namespaces: 'no'\n",
         "'pruneSafety.namespaces' must be true or false, got 'no'"),
        ("context: x\norphans:\n  ignore: ConfigMap/x\n",
         "'orphans.ignore' must be a list of patterns like Kind/name or "
         "Kind.group/namespace/name, got 'ConfigMap/x'"),
        ("context: x\nkubernetesVersion: 1.30\n",
         "'kubernetesVersion' must be a Kubernetes version as text, like \"1.34\", got 1.3"),
        ("context: x\nkubernetesVersion: '2.0'\n",
         "'kubernetesVersion' must be a Kubernetes version as text, like \"1.34\", got '2.0'"),
        ("context: x\nkustomize:\n  loadRestrictor: off\n",
         "'kustomize.loadRestrictor' must be rootOnly or none, got False"),
        ("context: x\nkustomize:\n  loadRestrictor: LoadRestrictionsNone\n",
         "'kustomize.loadRestrictor' must be rootOnly or none, got 'LoadRestrictionsNone'"),
        ("context: x\nwait:\n  enabled: sometimes\n",
         "'wait.enabled' must be true or false, got 'sometimes'"),
        ("context: x\ncharts: {release: web}\n",
         "'charts' must be a list of mappings, one per chart, got {'release': 'web'}"),
        ("context: x\ncharts:\n  - release: Web\n    chart: ./web\n",
         "'charts[0].release' must be a release name (lowercase letters, digits and '-', at "
         "most 53), got 'Web'"),
        ("context: x\ncharts:\n  - release: web-\n    chart: ./web\n",
         "'charts[0].release' must be a release name (lowercase letters, digits and '-', at "
         "most 53), got 'web-'"),
        ("context: x\ncharts:\n  - release: web\n    chart: ./web\n    hooks: run\n",
         "'charts[0].hooks' must be skip or apply, got 'run'"),
        ("context: x\ncharts:\n  - release: web\n    chart: ./web\n    values: [a]\n",
         "'charts[0].values' must be a mapping of values, got ['a']"),
    ],
)
def test_wrong_type_names_the_key_what_it_must_be_and_the_value(text: str,
                                                                 message: str) -> None:
    assert error_of(text) == f"{SETTINGS}: {message}"


def test_release_names_of_53_characters_are_accepted_and_longer_refused() -> None:
    longest = "a" * 53
    settings = parse_settings(f"context: x\ncharts:\n  - release: {longest}\n    chart: ./c\n",
                              SETTINGS)
    assert settings.charts[0].release == longest
    message = error_of(f"context: x\ncharts:\n  - release: {longest}b\n    chart: ./c\n")
    assert "'charts[0].release' must be a release name" in message
    assert f"got '{longest}b'" in message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("context: x\ncharts:\n  - chart: ./web\n", "'charts[0].release' is required"),
        ("context: x\ncharts:\n  - release: a\n    chart: ./a\n  - release: b\n",
         "'charts[1].chart' is required"),
        ("context: x\ncharts:\n  - release: web\n    chart: web\n    repo: https://charts\n",
         "'charts[0].version' is required for a chart from a repository or registry (pin the "
         "version you reviewed)"),
        ("context: x\ncharts:\n  - release: web\n    chart: oci://registry/web\n",
         "'charts[0].version' is required for a chart from a repository or registry (pin the "
         "version you reviewed)"),
        ("context: x\ncharts:\n  - release: web\n    chart: ./web\n    version: 1.0.0\n",
         "'charts[0].version' applies only to a chart from 'repo' or oci://; a chart folder "
         "has its own Chart.yaml"),
        ("context: x\ncharts:\n  - release: web\n    chart: ./a\n  - release: web\n"
         "    chart: ./b\n", "two charts with release 'web' in the same namespace"),
        ("context: x\ncharts:\n  - release: web\n    chart: ./a\n    namespace: n\n"
         "  - release: web\n    chart: ./b\n    namespace: n\n",
         "two charts with release 'web' in the same namespace"),
    ],
)
def test_chart_rules(text: str, message: str) -> None:
    assert error_of(text) == f"{SETTINGS}: {message}"


def test_the_same_release_in_two_namespaces_is_allowed() -> None:
    settings = parse_settings(
        "context: x\ncharts:\n  - release: web\n    chart: ./a\n    namespace: one\n"
        "  - release: web\n    chart: ./b\n    namespace: two\n", SETTINGS)
    assert [(c.release, c.namespace) for c in settings.charts] == [("web", "one"),
                                                                   ("web", "two")]


def test_the_same_release_in_the_defaulted_and_the_explicit_namespace_is_refused() -> None:
    message = error_of("context: x\nnamespace: shop\ncharts:\n  - release: web\n    chart: ./a\n"
                       "  - release: web\n    chart: ./b\n    namespace: shop\n")
    assert message == f"{SETTINGS}: two charts with release 'web' in the same namespace"


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "namespace: shop\n"])
def test_missing_context(text: str) -> None:
    assert error_of(text) == (f"{SETTINGS}: missing required key 'context' (the kube context "
                              "to use)")


@pytest.mark.parametrize(("text", "kind"), [("- context: x\n", "list"), ("prod\n", "str"),
                                            ("42\n", "int")])
def test_a_document_that_is_not_a_mapping(text: str, kind: str) -> None:
    assert error_of(text) == f"{SETTINGS}: must be a mapping of settings, got {kind}"


def test_invalid_yaml_names_the_file_and_line() -> None:
    message = error_of("context: x\nnamespace: shop\ncluster: [unclosed\n", line=True)
    assert message.startswith(f"{SETTINGS}:3: not valid YAML: ")  # where the [ opened
    assert "expected ',' or ']'" in message


def test_a_tab_indent_is_invalid_yaml_with_its_line() -> None:
    message = error_of("context: x\nwait:\n\ttimeout: 5m\n", line=True)
    assert message.startswith(f"{SETTINGS}:3: not valid YAML: ")


@pytest.mark.parametrize("path", [Path("environments/dev/gitdeploy.yaml"),
                                  Path("/tmp/checkout/environments/beta/gitdeploy.yaml")])
def test_every_error_names_the_file_it_came_from(path: Path) -> None:
    for text in ("context: x\nreplicas: 1\n", "context: x\nprune: maybe\n", "[]\n", "",
                 "context: x\nwait:\n  timeout: soon\n", "context: [\n"):
        assert error_of(text, path).startswith(f"{path}:")
