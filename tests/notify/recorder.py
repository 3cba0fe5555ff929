"""A local HTTP server that records what it receives and answers as told: the stand-in for
Slack, Teams, a webhook receiver and GitHub's API in the notification tests."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.local_http import serving


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Recorder:
    """`answers` maps a path prefix to a list of (status, JSON body, delay seconds) used in
    turn (the last one repeats); anything else gets 200 `{}`."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    answers: dict[str, list[tuple[int, Any, float]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str) -> tuple[int, Any, float]:
        for prefix, queue in self.answers.items():
            if path.startswith(prefix):
                return queue.pop(0) if len(queue) > 1 else queue[0]
        return 200, {}, 0.0

    def paths(self) -> list[str]:
        return [r.path for r in self.received]


@contextmanager
def recording() -> Iterator[Recorder]:
    recorder = Recorder()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # the services are only ever POSTed to
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with recorder.lock:
                recorder.received.append(Received("POST", self.path, dict(self.headers), body))
                status, answer, delay = recorder.answer(self.path)
            if delay:
                time.sleep(delay)
            data = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving(Handler) as url:
        recorder.url = url
        yield recorder
