"""The API server's own rules (names, labels, annotations, base64 in Secret data, the size of
ConfigMap and Secret data), checked before `diff` and `apply` send their first request: an
object the server would refuse is an input error naming its file, line and field, not a 422
or a 500 in the middle of a plan. `validate` reports the same findings
(validate/checks.py)."""

from __future__ import annotations

from gitdeploy.config.sources import SourceTree
from gitdeploy.errors import LoadError
from gitdeploy.objects import kinds
from gitdeploy.objects.fieldpaths import dotted
from gitdeploy.objects.manifests import Manifest
from gitdeploy.validate import checks
from gitdeploy.validate.positions import Positions


def api_rule_problems(tree: SourceTree, manifests: list[Manifest]) -> list[str]:
    """`file:line:column: Kind namespace/name: field: message`, one per finding."""
    positions: Positions | None = None
    lines: list[str] = []
    for manifest in manifests:
        for path, message, key in checks.object_findings(manifest.group, manifest.kind,
                                                         manifest.body):
            positions = positions or Positions(tree)
            line, column = positions.locate(manifest.origin, manifest.body, path, key=key)
            where = (f"{manifest.origin.path}:{line}" + (f":{column}" if column else "")
                     if line else str(manifest.origin))
            title = kinds.title(manifest.kind, manifest.namespace, manifest.name)
            field = f"{dotted(path)}: " if path else ""
            lines.append(f"{where}: {title}: {field}{message}")
    return lines


def refuse_what_the_server_would(tree: SourceTree, manifests: list[Manifest]) -> None:
    problems = api_rule_problems(tree, manifests)
    if problems:
        raise LoadError(
            f"{len(problems)} problem(s) the API server would refuse; nothing was sent",
            [*problems, "fix them in their files (gitdeploy validate lists every problem of "
                        "the environment)"])
