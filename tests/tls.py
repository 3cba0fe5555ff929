"""The test API server behind HTTPS, for clients that send credentials only over TLS (kubectl
sends no bearer token to an http:// server): the fault proxy, with faults off, listens on
HTTPS with a certificate of an authority made for the run (trustme), and a kubeconfig that
trusts that authority."""

from __future__ import annotations

import base64
import contextlib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import trustme
import yaml

from tests.faults.proxy import FaultConfig, FaultProxy


@dataclass(frozen=True)
class HttpsFront:
    url: str
    authority_pem: bytes

    def kubeconfig(self, path: Path, *, context: str = "test", token: str = "admin-token",
                   verify: bool = True) -> Path:
        cluster: dict[str, object] = {"server": self.url}
        if verify:
            cluster["certificate-authority-data"] = base64.b64encode(
                self.authority_pem).decode()
        else:
            cluster["insecure-skip-tls-verify"] = True
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": "c", "cluster": cluster}],
            "contexts": [{"name": context, "context": {"cluster": "c", "user": "u"}}],
            "users": [{"name": "u", "user": {"token": token}}]}, sort_keys=False))
        return path


@contextlib.contextmanager
def https_front(upstream: str) -> Iterator[HttpsFront]:
    authority = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    with FaultProxy(upstream, FaultConfig(rate=0.0), listen_context=context) as proxy:
        yield HttpsFront(proxy.url, authority.cert_pem.bytes())
