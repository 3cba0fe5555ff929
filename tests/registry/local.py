"""A real OCI registry on loopback for the tests: Debian's `docker-registry` (CNCF
distribution), started with a config file of its own, and images pushed through its HTTP API (a
config blob, a layer blob and a manifest). Tests that need it skip when the binary is absent:
`.ci/run` installs it (`apt-get install docker-registry`)."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import urllib3

BINARY = "docker-registry"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalRegistry:
    host: str  # 127.0.0.1:PORT
    auth_header: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def _request(self, method: str, url: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None) -> urllib3.BaseHTTPResponse:
        return urllib3.request(method, url, body=body,
                               headers={**self.auth_header, **(headers or {})},
                               redirect=False, timeout=10)

    def _blob(self, name: str, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        start = self._request("POST", f"{self.url}/v2/{name}/blobs/uploads/")
        assert start.status == 202, start.data
        location = start.headers["Location"]
        if location.startswith("/"):
            location = self.url + location
        joiner = "&" if "?" in location else "?"
        done = self._request("PUT", f"{location}{joiner}digest={digest}", data,
                             {"Content-Type": "application/octet-stream"})
        assert done.status == 201, done.data
        return digest

    def push(self, name: str, tag: str, content: str = "hello") -> str:
        """A tiny image; its manifest's digest."""
        layer = content.encode()
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "rootfs": {"type": "layers", "diff_ids": [
                                 "sha256:" + hashlib.sha256(layer).hexdigest()]}}).encode()
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": self._blob(name, config), "size": len(config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": self._blob(name, layer), "size": len(layer)}],
        }).encode()
        answer = self._request("PUT", f"{self.url}/v2/{name}/manifests/{tag}", manifest,
                               {"Content-Type": OCI_MANIFEST})
        assert answer.status == 201, answer.data
        digest = answer.headers["Docker-Content-Digest"]
        assert digest == "sha256:" + hashlib.sha256(manifest).hexdigest()
        return str(digest)


@contextmanager
def local_registry(folder: Path, *, user: str = "", password: str = "",
                   extra: str = "") -> Iterator[LocalRegistry]:
    binary = shutil.which(BINARY)
    if binary is None:
        pytest.skip(f"the {BINARY} binary is not installed (Debian: apt-get install "
                    f"{BINARY}; .ci/run installs it)")
    port = _free_port()
    auth = ""
    headers: dict[str, str] = {}
    if user:
        import bcrypt

        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
        (folder / "htpasswd").write_text(f"{user}:{hashed}\n")
        auth = f"auth:\n  htpasswd:\n    realm: test\n    path: {folder / 'htpasswd'}\n"
        headers["Authorization"] = "Basic " + base64.b64encode(
            f"{user}:{password}".encode()).decode()
    (folder / "config.yml").write_text(f"""version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: {folder / 'storage'}
http:
  addr: 127.0.0.1:{port}
{auth}{extra}""")
    log = (folder / "registry.log").open("w")
    process = subprocess.Popen([binary, "serve", str(folder / "config.yml")], stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                answer = urllib3.request("GET", f"http://127.0.0.1:{port}/v2/", timeout=1,
                                         retries=False)
                if answer.status in (200, 401):
                    break
            except urllib3.exceptions.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("docker-registry did not start: "
                                   + (folder / "registry.log").read_text())
            time.sleep(0.1)
        yield LocalRegistry(f"127.0.0.1:{port}", headers)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
