"""Container images: references (`registry/repository:tag@digest`) and where objects name them
(the `containers`, `initContainers` and `ephemeralContainers` of any pod template)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
DOCKER_HUB = "docker.io"
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}")
_TAG = re.compile(r"[\w][\w.-]{0,127}")


@dataclass(frozen=True)
class ImageRef:
    """An image reference as written: `repository` keeps its registry as written
    (`ghcr.io/acme/web`, `redis`)."""

    repository: str
    tag: str = ""
    digest: str = ""

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        rest, _, digest = text.partition("@")
        tag = ""
        slash, colon = rest.rfind("/"), rest.rfind(":")
        if colon > slash:
            rest, tag = rest[:colon], rest[colon + 1:]
        return cls(rest, tag, digest)

    @property
    def valid(self) -> bool:
        return bool(self.repository) and (not self.tag or bool(_TAG.fullmatch(self.tag))) and (
            not self.digest or bool(_DIGEST.fullmatch(self.digest)))

    def __str__(self) -> str:
        return self.repository + (f":{self.tag}" if self.tag else "") + (
            f"@{self.digest}" if self.digest else "")

    @property
    def version(self) -> str:
        """What tells two references to one repository apart: `tag@digest`, as written."""
        return (self.tag or "") + (f"@{self.digest}" if self.digest else "")

    @property
    def registry(self) -> str:
        """The registry host, as Docker resolves it: the first part when it looks like a
        host (a dot or a port, or `localhost`), else Docker Hub."""
        first, _, rest = self.repository.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            return first
        return DOCKER_HUB

    @property
    def path(self) -> str:
        """The repository's path on its registry (`library/redis` on Docker Hub)."""
        first, _, rest = self.repository.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            return rest
        return self.repository if "/" in self.repository else f"library/{self.repository}"


@dataclass(frozen=True)
class ContainerImage:
    """One container of an object and its image: `where` is the field path of the image."""

    container: str
    image: str
    where: tuple[str | int, ...]


def container_images(body: Any, path: tuple[str | int, ...] = ()) -> Iterator[ContainerImage]:
    """Every container image of an object, in document order, wherever a pod template is."""
    if isinstance(body, dict):
        for key, value in body.items():
            if key in CONTAINER_LISTS and isinstance(value, list):
                for index, container in enumerate(value):
                    if isinstance(container, dict) and isinstance(container.get("image"), str):
                        yield ContainerImage(str(container.get("name") or index),
                                             container["image"], (*path, key, index, "image"))
            else:
                yield from container_images(value, (*path, key))
    elif isinstance(body, list):
        for index, item in enumerate(body):
            yield from container_images(item, (*path, index))


def field_path(where: tuple[str | int, ...]) -> str:
    """`spec.template.spec.containers[0].image`."""
    text = ""
    for step in where:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text
