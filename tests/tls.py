"""The test API server behind HTTPS, for clients that send credentials only over TLS (kubectl
sends no bearer token to an http:// server): the fault proxy, with faults off, listens on
HTTPS with a certificate of an authority made for the run (trustme), and a kubeconfig that
trusts that authority."""

from __future__ import annotations

import base64
import contextlib
import multiprocessing
import multiprocessing.queues
import ssl
import tempfile
import threading
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
def https_front(upstream: str, *, own_process: bool = False) -> Iterator[HttpsFront]:
    """With `own_process`, the front runs in a process of its own, as a real load balancer
    does not share a Python interpreter (and its lock) with the API server: benchmarks
    (benchmarks/versus_kubectl.py) measure the clients, not this front's TLS work taken from
    the test server's CPU."""
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    if own_process:
        spawn = multiprocessing.get_context("spawn")
        urls: multiprocessing.queues.Queue[str] = spawn.Queue()
        front = spawn.Process(target=_serve_front, daemon=True, args=(
            upstream, certificate.private_key_and_cert_chain_pem.bytes(), urls))
        front.start()
        try:
            yield HttpsFront(urls.get(timeout=60), authority.cert_pem.bytes())
        finally:
            front.terminate()
            front.join()
        return
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certificate.configure_cert(context)
    with FaultProxy(upstream, FaultConfig(rate=0.0), listen_context=context) as proxy:
        yield HttpsFront(proxy.url, authority.cert_pem.bytes())


def _serve_front(upstream: str, key_and_chain: bytes, urls: multiprocessing.queues.Queue[str]
                 ) -> None:
    """The front's process: serves until terminated."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as folder:
        pem = Path(folder) / "front.pem"
        pem.write_bytes(key_and_chain)
        context.load_cert_chain(pem)
    with FaultProxy(upstream, FaultConfig(rate=0.0), listen_context=context) as proxy:
        urls.put(proxy.url)
        threading.Event().wait()
