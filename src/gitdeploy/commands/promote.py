"""`compare` and `promote`: two environments of the repository side by side, and the move of
images, chart versions or files from one environment's folder to another's, written to the
work tree or as a commit on a new branch (docs/promotion.md). No cluster is reached."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from gitdeploy.commands.session import Session, Source
from gitdeploy.config.environments import Environment, load_environment
from gitdeploy.config.freeze import refuse_if_frozen
from gitdeploy.config.gitbranch import check_branch_name, commit_on_new_branch
from gitdeploy.config.sources import SourceTree, reading
from gitdeploy.errors import SettingsError
from gitdeploy.objects.images import ImageRef
from gitdeploy.objects.manifests import Manifest
from gitdeploy.plan.offline import offline_plan
from gitdeploy.promote.compare import Side
from gitdeploy.promote.compare import compare as compare_sides
from gitdeploy.promote.edits import Editor, target_objects
from gitdeploy.promote.overlay import OverlayTree
from gitdeploy.release_results import EnvironmentComparison, FileEdit, Promotion
from gitdeploy.render.environment import render_environment
from gitdeploy.results.environment import SourceInfo


@dataclass(frozen=True)
class PromoteOptions:
    images: bool = False
    image_names: tuple[str, ...] = ()  # only these repositories (implies images)
    charts: bool = False
    files: tuple[str, ...] = ()  # paths of the source environment's folder
    commit: bool = False  # a commit on a new branch (named promote/SOURCE-to-TARGET-...)
    branch: str | None = None  # a commit on this new branch

    @property
    def committing(self) -> bool:
        return self.commit or self.branch is not None


def _render(tree: SourceTree, env: Environment) -> list[Manifest]:
    """The environment's objects, read without keys: encrypted values compared as ciphertext
    and shown masked."""
    with reading(tree):
        return render_environment(tree, env, decrypt=False).manifests


def _pair(session: Session, tree: SourceTree, source: str, target: str
          ) -> tuple[Environment, Environment]:
    if source == target:
        raise SettingsError(f"'{source}' is compared with itself: name two environments")
    return load_environment(tree, source), load_environment(tree, target)


def compare(session: Session, source: str, target: str, *, ref: str | None = None
            ) -> EnvironmentComparison:
    """What `target` lacks of `source`, from their rendered objects."""
    tree = session.source(ref).tree
    source_env, target_env = _pair(session, tree, source, target)
    return compare_sides(Side(source_env, _render(tree, source_env)),
                         Side(target_env, _render(tree, target_env)))


def promote(session: Session, source: str, target: str, options: PromoteOptions) -> Promotion:
    """Apply to the target's folder what is chosen of its differences with the source."""
    if not (options.images or options.image_names or options.charts or options.files):
        raise SettingsError("nothing to promote: choose --images, --charts and/or --files PATH",
                            [f"gitdeploy compare {source} {target} shows what {target} lacks"])
    if options.committing and session.git is None:
        raise SettingsError(f"--commit/--branch: {session.repo_root} is not in a git "
                            "repository")
    if options.branch is not None and session.git is not None:
        check_branch_name(session.git, options.branch)
    # A commit is made from the committed files; the work tree is edited as it is.
    origin = session.source("HEAD" if options.committing else None)
    tree = origin.tree
    source_env, target_env = _pair(session, tree, source, target)
    frozen_checks: list[tuple[SourceTree, Environment | None]] = [(tree, target_env)]
    if options.committing:
        frozen_checks.append((session.work_tree, session.work_tree_environment(target)))
    refuse_if_frozen("promote", target, frozen_checks)

    before, source_manifests = _render(tree, target_env), _render(tree, source_env)
    comparison = compare_sides(Side(source_env, source_manifests), Side(target_env, before))
    editor = Editor(tree, target_env)
    for path in options.files:
        editor.copy(source_env, path)
    if options.images or options.image_names:
        objects = target_objects(target_env, before)
        sources = target_objects(source_env, source_manifests)
        done: set[tuple[str, str]] = set()
        for difference in comparison.images:
            if options.image_names and not _chosen(difference.repository, options.image_names):
                continue
            if (difference.target, difference.source) in done:
                continue
            done.add((difference.target, difference.source))
            editor.image(difference, source_env, objects.get(difference.object),
                         sources.get(difference.object))
    if options.charts:
        for chart in comparison.charts:
            editor.chart(chart)
    edits = editor.edits()
    after = before
    if edits:  # the settings too may have changed (chart versions and values)
        overlay = OverlayTree.of(tree, edits)
        after = _render(overlay, load_environment(overlay, target))
    result = Promotion(source=source, target=target, edits=edits, skipped=editor.skipped)
    result.plan = offline_plan(
        target, {m.key: m for m in before}, {m.key: m for m in after},
        base="before the promotion", head_info=_info(origin, "after the promotion"),
        base_info=_info(origin, "before the promotion"), rules=target_env.settings.ignore_rules)
    if edits:
        result.written = _write(session, origin, edits, source, target, options)
    return result


def _chosen(repository: str, names: tuple[str, ...]) -> bool:
    return any(repository == name or repository.endswith("/" + name)
               or ImageRef.parse(name).repository == repository for name in names)


def _info(origin: Source, label: str) -> SourceInfo:
    commit = origin.commit.hexsha if origin.commit is not None else None
    return SourceInfo(commit=commit, dirty=False, ref=label)


def _write(session: Session, origin: Source, edits: list[FileEdit], source: str, target: str,
           options: PromoteOptions) -> str:
    if not options.committing:
        for edit in edits:
            path = session.repo_root / session.work_tree.resolve(PurePosixPath(edit.path))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(edit.after)
        return "work tree"
    assert session.git is not None and origin.commit is not None
    branch = options.branch or f"promote/{source}-to-{target}-{origin.commit.hexsha[:7]}"
    commit = commit_on_new_branch(session.git, origin.commit, branch,
                                  [(PurePosixPath(e.path), e.after) for e in edits],
                                  _message(source, target, edits))
    return f"branch {branch} (commit {commit.hexsha[:7]})"


def _message(source: str, target: str, edits: list[FileEdit]) -> str:
    lines = [f"Promote {source} to {target}", ""]
    for edit in edits:
        lines.extend(f"- {edit.path}: {change}" for change in edit.changes or ("changed",))
    return "\n".join(lines) + "\n"
