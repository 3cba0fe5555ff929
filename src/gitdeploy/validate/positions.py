"""Where a field is written: the line and column of a field of an object, from the YAML parse
of the file it came from. Only files with an error are parsed for positions (the parse that
read the objects keeps none, to stay fast), with the same parser: the positions are the
parser's own marks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

import yaml

from gitdeploy.config.sources import SourceTree
from gitdeploy.objects.manifests import Body, Origin

Step = str | int
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Positions:
    """The documents of each file read so far, by their first line."""

    def __init__(self, tree: SourceTree) -> None:
        self.tree = tree
        self._files: dict[str, dict[int, yaml.Node]] = {}

    def _documents(self, path: str) -> dict[int, yaml.Node]:
        if path not in self._files:
            documents: dict[int, yaml.Node] = {}
            try:
                loader = _Loader(self.tree.read(PurePosixPath(path)))
                try:
                    while loader.check_node():
                        node = loader.get_node()
                        if node is not None:
                            documents[node.start_mark.line + 1] = node
                finally:
                    loader.dispose()
            except (OSError, KeyError, yaml.YAMLError):
                pass
            self._files[path] = documents
        return self._files[path]

    def locate(self, origin: Origin, body: Body, path: Sequence[Step], *, key: bool = False
               ) -> tuple[int, int]:
        """(line, column), 1-based, of the field at `path` of the object `body` read from
        `origin`; of the deepest part of the path that is written when the rest is not (a
        missing field: its parent); (0, 0) for an object an engine produced."""
        if not origin.line or origin.detail:
            return 0, 0
        node = self._documents(origin.path).get(origin.line)
        if node is None:
            return origin.line, 0
        node = _item_of_list(node, body)
        mark = node.start_mark
        for index, step in enumerate(path):
            last = index == len(path) - 1
            if isinstance(node, yaml.MappingNode) and isinstance(step, str):
                pair = next(((k, v) for k, v in node.value
                             if isinstance(k, yaml.ScalarNode) and k.value == step), None)
                if pair is None:
                    break
                key_node, node = pair
                # a key that should not be there, or a block under its key: the key's line
                nested = isinstance(node, (yaml.MappingNode, yaml.SequenceNode))
                mark = key_node.start_mark if (last and key) or nested else node.start_mark
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and (
                    0 <= step < len(node.value)):
                node = node.value[step]
                mark = node.start_mark
            else:
                break
        return mark.line + 1, mark.column + 1


def _item_of_list(node: yaml.Node, body: Body) -> yaml.Node:
    """For an object of a `kind: *List` document, the node of that item."""
    if not isinstance(node, yaml.MappingNode):
        return node
    fields = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    kind, items = fields.get("kind"), fields.get("items")
    if not (isinstance(kind, yaml.ScalarNode) and kind.value.endswith("List")
            and isinstance(items, yaml.SequenceNode)) or body.get("kind") == kind.value:
        return node
    name = str((body.get("metadata") or {}).get("name", ""))
    for item in items.value:
        if not isinstance(item, yaml.MappingNode):
            continue
        item_fields = {k.value: v for k, v in item.value if isinstance(k, yaml.ScalarNode)}
        metadata = item_fields.get("metadata")
        item_kind = item_fields.get("kind")
        if isinstance(metadata, yaml.MappingNode) and isinstance(item_kind, yaml.ScalarNode) \
                and item_kind.value == body.get("kind") and any(
                    isinstance(k, yaml.ScalarNode) and k.value == "name"
                    and isinstance(v, yaml.ScalarNode) and v.value == name
                    for k, v in metadata.value):
            return item
    return node
