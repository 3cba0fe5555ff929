"""API discovery kept on disk between runs, one folder per API server, as kubectl keeps it
under ~/.kube/cache/discovery: `$GITDEPLOY_CACHE_DIR` (else `$XDG_CACHE_HOME/gitdeploy`, else
`~/.cache/gitdeploy`) `/discovery/<host_port>/`. An entry is used for six hours (kubectl's
default since v1.24; `GITDEPLOY_DISCOVERY_TTL` in seconds, 0 turns the cache off); a kind the
cached answer lacks is fetched again at once (kube/discovery.py). The cache is a help: a folder
that cannot be written or a damaged file is ignored, never an error."""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_TTL = 6 * 3600.0
FORMAT = 1  # the files' layout; files of another layout are not read


def cache_root() -> Path:
    explicit = os.environ.get("GITDEPLOY_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gitdeploy"


def ttl_from_environment() -> float:
    text = os.environ.get("GITDEPLOY_DISCOVERY_TTL", "")
    try:
        return max(0.0, float(text)) if text.strip() else DEFAULT_TTL
    except ValueError:
        return DEFAULT_TTL


def server_folder(server: str) -> str:
    """`https://10.0.0.1:6443/prefix` -> `10.0.0.1_6443_prefix` (kubectl's naming, roughly)."""
    parts = urlsplit(server)
    name = (parts.netloc or server) + parts.path
    return re.sub(r"[^A-Za-z0-9.\-]+", "_", name).strip("_") or "server"


class DiscoveryCache:
    def __init__(self, folder: Path | None, *, ttl: float = DEFAULT_TTL,
                 log: Callable[[str], None] | None = None) -> None:
        self.folder = folder if ttl > 0 else None
        self.ttl = ttl
        self._log = log

    @classmethod
    def for_server(cls, server: str, *, log: Callable[[str], None] | None = None
                   ) -> DiscoveryCache:
        return cls(cache_root() / "discovery" / server_folder(server),
                   ttl=ttl_from_environment(), log=log)

    def _file(self, key: str) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / (re.sub(r"[^A-Za-z0-9.\-]+", "_", key) + ".json")

    def load(self, key: str) -> Any | None:
        """The cached answer for `key` while it is fresh, else None."""
        path = self._file(key)
        if path is None:
            return None
        try:
            entry = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("format") != FORMAT:
            return None
        age = time.time() - float(entry.get("fetched") or 0)
        if not 0 <= age <= self.ttl:
            return None
        if self._log is not None:
            self._log(f"discovery cache: {key} ({age / 60:.0f}m old, {path.parent})")
        return entry.get("data")

    def store(self, key: str, data: Any) -> None:
        path = self._file(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        except OSError:
            return  # a cache that cannot be written is only slower
        try:
            with os.fdopen(handle, "w") as file:
                json.dump({"format": FORMAT, "fetched": time.time(), "data": data}, file)
            os.replace(temporary, path)
        except OSError:
            Path(temporary).unlink(missing_ok=True)


# ---- the scopes of kinds, for commands that run without a cluster -----------------------------
# Whether a kind is namespaced is the same on every cluster that serves it (its CRD says so):
# what discovery and `schemas pull` learn is kept in one index, which `render` and the offline
# diff read to leave cluster-scoped custom resources without a namespace.

def _scopes_file() -> Path:
    return cache_root() / "scopes.json"


def known_scopes() -> dict[tuple[str, str], bool]:
    """(group, kind) -> namespaced, for every kind a cluster has shown (nothing when the
    cache is off or empty)."""
    if ttl_from_environment() <= 0:
        return {}
    try:
        entries = json.loads(_scopes_file().read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(entries, dict):
        return {}
    found: dict[tuple[str, str], bool] = {}
    for key, namespaced in entries.items():
        group, _, kind = str(key).rpartition("/")
        if kind and isinstance(namespaced, bool):
            found[(group, kind)] = namespaced
    return found


_SCOPES_WRITER = threading.Lock()  # a plan's discovery runs in several threads at once


def remember_scopes(scopes: dict[tuple[str, str], bool]) -> None:
    """Add kinds' scopes to the index (a help, never an error)."""
    if not scopes or ttl_from_environment() <= 0:
        return
    with _SCOPES_WRITER:  # read, add and write back as one: no thread drops another's kinds
        _add_scopes(scopes)


def _add_scopes(scopes: dict[tuple[str, str], bool]) -> None:
    known = known_scopes()
    if all(known.get(key) == value for key, value in scopes.items()):
        return
    known.update(scopes)
    path = _scopes_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    except OSError:
        return
    try:
        with os.fdopen(handle, "w") as file:
            json.dump({f"{group}/{kind}": value for (group, kind), value in sorted(known.items())},
                      file, indent=0)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
