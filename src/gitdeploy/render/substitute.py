"""Variable substitution after rendering, with the semantics of Flux's `postBuild.substitute`
(docs/configuration.md, "Substitution").

Variables come from `substitute:` in the settings and from the files `substituteFrom:` lists
(dotenv or YAML, possibly SOPS-encrypted); the settings win over the files, a later file over an
earlier one. In every string of every object (and every mapping key), `${VAR}` is replaced by
the variable's value, `${VAR:=default}` / `${VAR:-default}` by the default when VAR is not set
or empty (`${VAR=default}` / `${VAR-default}`: when not set), and `$${` is written as `${`. A
`$VAR` without braces is left as it is. An object labelled or annotated
`kustomize.toolkit.fluxcd.io/substitute: disabled` is left as it is. As in Flux, a value is
written into the YAML of the object, so a string that becomes `3` or `true` becomes a number or
a boolean, and newlines are removed from values.

Unlike Flux, a placeholder without a value is an error naming the file, the object and the
variable (Flux's `StrictPostBuildSubstitutions`), unless `substituteUnresolved: empty`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import yaml

from gitdeploy.config.settings import SubstitutionOptions
from gitdeploy.config.sources import SourceTree, normalise
from gitdeploy.errors import LoadError
from gitdeploy.objects import kinds
from gitdeploy.objects.manifests import Manifest, YamlProblem, iter_documents, load_yaml
from gitdeploy.objects.secrets import is_secret
from gitdeploy.render.sops import Opener

DISABLE_KEY = "kustomize.toolkit.fluxcd.io/substitute"
DISABLED = "disabled"
NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")
SETTINGS_SOURCE = "substitute"
FIX = ("define the variable in `substitute` or a `substituteFrom` file, give it a default "
       "(${VAR:=default}), write $${VAR} to keep the text, annotate the object with "
       f"{DISABLE_KEY}: disabled, or set substituteUnresolved: empty")


@dataclass(frozen=True)
class Variable:
    name: str
    value: str
    source: str  # "substitute" (the settings) or the file it came from
    encrypted: bool = False  # from a SOPS-encrypted file: its value is never shown

    def describe(self) -> str:
        return f"{self.name} ({self.source}{', encrypted' if self.encrypted else ''})"


@dataclass
class Substituted:
    """What substitution did: the variables used (name -> where the value came from, or
    "default"), and per object the fields that hold values of encrypted variables."""

    used: dict[str, str] = field(default_factory=dict)
    sensitive: list[tuple[Manifest, set[tuple[str | int, ...]]]] = field(default_factory=list)
    values: list[str] = field(default_factory=list)  # the values of encrypted variables used


def load_variables(options: SubstitutionOptions, env_path: PurePosixPath, tree: SourceTree,
                   opener: Opener, settings_path: PurePosixPath) -> dict[str, Variable]:
    """The variables, the settings' over the files', a later file's over an earlier one's."""
    variables: dict[str, Variable] = {}
    for source in options.sources:
        path = normalise(env_path / source.path)
        try:
            text = tree.read(path)
        except (FileNotFoundError, KeyError, IsADirectoryError, NotADirectoryError):
            if source.optional:
                continue
            raise LoadError(f"{settings_path}: substituteFrom file {path} does not exist in the "
                            f"{tree.describe()}",
                            ["correct the path (relative to the environment folder), or mark "
                             "it `optional: true`"]) from None
        opened = opener.open(path, text)
        encrypted = opened.encrypted is not None
        for name, value in _read_variables(path, opened.text).items():
            variables[name] = Variable(name, value, str(path), encrypted)
    for name, value in options.variables:
        variables[name] = Variable(name, value, SETTINGS_SOURCE)
    return variables


def _read_variables(path: PurePosixPath, text: bytes) -> dict[str, str]:
    if path.suffix.lower() == ".env":
        return _dotenv(path, text)
    try:
        data = load_yaml(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise LoadError(f"{where}: not valid YAML: {getattr(error, 'problem', error)}"
                        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LoadError(f"{path}: a substituteFrom file must be a mapping of variable names to "
                        f"values, got {type(data).__name__}")
    found: dict[str, str] = {}
    for name, value in data.items():
        if isinstance(value, (dict, list)):
            raise LoadError(f"{path}: variable '{name}' must be a string, a number or a "
                            "boolean")
        _check_name(str(name), str(path))
        found[str(name)] = _text(value)
    return found


def _dotenv(path: PurePosixPath, text: bytes) -> dict[str, str]:
    """KEY=VALUE lines as kustomize's env files and sops read them: `#` comments and blank
    lines skipped, the value as written after the first `=` (quotes are part of it)."""
    found: dict[str, str] = {}
    for number, raw in enumerate(text.decode("utf-8", errors="replace").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.partition("=")
        if not equals:
            raise LoadError(f"{path}:{number}: expected NAME=value")
        _check_name(name.strip(), f"{path}:{number}")
        found[name.strip()] = value.replace("\n", "")
    return found


def _check_name(name: str, where: str) -> None:
    if not NAME.fullmatch(name):
        raise LoadError(f"{where}: '{name}' is not a variable name (letters, digits and _, not "
                        "starting with a digit)")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value).replace("\n", "")


# ---- substitution -----------------------------------------------------------------------

class _Unresolved(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class _Unsupported(Exception):
    pass


@dataclass
class _Evaluation:
    variables: dict[str, Variable]
    used: dict[str, str]
    unresolved: list[str]
    empty_when_unresolved: bool
    encrypted: bool = False  # the text used a variable from an encrypted file


def expand(text: str, lookup: _Evaluation) -> str:
    """`text` with its placeholders replaced (see the module's docstring)."""
    out: list[str] = []
    index = 0
    while True:
        start = text.find("$", index)
        if start < 0:
            out.append(text[index:])
            return "".join(out)
        out.append(text[index:start])
        if text.startswith("$${", start):
            out.append("${")
            index = start + 3
        elif text.startswith("${", start):
            end = _closing(text, start + 2)
            if end < 0:  # no closing brace: not a placeholder
                out.append(text[start:])
                return "".join(out)
            out.append(_evaluate(text[start + 2:end], lookup))
            index = end + 1
        else:
            out.append("$")
            index = start + 1


def _closing(text: str, index: int) -> int:
    depth = 0
    while index < len(text):
        if text.startswith("${", index):
            depth += 1
            index += 2
            continue
        if text[index] == "}":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    return -1


_EXPRESSION = re.compile(
    r"(?P<length>\#)?(?P<name>[_A-Za-z][_A-Za-z0-9]*)"
    r"(?:(?P<default>:?[-=])(?P<fallback>.*)|(?P<case>\^\^|\^|,,|,)"
    r"|:(?P<offset>\d+)(?::(?P<count>\d+))?)?", re.DOTALL)


def _evaluate(expression: str, lookup: _Evaluation) -> str:
    match = _EXPRESSION.fullmatch(expression)
    if match is None:
        raise _Unsupported("${" + expression + "}")
    name = match["name"]
    variable = lookup.variables.get(name)
    if match["default"]:
        empty = variable is None or (match["default"].startswith(":") and not variable.value)
        if empty:
            lookup.used.setdefault(name, "default")
            return expand(match["fallback"], lookup)
    if variable is None:
        if not lookup.empty_when_unresolved:
            lookup.unresolved.append(name)
        return ""
    lookup.used[name] = variable.source + (", encrypted" if variable.encrypted else "")
    lookup.encrypted = lookup.encrypted or variable.encrypted
    value = variable.value
    if match["length"]:
        return str(len(value))
    case = match["case"]
    if case == "^":
        return value[:1].upper() + value[1:]
    if case == "^^":
        return value.upper()
    if case == ",":
        return value[:1].lower() + value[1:]
    if case == ",,":
        return value.lower()
    if match["offset"] is not None:
        offset = int(match["offset"])
        count = int(match["count"]) if match["count"] is not None else len(value)
        return value[offset:offset + count]
    return value


def disabled(body: dict[str, Any]) -> bool:
    metadata = body.get("metadata") or {}
    return any(isinstance(marks, dict) and marks.get(DISABLE_KEY) == DISABLED
               for marks in (metadata.get("labels"), metadata.get("annotations")))


def substitute(manifests: list[Manifest], variables: dict[str, Variable], *,
               empty_when_unresolved: bool, problems: list[str]) -> Substituted:
    """Substitute every object of `manifests` in place. Unresolved placeholders and
    expressions gitdeploy does not support are appended to `problems`."""
    result = Substituted()
    for manifest in manifests:
        if disabled(manifest.body):
            continue
        lookup = _Evaluation(variables, result.used, [], empty_when_unresolved)
        sensitive: set[tuple[str | int, ...]] = set()
        try:
            manifest.body = _walk(manifest.body, (), lookup, sensitive)
        except _Unsupported as error:
            # a Secret's value is not quoted, even in part
            what = "an expression" if is_secret(manifest.body) else str(error)
            problems.append(f"{_where(manifest)}: {what} is not an expression gitdeploy "
                            "substitutes (${VAR}, ${VAR:=default}, ${VAR:-default}, ${#VAR}, "
                            "${VAR^^}, ${VAR,,}, ${VAR:offset:length}); write $${ to keep it "
                            "as text")
            continue
        for name in dict.fromkeys(lookup.unresolved):
            problems.append(f"{_where(manifest)}: ${{{name}}} has no value: {FIX}")
        if sensitive:
            result.sensitive.append((manifest, sensitive))
    result.values = sorted({v.value for name, v in variables.items()
                            if v.encrypted and name in result.used})
    return result


def _where(manifest: Manifest) -> str:
    return f"{manifest.origin}: {kinds.title(manifest.kind, manifest.namespace, manifest.name)}"


def _walk(value: Any, path: tuple[str | int, ...], lookup: _Evaluation,
          sensitive: set[tuple[str | int, ...]]) -> Any:
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            new_key = _string(key, lookup, as_key=True) if isinstance(key, str) else key
            result[new_key] = _walk(item, (*path, new_key), lookup, sensitive)
        return result
    if isinstance(value, list):
        return [_walk(item, (*path, index), lookup, sensitive)
                for index, item in enumerate(value)]
    if isinstance(value, str) and "$" in value:
        before = lookup.encrypted
        lookup.encrypted = False
        new = _string(value, lookup, as_key=False)
        if lookup.encrypted:
            sensitive.add(path)
        lookup.encrypted = lookup.encrypted or before
        return new
    return value


def _string(text: str, lookup: _Evaluation, *, as_key: bool) -> Any:
    if "${" not in text:
        return text
    new = expand(text, lookup)
    if as_key or new == text or "\n" in text or not _plain(text):
        return new
    return _scalar(new)


def _plain(text: str) -> bool:
    """Whether YAML writes `text` without quotes (so that, as in Flux, what the value makes of
    it is read again as YAML)."""
    dumped = yaml.safe_dump(text, default_flow_style=True, width=10_000)
    return not dumped.startswith(("'", '"'))


def _scalar(text: str) -> Any:
    """`text` read as a YAML scalar (a number, a boolean, null), or itself."""
    try:
        documents = list(iter_documents(text.encode()))
    except YamlProblem:
        return text
    if len(documents) != 1:
        return text
    value = documents[0][1]
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    return text
