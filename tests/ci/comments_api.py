"""A local stand-in for the comments APIs of GitHub (issue comments) and GitLab (merge request
notes): real HTTP on 127.0.0.1, comments kept in memory, every request recorded."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class CommentsApi:
    comments: dict[int, str] = field(default_factory=dict)  # id -> body, in creation order
    requests: list[Request] = field(default_factory=list)
    next_id: int = 100
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add(self, body: str) -> int:
        self.next_id += 1
        self.comments[self.next_id] = body
        return self.next_id

    def writes(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests if r.method != "GET"]

    def __enter__(self) -> CommentsApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, status: int, document: Any = None) -> None:
                data = b"" if document is None else json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body: Any = json.loads(raw) if raw else {}
                api.requests.append(Request(self.command, self.path, dict(self.headers), body))
                path, _, query = self.path.partition("?")
                listing = re.fullmatch(r"/repos/[^/]+/[^/]+/issues/\d+/comments"
                                       r"|/projects/[^/]+/merge_requests/\d+/notes", path)
                item = re.fullmatch(r"/repos/[^/]+/[^/]+/issues/comments/(\d+)"
                                    r"|/projects/[^/]+/merge_requests/\d+/notes/(\d+)", path)
                if listing and self.command == "GET":
                    page = int(dict(p.split("=") for p in query.split("&"))["page"])
                    size = int(dict(p.split("=") for p in query.split("&"))["per_page"])
                    items = [{"id": i, "body": b} for i, b in api.comments.items()]
                    self._answer(200, items[(page - 1) * size:page * size])
                elif listing and self.command == "POST":
                    self._answer(201, {"id": api.add(body["body"]), "body": body["body"]})
                elif item and self.command in ("PATCH", "PUT"):
                    number = int(item.group(1) or item.group(2))
                    api.comments[number] = body["body"]
                    self._answer(200, {"id": number, "body": body["body"]})
                elif item and self.command == "DELETE":
                    api.comments.pop(int(item.group(1) or item.group(2)), None)
                    self._answer(204)
                else:
                    self._answer(404, {"message": "Not Found"})

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()
