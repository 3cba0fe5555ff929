"""Kubernetes objects as read from the config repository, and the YAML reader for them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from gitdeploy.objects import kinds

Body = dict[str, Any]


@dataclass(frozen=True, order=True)
class ObjectKey:
    """What makes an object unique in a cluster: group, kind, namespace, name."""

    group: str
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return kinds.title(f"{self.kind}.{self.group}" if self.group else self.kind,
                           self.namespace, self.name)


@dataclass(frozen=True)
class Origin:
    """Where an object came from: a file (relative to the repository root) and line, and the
    engine that produced it from there (`kustomize`, `helm release web`), if any."""

    path: str
    line: int = 0
    detail: str = ""

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where} ({self.detail})" if self.detail else where


@dataclass
class Manifest:
    """One object to apply: its body and where it came from."""

    body: Body
    origin: Origin
    namespace_defaulted: bool = field(default=False)

    @property
    def api_version(self) -> str:
        return str(self.body["apiVersion"])

    @property
    def kind(self) -> str:
        return str(self.body["kind"])

    @property
    def group(self) -> str:
        return group_of(self.api_version)

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.body["metadata"].get("namespace") or "")

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(self.group, self.kind, self.namespace, self.name)


def group_of(api_version: str) -> str:
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


class YamlProblem(Exception):
    """A YAML document could not be read; `line` is 1-based (0 when unknown)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe YAML with Kubernetes' expectations: duplicate keys are errors, keys become strings,
    and dates and a bare `=` stay strings (as kubectl reads them)."""


_STRING_TAGS = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"}
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _STRING_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[str, Any]:
    loader.flatten_mapping(node)
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (dict, list)):
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value (is this a template?)",
                key_node.start_mark,
            )
        text_key = key if isinstance(key, str) else ("null" if key is None else str(key).lower()
                                                      if isinstance(key, bool) else str(key))
        if text_key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{text_key}'", key_node.start_mark
            )
        result[text_key] = loader.construct_object(value_node, deep=True)
    return result


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def iter_documents(text: bytes) -> Iterator[tuple[int, Any]]:
    """Yield (1-based start line, document) for every document in a YAML stream.

    Empty and comment-only documents yield None and are left to the caller to skip.
    """
    loader = _StrictLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            line = node.start_mark.line + 1 if node is not None else 0
            yield line, loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlProblem(str(problem), mark.line + 1 if mark else 0) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(str(exc)) from None
    finally:
        loader.dispose()
