"""Registry credentials from Docker's config file (`$DOCKER_CONFIG/config.json`, else
`~/.docker/config.json`): the `auths` entries, as `docker login` writes them, and the credential
helpers it names (`credHelpers` per registry, `credsStore` for the others), run as Docker runs
them: `docker-credential-<name> get`, the registry on standard input, JSON on standard output.
A helper that is missing or knows nothing of a registry leaves it without credentials."""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import subprocess
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


class DockerCredentials(dict[str, Credentials]):
    """Registry host -> credentials: the `auths` entries, and what the credential helpers
    give, asked for each registry once, when it is first needed."""

    def __init__(self, auths: dict[str, Credentials], helpers: dict[str, str],
                 store: str) -> None:
        super().__init__(auths)
        self.helpers, self.store = helpers, store
        self._asked: set[str] = set()

    def get(self, host: str, default: Credentials | None = None  # type: ignore[override]
            ) -> Credentials | None:
        if host not in self and host not in self._asked:
            self._asked.add(host)
            helper = self.helpers.get(host) or self.store
            found = _from_helper(helper, host) if helper else None
            if found is not None:
                self[host] = found
        return super().get(host, default)


HELPER_TIMEOUT = 30.0


def _from_helper(helper: str, host: str) -> Credentials | None:
    """Run `docker-credential-<helper> get` for `host` (Docker Hub as Docker names it)."""
    program = shutil.which(f"docker-credential-{helper}")
    if program is None:
        return None
    server = "https://index.docker.io/v1/" if host == "docker.io" else host
    try:
        done = subprocess.run([program, "get"], input=server, capture_output=True, text=True,
                              timeout=HELPER_TIMEOUT, check=False)
        answer = json.loads(done.stdout) if done.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None  # what it printed may hold a secret: not shown
    if not isinstance(answer, dict) or not answer.get("Secret"):
        return None
    username, secret = str(answer.get("Username") or ""), str(answer["Secret"])
    if username == "<token>":  # an identity token, as `docker login` stores some
        return Credentials("", "", secret)
    return Credentials(username, secret)


def load_auths(environ: Mapping[str, str] | None = None) -> DockerCredentials:
    """Registry host -> credentials; an absent file means none."""
    path = config_path(environ)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return DockerCredentials({}, {}, "")
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
    helpers = data.get("credHelpers") if isinstance(data, dict) else None
    store = data.get("credsStore") if isinstance(data, dict) else None
    return DockerCredentials(
        found, {_host(str(k)): str(v) for k, v in (helpers or {}).items() if v},
        str(store) if isinstance(store, str) else "")


def _host(key: str) -> str:
    """`https://ghcr.io/v1/` -> `ghcr.io`; Docker Hub's keys -> `docker.io`."""
    if key in DOCKER_HUB_KEYS:
        return "docker.io"
    host = key.split("://", 1)[-1]
    return host.split("/", 1)[0]
