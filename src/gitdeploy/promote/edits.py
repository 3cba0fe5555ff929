"""The file edits of a promotion: images (where the target writes them: plain YAML, a
kustomization's `images:`, Helm values), chart versions (the target's `charts:`), and whole
files. Every edit is inside the target environment's folder; what cannot be promoted that way
is reported, never written elsewhere (docs/promotion.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from gitdeploy.config.environments import Environment
from gitdeploy.config.imagelock import LOCK_FILE as IMAGE_LOCK_FILE
from gitdeploy.config.settings import SETTINGS_FILE
from gitdeploy.config.sources import SourceTree, normalise
from gitdeploy.errors import GitdeployError, LoadError, RefusedError, SettingsError
from gitdeploy.objects.images import ImageRef
from gitdeploy.objects.manifests import Manifest
from gitdeploy.promote.compare import base_name
from gitdeploy.promote.yamledit import YamlFile, set_path, walk
from gitdeploy.release_results import ChartDifference, FileEdit, ImageDifference

YAML_SUFFIXES = (".yaml", ".yml")
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
NOT_COPIED = (SETTINGS_FILE, IMAGE_LOCK_FILE)  # each environment has its own


def inside(folder: PurePosixPath, path: PurePosixPath) -> bool:
    return folder in path.parents


@dataclass
class Editor:
    """The files of the target environment, edited in memory."""

    tree: SourceTree
    target: Environment
    skipped: list[str] = field(default_factory=list)
    _files: dict[str, YamlFile] = field(default_factory=dict)
    _copies: dict[str, tuple[bytes | None, bytes]] = field(default_factory=dict)
    _notes: dict[str, list[str]] = field(default_factory=dict)

    # ---- reading and checking --------------------------------------------------------------
    def _writable(self, path: PurePosixPath) -> bool:
        """The file is inside the target's folder, and so is whatever a symbolic link along
        its path leads to."""
        if not inside(self.target.path, normalise(path)):
            return False
        try:
            resolved = self.tree.resolve(path)
        except LoadError:
            return False
        return inside(self.target.path, resolved)

    def _yaml(self, path: PurePosixPath) -> YamlFile | None:
        key = str(path)
        if key in self._copies:
            return None  # replaced by the source's file as a whole
        if key not in self._files:
            if not self._writable(path):
                return None
            try:
                data = self.tree.read(path)
            except (OSError, KeyError):
                return None
            self._files[key] = YamlFile.parse(key, data)
        return self._files[key]

    def _target_yaml(self) -> list[PurePosixPath]:
        return [path for path in self.tree.walk_files(self.target.path)
                if path.suffix.lower() in YAML_SUFFIXES or path.name == "Kustomization"]

    def _note(self, path: str, text: str) -> None:
        self._notes.setdefault(path, []).append(text)

    # ---- images ----------------------------------------------------------------------------
    def image(self, difference: ImageDifference, source: Environment,
              target_object: Manifest | None, source_object: Manifest | None = None) -> None:
        old, new = difference.target, difference.source
        what = f"image {difference.repository}: {old or '(none)'} -> {new}"
        if not old or target_object is None:
            detail = source_object.origin.detail if source_object is not None else ""
            if detail.startswith("helm release "):
                self.skipped.append(
                    f"{difference.object} is not in {self.target.name}: {source.name} "
                    f"renders it from chart {detail.removeprefix('helm ')}, which "
                    f"{self.target.name} does not deploy (add the release to "
                    f"{self.target.settings_path})")
            else:
                where = f" ({source_object.origin.path})" if source_object is not None else ""
                self.skipped.append(f"{difference.object} is not in {self.target.name}: "
                                    f"promote the file that defines it{where} with --files")
            return
        if self._replace_everywhere(old, new, what):
            return
        origin = target_object.origin
        if origin.detail == "kustomize" and self._add_kustomize_image(
                PurePosixPath(origin.path), old, new, what):
            return
        if origin.detail.startswith("helm release ") and self._set_chart_value(
                origin.detail.removeprefix("helm release "), source, new, what):
            return
        self.skipped.append(
            f"{what} ({difference.object}, container {difference.container}): "
            f"{self.target.name} takes it from {origin}, outside its folder, and nothing in "
            f"{self.target.path}/ sets it; set it in the target's folder (a kustomize "
            f"`images:` entry or a chart value) and promote again")

    def _replace_everywhere(self, old: str, new: str, what: str) -> int:
        """Replace `old` wherever the target's folder writes it; the number of places."""
        old_ref, new_ref = ImageRef.parse(old), ImageRef.parse(new)
        count = 0
        for path in self._target_yaml():
            file = self._yaml(path)
            if file is None:
                continue
            kustomization = path.name in KUSTOMIZATION_FILES
            for document in file.documents:
                if kustomization and isinstance(document, CommentedMap):
                    count += self._kustomize_images(file, document, old_ref, new_ref, what)
                for container, key, value in walk(document):
                    if isinstance(value, str) and value == old:
                        file.set_scalar(container, key, new)
                        self._note(file.path, what)
                        count += 1
                    elif (isinstance(value, CommentedMap) and _helm_image(value, old_ref)
                          and new_ref.tag and not new_ref.digest):
                        file.set_scalar(value, "tag", new_ref.tag)
                        self._note(file.path, what)
                        count += 1
        return count

    def _kustomize_images(self, file: YamlFile, document: CommentedMap, old: ImageRef,
                          new: ImageRef, what: str) -> int:
        images = document.get("images")
        if not isinstance(images, CommentedSeq):
            return 0
        count = 0
        for entry in images:
            if not isinstance(entry, CommentedMap):
                continue
            name = str(entry.get("name", ""))
            if old.repository not in (str(entry.get("newName", name)), name):
                continue
            _set_kustomize_entry(file, entry, name, new)
            self._note(file.path, what)
            count += 1
        return count

    def _add_kustomize_image(self, kustomization: PurePosixPath, old: str, new: str,
                             what: str) -> bool:
        file = self._yaml(kustomization)
        if file is None or not file.documents or not isinstance(file.documents[0],
                                                                CommentedMap):
            return False
        document = file.documents[0]
        images = document.get("images")
        if not isinstance(images, CommentedSeq):
            images = CommentedSeq()
            file.set_key(document, "images", images)
        name = ImageRef.parse(old).repository
        entry = CommentedMap([("name", name)])
        _set_kustomize_entry(file, entry, name, ImageRef.parse(new))
        images.append(entry)
        file.restructured()
        self._note(file.path, what + " (a new `images:` entry)")
        return True

    def _set_chart_value(self, release: str, source: Environment, new: str, what: str
                         ) -> bool:
        """The value path where the source environment sets this image for `release`, set
        to the same in the target's `charts[].values`."""
        found = self._source_value_path(release, source, new)
        settings = self._yaml(self.target.settings_path)
        if found is None or settings is None or not settings.documents:
            return False
        entry = _chart_entry(settings.documents[0], release)
        if entry is None:
            return False
        values = entry.get("values")
        if not isinstance(values, CommentedMap):
            values = CommentedMap()
            settings.set_key(entry, "values", values)
        path, value = found
        set_path(settings, values, path, value)
        self._note(settings.path, f"{what} (charts[{release}].values."
                                  f"{'.'.join(path)})")
        return True

    def _source_value_path(self, release: str, source: Environment, new: str
                           ) -> tuple[tuple[str, ...], Any] | None:
        spec = next((s for s in source.settings.charts if s.release == release), None)
        if spec is None:
            return None
        new_ref = ImageRef.parse(new)
        candidates: list[Any] = []
        settings = YamlFile.parse(str(source.settings_path), self.tree.read(source.settings_path))
        entry = _chart_entry(settings.documents[0] if settings.documents else None, release)
        if entry is not None:
            candidates.append(entry.get("values"))
        for name in spec.values_files:
            path = normalise(source.path / name)
            try:
                candidates.append(YamlFile.parse(str(path), self.tree.read(path)).documents[0])
            except (OSError, KeyError, IndexError, GitdeployError):
                continue
        for values in candidates:
            found = _value_path(values, (), new, new_ref)
            if found is not None:
                return found
        return None

    # ---- chart versions --------------------------------------------------------------------
    def chart(self, difference: ChartDifference) -> None:
        if not difference.target:
            self.skipped.append(f"chart release {difference.release} is not in "
                                f"{self.target.name}'s settings: add it to "
                                f"{self.target.settings_path} (promote does not copy "
                                "settings)")
            return
        settings = self._yaml(self.target.settings_path)
        entry = _chart_entry(settings.documents[0] if settings and settings.documents
                             else None, difference.release)
        if settings is None or entry is None:
            self.skipped.append(f"chart release {difference.release}: no charts entry in "
                                f"{self.target.settings_path}")
            return
        settings.set_key(entry, "version", difference.source)
        self._note(settings.path, f"chart {difference.release} ({difference.chart}): "
                                  f"{difference.target} -> {difference.source}")

    # ---- whole files -----------------------------------------------------------------------
    def copy(self, source: Environment, given: str) -> None:
        relative = _relative(given, source)
        for path in (self.tree.walk_files(source.path / relative)
                     if self.tree.is_dir(source.path / relative) else [source.path / relative]):
            inner = path.relative_to(source.path)
            if str(inner) in NOT_COPIED or any(p.startswith(".") for p in inner.parts):
                self.skipped.append(f"{path}: not copied ({inner} belongs to each "
                                    "environment)")
                continue
            try:
                data = self.tree.read(path)
            except (OSError, KeyError):
                raise SettingsError(f"--files {given}: {path} is not a file of "
                                    f"{source.name}") from None
            target = self.target.path / inner
            if not self._writable(target):
                raise RefusedError(f"--files {given}: {target} leads outside "
                                   f"{self.target.path}/ (a symbolic link): not written")
            try:
                before: bytes | None = self.tree.read(target)
            except (OSError, KeyError):
                before = None
            if before == data:
                continue
            self._files.pop(str(target), None)
            self._copies[str(target)] = (before, data)
            self._note(str(target), f"copied from {path}")

    # ---- the result ------------------------------------------------------------------------
    def edits(self) -> list[FileEdit]:
        found = [FileEdit(path, before, after, tuple(self._notes.get(path, ())))
                 for path, (before, after) in self._copies.items()]
        for path, file in self._files.items():
            if file.changed:
                found.append(FileEdit(path, file.text.encode("utf-8"), file.render(),
                                      tuple(dict.fromkeys(self._notes.get(path, ())))))
        for edit in found:  # the promise, checked once more on what is about to be written
            if not self._writable(PurePosixPath(edit.path)):
                raise RefusedError(f"promote would write {edit.path}, outside "
                                   f"{self.target.path}/: refused")
        return sorted(found, key=lambda edit: edit.path)


def _relative(given: str, source: Environment) -> PurePosixPath:
    """A --files path: relative to the source environment's folder, or from the repository
    root inside it."""
    path = PurePosixPath(given)
    if path.is_absolute():
        raise SettingsError(f"--files {given}: give a path inside {source.path}/, relative to "
                            "it or to the repository root")
    full = normalise(path) if inside(source.path, normalise(path)) else normalise(
        source.path / path)
    if not inside(source.path, full):
        raise SettingsError(f"--files {given}: not inside {source.path}/",
                            ["promote copies files of the source environment's folder only"])
    return full.relative_to(source.path)


def _set_kustomize_entry(file: YamlFile, entry: CommentedMap, name: str, new: ImageRef
                         ) -> None:
    if new.repository != name or "newName" in entry:
        file.set_key(entry, "newName", new.repository)
    if new.tag:
        file.set_key(entry, "newTag", new.tag)
    else:
        file.delete_key(entry, "newTag")
    if new.digest:
        file.set_key(entry, "digest", new.digest)
    else:
        file.delete_key(entry, "digest")


def _helm_image(value: CommentedMap, old: ImageRef) -> bool:
    """A Helm values image mapping (`repository`, `tag`, maybe `registry`) naming `old`."""
    repository, tag = value.get("repository"), value.get("tag")
    if not isinstance(repository, str) or tag is None:
        return False
    registry = value.get("registry")
    full = f"{registry}/{repository}" if isinstance(registry, str) and registry else repository
    return old.repository in (full, repository) and str(tag) == old.tag and not old.digest


def _chart_entry(settings: Any, release: str) -> CommentedMap | None:
    charts = settings.get("charts") if isinstance(settings, CommentedMap) else None
    if not isinstance(charts, CommentedSeq):
        return None
    return next((entry for entry in charts if isinstance(entry, CommentedMap)
                 and entry.get("release") == release), None)


def _value_path(node: Any, path: tuple[str, ...], new: str, new_ref: ImageRef
                ) -> tuple[tuple[str, ...], Any] | None:
    """Where a values mapping sets the image `new`: a string, or a repository/tag mapping
    (then the path of its `tag`)."""
    if isinstance(node, CommentedMap):
        if isinstance(node.get("repository"), str) and "tag" in node:
            registry = node.get("registry")
            full = (f"{registry}/{node['repository']}" if isinstance(registry, str)
                    and registry else node["repository"])
            if new_ref.repository in (full, node["repository"]) and str(
                    node["tag"]) == new_ref.tag:
                return (*path, "tag"), new_ref.tag
        elif "repository" not in node and str(node.get("tag")) == new_ref.tag and path:
            return (*path, "tag"), new_ref.tag  # the tag alone; the chart has the repository
        for key, value in node.items():
            found = _value_path(value, (*path, str(key)), new, new_ref)
            if found is not None:
                return found
    elif isinstance(node, str) and node == new and path:
        return path, new
    return None


def target_objects(target: Environment, manifests: Iterable[Manifest]) -> dict[str, Manifest]:
    """The target's objects by the title the comparison gives them ("Deployment web")."""
    return {f"{m.kind} {base_name(target, m)}": m for m in manifests}

