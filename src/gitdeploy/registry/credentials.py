"""Registry credentials from Docker's config file (`$DOCKER_CONFIG/config.json`, else
`~/.docker/config.json`): the `auths` entries, as `docker login` writes them. Credential helpers
(`credsStore`, `credHelpers`) are not run: their registries are reached without credentials."""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gitdeploy.errors import SettingsError

DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io",
                   "registry-1.docker.io")


@dataclass(frozen=True)
class Credentials:
    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)  # a refresh token (`identitytoken`)

    @property
    def secrets(self) -> list[str]:
        return [value for value in (self.password, self.identity_token) if value]


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    folder = env.get("DOCKER_CONFIG")
    return Path(folder) / "config.json" if folder else Path.home() / ".docker" / "config.json"


def load_auths(environ: Mapping[str, str] | None = None) -> dict[str, Credentials]:
    """Registry host -> credentials; an absent file means none."""
    path = config_path(environ)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise SettingsError(f"{path}: cannot read Docker's config file ({type(error).__name__})",
                            ["fix the file, or point DOCKER_CONFIG at a folder holding a valid "
                             "config.json"]) from None
    auths = data.get("auths") if isinstance(data, dict) else None
    found: dict[str, Credentials] = {}
    for key, entry in (auths or {}).items():
        if not isinstance(entry, dict):
            continue
        username, password = str(entry.get("username") or ""), str(entry.get("password") or "")
        encoded = entry.get("auth")
        if isinstance(encoded, str) and encoded:
            try:
                username, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise SettingsError(f"{path}: the auth entry of {key} is not base64 of "
                                    "user:password", ["log in again: docker login "
                                                      f"{key}"]) from None
        found[_host(key)] = Credentials(username, password,
                                        str(entry.get("identitytoken") or ""))
    return found


def _host(key: str) -> str:
    """`https://ghcr.io/v1/` -> `ghcr.io`; Docker Hub's keys -> `docker.io`."""
    if key in DOCKER_HUB_KEYS:
        return "docker.io"
    host = key.split("://", 1)[-1]
    return host.split("/", 1)[0]
