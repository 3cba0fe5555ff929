"""Which environments a command runs on: names, shell-style patterns (`prod-*`), `--all`, and
label selectors (`-l tier=prod`) over the `labels` of the settings; and in which waves `apply`
takes them (`wave`, `dependsOn`). `--changed` is in fleet/changed.py."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from gitdeploy.config.environments import BrokenEnvironment, Environment, scan_environments
from gitdeploy.config.sources import SourceTree
from gitdeploy.errors import SettingsError

PATTERN_CHARACTERS = "*?["
_REQUIREMENT = re.compile(r"\s*(?P<name>[A-Za-z0-9][-A-Za-z0-9_./]*)\s*"
                          r"(?:(?P<op>==|=|!=)\s*(?P<value>[-A-Za-z0-9_.]*)\s*"
                          r"|\s+(?P<set>in|notin)\s*\((?P<values>[^)]*)\)\s*)?")


def is_pattern(text: str) -> bool:
    return any(character in text for character in PATTERN_CHARACTERS)


@dataclass(frozen=True)
class Requirement:
    """One term of a label selector, as kubectl reads them: `key=value`, `key==value`,
    `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key` (has the label), `!key` (has not)."""

    name: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        value = labels.get(self.name)
        if self.op == "exists":
            return value is not None
        if self.op == "!exists":
            return value is None
        if self.op in ("=", "in"):
            return value is not None and value in self.values
        return value is None or value not in self.values  # "!=", "notin", as kubectl


def parse_selector(text: str) -> list[Requirement]:
    """`tier=prod,region in (eu,us)`: every requirement must hold. SettingsError when the
    selector cannot be read."""
    terms = _split(text)
    requirements = []
    for term in terms:
        stripped = term.strip()
        if stripped.startswith("!"):
            name = stripped[1:].strip()
            if not re.fullmatch(r"[A-Za-z0-9][-A-Za-z0-9_./]*", name):
                raise _bad(text, term)
            requirements.append(Requirement(name, "!exists"))
            continue
        found = _REQUIREMENT.fullmatch(term)
        if found is None or not stripped:
            raise _bad(text, term)
        name = found.group("name")
        if found.group("op"):
            op = "!=" if found.group("op") == "!=" else "="
            requirements.append(Requirement(name, op, (found.group("value"),)))
        elif found.group("set"):
            values = tuple(v.strip() for v in found.group("values").split(",") if v.strip())
            requirements.append(Requirement(name, found.group("set"), values))
        else:
            requirements.append(Requirement(name, "exists"))
    return requirements


def _split(text: str) -> list[str]:
    """Split at the commas that are not inside `( )`."""
    terms, depth, current = [], 0, ""
    for character in text:
        if character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
        if character == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += character
    terms.append(current)
    return terms


def _bad(text: str, term: str) -> SettingsError:
    return SettingsError(f"-l {text}: cannot read '{term.strip()}' as a label requirement",
                         ["write key=value, key!=value, 'key in (a,b)', 'key notin (a,b)', "
                          "key or !key; separate requirements with commas"])


@dataclass(frozen=True)
class Selection:
    """The environments chosen, by name (sorted), and how: for messages and reports."""

    names: tuple[str, ...]
    described: str


def select(tree: SourceTree, patterns: list[str], *, everything: bool = False,
           selectors: list[str] | tuple[str, ...] = ()) -> Selection:
    """The environments `patterns` name or match, those `selectors` select, or all of them
    (`everything`; also when only selectors are given, which then filter all). A name that is
    no environment and a pattern that matches none are errors: a typo must not deploy
    nothing quietly. Environments with broken settings are selected like the others (their
    error is their result), but never by label."""
    found = scan_environments(tree)
    known = {env.name: env for env in found}
    requirements = [requirement for text in selectors for requirement in parse_selector(text)]
    if everything or not patterns:
        chosen = list(known)
    else:
        chosen = []
        for pattern in patterns:
            if is_pattern(pattern):
                matched = [name for name in known if fnmatch.fnmatchcase(name, pattern)]
                if not matched:
                    raise SettingsError(f"no environment matches '{pattern}' (environments: "
                                        f"{', '.join(known) or 'none'})")
            elif pattern in known:
                matched = [pattern]
            else:
                raise SettingsError(f"no environment '{pattern}' (environments: "
                                    f"{', '.join(known) or 'none'})")
            chosen.extend(name for name in matched if name not in chosen)
    if requirements:
        chosen = [name for name in chosen if _selected(known[name], requirements)]
    parts = [*patterns, *(["--all"] if everything else []),
             *(f"-l {text}" for text in selectors)]
    return Selection(tuple(sorted(chosen)), " ".join(parts))


def _selected(env: Environment | BrokenEnvironment, requirements: list[Requirement]) -> bool:
    if isinstance(env, BrokenEnvironment):
        return False
    labels = dict(env.settings.labels)
    return all(requirement.matches(labels) for requirement in requirements)


def waves(tree: SourceTree, names: tuple[str, ...] | list[str]) -> dict[str, int]:
    """The wave of each environment for `apply`: its `wave`, and at least one more than the
    wave of each environment it `dependsOn` among those selected (one not selected does not
    hold it back). A dependency on no environment, or a cycle, is an error."""
    found = {env.name: env for env in scan_environments(tree)}
    selected = set(names)
    done: dict[str, int] = {}

    def wave(name: str, path: tuple[str, ...]) -> int:
        if name in done:
            return done[name]
        if name in path:
            cycle = " -> ".join((*path[path.index(name):], name))
            raise SettingsError(f"dependsOn makes a cycle: {cycle}",
                                ["an environment cannot wait for itself; remove one of the "
                                 "dependsOn entries"])
        env = found[name]
        if isinstance(env, BrokenEnvironment):
            done[name] = 0
            return 0
        level = env.settings.wave
        for dependency in env.settings.depends_on:
            if dependency not in found:
                raise SettingsError(f"{env.settings_path}: 'dependsOn' names '{dependency}', "
                                    f"which is no environment (environments: "
                                    f"{', '.join(found)})")
            if dependency in selected:
                level = max(level, wave(dependency, (*path, name)) + 1)
        done[name] = level
        return level

    return {name: wave(name, ()) for name in names}
