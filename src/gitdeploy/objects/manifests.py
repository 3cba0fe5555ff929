"""Kubernetes objects as read from the config repository, and the YAML reader for them."""

from __future__ import annotations

import bisect
import re
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


# YAML aliases (`*name`) repeat the node of an anchor (`&name`) without copying it, so a few
# hundred bytes of nested aliases can stand for billions of values once anything walks the
# objects (a diff, a request body). A stream may add this many values through aliases, or ten
# times the values it writes out when that is more; beyond, it is refused before it is read.
ALIAS_ALLOWANCE = 50_000
ALIAS_RATIO = 10
ALIAS_FIX = ("write the repeated values out, or use fewer and smaller aliases (*name); an alias "
             "of a block that itself holds aliases multiplies its size")


TOO_DEEP = "nested too deeply: collections inside collections more than 1,000 levels deep"


class AliasProblem(yaml.MarkedYAMLError):
    """Aliases expand a document beyond the bound (a YAMLError, so that callers that report
    invalid YAML report this as well)."""


def _expanded(root: yaml.Node) -> tuple[int, int]:
    """(values written, values once every alias is expanded) of one document's node graph.

    The composer resolves an alias to the very node of its anchor, so the graph is a DAG whose
    shared nodes are the aliases: each node's expanded size is computed once, and the walk
    costs what the document writes, however large its expansion. A node reached again while
    being walked is an alias inside its own anchor.
    """
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        if leaving:
            if isinstance(node, yaml.MappingNode):
                total = 1 + sum(sizes[id(key)] + sizes[id(value)] for key, value in node.value)
            else:
                total = 1 + sum(sizes[id(item)] for item in node.value)
            sizes[id(node)] = total
            continue
        size = sizes.get(id(node))
        if size is not None:
            if size < 0:
                raise AliasProblem(None, None, "an alias (*name) is used inside the node it "
                                   "names: a recursive alias", node.start_mark)
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        sizes[id(node)] = -1  # being walked
        stack.append((node, True))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append((key, False))
                stack.append((value, False))
        else:
            stack.extend((item, False) for item in node.value)
    return len(sizes), sizes[id(root)]


class _AliasBudget:
    """What aliases have added to one stream so far, against its bound."""

    def __init__(self) -> None:
        self.written = 0
        self.added = 0

    def check(self, node: yaml.Node) -> None:
        written, expanded = _expanded(node)
        self.written += written
        self.added += expanded - written
        limit = max(ALIAS_ALLOWANCE, ALIAS_RATIO * self.written)
        if self.added > limit:
            raise AliasProblem(
                None, None,
                f"YAML aliases (*name) repeat {self.added:,} values, more than the "
                f"{limit:,} allowed (the YAML writes {self.written:,} values): {ALIAS_FIX}",
                node.start_mark)


# The bytes that may come before an anchor's `&` (where a node starts); and line breaks that
# YAML counts besides \n (a lone \r, NEL, LS, PS) or text that is not UTF-8 (NUL bytes).
_BEFORE_ANCHOR = frozenset(b" \t\r\n[{,:?-\xbf")
_OTHER_BREAKS = (b"\x00", b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9")
_EVERY_LINE = [-1]


def _anchor_lines(text: bytes | str) -> list[int]:
    """The (0-based) lines that may hold an anchor (`&name`); `_EVERY_LINE` when lines cannot
    be told from the bytes. An alias needs an anchor in its document, so a document without
    one is read without walking its nodes twice: most are."""
    data = text.encode() if isinstance(text, str) else text
    start = data.find(b"&")
    if start < 0:
        return []
    if any(other in data for other in _OTHER_BREAKS) or data.count(b"\r") != data.count(
            b"\r\n"):
        return _EVERY_LINE
    lines: list[int] = []
    line, counted = 0, 0
    while start >= 0:
        if start == 0 or data[start - 1] in _BEFORE_ANCHOR:
            line += data.count(b"\n", counted, start)
            counted = start
            lines.append(line)
        start = data.find(b"&", start + 1)
    return lines


def _may_alias(node: yaml.Node, anchor_lines: list[int]) -> bool:
    if anchor_lines is _EVERY_LINE:
        return True
    first = bisect.bisect_left(anchor_lines, node.start_mark.line - 1)
    return first < len(anchor_lines) and anchor_lines[first] <= node.end_mark.line


def iter_documents(text: bytes) -> Iterator[tuple[int, Any]]:
    """Yield (1-based start line, document) for every document in a YAML stream.

    Empty and comment-only documents yield None and are left to the caller to skip. Aliases
    that would expand the stream beyond its bound (`ALIAS_ALLOWANCE`) are a YamlProblem.
    """
    loader = _StrictLoader(text)
    anchor_lines = _anchor_lines(text)
    budget = _AliasBudget()
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                yield 0, None
                continue
            if anchor_lines and _may_alias(node, anchor_lines):
                budget.check(node)
            yield node.start_mark.line + 1, loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise yaml_problem(exc, text) from None
    except yaml.YAMLError as exc:
        raise yaml_problem(exc, text) from None
    except RecursionError:  # PyYAML without libyaml, which stops at 1,000 levels
        raise YamlProblem(TOO_DEEP) from None
    finally:
        loader.dispose()


def yaml_problem(exc: yaml.YAMLError, text: bytes | str) -> YamlProblem:
    """A parser's error as a person can act on it: the line, and for the causes that read
    alike (a tab, a file that is not UTF-8 text, a control character) what it is."""
    data = text.encode("utf-8", errors="surrogateescape") if isinstance(text, str) else text
    if isinstance(exc, yaml.reader.ReaderError):
        offset = max(0, min(int(exc.position), len(data)))
        line = data.count(b"\n", 0, offset) + 1
        if b"\0" in data[:8000]:
            return YamlProblem("not a text file (it holds binary data): a manifest is YAML "
                               "text; move the file out of the environment or exclude it",
                               line)
        if "UTF-8" in str(exc.reason) or "utf-8" in str(exc.reason):
            byte = data[offset:offset + 1].hex() or "end of file"
            return YamlProblem(f"not UTF-8 text (byte 0x{byte} cannot start or continue a "
                               "UTF-8 character): save the file as UTF-8", line)
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1]
                                                                        or "\0")
        return YamlProblem(f"a control character (U+{code:04X}) that YAML does not allow: "
                           "remove it, or write it as an escape in a double-quoted string",
                           line)
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = str(exc.problem or exc.context or "invalid YAML")
        line = mark.line + 1 if mark else 0
        if mark is not None and "cannot start any token" in problem and _char_at(
                data, mark.line, mark.column) == "\t":
            problem = ("a tab character: YAML indents with spaces only (replace the tab with "
                       "spaces)")
        elif "maximum nesting depth" in problem:
            problem = TOO_DEEP
        elif (mark is not None and exc.context_mark is not None and exc.context
              and not data[mark.index if 0 <= mark.index <= len(data) else len(data):].strip()
              and exc.context_mark.line < mark.line):
            # Found at the end of the file: what is missing is the end of what opened earlier
            # (a bracket, a quote); point there.
            line = exc.context_mark.line + 1
            opened = re.sub(r"^while (parsing|scanning) ", "", str(exc.context))
            problem = f"{problem} ({opened} that starts on this line is never closed)"
        return YamlProblem(problem, line)
    return YamlProblem(str(exc))


def _char_at(data: bytes, line: int, column: int) -> str:
    lines = data.split(b"\n")
    if line >= len(lines):
        return ""
    text = lines[line].decode("utf-8", errors="replace")
    return text[column] if column < len(text) else ""


def check_aliases(text: bytes | str) -> None:
    """A YamlProblem when aliases expand the YAML stream `text` beyond the bound, before an
    engine (kustomize, Helm) is given the file: they would exhaust memory on it. Nothing else
    is checked: the engine reports whatever else is wrong with the file."""
    anchor_lines = _anchor_lines(text)
    if not anchor_lines:
        return
    loader = _BaseLoader(text)
    budget = _AliasBudget()
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None and _may_alias(node, anchor_lines):
                budget.check(node)
    except AliasProblem as exc:
        mark = exc.problem_mark
        raise YamlProblem(str(exc.problem), mark.line + 1 if mark else 0) from None
    except yaml.YAMLError:
        return
    finally:
        loader.dispose()


def load_yaml(text: bytes | str) -> Any:
    """`yaml.safe_load` with the bound on aliases and libyaml's on nesting (when PyYAML has
    libyaml): one document, read as PyYAML's SafeLoader reads it, for the YAML files that are
    not manifests (settings, values files, kustomizations). A problem raises a yaml.YAMLError,
    aliases beyond the bound an AliasProblem."""
    loader = _BaseLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _anchor_lines(text):
            _AliasBudget().check(node)
        return loader.construct_document(node)
    except RecursionError:  # PyYAML without libyaml, which stops at 1,000 levels
        raise yaml.YAMLError(TOO_DEEP) from None
    finally:
        loader.dispose()
