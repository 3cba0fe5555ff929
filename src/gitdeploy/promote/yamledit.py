"""Edits of the users' YAML files that keep their comments and layout (ruamel.yaml).

A changed value is replaced where it is written, in the file's own text, quotes kept: nothing
else of the file changes. A key that has to be added (an `images:` entry of a kustomization, a
chart's `version` or a value) makes the file be written again by ruamel.yaml's round trip, with
the indentation the file uses and its comments."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.util import load_yaml_guess_indent

from gitdeploy.errors import LoadError

Container = CommentedMap | CommentedSeq


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


@dataclass
class YamlFile:
    """One YAML file (one or more documents) being edited."""

    path: str
    text: str
    documents: list[Any] = field(default_factory=list)
    _replacements: list[tuple[int, int, str, str]] = field(default_factory=list)
    _restructured: bool = False
    _text: str = ""  # the text with the replacements made

    @classmethod
    def parse(cls, path: str, data: bytes) -> YamlFile:
        text = data.decode("utf-8")
        try:
            documents = list(_yaml().load_all(text))
        except YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark is not None else path
            raise LoadError(f"{where}: not valid YAML, so it cannot be edited: "
                            f"{getattr(error, 'problem', error)}") from None
        return cls(path, text, documents, _text=text)

    @property
    def changed(self) -> bool:
        return bool(self._replacements) or self._restructured

    def set_scalar(self, container: Container, key: str | int, value: str) -> None:
        """Replace the scalar at `container[key]` with `value`, where it is written."""
        old = container[key]
        position = (container.lc.value(key) if isinstance(container, CommentedMap)
                    else container.lc.item(key))
        container[key] = type(old)(value) if isinstance(old, str) else value
        if old == value:
            return
        if position is None or not isinstance(old, (str, int, float)):
            self._restructured = True
            return
        line, column = position
        self._replacements.append((line, column, str(old), value))

    def set_key(self, mapping: CommentedMap, key: str, value: Any) -> None:
        """Set (add) a key: the file is written again by the round trip."""
        if key in mapping and not isinstance(mapping[key], (dict, list)) and not isinstance(
                value, (dict, list)):
            self.set_scalar(mapping, key, value)
            return
        mapping[key] = value
        self._restructured = True

    def delete_key(self, mapping: CommentedMap, key: str) -> None:
        if key in mapping:
            del mapping[key]
            self._restructured = True

    def restructured(self) -> None:
        """The documents were changed in place: write the file again."""
        self._restructured = True

    def render(self) -> bytes:
        if self._restructured or not self._replace_in_text():
            return self._dump().encode("utf-8")
        return self._text.encode("utf-8")

    def _replace_in_text(self) -> bool:
        lines = self.text.splitlines(keepends=True)
        for line, column, old, new in sorted(self._replacements, reverse=True):
            if line >= len(lines):
                return False
            text = lines[line]
            token = _token(text, column, old)
            if token is None:
                return False
            quote = text[column] if text[column] in "'\"" else ""
            lines[line] = text[:column] + quote + new + quote + text[column + len(token):]
        self._text = "".join(lines)
        return True

    def _dump(self) -> str:
        yaml = _yaml()
        _, indent, offset = load_yaml_guess_indent(self.text)
        indent = indent or 2
        offset = offset if offset is not None else 0
        yaml.indent(mapping=indent, sequence=max(indent, offset + 2), offset=offset)
        if self.text.lstrip().startswith("---"):
            yaml.explicit_start = True
        out = io.StringIO()
        yaml.dump_all(self.documents, out)
        return out.getvalue()


def _token(line: str, column: int, old: str) -> str | None:
    """The scalar token of `old` that starts at `column`: plain, 'single' or "double" quoted
    (without escapes: image references and versions hold none)."""
    if line[column:column + len(old)] == old:
        return old
    for quote in "'\"":
        quoted = f"{quote}{old}{quote}"
        if line[column:column + len(quoted)] == quoted:
            return quoted
    return None


def walk(node: Any) -> Iterator[tuple[Container, str | int, Any]]:
    """Every (container, key, value) of a document, depth first."""
    if isinstance(node, CommentedMap):
        for key, value in list(node.items()):
            yield node, key, value
            yield from walk(value)
    elif isinstance(node, CommentedSeq):
        for index, value in enumerate(list(node)):
            yield node, index, value
            yield from walk(value)


def set_path(file: YamlFile, root: CommentedMap, path: tuple[str, ...], value: Any) -> None:
    """Set `root[path...]` to `value`, creating the mappings along it."""
    node = root
    for step in path[:-1]:
        child = node.get(step)
        if not isinstance(child, CommentedMap):
            child = CommentedMap()
            file.set_key(node, step, child)
        node = child
    file.set_key(node, path[-1], value)
