"""The test API server: real HTTP on 127.0.0.1 in front of a `Cluster`.

Routes follow the Kubernetes REST layout (discovery, then `/api/v1/...` and
`/apis/<group>/<version>/...`). Tests can make it fail on purpose: `forbid` a verb on a
resource, `inject` an HTTP error or a delay for matching requests.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from tests.kubeapi.cluster import Cluster
from tests.kubeapi.errors import ApiError
from tests.kubeapi.resources import ResourceType
from tests.kubeapi.selectors import parse_field_selector, parse_selector

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Fault:
    """Answer matching requests with `status` (after `delay` seconds), `times` times."""

    method: str = "*"
    path: str = ".*"
    status: int = 0
    delay: float = 0.0
    times: int | None = None
    message: str = "injected failure"
    dry_run: bool | None = None  # None: both; True/False: only dry runs / only real writes

    def matches(self, method: str, path: str, dry_run: bool) -> bool:
        return (
            self.method in ("*", method)
            and re.search(self.path, path) is not None
            and self.dry_run in (None, dry_run)
        )


@dataclass
class RequestRecord:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    user: str

    @property
    def dry_run(self) -> bool:
        return "All" in self.query.get("dryRun", [])

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS and not self.dry_run and self.status < 400

    @property
    def is_state(self) -> bool:
        """gitdeploy's bookkeeping: its Lease, deploy records, ApplySet parent, who-am-I."""
        return ("/leases" in self.path or "selfsubjectreviews" in self.path
                or "/configmaps/gitdeploy-record-" in self.path
                or "/configmaps/gitdeploy-applyset-" in self.path
                or (self.method == "POST" and self.path.endswith("/configmaps")))


@dataclass
class Behaviour:
    tokens: dict[str, str] = field(default_factory=dict)  # bearer token -> user name
    forbidden: set[tuple[str, str]] = field(default_factory=set)  # (verb, plural)
    faults: list[Fault] = field(default_factory=list)


class TestApiServer:
    """An in-process API server. Use as a context manager, or `start()`/`stop()`."""

    __test__ = False  # not a pytest class

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.cluster = Cluster()
        self.behaviour = Behaviour(tokens={"admin-token": "admin"})
        self.requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"api": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> TestApiServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever,
                                        kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> TestApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- test controls ------------------------------------------------------------------
    def forbid(self, verb: str, plural: str) -> None:
        self.behaviour.forbidden.add((verb, plural))

    def inject(self, fault: Fault) -> None:
        self.behaviour.faults.append(fault)

    def writes(self, *, state: bool = False) -> list[RequestRecord]:
        """Successful writes to objects; with `state`, also gitdeploy's own bookkeeping (the
        lock Lease, deploy records, the ApplySet parent, SelfSubjectReviews)."""
        with self._lock:
            return [r for r in self.requests if r.is_write and (state or not r.is_state)]

    def kubeconfig(self, path: Path, context: str = "test", token: str = "admin-token",
                   extra_contexts: dict[str, str] | None = None) -> Path:
        """Write a kubeconfig for this server; `extra_contexts` maps name -> server URL."""
        clusters = [{"name": "test-cluster", "cluster": {"server": self.url}}]
        contexts = [{"name": context, "context": {"cluster": "test-cluster", "user": "test"}}]
        for name, server in (extra_contexts or {}).items():
            clusters.append({"name": f"{name}-cluster", "cluster": {"server": server}})
            contexts.append({"name": name, "context": {"cluster": f"{name}-cluster",
                                                       "user": "test"}})
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": clusters,
            "contexts": contexts,
            "users": [{"name": "test", "user": {"token": token}}],
            "current-context": context,
        }
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path


class _Handler(BaseHTTPRequestHandler):
    api: TestApiServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and
        # delayed ACKs add ~40 ms to every response.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    # ---- plumbing -----------------------------------------------------------------------
    def _serve(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        user = ""
        try:
            user = self._authenticate()
            self._apply_faults(parts.path, "All" in query.get("dryRun", []))
            status, body = Router(self.api, self.command, parts.path, query, raw, user,
                                  self.headers.get("Content-Type", ""),
                                  self.headers.get("User-Agent", "")).route()
        except ApiError as error:
            status, body = error.code, error.status()
        with self.api._lock:
            self.api.requests.append(RequestRecord(self.command, parts.path, query, status, user))
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _authenticate(self) -> str:
        header = self.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip()
        user = self.api.behaviour.tokens.get(token)
        if user is None:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        return user

    def _apply_faults(self, path: str, dry_run: bool) -> None:
        for fault in list(self.api.behaviour.faults):
            if not fault.matches(self.command, path, dry_run):
                continue
            if fault.times is not None:
                if fault.times <= 0:
                    continue
                fault.times -= 1
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status:
                reason = {409: "Conflict", 500: "InternalError", 503: "ServiceUnavailable",
                          429: "TooManyRequests", 504: "Timeout"}.get(fault.status, "Unknown")
                raise ApiError(fault.status, reason, fault.message)


_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


class Router:
    """Turns one request into a call on the cluster."""

    def __init__(self, api: TestApiServer, method: str, path: str, query: dict[str, list[str]],
                 raw: bytes, user: str, content_type: str, user_agent: str) -> None:
        self.api = api
        self.cluster = api.cluster
        self.method = method
        self.segments = [s for s in path.split("/") if s]
        self.query = query
        self.raw = raw
        self.user = user
        self.content_type = content_type.split(";", maxsplit=1)[0].strip()
        self.user_agent = user_agent

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def route(self) -> tuple[int, Any]:
        s = self.segments
        if s == ["version"]:
            return 200, {"major": "1", "minor": "34", "gitVersion": "v1.34.0-gitdeploy-test",
                         "platform": "linux/amd64"}
        if s == ["api"]:
            return 200, {"kind": "APIVersions", "versions": ["v1"],
                         "serverAddressByClientCIDRs": []}
        if s == ["apis"]:
            return 200, self._group_list()
        if s[:1] == ["api"] and len(s) >= 2:
            group, version, rest = "", s[1], s[2:]
        elif s[:1] == ["apis"] and len(s) >= 3:
            group, version, rest = s[1], s[2], s[3:]
        else:
            raise ApiError.no_resource()
        if not rest:
            return 200, self._resource_list(group, version)
        return self._resource_request(group, version, rest)

    # ---- discovery ----------------------------------------------------------------------
    def _group_list(self) -> Any:
        groups: dict[str, list[str]] = {}
        for rtype in self.cluster.served_types():
            if rtype.group:
                versions = groups.setdefault(rtype.group, [])
                versions.extend(v for v in rtype.versions if v not in versions)
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [
                {
                    "name": name,
                    "versions": [{"groupVersion": f"{name}/{v}", "version": v} for v in versions],
                    "preferredVersion": {"groupVersion": f"{name}/{versions[0]}",
                                         "version": versions[0]},
                }
                for name, versions in sorted(groups.items())
            ],
        }

    def _resource_list(self, group: str, version: str) -> Any:
        types = [t for t in self.cluster.served_types()
                 if t.group == group and version in t.versions]
        if not types:
            raise ApiError.no_resource()
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": [
                {"name": t.plural, "singularName": t.singular, "namespaced": t.namespaced,
                 "kind": t.kind, "verbs": list(t.verbs),
                 **({"shortNames": list(t.short_names)} if t.short_names else {})}
                for t in types
            ],
        }

    # ---- objects ------------------------------------------------------------------------
    def _resource_request(self, group: str, version: str, rest: list[str]) -> tuple[int, Any]:
        namespace: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        if len(rest) > 2:
            raise ApiError.no_resource()  # subresources are not served
        plural, name = rest[0], (rest[1] if len(rest) == 2 else "")
        rtype = self.cluster.find_type(group, version, plural)
        if rtype.namespaced and namespace is None and (name or self.method != "GET"):
            raise ApiError.no_resource()
        if not rtype.namespaced and namespace is not None:
            raise ApiError.no_resource()
        verb = _VERBS.get(self.method, "get" if name else "list")
        if verb not in rtype.verbs:
            raise ApiError(405, "MethodNotAllowed",
                           "the server does not allow this method on the requested resource")
        if (verb, plural) in self.api.behaviour.forbidden:
            raise ApiError.forbidden(self.user, verb, group, plural, namespace or "", name)
        ns = namespace or ""
        dry_run = self.param("dryRun") == "All"
        manager = self.param("fieldManager") or self.user_agent.split("/")[0] or "unknown"
        if rtype.kind == "SelfSubjectReview":
            return 201, {"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
                         "metadata": {}, "status": {"userInfo": {"username": self.user}}}
        if verb == "list":
            selector = parse_selector(self.param("labelSelector") or "")
            fields = parse_field_selector(self.param("fieldSelector") or "", rtype.kind)
            return 200, self.cluster.list(rtype, version, namespace, selector, fields)
        if verb == "get":
            return 200, self.cluster.get(rtype, version, ns, name)
        if verb == "delete":
            options = self._body() if self.raw.strip() else {}
            return 200, self.cluster.delete(rtype, ns, name, dry_run,
                                            options.get("preconditions") or {})
        body = self._body()
        if verb == "create":
            return 201, self.cluster.create(rtype, version, ns, body, manager, dry_run)
        if verb == "update":
            return 200, self.cluster.replace(rtype, version, ns, name, body, manager, dry_run)
        return self._patch(rtype, version, ns, name, body, manager, dry_run)

    def _patch(self, rtype: ResourceType, version: str, namespace: str, name: str, body: Any,
               manager: str, dry_run: bool) -> tuple[int, Any]:
        if self.content_type == "application/apply-patch+yaml":
            if not self.param("fieldManager"):
                raise ApiError.bad_request("PATCH /" + "/".join(self.segments) +
                                           ": fieldManager is required for apply requests")
            force = self.param("force") == "true"
            existed = True
            try:
                self.cluster.get(rtype, version, namespace, name)
            except ApiError:
                existed = False
            result = self.cluster.apply(rtype, version, namespace, name, body, manager, force,
                                        dry_run)
            return (200 if existed else 201), result
        if self.param("force") is not None:
            raise ApiError.bad_request("force is only allowed for apply patches")
        if self.content_type in ("application/merge-patch+json",
                                 "application/strategic-merge-patch+json"):
            return 200, self.cluster.merge_patch(rtype, version, namespace, name, body, manager,
                                                 dry_run)
        raise ApiError(415, "UnsupportedMediaType",
                       "the body of the request was in an unknown format - accepted media "
                       "types include: application/merge-patch+json, application/apply-patch+yaml")

    def _body(self) -> Any:
        try:
            body = yaml.safe_load(self.raw.decode() or "{}")
        except yaml.YAMLError as exc:
            raise ApiError.bad_request(f"error decoding request body: {exc}") from None
        if not isinstance(body, dict):
            raise ApiError.bad_request("the request body must be an object")
        return body
