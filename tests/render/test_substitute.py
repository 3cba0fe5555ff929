"""Variable substitution after rendering, with Flux's semantics (`${VAR}`, defaults, `$${`
escapes, the annotation that turns it off), from the settings and from files of variables;
an unresolved placeholder is an error naming the file, the object and the variable."""

from __future__ import annotations

from typing import Any

import pytest

from gitdeploy.config.environments import load_environment
from gitdeploy.config.sources import WorkTree
from gitdeploy.errors import LoadError
from gitdeploy.render.environment import RenderedSet, render_environment
from gitdeploy.render.substitute import Variable, _Evaluation, expand
from tests.conftest import ConfigRepo


def evaluate(text: str, **values: str) -> tuple[str, list[str]]:
    lookup = _Evaluation({name: Variable(name, value, "substitute")
                          for name, value in values.items()}, {}, [], False)
    return expand(text, lookup), lookup.unresolved


@pytest.mark.parametrize(("text", "values", "expected"), [
    ("${A}", {"A": "x"}, "x"),
    ("pre-${A}-post", {"A": "x"}, "pre-x-post"),
    ("${A:=dflt}", {}, "dflt"),
    ("${A:=dflt}", {"A": ""}, "dflt"),
    ("${A=dflt}", {"A": ""}, ""),
    ("${A:-dflt}", {"A": "set"}, "set"),
    ("${A:=${B}-x}", {"B": "nested"}, "nested-x"),
    ("$${A}", {"A": "x"}, "${A}"),
    ("$A and $$ and ${A}", {"A": "x"}, "$A and $$ and x"),
    ("${A^^}/${A,,}/${#A}/${A:1:2}", {"A": "aBcD"}, "ABCD/abcd/4/Bc"),
    ("${unclosed", {}, "${unclosed"),
])
def test_flux_substitution_semantics(text: str, values: dict[str, str], expected: str) -> None:
    assert evaluate(text, **values) == (expected, [])


def test_an_unset_variable_is_reported() -> None:
    assert evaluate("${MISSING}-${A}", A="x") == ("-x", ["MISSING"])


def render(repo: ConfigRepo, objects: list[dict[str, Any]], **settings: Any) -> RenderedSet:
    repo.settings("dev", context="kind-dev", namespace="default", **settings)
    repo.write("environments/dev/app.yaml", objects)
    tree = WorkTree(repo.root)
    return render_environment(tree, load_environment(tree, "dev"))


def configmap(name: str = "app", **data: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def test_variables_from_settings_and_files(repo: ConfigRepo) -> None:
    repo.write("environments/dev/cluster.env", "# the cluster\nREGION=eu-1\nNAME=from-file\n")
    repo.write("environments/dev/more.yaml", {"NAME": "later-file", "REPLICAS": 3})
    rendered = render(repo, [
        configmap("app-${NAME}", region="${REGION}", owner="${NAME}", tier="${TIER:=web}"),
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
         "spec": {"replicas": "${REPLICAS}"}},
    ], substitute={"NAME": "settings"}, substituteFrom=["cluster.env", "more.yaml"])
    bodies = {m.kind: m.body for m in rendered.manifests}
    assert bodies["ConfigMap"]["metadata"]["name"] == "app-settings"  # the settings win
    assert bodies["ConfigMap"]["data"] == {"region": "eu-1", "owner": "settings", "tier": "web"}
    assert bodies["Deployment"]["spec"]["replicas"] == 3  # as in Flux: a number again
    assert rendered.variables == ("NAME (substitute)", "REGION (environments/dev/cluster.env)",
                                  "REPLICAS (environments/dev/more.yaml)", "TIER (default)")
    # the files of variables are inputs, not manifests
    assert all(m.origin.path == "environments/dev/app.yaml" for m in rendered.manifests)


def test_an_unresolved_placeholder_names_file_object_and_variable(repo: ConfigRepo) -> None:
    with pytest.raises(LoadError) as raised:
        render(repo, [configmap(url="https://${HOST}/")], substitute={"OTHER": "x"})
    problem = " ".join(raised.value.details)
    assert "environments/dev/app.yaml:1: ConfigMap default/app: ${HOST} has no value" in problem \
        or "environments/dev/app.yaml:1: ConfigMap app: ${HOST} has no value" in problem
    assert "substituteUnresolved: empty" in problem


def test_unresolved_placeholders_may_be_allowed(repo: ConfigRepo) -> None:
    rendered = render(repo, [configmap(url="https://${HOST}/")], substitute={"OTHER": "x"},
                      substituteUnresolved="empty")
    assert rendered.manifests[0].body["data"]["url"] == "https:///"


def test_the_annotation_or_label_turns_substitution_off(repo: ConfigRepo) -> None:
    script = "echo ${HOME}"
    annotated = configmap("annotated", script=script)
    annotated["metadata"]["annotations"] = {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}
    labelled = configmap("labelled", script=script)
    labelled["metadata"]["labels"] = {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}
    rendered = render(repo, [annotated, labelled], substitute={"A": "x"})
    assert [m.body["data"]["script"] for m in rendered.manifests] == [script, script]


def test_without_variables_nothing_is_substituted(repo: ConfigRepo) -> None:
    rendered = render(repo, [configmap(script="echo ${HOME} $${X}")])
    assert rendered.manifests[0].body["data"]["script"] == "echo ${HOME} $${X}"
    assert rendered.variables == ()


def test_a_missing_file_of_variables(repo: ConfigRepo) -> None:
    with pytest.raises(LoadError, match=r"substituteFrom file environments/dev/none.env does "
                                        r"not exist"):
        render(repo, [configmap()], substituteFrom=["none.env"])
    rendered = render(repo, [configmap(a="${A:=1}")],
                      substituteFrom=[{"path": "none.env", "optional": True}])
    assert rendered.manifests[0].body["data"]["a"] == 1


def test_a_bad_line_of_a_dotenv_file(repo: ConfigRepo) -> None:
    repo.write("environments/dev/vars.env", "A=1\nnot a variable\n")
    with pytest.raises(LoadError, match=r"environments/dev/vars.env:2: expected NAME=value"):
        render(repo, [configmap()], substituteFrom=["vars.env"])


def test_an_unsupported_expression_is_an_error(repo: ConfigRepo) -> None:
    with pytest.raises(LoadError) as raised:
        render(repo, [configmap(a="${A/x/y}")], substitute={"A": "x"})
    assert "${A/x/y} is not an expression gitdeploy substitutes" in " ".join(
        raised.value.details)
