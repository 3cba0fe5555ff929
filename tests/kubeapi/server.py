"""The test API server: real HTTP on 127.0.0.1 in front of a `Cluster`.

Routes follow the Kubernetes REST layout (discovery, then `/api/v1/...` and
`/apis/<group>/<version>/...`). Tests can make it fail on purpose: `forbid` a verb on a
resource, `inject` an HTTP error or a delay for matching requests.
"""

from __future__ import annotations

import json
import logging
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

from tests.kubeapi import decoding
from tests.kubeapi.cluster import Cluster, DeleteOptions
from tests.kubeapi.errors import ApiError
from tests.kubeapi.resources import ResourceType
from tests.kubeapi.selectors import parse_field_selector, parse_selector

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MAX_REQUEST_BYTES = 3 * 1024 * 1024  # configmap-1mib.jsonl#6
# /version of the recorded server (discovery.jsonl#1); the commit id stands in for its own.
VERSION = {
    "major": "1", "minor": "36", "emulationMajor": "1", "emulationMinor": "36",
    "minCompatibilityMajor": "1", "minCompatibilityMinor": "35", "gitVersion": "v1.36.2",
    "gitCommit": "0" * 40, "gitTreeState": "clean", "buildDate": "2026-11-18T10:00:00Z",
    "goVersion": "go1.26.4", "compiler": "gc", "platform": "linux/amd64",
}


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


LOG = logging.getLogger("tests.kubeapi")


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a command that stopped at its first error) is normal; anything
        else is logged. Never printed: the server runs in the process of the command under test,
        and the command's captured stderr must hold only what the command wrote."""
        import sys
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        LOG.exception("test API server: error while answering %s", client_address)


class TestApiServer:
    """An in-process API server. Use as a context manager, or `start()`/`stop()`."""

    __test__ = False  # not a pytest class

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.cluster = Cluster()
        self.behaviour = Behaviour(tokens={"admin-token": "admin"})
        self.requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"api": self})
        self.httpd = _HttpServer((host, port), handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host
        return f"http://{name}:{port}"

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
        router = Router(self.api, self.command, parts.path, query, raw, "",
                        self.headers.get("Content-Type", ""), self.headers.get("User-Agent", ""))
        try:
            user = router.user = self._authenticate()
            if length > MAX_REQUEST_BYTES:
                raise ApiError(413, "RequestEntityTooLarge",
                               f"Request entity too large: limit is {MAX_REQUEST_BYTES}")
            self._apply_faults(parts.path, "All" in query.get("dryRun", []))
            status, body = router.route()
        except ApiError as error:
            status, body = error.code, error.status()
            if error.text is not None:
                body = error.text
        with self.api._lock:
            self.api.requests.append(RequestRecord(self.command, parts.path, query, status, user))
        text = isinstance(body, str)
        payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        for warning in router.warnings:
            self.send_header("Warning", warning)
        self.send_header("Content-Type",
                         "text/plain; charset=utf-8" if text else "application/json")
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
        self.warnings: list[str] = []  # Warning headers of the answer

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def route(self) -> tuple[int, Any]:
        s = self.segments
        if s == ["version"]:
            return 200, VERSION
        if s == ["api"]:
            return 200, {"kind": "APIVersions", "versions": ["v1"],
                         "serverAddressByClientCIDRs": []}
        if s == ["apis"]:
            return 200, self._group_list()
        if s[:1] == ["apis"] and len(s) >= 2 and not self._served_group(s[1]):
            raise ApiError.page_not_found()
        if s[:1] == ["api"] and len(s) >= 2:
            group, version, rest = "", s[1], s[2:]
        elif s[:1] == ["apis"] and len(s) >= 3:
            group, version, rest = s[1], s[2], s[3:]
        elif s[:1] == ["apis"] and len(s) == 2:
            return 200, {"kind": "APIGroup", "apiVersion": "v1",
                         **self._group_list()["groups"][self._group_names().index(s[1])]}
        else:
            raise ApiError.page_not_found()
        if not rest:
            return 200, self._resource_list(group, version)
        return self._resource_request(group, version, rest)

    # ---- discovery ----------------------------------------------------------------------
    def _served_group(self, group: str) -> bool:
        return group in self._group_names()

    def _group_names(self) -> list[str]:
        return [g["name"] for g in self._group_list()["groups"]]

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
        wrong_scope = (rtype.namespaced and namespace is None and (name or self.method != "GET")
                       ) or (not rtype.namespaced and namespace is not None)
        if wrong_scope:
            # Custom resources are served by their own handler, which answers as the mux does.
            raise ApiError.no_resource() if rtype.builtin else ApiError.page_not_found()
        verb = _VERBS.get(self.method, "get" if name else "list")
        if verb not in rtype.verbs or (verb == "patch" and not name):
            raise ApiError(405, "MethodNotAllowed",
                           "the server does not allow this method on the requested resource", {})
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
            return 200, self.cluster.delete(rtype, version, ns, name, self._delete_options())
        body = self._body()
        if verb in ("create", "update") or self.content_type in (
                "application/merge-patch+json", "application/strategic-merge-patch+json"):
            self.warnings += decoding.decode(
                rtype.group, version, rtype.kind, rtype.builtin, body,
                self.cluster.schema(rtype, version), self.param("fieldValidation"))
        if verb == "create":
            return 201, self.cluster.create(rtype, version, ns, body, manager, dry_run)
        if verb == "update":
            return 200, self.cluster.replace(rtype, version, ns, name, body, manager, dry_run)
        return self._patch(rtype, version, ns, name, body, manager, dry_run)

    def _delete_options(self) -> DeleteOptions:
        """DeleteOptions from the body when there is one, else from the query: a body replaces
        the query's options entirely (delete-dry-run.jsonl: `dryRun=All` in the query with a
        DeleteOptions body without dryRun deletes)."""
        if self.raw.strip():
            body = self._body()
            dry_run = body.get("dryRun") or []
            policy = body.get("propagationPolicy")
            preconditions = body.get("preconditions") or {}
            if body.get("orphanDependents") is not None and policy is None:
                policy = "Orphan" if body["orphanDependents"] else "Background"
        else:
            dry_run = self.query.get("dryRun", [])
            policy = self.param("propagationPolicy")
            preconditions = {}
        if policy is not None and policy not in ("Foreground", "Background", "Orphan"):
            message = (f'Unsupported value: "{policy}": supported values: "Foreground", '
                       '"Background", "Orphan", "nil"')
            raise ApiError(422, "Invalid", 'DeleteOptions.meta.k8s.io "" is invalid: '
                           f"propagationPolicy: {message}",
                           {"group": "meta.k8s.io", "kind": "DeleteOptions", "causes": [
                               {"reason": "FieldValueNotSupported", "message": message,
                                "field": "propagationPolicy"}]})
        return DeleteOptions(dry_run="All" in dry_run, propagation=policy,
                             preconditions={str(k): str(v) for k, v in preconditions.items()})

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
