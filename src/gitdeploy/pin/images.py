"""The lock file at work: the images of rendered objects resolved (`pin`), replaced by
`repository:tag@digest` when an environment is rendered, and checked by `validate`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from gitdeploy.config.environments import Environment, load_environment
from gitdeploy.config.imagelock import LOCK_FILE, lock_path, read_lock
from gitdeploy.config.sources import SourceTree, reading
from gitdeploy.errors import GitdeployError
from gitdeploy.objects import kinds
from gitdeploy.objects.images import ImageRef, container_images, field_path
from gitdeploy.objects.manifests import Manifest
from gitdeploy.release_results import PinnedImage, PinReport
from gitdeploy.render.environment import RenderedSet, render_environment
from gitdeploy.results.validate import ERROR, Problem, ValidationReport


def tagged(image: str) -> bool:
    """An image that names a tag (or none: `latest`) and no digest: what pinning resolves."""
    return not ImageRef.parse(image).digest


def with_tag(image: str) -> str:
    """The lock file's key: the reference as written, `:latest` made explicit."""
    ref = ImageRef.parse(image)
    return str(ref) if ref.tag else f"{ref}:latest"


def pin_rendered(tree: SourceTree, rendered: RenderedSet) -> RenderedSet:
    """The objects with every image the lock file knows written `repository:tag@digest` (the
    tag stays, for people; the digest is what runs). The lock file joins the inputs, so that
    an uncommitted change of it makes the deploy dirty. No lock file: unchanged."""
    env = rendered.environment
    lock = read_lock(tree, env)
    if lock is None:
        return rendered
    for manifest in rendered.manifests:
        for container in container_images(manifest.body):
            digest = lock.get(with_tag(container.image)) if tagged(container.image) else None
            if digest:
                _set(manifest.body, container.where, f"{container.image}@{digest}")
    return dataclasses.replace(rendered, inputs=(*rendered.inputs, lock_path(env)))


def _set(body: dict[str, object], where: tuple[str | int, ...], value: str) -> None:
    node: object = body
    for step in where[:-1]:
        node = node[step]  # type: ignore[index]
    node[where[-1]] = value  # type: ignore[index]


def unpinned(tree: SourceTree, env: Environment, manifests: Iterable[Manifest]
             ) -> list[Problem]:
    """For an environment with `pinImages: true`: every image with no digest in the lock file
    (nor in the manifest itself)."""
    if not env.settings.pin_images:
        return []
    lock = read_lock(tree, env) or {}
    where = str(lock_path(env))
    problems = []
    for manifest in manifests:
        for container in container_images(manifest.body):
            if tagged(container.image) and with_tag(container.image) not in lock:
                problems.append(Problem(
                    where, kinds.title(manifest.kind, manifest.namespace, manifest.name),
                    f"image {container.image} has no digest in {LOCK_FILE} (pinImages is on "
                    f"in {env.settings_path}): run gitdeploy pin {env.name} and commit "
                    f"{where}", path=field_path(container.where), severity=ERROR,
                    check="pinning", line=0))
    return problems


def resolve(env: Environment, manifests: Iterable[Manifest], old: dict[str, str] | None,
            digest: Callable[[ImageRef], str]) -> tuple[PinReport, dict[str, str]]:
    """Every tagged image of the objects resolved through `digest`; the report and the lock
    file's new content."""
    images: dict[str, str] = {}
    digest_only: list[str] = []
    for manifest in manifests:
        for container in container_images(manifest.body):
            if not tagged(container.image):
                digest_only.append(container.image)
                continue
            key = with_tag(container.image)
            if key not in images:
                images[key] = digest(ImageRef.parse(key))
    old = old or {}
    report = PinReport(environment=env.name, lock_file=str(lock_path(env)),
                       images=[PinnedImage(image, found, old.get(image) != found)
                               for image, found in sorted(images.items())],
                       digest_only=sorted(set(digest_only)))
    return report, images


def check_pins(tree: SourceTree, report: ValidationReport) -> ValidationReport:
    """`validate`: the environments with `pinImages: true` also fail for each image the lock
    file does not pin. An environment that does not load or render is reported by the other
    checks already."""
    for check in report.environments:
        try:
            env = load_environment(tree, check.name)
            if not env.settings.pin_images:
                continue
            with reading(tree):
                manifests = render_environment(tree, env, decrypt=False).manifests
            check.problems.extend(unpinned(tree, env, manifests))
        except GitdeployError:
            continue
    return report
