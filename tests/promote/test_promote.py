"""`gitdeploy promote SOURCE TARGET`: the rules on real repository layouts (plain YAML,
kustomize overlays with `images:`, Helm values) in real git repositories."""

from __future__ import annotations

import json
import os
from pathlib import Path

from gitdeploy.config.environments import load_environment
from gitdeploy.config.sources import WorkTree
from gitdeploy.promote.edits import Editor
from gitdeploy.release_results import ChartDifference
from tests.conftest import ConfigRepo, git
from tests.promote import layouts


def _changed(repo: ConfigRepo) -> list[str]:
    return sorted(line[3:] for line in git(repo.root, "status", "--porcelain",
                                           "--untracked-files=all").splitlines())


def test_plain_images_edited_in_place_keeping_layout(repo: ConfigRepo, cli) -> None:
    layouts.plain(repo)
    before = (repo.root / "environments/prod/web.yaml").read_text()
    result = cli("promote", "staging", "prod", "--images")
    assert result.exit_code == 0, result.output
    after = (repo.root / "environments/prod/web.yaml").read_text()
    # one line changed, its quotes and comment kept; nothing else of the file moved
    assert after == before.replace('"ghcr.io/acme/web:1.4.2"', '"ghcr.io/acme/web:1.5.0"')
    assert _changed(repo) == ["environments/prod/web.yaml"]
    # the rendered diff of prod the promotion causes
    assert "update Deployment shop/web" in result.stdout
    assert "+        image: ghcr.io/acme/web:1.5.0" in result.stdout
    # the worker is not in prod: a whole file, for --files
    assert ("not promoted: Deployment worker is not in prod: promote the file that defines it "
            "(environments/staging/worker.yaml) with --files") in result.stdout


def test_only_the_chosen_image_and_json(repo: ConfigRepo, cli) -> None:
    layouts.plain(repo)
    repo.write("environments/prod/web.yaml", layouts.deployment(
        "web", "ghcr.io/acme/web:1.4.2") + "---\n" + layouts.deployment(
        "worker", "ghcr.io/acme/worker:1.0.0").replace("# the", "# prod's"))
    repo.commit()
    result = cli("promote", "staging", "prod", "--image", "acme/worker", "-o", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["kind"] == "Promotion" and document["written"] == "work tree"
    assert document["files"] == [{"path": "environments/prod/web.yaml", "created": False,
                                  "changes": ["image ghcr.io/acme/worker: "
                                              "ghcr.io/acme/worker:1.0.0 -> "
                                              "ghcr.io/acme/worker:2.0.0"]}]
    text = (repo.root / "environments/prod/web.yaml").read_text()
    assert "ghcr.io/acme/web:1.4.2" in text and "ghcr.io/acme/worker:2.0.0" in text
    assert document["plan"]["kind"] == "Plan"


def test_kustomize_images_entry_added_then_updated_never_the_base(repo: ConfigRepo,
                                                                   cli) -> None:
    layouts.kustomize(repo)
    base = (repo.root / "environments/base/web.yaml").read_text()
    result = cli("promote", "staging", "prod", "--images")
    assert result.exit_code == 0, result.output
    kustomization = (repo.root / "environments/prod/kustomization.yaml").read_text()
    assert kustomization == """# prod overlay
namespace: shop
resources:
    - ../base
images:
    - name: ghcr.io/acme/web
      newTag: 1.5.0
"""
    assert (repo.root / "environments/base/web.yaml").read_text() == base
    assert _changed(repo) == ["environments/prod/kustomization.yaml"]
    assert "+      - image: ghcr.io/acme/web:1.5.0" in result.stdout
    repo.commit("promoted")
    # the next release: prod's own images: entry is updated in place, comments kept
    staging = repo.root / "environments/staging/kustomization.yaml"
    staging.write_text(staging.read_text().replace("newTag: 1.5.0", "newTag: 1.6.0"))
    repo.commit("1.6.0 in staging")
    assert cli("promote", "staging", "prod", "--images").exit_code == 0
    assert "newTag: 1.6.0" in (repo.root / "environments/prod/kustomization.yaml").read_text()
    assert _changed(repo) == ["environments/prod/kustomization.yaml"]


def test_kustomize_digest(repo: ConfigRepo, cli) -> None:
    layouts.kustomize(repo)
    digest = "sha256:" + "ab" * 32
    staging = repo.root / "environments/staging/kustomization.yaml"
    staging.write_text(staging.read_text().replace("newTag: 1.5.0   # the release candidate",
                                                   f"digest: {digest}"))
    repo.commit()
    assert cli("promote", "staging", "prod", "--images").exit_code == 0
    assert f"digest: {digest}" in (repo.root / "environments/prod/kustomization.yaml"
                                   ).read_text()


def test_helm_values_file_of_the_target(repo: ConfigRepo, cli) -> None:
    layouts.helm(repo)
    chart_values = (repo.root / "environments/charts/app/values.yaml").read_text()
    result = cli("promote", "staging", "prod", "--images")
    assert result.exit_code == 0, result.output
    assert (repo.root / "environments/prod/app-values.yaml").read_text() == """# prod values
image:
  repository: ghcr.io/acme/app
  tag: "1.3.0"   # live
"""
    assert (repo.root / "environments/charts/app/values.yaml").read_text() == chart_values
    assert _changed(repo) == ["environments/prod/app-values.yaml"]


def test_helm_value_set_in_the_target_settings_when_only_the_chart_sets_it(
        repo: ConfigRepo, cli) -> None:
    layouts.helm(repo)
    (repo.root / "environments/prod/app-values.yaml").unlink()
    repo.write("environments/prod/gitdeploy.yaml", """context: prod   # the prod cluster
namespace: shop
charts:
  - release: app
    chart: ../charts/app
""")
    repo.commit()
    result = cli("promote", "staging", "prod", "--images")
    assert result.exit_code == 0, result.output
    settings = (repo.root / "environments/prod/gitdeploy.yaml").read_text()
    assert "# the prod cluster" in settings
    assert load_environment(WorkTree(repo.root), "prod").settings.charts[0].values == {
        "image": {"tag": "1.3.0"}}
    assert "+        image: ghcr.io/acme/app:1.3.0" in result.stdout


def test_chart_version_set_in_the_target_settings(repo: ConfigRepo) -> None:
    repo.write("environments/prod/gitdeploy.yaml", """context: prod
charts:
  # the shared podinfo
  - release: podinfo
    chart: podinfo
    repo: https://charts.example.com
    version: "6.5.0"   # reviewed
""")
    tree = WorkTree(repo.root)
    editor = Editor(tree, load_environment(tree, "prod"))
    editor.chart(ChartDifference("podinfo", "podinfo", "6.7.1", "6.5.0"))
    editor.chart(ChartDifference("redis", "redis", "19.0.0", ""))
    [edit] = editor.edits()
    assert edit.after.decode() == """context: prod
charts:
  # the shared podinfo
  - release: podinfo
    chart: podinfo
    repo: https://charts.example.com
    version: "6.7.1"   # reviewed
"""
    assert editor.skipped == ["chart release redis is not in prod's settings: add it to "
                              "environments/prod/gitdeploy.yaml (promote does not copy "
                              "settings)"]


def test_files_copied_into_the_target_folder_only(repo: ConfigRepo, cli) -> None:
    layouts.plain(repo)
    result = cli("promote", "staging", "prod", "--files", "worker.yaml",
                 "environments/staging/config.yaml")
    assert result.exit_code == 0, result.output
    assert (repo.root / "environments/prod/worker.yaml").read_text() == (
        repo.root / "environments/staging/worker.yaml").read_text()
    assert _changed(repo) == ["environments/prod/config.yaml", "environments/prod/worker.yaml"]
    assert "create Deployment shop/stg-worker" in result.stdout
    for outside in ("../prod/web.yaml", "/etc/passwd", "gitdeploy.yaml"):
        refused = cli("promote", "staging", "prod", "--files", outside)
        if outside == "gitdeploy.yaml":
            assert "not copied" in refused.stdout, refused.output
        else:
            assert refused.exit_code == 1, refused.output
    assert _changed(repo) == ["environments/prod/config.yaml", "environments/prod/worker.yaml"]


def test_links_leading_out_of_the_target_are_never_written(repo: ConfigRepo, cli) -> None:
    layouts.plain(repo)
    repo.write("environments/shared/web.yaml", layouts.deployment("web",
                                                                  "ghcr.io/acme/web:1.4.2"))
    (repo.root / "environments/prod/web.yaml").unlink()
    os.symlink("../shared/web.yaml", repo.root / "environments/prod/web.yaml")
    os.symlink("../shared/worker.yaml", repo.root / "environments/prod/worker.yaml")
    repo.commit()
    shared = (repo.root / "environments/shared/web.yaml").read_text()
    result = cli("promote", "staging", "prod", "--images")
    assert result.exit_code == 0, result.output
    assert "not promoted: image ghcr.io/acme/web" in result.stdout
    assert (repo.root / "environments/shared/web.yaml").read_text() == shared
    copy = cli("promote", "staging", "prod", "--files", "worker.yaml")
    assert copy.exit_code == 1 and "outside environments/prod/" in copy.stderr
    assert not (repo.root / "environments/shared/worker.yaml").exists()
    assert _changed(repo) == []


def test_refused_when_the_target_is_frozen(repo: ConfigRepo, cli) -> None:
    layouts.plain(repo)
    settings = repo.root / "environments/prod/gitdeploy.yaml"
    settings.write_text(settings.read_text() + "suspend: release freeze\n")
    repo.commit()
    result = cli("promote", "staging", "prod", "--images")
    assert result.exit_code == 1
    assert "promote to prod refused" in result.stderr and "release freeze" in result.stderr
    assert _changed(repo) == []
    settings.write_text(settings.read_text().replace("suspend: release freeze\n", ""))
    repo.write("environments/FREEZE", "quiet period\n")
    repo.commit()
    result = cli("promote", "staging", "prod", "--images", "--commit")
    assert result.exit_code == 1 and "quiet period" in result.stderr
    assert "promote/" not in git(repo.root, "branch")


def test_commit_on_a_new_branch_leaves_the_work_tree(repo: ConfigRepo, cli) -> None:
    layouts.plain(repo)
    head = git(repo.root, "rev-parse", "HEAD").strip()
    result = cli("promote", "staging", "prod", "--images", "--branch", "promote-web-1.5")
    assert result.exit_code == 0, result.output
    assert "branch promote-web-1.5 (commit" in result.stdout
    assert _changed(repo) == []  # neither the work tree nor the index
    assert git(repo.root, "rev-parse", "HEAD").strip() == head
    assert git(repo.root, "branch", "--show-current").strip() == "main"
    files = git(repo.root, "diff", "--name-only", "main", "promote-web-1.5").split()
    assert files == ["environments/prod/web.yaml"]
    shown = git(repo.root, "show", "promote-web-1.5:environments/prod/web.yaml")
    assert '"ghcr.io/acme/web:1.5.0"    # keep the quotes' in shown
    message = git(repo.root, "log", "-1", "--format=%B", "promote-web-1.5")
    assert message.startswith("Promote staging to prod")
    again = cli("promote", "staging", "prod", "--images", "--branch", "promote-web-1.5")
    assert again.exit_code == 1 and "the branch exists" in again.stderr
    default = cli("promote", "staging", "prod", "--images", "--commit")
    assert default.exit_code == 0
    assert f"promote/staging-to-prod-{head[:7]}" in git(repo.root, "branch")


def test_commit_is_made_from_committed_files(repo: ConfigRepo, cli, tmp_path: Path) -> None:
    layouts.plain(repo)
    (repo.root / "environments/prod/web.yaml").write_text("# half-written\n")
    result = cli("promote", "staging", "prod", "--images", "--branch", "p")
    assert result.exit_code == 0, result.output
    assert "ghcr.io/acme/web:1.5.0" in git(repo.root, "show", "p:environments/prod/web.yaml")
    assert (repo.root / "environments/prod/web.yaml").read_text() == "# half-written\n"


def test_nothing_chosen(repo: ConfigRepo, cli) -> None:
    layouts.plain(repo)
    result = cli("promote", "staging", "prod")
    assert result.exit_code == 1 and "choose --images, --charts" in result.stderr
