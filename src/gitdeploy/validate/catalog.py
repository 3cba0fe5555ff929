"""Schema catalogs: folders and URL templates holding one JSON schema per kind and version, in
the layout the ecosystem already uses. A location is a template with kubeconform's variables:

    {{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json      (the public CRDs catalog)

`Group` is the API group (for the core group, "v1", as kubeconform has it), `ResourceKind`
the kind in lower case, `ResourceAPIVersion` the version ("v1"), `KindSuffix` "-group-v1",
`NormalizedKubernetesVersion` "v1.34" and `StrictSuffix` "-strict". A location that does not
end in `.json` is a folder (or base URL) in the CRDs catalog's layout.

Schemas fetched over HTTP(S) are kept in the local cache (`cache_dir()`), and read from there
afterwards: validation stays offline once they were fetched. `gitdeploy schemas pull` writes
the CRDs of a cluster into the cache in the same layout, where every later run finds them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from gitdeploy.config.sources import SourceTree
from gitdeploy.errors import GitdeployError, SettingsError

CATALOG_LAYOUT = "{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
CACHE_ENV = "GITDEPLOY_SCHEMA_CACHE"
FETCH_TIMEOUT = 10.0  # seconds per schema fetched
_VARIABLE = re.compile(r"{{\s*\.(\w+)\s*}}")
_KNOWN = {"Group", "ResourceKind", "ResourceAPIVersion", "KindSuffix",
          "NormalizedKubernetesVersion", "StrictSuffix"}


def cache_dir() -> Path:
    """$GITDEPLOY_SCHEMA_CACHE, else $XDG_CACHE_HOME/gitdeploy/schemas, else
    ~/.cache/gitdeploy/schemas."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(base) / "gitdeploy" / "schemas"


def expand(template: str, api_version: str, kind: str, kubernetes_version: str) -> str:
    """A location template filled in for one kind, as kubeconform fills it."""
    parts = api_version.split("/")
    group, version = parts[0], parts[-1]
    suffix = "-" + group.split(".")[0].lower() + (f"-{version.lower()}" if len(parts) > 1
                                                   else "")
    values = {"Group": group, "ResourceKind": kind.lower(), "ResourceAPIVersion": version,
              "KindSuffix": suffix, "NormalizedKubernetesVersion": f"v{kubernetes_version}",
              "StrictSuffix": "-strict"}
    return _VARIABLE.sub(lambda m: values[m.group(1)], template)


def check_location(location: str, where: str) -> str:
    """The location as a full template; a SettingsError naming `where` for an unknown
    variable."""
    unknown = sorted({m.group(1) for m in _VARIABLE.finditer(location)} - _KNOWN)
    if unknown:
        raise SettingsError(f"{where}: schema location {location}: unknown variable(s) "
                            f"{', '.join(unknown)}",
                            [f"known: {', '.join(sorted(_KNOWN))}"])
    if location.endswith(".json"):
        return location
    return f"{location.rstrip('/')}/{CATALOG_LAYOUT}"


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


@dataclass
class Found:
    schema: dict[str, Any]
    source: str  # the file or URL it came from


@dataclass
class Catalogs:
    """The catalog locations of one environment, with the cache searched first. Every lookup
    is remembered for the run (a kind is looked up once, whatever the number of objects)."""

    locations: list[str]
    tree: SourceTree  # relative folders are read from the repository as validated
    cache: Path
    problems: list[str] = field(default_factory=list)  # locations that could not be read
    _seen: dict[tuple[str, str], Found | None] = field(default_factory=dict)
    _failed: set[str] = field(default_factory=set)  # hosts that did not answer

    def find(self, api_version: str, kind: str, kubernetes_version: str) -> Found | None:
        key = (api_version, kind)
        if key not in self._seen:
            self._seen[key] = self._lookup(api_version, kind, kubernetes_version)
        return self._seen[key]

    def _lookup(self, api_version: str, kind: str, kubernetes_version: str) -> Found | None:
        pulled = self.cache / expand(CATALOG_LAYOUT, api_version, kind, kubernetes_version)
        if "/" in api_version:
            found = _read_file(pulled)
            if found is not None:
                return found
        for location in self.locations:
            target = expand(location, api_version, kind, kubernetes_version)
            found = self._fetch(target) if is_url(target) else self._read(target)
            if found is not None:
                return found
        return None

    def _read(self, target: str) -> Found | None:
        path = Path(target)
        if path.is_absolute():
            return _read_file(path)
        relative = PurePosixPath(target)
        try:
            data = self.tree.read(relative)
        except (OSError, KeyError):
            return None
        except GitdeployError as error:  # a link leading outside the repository
            self.problems.append(f"{target}: {error.message}")
            return None
        return _parse(data, str(relative), self.problems)

    def _fetch(self, url: str) -> Found | None:
        cached = self.cache / "http" / (hashlib.sha256(url.encode()).hexdigest() + ".json")
        found = _read_file(cached)
        if found is not None:
            return Found(found.schema, url)
        host = urllib.parse.urlparse(url).netloc
        if host in self._failed:
            return None
        try:
            with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as answer:
                data = answer.read()
        except urllib.error.HTTPError as error:
            if error.code != 404:
                self.problems.append(f"{url}: HTTP {error.code} {error.reason}")
            return None
        except (urllib.error.URLError, OSError) as error:
            self._failed.add(host)
            reason = getattr(error, "reason", error)
            self.problems.append(f"{url}: not reachable ({reason}); the kinds it would have "
                                 "had are reported as having no schema")
            return None
        found = _parse(data, url, self.problems)
        if found is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            temporary = cached.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_bytes(data)
            temporary.replace(cached)
        return found


def _read_file(path: Path) -> Found | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return _parse(data, str(path), [])


def _parse(data: bytes, source: str, problems: list[str]) -> Found | None:
    try:
        schema = json.loads(data)
    except ValueError as error:
        problems.append(f"{source}: not a JSON schema ({error})")
        return None
    if not isinstance(schema, dict):
        problems.append(f"{source}: not a JSON schema (a {type(schema).__name__})")
        return None
    return Found(schema, source)


def write_schemas(folder: Path, schemas: Iterable[tuple[str, dict[str, Any]]]) -> list[Path]:
    """Write (catalog path, schema) pairs under `folder`, each file replaced whole."""
    written = []
    for relative, schema in schemas:
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        temporary.replace(path)
        written.append(path)
    return written
