"""Hostile YAML: aliases that expand without bound ("billion laughs") are input errors naming
the file and the line of the document, before anything walks the objects or an engine is given
the file; aliases within the bound keep working."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import pytest

from gitdeploy.config.settings import parse_settings
from gitdeploy.errors import SettingsError
from gitdeploy.objects.manifests import (
    ALIAS_ALLOWANCE,
    AliasProblem,
    YamlProblem,
    check_aliases,
    iter_documents,
    load_yaml,
)
from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import TestApiServer

FIX = "write the repeated values out"


def laughs(levels: int = 9, width: int = 9, indent: str = "") -> str:
    """Nested aliases: `a` holds `width` strings, `b` `width` aliases of `a`, and so on; the
    last of `levels` stands for width**levels strings (9, 9: 387,420,489, in 400 bytes)."""
    names = "abcdefghijklmnop"[:levels]
    lines = [f"{indent}a: &a [{','.join(['lol'] * width)}]"]
    lines += [f"{indent}{name}: &{name} [{','.join([f'*{previous}'] * width)}]"
              for previous, name in itertools.pairwise(names)]
    return "\n".join(lines) + "\n"


def bomb_configmap(name: str = "lol") -> str:
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  annotations:\n"
            + laughs(indent="    "))


def problem_of(text: str | bytes) -> YamlProblem:
    with pytest.raises(YamlProblem) as caught:
        list(iter_documents(text.encode() if isinstance(text, str) else text))
    return caught.value


def test_the_billion_laughs_file_is_small_and_refused_at_once() -> None:
    text = bomb_configmap()
    assert len(text.encode()) < 600
    start = time.perf_counter()
    problem = problem_of(text)
    assert time.perf_counter() - start < 1
    assert problem.line == 1
    assert "YAML aliases (*name) repeat" in problem.message
    assert f"more than the {ALIAS_ALLOWANCE:,} allowed" in problem.message
    assert FIX in problem.message


def test_the_line_is_the_document_s_that_goes_beyond_the_bound() -> None:
    plain = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\n"
    text = f"{plain}---\n{plain.replace('fine', 'fine-2')}---\n{bomb_configmap()}"
    assert problem_of(text).line == 9


def test_many_small_expansions_in_one_file_add_up() -> None:
    # each document alone stays under the allowance; together they do not
    document = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: n{index}\n  annotations:\n"
                + laughs(levels=4, width=10, indent="    "))
    assert len(list(iter_documents(document.format(index=0).encode()))) == 1
    count = ALIAS_ALLOWANCE // 10 ** 4 + 2
    text = "---\n".join(document.format(index=index) for index in range(count))
    assert problem_of(text).line > 1


@pytest.mark.parametrize("text", [
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: &a [*a]\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: x, self: *m}\n",
])
def test_a_recursive_alias_is_refused(text: str) -> None:
    assert "recursive alias" in problem_of(text).message


@pytest.mark.parametrize("breaks", ["\r\n", "\r", "\u0085"])
def test_line_breaks_other_than_newline_do_not_hide_a_bomb(breaks: str) -> None:
    plain = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\n---\n" * 3
    problem = problem_of((plain + bomb_configmap()).replace("\n", breaks))
    assert "YAML aliases" in problem.message


def test_utf16_text_does_not_hide_a_bomb() -> None:
    plain = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\n---\n" * 3
    assert "YAML aliases" in problem_of((plain + bomb_configmap()).encode("utf-16")).message


def test_aliases_within_the_bound_are_read_expanded() -> None:
    # 300 objects sharing a block of 50 values through a merge key: 15,000 values repeated,
    # fewer than ten times what the file writes
    common = "".join(f"      k{index}: v{index}\n" for index in range(50))
    items = "".join(
        f"- apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: c{index}}}\n  data:\n"
        + (f"    <<: &common\n{common}" if index == 0 else "    <<: *common\n")
        + "    own: x\n" for index in range(300))
    [(line, document)] = list(iter_documents(f"apiVersion: v1\nkind: List\nitems:\n{items}"
                                             .encode()))
    assert line == 1
    assert len(document["items"]) == 300
    assert document["items"][299]["data"] == {**{f"k{i}": f"v{i}" for i in range(50)},
                                              "own": "x"}


def test_an_anchor_in_a_large_file_costs_only_its_own_document() -> None:
    plain = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: n%d}\ndata: {a: '&b *c'}\n"
    text = "---\n".join(plain % index for index in range(2000))
    text += "---\n" + bomb_configmap()
    assert problem_of(text).line == 2000 * 5 + 1


def test_the_other_yaml_readers_are_bounded_too() -> None:
    with pytest.raises(AliasProblem, match="YAML aliases") as caught:
        load_yaml(laughs())
    assert FIX in str(caught.value)
    assert load_yaml("a: &a [1, 2]\nb: *a\n") == {"a": [1, 2], "b": [1, 2]}
    with pytest.raises(YamlProblem, match="YAML aliases"):
        check_aliases(bomb_configmap())
    check_aliases("not: [valid YAML")  # the engine reports that


def test_a_deeply_nested_settings_file_is_invalid_yaml_not_a_crash() -> None:
    with pytest.raises(SettingsError, match="not valid YAML"):
        parse_settings("context: x\nvalues: " + "[" * 5000 + "]" * 5000 + "\n",
                       Path("gitdeploy.yaml"))


def test_settings_with_an_alias_bomb_name_the_file_and_line(repo: ConfigRepo, cli) -> None:
    repo.write("environments/dev/gitdeploy.yaml",
               "context: kind-dev\nnamespace: shop\ncharts:\n- release: web\n  chart: ./web\n"
               "  values:\n" + laughs(indent="    "))
    repo.commit()
    result = cli("render", "dev")
    assert result.exit_code == 1
    assert "environments/dev/gitdeploy.yaml:1: not valid YAML: YAML aliases" in result.stderr
    assert FIX in result.stderr


@pytest.mark.parametrize("command", [["render", "dev"], ["validate", "dev"], ["diff", "dev"],
                                     ["apply", "dev", "--yes"]])
def test_a_bomb_in_an_environment_is_an_input_error_and_nothing_is_written(
        environment: MakeEnvironment, api_server: TestApiServer, cli, command: list[str]
        ) -> None:
    repo = environment([objects.configmap("fine", {})], namespace="shop")
    repo.write("environments/dev/bomb.yaml", bomb_configmap())
    repo.commit("bomb")
    start = time.perf_counter()
    result = cli(*command)
    assert time.perf_counter() - start < 30
    assert result.exit_code == 1, result.output
    assert "environments/dev/bomb.yaml:1: YAML aliases (*name) repeat" in result.output
    assert FIX in result.output
    assert api_server.writes(state=True) == []


def test_a_bomb_is_named_in_validate_s_json(environment: MakeEnvironment, cli) -> None:
    repo = environment([objects.configmap("fine", {})], namespace="shop")
    repo.write("environments/dev/bomb.yaml", bomb_configmap())
    repo.commit("bomb")
    result = cli("validate", "dev", "-o", "json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["environments"][0]["problems"]
    assert [(p["source"], p["message"].startswith("YAML aliases (*name) repeat"))
            for p in problems] == [("environments/dev/bomb.yaml:1", True)]


def test_a_bomb_read_by_kustomize_is_refused_before_kustomize_runs(
        environment: MakeEnvironment, cli) -> None:
    # kustomize itself exhausts memory on it (Go's runtime: "fatal error: out of memory")
    repo = environment(namespace="shop")
    repo.write("environments/dev/base/kustomization.yaml", "resources: [cm.yaml]\n")
    repo.write("environments/dev/base/cm.yaml", "\n" + bomb_configmap())
    repo.commit("kustomize")
    start = time.perf_counter()
    for args in (["render", "dev"], ["render", "dev", "--ref", "HEAD"]):
        result = cli(*args)
        assert result.exit_code == 1, result.output
        assert "environments/dev/base/cm.yaml:2: YAML aliases" in result.stderr
    assert time.perf_counter() - start < 30


def test_helm_output_is_bounded(repo: ConfigRepo, cli) -> None:
    # a chart's template may write anchors and aliases (here the template's own text holds
    # none, its output does); Helm passes them through, to gitdeploy's reader
    repo.write("charts/bomb/Chart.yaml", "apiVersion: v2\nname: bomb\nversion: 0.1.0\n")
    template = bomb_configmap()
    for name in "abcdefghi":
        template = template.replace(f"&{name} ", f'{{{{ "&{name}" }}}} ')
    repo.write("charts/bomb/templates/cm.yaml", template)
    repo.settings("dev", context="kind-dev", namespace="shop",
                  charts=[{"release": "b", "chart": "../../charts/bomb"}])
    repo.commit()
    result = cli("render", "dev")
    assert result.exit_code == 1, result.output
    assert ("charts/bomb/templates/cm.yaml (helm release b): YAML aliases (*name) repeat"
            in result.stderr)


def test_a_values_file_bomb_is_refused_before_helm_is_given_it(repo: ConfigRepo, cli) -> None:
    # expanded to JSON for Helm's engine, it would exhaust memory
    repo.write("charts/small/Chart.yaml", "apiVersion: v2\nname: small\nversion: 0.1.0\n")
    repo.write("charts/small/templates/cm.yaml",
               "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: small}\n")
    repo.write("environments/dev/values.yaml", "replicas: 1\n" + laughs())
    repo.settings("dev", context="kind-dev", namespace="shop", exclude=["values.yaml"], charts=[
        {"release": "s", "chart": "../../charts/small", "valuesFiles": ["values.yaml"]}])
    repo.commit()
    result = cli("render", "dev")
    assert result.exit_code == 1, result.output
    assert "environments/dev/values.yaml:1: YAML aliases" in result.stderr


def test_manifests_with_aliases_within_the_bound_deploy(environment: MakeEnvironment,
                                                        api_server: TestApiServer, cli) -> None:
    repo = environment([objects.namespace("shop")], namespace="shop")
    repo.write("environments/dev/app.yaml",
               "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n"
               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: &labels\n"
               "    app: shop\n    tier: web\ndata: &data {x: '1'}\n---\n"
               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  labels: &l {app: b}\n"
               "  annotations: *l\ndata:\n  <<: {x: '1'}\n  y: '2'\n")
    repo.commit()
    assert cli("apply", "dev", "--yes").exit_code == 0
    found = json.loads(cli("render", "dev", "-o", "json").stdout)["objects"]
    assert [o["object"].get("data") for o in found] == [None, {"x": "1"}, {"x": "1", "y": "2"}]
    assert found[2]["object"]["metadata"]["annotations"] == {"app": "b"}
    assert cli("diff", "dev").exit_code == 0
