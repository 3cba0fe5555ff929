"""A seeded fault proxy: real HTTP between a client (gitdeploy) and a Kubernetes API server,
failing some requests on purpose.

    python -m tests.faults.proxy --upstream http://127.0.0.1:6443 --seed 7 --rate 0.1 --listen 8001

Each request is either forwarded as it is, or meets one fault, chosen by a random generator
seeded per request: from the seed, the method, the path, whether it is a dry run, and how many
such requests came before (`FaultProxy.decide`). The choice therefore depends neither on the
order in which concurrent requests arrive nor on the time, and a run repeated with the same seed
meets the same faults wherever its requests are the same. The kinds (`KINDS`):

- `500`, `503`: an error Status of that code, the request not forwarded;
- `429`: `TooManyRequests` with `Retry-After: 1`, not forwarded;
- `reset-before`: the client's connection is reset (RST) before the request is forwarded: the
  server never sees it;
- `reset-after`: the request is forwarded and the server's answer read, then the client's
  connection is reset instead of answering: the server did the work, the client cannot know;
- `stall`: `stall_seconds` of silence, then the request is forwarded and answered. A stall
  longer than the client's request timeout is a timeout after which the server still does the
  work.

A test's chooser (`FaultProxy.choose`) may also pick a kind the seeded draw never does
(`CHOSEN_ONLY`): `410`, the `Expired` Status of a LIST whose continue token is too old.

Faults hit every request, or with `writes_only` only writes (POST, PUT, PATCH, DELETE without
`dryRun`); `match` narrows them to paths matching a regular expression. Each fault is logged
(`FaultEvent`: method, path, kind), kept in `FaultProxy.events` for a test to count, written to
`--log FILE` as JSON lines, and printed on stderr by the command.

Upstream may be `http://` (the test API server) or `https://` (a real cluster): the proxy then
verifies the server with `--upstream-ca` (or not, with `--insecure`) and authenticates with
`--client-cert`/`--client-key` when the cluster wants client certificates; a bearer token in
the client's kubeconfig passes through as its `Authorization` header. The proxy listens on plain
HTTP, or on HTTPS with a certificate of your own (`--tls-cert`, `--tls-key`). README.md in this
folder shows the kubeconfig to point gitdeploy at it.

Answers are relayed whole (with a `Content-Length`), except chunked ones (watches), which are
streamed. Only the standard library: `http.server.ThreadingHTTPServer` and `http.client`.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import http.client
import json
import logging
import random
import re
import socket
import ssl
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

KINDS = ("500", "503", "429", "reset-before", "reset-after", "stall")
CHOSEN_ONLY = ("410",)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Headers of one hop, never forwarded (RFC 9110 section 7.6.1), and the ones the proxy sets.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                        "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
                        "host", "content-length", "expect"})
_STATUS = {
    500: ("InternalError", "fault proxy: injected internal error"),
    503: ("ServiceUnavailable", "fault proxy: injected unavailability"),
    429: ("TooManyRequests", "fault proxy: injected throttling, retry in 1s"),
    410: ("Expired", "fault proxy: the provided continue parameter is too old to display a "
                     "consistent list result"),
}

LOG = logging.getLogger("tests.faults.proxy")


@dataclass(frozen=True)
class FaultConfig:
    """Which faults, how often. `rate` is the chance of a fault per eligible request; the kind
    is then drawn evenly from `kinds`."""

    seed: int = 0
    rate: float = 0.1
    kinds: tuple[str, ...] = KINDS
    writes_only: bool = False
    stall_seconds: float = 1.0
    match: str = ""  # a regular expression the path must match; "" for every path

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"fault kinds must be among {', '.join(KINDS)}: "
                             f"{', '.join(sorted(unknown)) or 'none given'}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1: {self.rate}")

    def eligible(self, method: str, path: str, dry_run: bool) -> bool:
        if self.writes_only and (method not in WRITE_METHODS or dry_run):
            return False
        return not self.match or re.search(self.match, path) is not None


@dataclass(frozen=True)
class FaultEvent:
    method: str
    path: str
    kind: str
    dry_run: bool
    at: float  # time.time()

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS and not self.dry_run

    def line(self) -> str:
        return (f"fault {self.kind}: {self.method} {self.path}"
                f"{' (dry run)' if self.dry_run else ''}")

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Request:
    """What a `Chooser` sees of a request."""

    method: str
    path: str
    dry_run: bool
    occurrence: int  # 1 for the first request with this method, path and dry-run flag
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


# Chooses the fault of a request instead of the seeded draw (targeted tests): a kind or None.
Chooser = Callable[[Request], "str | None"]


def is_dry_run(query: str) -> bool:
    return "All" in parse_qs(query).get("dryRun", [])


class FaultProxy:
    """The proxy, in a thread of its own: `with FaultProxy(upstream, config) as proxy:`,
    then point a kubeconfig at `proxy.url`. `configure` changes the faults while it runs
    (`configure(rate=0)` turns them off)."""

    def __init__(self, upstream: str, config: FaultConfig | None = None, *,
                 host: str = "127.0.0.1", port: int = 0,
                 upstream_context: ssl.SSLContext | None = None,
                 listen_context: ssl.SSLContext | None = None,
                 on_fault: Callable[[FaultEvent], None] | None = None,
                 upstream_timeout: float = 60.0, choose: Chooser | None = None) -> None:
        parts = urlsplit(upstream)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"upstream must be an http:// or https:// URL: {upstream}")
        self.upstream = upstream.rstrip("/")
        self._upstream_parts = parts
        self._upstream_context = upstream_context
        self.upstream_timeout = upstream_timeout
        self.config = config or FaultConfig()
        self.events: list[FaultEvent] = []
        self.forwarded = 0  # requests that reached the upstream server
        self.seen = 0  # requests received
        self.in_flight = 0  # requests being handled now (a stall or a forward in progress)
        self._idle = threading.Condition()
        self._hold: re.Pattern[str] | None = None  # writes to matching paths wait...
        self._released = threading.Event()  # ...until this is set
        self.held = 0  # requests held now
        self._occurrences: collections.Counter[tuple[str, str, bool]] = collections.Counter()
        self._lock = threading.Lock()
        self._on_fault = on_fault
        self.choose = choose  # when set, it chooses the faults instead of the seeded draw
        handler = type("Handler", (_Handler,), {"proxy": self})
        self.httpd = _Server((host, port), handler)
        self._tls = listen_context is not None
        if listen_context is not None:
            self.httpd.socket = listen_context.wrap_socket(self.httpd.socket, server_side=True)
        self._thread: threading.Thread | None = None

    # ---- lifecycle ------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        host = self.httpd.server_address[0]
        name = host.decode() if isinstance(host, bytes) else str(host)
        return f"{'https' if self._tls else 'http'}://{name}:{self.port}"

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="fault-proxy",
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- controls -------------------------------------------------------------------------
    def configure(self, **changes: Any) -> FaultConfig:
        """Change the faults from now on (the count of requests per key goes on)."""
        with self._lock:
            self.config = dataclasses.replace(self.config, **changes)
            return self.config

    def hold(self, match: str) -> None:
        """From now on, writes (not dry runs) to paths matching `match` wait before they are
        forwarded, until `release()`: a test control, to keep a deploy mid-apply for as long
        as the test needs (not a fault: nothing is logged)."""
        with self._lock:
            self._released.clear()
            self._hold = re.compile(match)

    def release(self) -> None:
        with self._lock:
            self._hold = None
            self._released.set()

    def _wait_if_held(self, method: str, path: str, dry_run: bool) -> None:
        with self._lock:
            hold = self._hold
            if hold is None or method not in WRITE_METHODS or dry_run or not hold.search(path):
                return
            self.held += 1
        try:
            self._released.wait()
        finally:
            with self._lock:
                self.held -= 1

    def faults(self, kind: str | None = None, *, writes: bool | None = None
               ) -> list[FaultEvent]:
        with self._lock:
            return [e for e in self.events if (kind is None or e.kind == kind)
                    and (writes is None or e.is_write == writes)]

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no request is being handled (a stalled request may still reach the
        server after its client gave up); False if that did not happen within `timeout`."""
        with self._idle:
            return self._idle.wait_for(lambda: self.in_flight == 0, timeout)

    def _begin(self) -> None:
        with self._idle:
            self.in_flight += 1

    def _end(self) -> None:
        with self._idle:
            self.in_flight -= 1
            self._idle.notify_all()

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(collections.Counter(e.kind for e in self.events))

    # ---- the choice -----------------------------------------------------------------------
    def decide(self, method: str, path: str, dry_run: bool, body: bytes = b"") -> str | None:
        """The fault for this request, or None: drawn from a generator seeded with the seed,
        the request and how many of the same request came before (or `choose`n)."""
        with self._lock:
            config = self.config
            key = (method, path, dry_run)
            self._occurrences[key] += 1
            occurrence = self._occurrences[key]
            self.seen += 1
            choose = self.choose
        if choose is not None:
            kind = choose(Request(method, path, dry_run, occurrence, body))
            if kind is not None and kind not in KINDS + CHOSEN_ONLY:
                raise ValueError(f"no fault kind {kind}")
            return kind
        if config.rate <= 0 or not config.eligible(method, path, dry_run):
            return None
        generator = random.Random(
            f"{config.seed}|{method}|{path}|{'dry' if dry_run else 'real'}|{occurrence}")
        if generator.random() >= config.rate:
            return None
        return generator.choice(config.kinds)

    def _record(self, method: str, path: str, kind: str, dry_run: bool) -> None:
        event = FaultEvent(method, path, kind, dry_run, time.time())
        with self._lock:
            self.events.append(event)
        LOG.info("%s", event.line())
        if self._on_fault is not None:
            self._on_fault(event)

    def _counted_forward(self) -> None:
        with self._lock:
            self.forwarded += 1

    def _connection(self) -> http.client.HTTPConnection:
        parts = self._upstream_parts
        host = parts.hostname or "127.0.0.1"
        if parts.scheme == "https":
            return http.client.HTTPSConnection(host, parts.port or 443,
                                               timeout=self.upstream_timeout,
                                               context=self._upstream_context)
        return http.client.HTTPConnection(host, parts.port or 80, timeout=self.upstream_timeout)

    @property
    def upstream_host(self) -> str:
        return self._upstream_parts.netloc


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # not socketserver's 5: clients open many connections at once

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up, or a connection the proxy reset on purpose, is normal."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError, ssl.SSLError)):
            return
        LOG.exception("fault proxy: error while answering %s", client_address)


class _Reset(Exception):
    """The client's connection was reset on purpose."""


class _Handler(BaseHTTPRequestHandler):
    proxy: FaultProxy
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        if isinstance(self.request, socket.socket):
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._proxy()

    def do_HEAD(self) -> None:
        self._proxy()

    def do_POST(self) -> None:
        self._proxy()

    def do_PUT(self) -> None:
        self._proxy()

    def do_PATCH(self) -> None:
        self._proxy()

    def do_DELETE(self) -> None:
        self._proxy()

    def do_OPTIONS(self) -> None:
        self._proxy()

    # ---- one request ----------------------------------------------------------------------
    def _proxy(self) -> None:
        self.proxy._begin()
        try:
            self._handle_request()
        finally:
            self.proxy._end()

    def _handle_request(self) -> None:
        proxy = self.proxy
        parts = urlsplit(self.path)
        dry_run = is_dry_run(parts.query)
        body = self._read_body()
        kind = proxy.decide(self.command, parts.path, dry_run, body)
        if kind is not None:
            proxy._record(self.command, parts.path, kind, dry_run)
        try:
            if kind in ("500", "503", "429", "410"):
                self._answer_status(int(kind))
                return
            if kind == "reset-before":
                raise _Reset
            if kind == "stall":
                time.sleep(proxy.config.stall_seconds)
            proxy._wait_if_held(self.command, parts.path, dry_run)
            response, connection = self._forward(body)
            try:
                if kind == "reset-after":
                    response.read()
                    raise _Reset
                self._relay(response)
            finally:
                connection.close()
        except _Reset:
            self._reset()
        except (OSError, http.client.HTTPException) as error:
            if isinstance(error, (BrokenPipeError, ConnectionResetError)):
                raise  # the client went away
            self._answer_status(502, f"fault proxy: upstream failed: {error}")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _forward(self, body: bytes) -> tuple[http.client.HTTPResponse, http.client.HTTPConnection]:
        proxy = self.proxy
        connection = proxy._connection()
        headers = {name: value for name, value in self.headers.items()
                   if name.lower() not in HOP_BY_HOP}
        headers["Host"] = proxy.upstream_host
        if body or self.command in WRITE_METHODS:
            headers["Content-Length"] = str(len(body))
        try:
            connection.request(self.command, self.path, body=body or None, headers=headers)
            response = connection.getresponse()
        except BaseException:
            connection.close()
            raise
        proxy._counted_forward()
        return response, connection

    def _relay(self, response: http.client.HTTPResponse) -> None:
        chunked = response.getheader("Transfer-Encoding", "").lower() == "chunked"
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        if self.command == "HEAD" or response.status in (204, 304):
            self.send_header("Content-Length", response.getheader("Content-Length") or "0")
            self.end_headers()
            return
        if not chunked:
            payload = response.read()
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while True:
            piece = response.read1(65536)
            if not piece:
                break
            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def _answer_status(self, code: int, message: str | None = None) -> None:
        reason, default = _STATUS.get(code, ("BadGateway", "fault proxy: bad gateway"))
        status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": message or default, "reason": reason, "code": code}
        payload = json.dumps(status).encode()
        self.send_response_only(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if code == 429:
            self.send_header("Retry-After", "1")
        self.end_headers()
        self.wfile.write(payload)

    def _reset(self) -> None:
        """Close the client's connection with a TCP reset, no answer."""
        self.close_connection = True
        connection = self.connection
        with contextlib.suppress(OSError):
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # The socket closes for real once the buffered reader on it is closed too.
        self.rfile.close()
        connection.close()


# ---- the command ----------------------------------------------------------------------------
def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"kinds are among {', '.join(KINDS)}")
    return kinds


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.faults.proxy",
        description="A seeded fault proxy in front of a Kubernetes API server.")
    parser.add_argument("--upstream", required=True,
                        help="the API server: http://HOST:PORT or https://HOST:PORT")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rate", type=float, default=0.1,
                        help="chance of a fault per request (0 to 1)")
    parser.add_argument("--kinds", type=_kinds, default=KINDS,
                        help=f"comma-separated fault kinds (default: {','.join(KINDS)})")
    parser.add_argument("--writes-only", action="store_true",
                        help="faults only on writes (POST/PUT/PATCH/DELETE without dryRun)")
    parser.add_argument("--match", default="", help="faults only on paths matching this regex")
    parser.add_argument("--stall", type=float, default=1.0, help="seconds of a stall")
    parser.add_argument("--listen", type=int, default=8001, help="port (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--log", help="append every fault to this file, as JSON lines")
    parser.add_argument("--upstream-ca", help="CA bundle to verify an https upstream with")
    parser.add_argument("--insecure", action="store_true",
                        help="do not verify an https upstream's certificate")
    parser.add_argument("--client-cert", help="client certificate for the upstream (PEM)")
    parser.add_argument("--client-key", help="its key (PEM)")
    parser.add_argument("--tls-cert", help="listen on HTTPS with this certificate (PEM)")
    parser.add_argument("--tls-key", help="and this key (PEM)")
    return parser


def _contexts(args: argparse.Namespace) -> tuple[ssl.SSLContext | None, ssl.SSLContext | None]:
    upstream: ssl.SSLContext | None = None
    if args.upstream.startswith("https://"):
        upstream = ssl.create_default_context(cafile=args.upstream_ca)
        if args.insecure:
            upstream.check_hostname = False
            upstream.verify_mode = ssl.CERT_NONE
        if args.client_cert:
            upstream.load_cert_chain(args.client_cert, args.client_key)
    listen: ssl.SSLContext | None = None
    if args.tls_cert:
        listen = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        listen.load_cert_chain(args.tls_cert, args.tls_key)
    return upstream, listen


def main(argv: Iterable[str] | None = None) -> int:
    args = _parser().parse_args(list(argv) if argv is not None else None)
    config = FaultConfig(seed=args.seed, rate=args.rate, kinds=args.kinds,
                         writes_only=args.writes_only, stall_seconds=args.stall,
                         match=args.match)
    log_file = open(args.log, "a", encoding="utf-8") if args.log else None  # noqa: SIM115
    write_lock = threading.Lock()

    def on_fault(event: FaultEvent) -> None:
        print(event.line(), file=sys.stderr, flush=True)
        if log_file is not None:
            with write_lock:
                log_file.write(json.dumps(event.as_json()) + "\n")
                log_file.flush()

    upstream_context, listen_context = _contexts(args)
    proxy = FaultProxy(args.upstream, config, host=args.host, port=args.listen,
                       upstream_context=upstream_context, listen_context=listen_context,
                       on_fault=on_fault)
    print(f"fault proxy on {proxy.url} -> {proxy.upstream} (seed {config.seed}, rate "
          f"{config.rate}, kinds {','.join(config.kinds)}"
          f"{', writes only' if config.writes_only else ''})", file=sys.stderr, flush=True)
    try:
        proxy.httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        proxy.httpd.server_close()
        if log_file is not None:
            log_file.close()
        print(f"fault proxy: {proxy.seen} requests, {proxy.forwarded} forwarded, faults: "
              f"{json.dumps(proxy.counts(), sort_keys=True)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
