"""The one client of container registries (urllib3): a tag resolved to its digest with the
manifest HEAD request of the OCI distribution spec (`Docker-Content-Digest`), Accept headers for
OCI indexes and manifests and Docker manifest lists and manifests, so that a multi-platform
image resolves to its index. Basic auth and the bearer token flow (a 401 `WWW-Authenticate`
challenge, a token from its realm) with the credentials of Docker's config file. Requests are
timed, retried when the failure passes, shown with `-v`, and never show a credential."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import urllib3
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from gitdeploy.errors import GitdeployError
from gitdeploy.objects.images import DOCKER_HUB, ImageRef
from gitdeploy.objects.secrets import SecretMasker
from gitdeploy.registry.credentials import Credentials

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
DOCKER_HUB_API = "registry-1.docker.io"
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


class RegistryError(GitdeployError):
    """A registry refused or failed a request, or could not be reached."""


class _Transient(RegistryError):
    pass


def base_url(host: str) -> str:
    """Registries on this machine (localhost, loopback addresses) are spoken to over plain
    HTTP, as Docker does; every other over HTTPS."""
    if host == DOCKER_HUB:
        return f"https://{DOCKER_HUB_API}"
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]")
    try:
        loopback = name == "localhost" or ipaddress.ip_address(name).is_loopback
    except ValueError:
        loopback = False
    return f"{'http' if loopback else 'https'}://{host}"


@dataclass
class RegistryClient:
    auths: dict[str, Credentials]
    log: Callable[[str], None]
    timeout: float = 30.0
    attempts: int = 3
    _tokens: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._pool = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(
            connect=self.timeout, read=self.timeout))
        self.masker = SecretMasker([s for c in self.auths.values() for s in c.secrets])

    def digest(self, image: ImageRef) -> str:
        """The digest of the manifest (or index) the image's tag names."""
        if not image.tag:
            raise RegistryError(f"{image}: no tag to resolve")
        host = image.registry
        url = f"{base_url(host)}/v2/{image.path}/manifests/{image.tag}"
        headers = {"Accept": ", ".join(MANIFEST_TYPES), "User-Agent": "gitdeploy"}
        scope = f"repository:{image.path}:pull"
        answer = self._request("HEAD", url, headers, host, scope)
        if answer.status == 404:
            raise RegistryError(f"{image}: the registry {host} has no such tag",
                                ["check the image's name and tag, or push it first"])
        if answer.status >= 300:
            raise RegistryError(f"{image}: the registry {host} answered {answer.status} to "
                                "the manifest request",
                                ["for a private registry: docker login " + host]
                                if answer.status in (401, 403) else [])
        digest = answer.headers.get("Docker-Content-Digest")
        if digest:
            return str(digest)
        # a registry that leaves the header out: the digest of the manifest's bytes
        full = self._request("GET", url, headers, host, scope)
        return "sha256:" + hashlib.sha256(full.data).hexdigest()

    # ---- requests, authentication --------------------------------------------------------
    def _request(self, method: str, url: str, headers: dict[str, str], host: str, scope: str
                 ) -> urllib3.BaseHTTPResponse:
        token = self._tokens.get((host, scope))
        answer = self._send(method, url, self._authorized(headers, host, token))
        if answer.status != 401 or token is not None:
            return answer
        challenge = answer.headers.get("WWW-Authenticate", "")
        scheme = challenge.split(" ", 1)[0].lower()
        credentials = self._credentials(host)
        if scheme == "basic" and credentials is not None and credentials.password:
            return self._send(method, url, {**headers, "Authorization": _basic(credentials)})
        if scheme == "bearer":
            token = self._token(dict(_CHALLENGE.findall(challenge)), host, scope)
            self._tokens[(host, scope)] = token
            self.masker = self.masker | SecretMasker([token])
            return self._send(method, url, self._authorized(headers, host, token))
        return answer

    def _credentials(self, host: str) -> Credentials | None:
        """The host's credentials (a credential helper may be asked now): their secrets are
        masked from then on."""
        found = self.auths.get(host)
        if found is not None:
            self.masker = self.masker | SecretMasker(found.secrets)
        return found

    def _authorized(self, headers: dict[str, str], host: str, token: str | None
                    ) -> dict[str, str]:
        return {**headers, "Authorization": f"Bearer {token}"} if token else headers

    def _token(self, challenge: dict[str, str], host: str, scope: str) -> str:
        """A bearer token from the challenge's realm, for the challenge's scope (else the
        pull scope of the repository); with the host's credentials when there are some."""
        realm = challenge.get("realm")
        if not realm:
            raise RegistryError(f"the registry {host} asked for a bearer token without naming "
                                "where to get it (no realm)")
        query = {"service": challenge["service"]} if "service" in challenge else {}
        query["scope"] = challenge.get("scope", scope)
        credentials = self._credentials(host)
        headers = {"User-Agent": "gitdeploy"}
        if credentials is not None and credentials.identity_token:
            body = urlencode({**query, "grant_type": "refresh_token", "client_id": "gitdeploy",
                              "refresh_token": credentials.identity_token}).encode()
            answer = self._send("POST", realm, {**headers, "Content-Type":
                                                "application/x-www-form-urlencoded"}, body)
        else:
            if credentials is not None and credentials.password:
                headers["Authorization"] = _basic(credentials)
            answer = self._send("GET", f"{realm}?{urlencode(query)}", headers)
        if answer.status != 200:
            raise RegistryError(f"the token service of {host} answered {answer.status}",
                                ["check the credentials of docker login " + host])
        try:
            document = json.loads(answer.data)
            token = document.get("token") or document.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"the token service of {host} returned no token")
        return token

    def _send(self, method: str, url: str, headers: dict[str, str], body: bytes | None = None
              ) -> urllib3.BaseHTTPResponse:
        shown = url.partition("?")[0]  # a query may hold a scope, never shown

        def attempt() -> urllib3.BaseHTTPResponse:
            started = time.monotonic()
            try:
                answer = self._pool.request(method, url, headers=headers, body=body,
                                            redirect=True)
            except urllib3.exceptions.HTTPError as error:
                self.log(f"{method} {shown} failed: {type(error).__name__}")
                raise _Transient(f"{method} {shown}: "
                                 f"{self._reason(error)}") from None
            self.log(f"{method} {shown} {answer.status} "
                     f"{(time.monotonic() - started) * 1000:.0f}ms")
            if answer.status in TRANSIENT_STATUS:
                raise _Transient(f"{method} {shown}: the registry answered "
                                 f"{answer.status}")
            return answer

        retrying = Retrying(stop=stop_after_attempt(max(self.attempts, 1)),
                            wait=wait_exponential(multiplier=0.5, max=5),
                            retry=retry_if_exception(lambda e: isinstance(e, _Transient)),
                            reraise=True)
        return retrying(attempt)

    def _reason(self, error: Exception) -> str:
        if isinstance(error, urllib3.exceptions.NewConnectionError):
            return "could not connect"
        if isinstance(error, urllib3.exceptions.TimeoutError):
            return f"no answer within {self.timeout:.0f}s"
        return f"the connection failed ({type(error).__name__})"


def _basic(credentials: Credentials) -> str:
    pair = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(pair).decode()
