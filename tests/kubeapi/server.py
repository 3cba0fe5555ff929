"""The test API server: real HTTP on 127.0.0.1 in front of a `Cluster`.

Routes follow the Kubernetes REST layout (discovery, then `/api/v1/...` and
`/apis/<group>/<version>/...`). Tests can make it fail on purpose: `forbid` a verb on a
resource, `inject` an HTTP error or a delay for matching requests.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from tests.kubeapi import auth, decoding, discovery, fields, patching, tables
from tests.kubeapi.cluster import Cluster, DeleteOptions, Manager
from tests.kubeapi.errors import ApiError, invalid_options
from tests.kubeapi.resources import ResourceType
from tests.kubeapi.selectors import parse_field_terms, parse_selector

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
    received: float = 0.0  # time.perf_counter() when the request came in

    @property
    def dry_run(self) -> bool:
        return "All" in self.query.get("dryRun", [])

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS and not self.dry_run and self.status < 400

    @property
    def is_state(self) -> bool:
        """gitdeploy's bookkeeping: its Lease, deploy records, ApplySet parent, sync
        fingerprints, who-am-I."""
        return ("/leases" in self.path or "selfsubjectreviews" in self.path
                or "/configmaps/gitdeploy-record-" in self.path
                or "/configmaps/gitdeploy-synced-" in self.path
                or "/configmaps/gitdeploy-applyset-" in self.path
                or (self.method == "POST" and self.path.endswith("/configmaps")))


@dataclass
class Behaviour:
    tokens: dict[str, str] = field(default_factory=dict)  # bearer token -> user name
    # user name -> uid, groups (system:masters may do everything; others only what every
    # authenticated user may: discovery, reviews of themselves)
    users: dict[str, auth.User] = field(default_factory=lambda: dict(auth.KNOWN_USERS))
    forbidden: set[tuple[str, str]] = field(default_factory=set)  # (verb, plural)
    faults: list[Fault] = field(default_factory=list)


LOG = logging.getLogger("tests.kubeapi")


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops connections when many clients connect at once
    # (a kubectl or gitdeploy at --concurrency 16), and each dropped one waits a second.
    request_queue_size = 128

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
        self.behaviour = Behaviour(tokens={"admin-token": "admin", "limited-token": "limited"})
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
        """Deny `verb` on the resource `plural` to every user, as RBAC would (a 403)."""
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
        received = time.perf_counter()
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        user = ""
        router = Router(self.api, self.command, parts.path, query, raw, "",
                        self.headers.get("Content-Type", ""), self.headers.get("User-Agent", ""))
        router.accept = self.headers.get("Accept", "")
        try:
            user = router.user = self._authenticate()
            router.identity = auth.user_named(user, self.api.behaviour.users)
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
            self.api.requests.append(RequestRecord(self.command, parts.path, query, status, user,
                                                   received))
        text = isinstance(body, str)
        payload = body if isinstance(body, bytes) else (
            body.encode() if isinstance(body, str) else json.dumps(body).encode())
        if router.etag and status == 200:
            # Documents served with a validator (OpenAPI, aggregated discovery): kubectl's
            # cache asks again with If-None-Match and gets a 304 with no body and no
            # Content-Type (discovery.jsonl#17, immutable-fields.jsonl#15).
            etag = '"' + hashlib.sha512(payload).hexdigest().upper() + '"'
            if etag in [t.strip() for t in self.headers.get("If-None-Match", "").split(",")]:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            router.headers["ETag"] = etag
        self.send_response(status)
        for name, value in router.headers.items():
            self.send_header(name, value)
        for warning in router.warnings:
            self.send_header("Warning", warning)
        self.send_header("Content-Type", (status < 300 and router.response_type) or (
            "text/plain; charset=utf-8" if text else "application/json"))
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
# Subresources served besides the objects themselves.
# Built-in kinds with a `/status` subresource that a controller writes (the object's spec and
# metadata are not changed through it).
_STATUS = {("apps", kind) for kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")} | {
    ("batch", "Job"), ("batch", "CronJob"), ("", "Pod"), ("", "Service"), ("", "Namespace"),
    ("", "PersistentVolumeClaim"), ("autoscaling", "HorizontalPodAutoscaler"),
    ("networking.k8s.io", "Ingress"), ("policy", "PodDisruptionBudget")}
_SUBRESOURCES = {(group, kind, "status") for group, kind in _STATUS} | {
                 ("apps", "Deployment", "scale"), ("apps", "StatefulSet", "scale"),
                 ("apps", "ReplicaSet", "scale"), ("", "ReplicationController", "scale")}


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        self.identity = auth.user_named(user) if user else auth.User("", "")
        self.content_type = content_type.split(";", maxsplit=1)[0].strip()
        self.user_agent = user_agent
        self.warnings: list[str] = []  # Warning headers of the answer
        self.accept = ""  # the request's Accept header
        self.response_type = ""  # Content-Type of a successful answer, when not the default
        self.etag = False  # answer with an ETag, and a 304 to a request that has it
        self.headers: dict[str, str] = {}  # further headers of the answer

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def route(self) -> tuple[int, Any]:
        s = self.segments
        if s == ["version"]:
            return 200, VERSION
        if not s:
            if not self.identity.privileged:  # not among system:discovery's paths
                raise ApiError(403, "Forbidden",
                               f'forbidden: User "{self.identity.name}" cannot get path "/"', {})
            return 200, discovery.root_paths(self._served_types())
        if s[0] == "openapi":
            return self._openapi(s[1:])
        if s in (["api"], ["apis"]):
            return 200, self._discovery_root(core=s == ["api"])
        if s[:1] == ["apis"] and len(s) >= 2 and not self._served_group(s[1]):
            raise ApiError.page_not_found()
        if s[:1] == ["api"] and len(s) >= 2:
            group, version, rest = "", s[1], s[2:]
        elif s[:1] == ["apis"] and len(s) >= 3:
            group, version, rest = s[1], s[2], s[3:]
        elif s[:1] == ["apis"] and len(s) == 2:
            return 200, discovery.api_group(s[1], self._served_types())
        else:
            raise ApiError.page_not_found()
        if not rest:
            return 200, self._resource_list(group, version)
        return self._resource_request(group, version, rest)

    # ---- discovery (discovery.py) -------------------------------------------------------
    def _served_types(self) -> list[ResourceType]:
        """The served types as discovery shows them: a custom resource whose CRD is being
        deleted with only the verbs its cleanup needs."""
        types = self.cluster.served_types()
        with self.cluster.lock:
            crds = {t.group_resource(): self.cluster.objects.get(
                ("apiextensions.k8s.io", "customresourcedefinitions", "", t.group_resource()))
                for t in types if not t.builtin}
        deleting = {name for name, crd in crds.items()
                    if crd and crd["metadata"].get("deletionTimestamp")}
        return [dataclasses.replace(t, verbs=discovery.CRD_TERMINATING_VERBS)
                if not t.builtin and t.group_resource() in deleting else t for t in types]

    def _served_group(self, group: str) -> bool:
        return group in self._group_names()

    def _group_names(self) -> list[str]:
        return [name for name, _ in discovery.served_groups(self.cluster.served_types())]

    def _group_list(self) -> Any:
        return discovery.group_list(self._served_types())

    def _discovery_root(self, core: bool) -> Any:
        """`/api` or `/apis`: aggregated discovery when the Accept header asks for it first
        (discovery.jsonl#9-#11), else APIVersions or the APIGroupList (#2, #3)."""
        aggregated = discovery.wants_aggregated(self.accept)
        if aggregated is None:
            raise ApiError(406, "NotAcceptable", "only the following media types are accepted: "
                           f"application/json, {discovery.AGGREGATED_V2}", {})
        if aggregated:
            self.response_type = discovery.AGGREGATED_V2
            self.etag = True
            return discovery.aggregated(self._served_types(), core)
        if core:
            host, port = self.api.httpd.server_address[:2]
            return discovery.api_versions(f"{host!s}:{port}")
        return self._group_list()

    def _resource_list(self, group: str, version: str) -> Any:
        types = self._served_types()
        body = discovery.resource_list(group, version, types)
        if body is None:
            if group and not any(t.builtin for t in types if t.group == group):
                raise ApiError.page_not_found()  # a CRD's group has only its own versions
            raise ApiError.no_resource()  # discovery.jsonl#13, #15
        return body

    def _crd_schemas(self) -> dict[tuple[str, str, str], Any]:
        """(group, version, kind) -> openAPIV3Schema of every custom resource."""
        schemas: dict[tuple[str, str, str], Any] = {}
        crds = [obj for _, obj in self.cluster.scan("apiextensions.k8s.io",
                                                     "customresourcedefinitions")]
        for crd in crds:
            spec = crd.get("spec") or {}
            for version in spec.get("versions") or []:
                schema = (version.get("schema") or {}).get("openAPIV3Schema")
                kind = (spec.get("names") or {}).get("kind")
                if isinstance(schema, dict) and kind:
                    schemas[(spec.get("group", ""), version.get("name", ""), kind)] = schema
        return schemas

    def _openapi(self, rest: list[str]) -> tuple[int, Any]:
        """`/openapi/v2` and `/openapi/v3[/<path>]` (the recording keeps their status and
        content type: configmap-1mib.jsonl#7, the root of v3 as text/plain)."""
        types = self._served_types()
        self.etag = True
        if rest == ["v2"]:
            for entry in self.accept.split(","):
                media = entry.split(";")[0].strip()
                if media == discovery.OPENAPI_V2_PROTOBUF:
                    self.response_type = media
                    return 200, discovery.openapi_v2_protobuf()
                if media in ("application/json", "*/*", "application/*"):
                    break
            return 200, discovery.openapi_v2_document()
        if rest[:1] == ["v3"]:
            if len(rest) == 1:
                return 200, discovery.openapi_v3_root(types, self._crd_schemas())
            document = discovery.openapi_v3_document("/".join(rest[1:]), types,
                                                     self._crd_schemas())
            if document is not None:
                return 200, document
        raise ApiError.page_not_found()

    # ---- objects ------------------------------------------------------------------------
    def _resource_request(self, group: str, version: str, rest: list[str]) -> tuple[int, Any]:
        namespace: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
            namespace, rest = rest[1], rest[2:]
        plural, name = rest[0], (rest[1] if len(rest) >= 2 else "")
        subresource = rest[2] if len(rest) >= 3 else ""
        self._authorize(group, plural, subresource, namespace, name)
        if len(rest) > 3:
            raise ApiError.no_resource()
        rtype = self.cluster.find_type(group, version, plural)
        if (rtype.group, rtype.kind, subresource) == ("", "Pod", "binding") \
                and namespace is not None and self.method == "POST":
            return 201, self._bind(namespace, name)
        if subresource and (rtype.group, rtype.kind, subresource) not in _SUBRESOURCES:
            raise ApiError.no_resource()
        wrong_scope = (rtype.namespaced and namespace is None and (name or self.method != "GET")
                       ) or (not rtype.namespaced and namespace is not None)
        if wrong_scope:
            # Custom resources are served by their own handler, which answers as the mux does.
            raise ApiError.no_resource() if rtype.builtin else ApiError.page_not_found()
        verb = _VERBS.get(self.method, "get" if name else "list")
        # The CRD handler serves every verb, whatever discovery lists for a CRD being deleted.
        verbs = rtype.verbs if rtype.builtin else discovery.CRD_VERBS
        if verb not in verbs or (verb == "patch" and not name) or (
                subresource and verb not in ("get", "update", "patch")):
            raise ApiError(405, "MethodNotAllowed",
                           "the server does not allow this method on the requested resource", {})
        ns = namespace or ""
        dry_run = self.param("dryRun") == "All"
        manager = self.param("fieldManager") or self.user_agent.split("/")[0] or "unknown"
        if not rtype.builtin and verb in ("create", "patch"):
            self._refuse_while_terminating(rtype, version, ns, name, verb)
        if rtype.kind == "SelfSubjectReview":
            # rbac-forbidden.jsonl#18: who the token is, with a creation time and nothing else.
            return 201, {"kind": "SelfSubjectReview", "apiVersion": f"{rtype.group}/{version}",
                         "metadata": {"creationTimestamp": _now()},
                         "status": {"userInfo": self.identity.info()}}
        if rtype.group == "authorization.k8s.io" and rtype.kind.endswith("AccessReview"):
            return 201, self._access_review(rtype, version, manager)
        if rtype.kind == "SelfSubjectRulesReview":
            return 201, self._rules_review(rtype, version)
        if (rtype.group, rtype.kind) == ("authentication.k8s.io", "TokenReview"):
            return 201, self._token_review(rtype, version, manager)
        if (rtype.group, rtype.kind) == ("", "Binding"):
            return 201, self._bind(ns, None)
        if subresource == "scale":
            return self._scale(rtype, version, ns, name, verb, manager, dry_run)
        if subresource == "status":
            return self._status(rtype, version, ns, name, verb, manager, dry_run)
        if verb == "list":
            listed = self._list(rtype, version, namespace)
            if self._table(rtype):
                return 200, tables.table(rtype.group, rtype.kind, listed["items"],
                                         listed["metadata"], self.param("includeObject")
                                         or "Metadata")
            return 200, listed
        if verb == "get":
            found = self.cluster.get(rtype, version, ns, name)
            if self._table(rtype):
                return 200, tables.table(
                    rtype.group, rtype.kind, [found],
                    {"resourceVersion": found["metadata"].get("resourceVersion", "")},
                    self.param("includeObject") or "Metadata")
            return 200, found
        if verb == "delete":
            return 200, self.cluster.delete(rtype, version, ns, name, self._delete_options())
        if verb == "patch":
            return self._patch(rtype, version, ns, name, manager, dry_run)
        body = self._body()
        if rtype.builtin:
            decoding.check_kind(rtype.group, version, rtype.kind, body)
        self.warnings += decoding.decode(
            rtype.group, version, rtype.kind, rtype.builtin, body,
            self.cluster.schema(rtype, version), self.param("fieldValidation"))
        if verb == "create":
            return 201, self.cluster.create(rtype, version, ns, body, manager, dry_run)
        created, answer = self.cluster.replace(rtype, version, ns, name, body, manager, dry_run)
        return (201 if created else 200), answer

    def _refuse_while_terminating(self, rtype: ResourceType, version: str, namespace: str,
                                  name: str, verb: str) -> None:
        """A custom resource whose CRD is being deleted gets no new objects: a create, or an
        apply that would create one, is a 403 (what kube-apiserver answers since the check
        moved from the CRD handler's 405 for POST into the create path; not in the
        recording). Reads, updates and deletes of existing objects go on: the CRD's cleanup
        needs them."""
        with self.cluster.lock:
            crd = self.cluster.objects.get(("apiextensions.k8s.io", "customresourcedefinitions",
                                            "", rtype.group_resource()))
            if not crd or not crd["metadata"].get("deletionTimestamp"):
                return
            if verb == "patch":
                if self.content_type not in (patching.APPLY, patching.APPLY_CBOR) \
                        or self.cluster.lookup(rtype, namespace, name) is not None:
                    return
            else:
                metadata = self._body().get("metadata")
                name = str(metadata.get("name") or "") if isinstance(metadata, dict) else ""
        resource = rtype.group_resource()
        problem = "create not allowed while custom resource definition is terminating"
        raise ApiError(403, "Forbidden", (f'{resource} "{name}" is forbidden: {problem}'
                                          if name else f"{resource} is forbidden: {problem}"),
                       {**({"name": name} if name else {}), "group": rtype.group,
                        "kind": rtype.plural})

    def _table(self, rtype: ResourceType) -> bool:
        """Whether to answer a read as a Table (tables.py): asked for, and printable."""
        return tables.wanted(self.accept) and tables.printable(rtype.group, rtype.kind)

    def _authorize(self, group: str, plural: str, subresource: str, namespace: str | None,
                   name: str) -> None:
        """RBAC before anything else (rbac-forbidden.jsonl: a 403 even for a missing object or
        namespace). A Namespace is its own namespace (#13)."""
        if self.method == "GET":
            watch = self.param("watch") in ("true", "1")
            verb = "watch" if watch else "get" if name else "list"
        elif self.method == "DELETE":
            verb = "delete" if name else "deletecollection"
        else:
            verb = _VERBS.get(self.method, self.method.lower())
        if namespace is None and (group, plural) == ("", "namespaces"):
            namespace = name
        attributes = auth.Attributes(verb, group, plural, subresource, namespace or "", name)
        if not auth.allowed(self.identity, attributes, self.api.behaviour.forbidden):
            raise auth.forbidden(self.identity, attributes)

    def _access_review(self, rtype: ResourceType, version: str, manager: str) -> Any:
        """A SelfSubjectAccessReview answered by the same rules (rbac-forbidden.jsonl#19): the
        spec back, `allowed`, and the creator's managedFields entry. A (Local)
        SubjectAccessReview asks about the user and groups of its spec."""
        body = self._body()
        spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
        subject = self.identity
        if rtype.kind != "SelfSubjectAccessReview":
            groups = spec.get("groups")
            subject = auth.User(str(spec.get("user") or ""), str(spec.get("uid") or ""),
                                tuple(str(g) for g in groups) if isinstance(groups, list)
                                else ())
        resource = spec.get("resourceAttributes")
        other = spec.get("nonResourceAttributes")
        if isinstance(resource, dict) == isinstance(other, dict):
            message = ("Invalid value: \"null\": exactly one of nonResourceAttributes or "
                       "resourceAttributes must be specified")
            raise ApiError(422, "Invalid", f'{rtype.kind}.{rtype.group} "" is invalid: '
                           f"spec.resourceAttributes: {message}",
                           {"group": rtype.group, "kind": rtype.kind, "causes": [
                               {"reason": "FieldValueInvalid", "message": message,
                                "field": "spec.resourceAttributes"}]})
        if isinstance(resource, dict):
            attributes = auth.Attributes(
                str(resource.get("verb") or ""), str(resource.get("group") or ""),
                str(resource.get("resource") or ""), str(resource.get("subresource") or ""),
                str(resource.get("namespace") or ""), str(resource.get("name") or ""))
            allowed = auth.allowed(subject, attributes, self.api.behaviour.forbidden)
        else:  # discovery is open to every authenticated user
            allowed = subject.privileged or auth.AUTHENTICATED in subject.groups
        api_version = f"{rtype.group}/{version}"
        owned = fields.compare({"spec": {}}, {"spec": spec}, fields.Schema(True)).touched
        entry = Manager(manager, "Update", api_version, owned, _now()).entry()
        return {"kind": rtype.kind, "apiVersion": api_version,
                "metadata": {"managedFields": [entry]} if owned else {},
                "spec": spec, "status": {"allowed": allowed}}

    def _token_review(self, rtype: ResourceType, version: str, manager: str) -> Any:
        """A TokenReview: who the token in its spec is, answered and not stored (like every
        review). A token the server does not know is not authenticated."""
        body = self._body()
        spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
        token = spec.get("token")
        if not token:
            raise ApiError.bad_request("token is required for TokenReview in authentication")
        user = self.api.behaviour.tokens.get(str(token))
        status: dict[str, Any] = {"authenticated": user is not None}
        status["user"] = auth.user_named(user, self.api.behaviour.users).info() \
            if user is not None else {}
        api_version = f"{rtype.group}/{version}"
        owned = fields.compare({"spec": {}}, {"spec": spec}, fields.Schema(True)).touched
        entry = Manager(manager, "Update", api_version, owned, _now()).entry()
        return {"kind": rtype.kind, "apiVersion": api_version,
                "metadata": {"managedFields": [entry]} if owned else {},
                "spec": spec, "status": status}

    def _bind(self, namespace: str, name: str | None) -> Any:
        """A Binding (`bindings`, or a pod's `binding` subresource): the pod assigned to the
        target node, as the scheduler does it; the answer is a Status, nothing is stored but
        the pod's change (Cluster.bind)."""
        body = self._body()
        metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        target = body.get("target") if isinstance(body.get("target"), dict) else {}
        pod = str(metadata.get("name") or "")
        if name is not None and pod != name:
            raise ApiError.bad_request("name in URL does not match name in Binding object")
        self.cluster.bind(namespace, pod, target, self.param("dryRun") == "All",
                          metadata.get("annotations") or {})
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "code": 201}

    def _rules_review(self, rtype: ResourceType, version: str) -> Any:
        """What the user may do, as RBAC lists it (not in the recording)."""
        body = self._body()
        spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
        return {"kind": rtype.kind, "apiVersion": f"{rtype.group}/{version}", "metadata": {},
                "spec": spec, "status": {**auth.rules(self.identity), "incomplete": False}}

    def _list(self, rtype: ResourceType, version: str, namespace: str | None) -> Any:
        """ListOptions read as the real server reads them: integers first (a 400 with Go's
        parse error), then the label and the field selector (a 400 each for their syntax),
        then resourceVersionMatch (a 422); field labels the kind does not support and continue
        tokens are the storage's to refuse (Cluster.list)."""
        limit = 0
        for name in ("limit", "timeoutSeconds"):
            text = self.param(name)
            if text is not None and not re.fullmatch(r"[+-]?[0-9]+", text):
                raise ApiError.bad_request(f'strconv.ParseInt: parsing "{text}": invalid syntax')
            if text is not None and not -(2 ** 63) <= int(text) < 2 ** 63:
                raise ApiError.bad_request(f'strconv.ParseInt: parsing "{text}": value out of '
                                           "range")
            if name == "limit" and text is not None:
                limit = int(text)
        selector = parse_selector(self.param("labelSelector") or "")
        terms = parse_field_terms(self.param("fieldSelector") or "")
        resource_version = self.param("resourceVersion") or ""
        continue_token = self.param("continue") or ""
        match = self.param("resourceVersionMatch") or ""
        problems: list[tuple[str, str]] = []
        if match:
            if self.param("watch") in ("true", "1"):
                problems.append(("FieldValueForbidden",
                                 "Forbidden: resourceVersionMatch is forbidden for watch"))
            if not resource_version:
                problems.append(("FieldValueForbidden", "Forbidden: resourceVersionMatch is "
                                 "forbidden unless resourceVersion is provided"))
            if continue_token:
                problems.append(("FieldValueForbidden", "Forbidden: resourceVersionMatch is "
                                 "forbidden when continue is provided"))
            if match not in ("Exact", "NotOlderThan"):
                problems.append(("FieldValueNotSupported", f'Unsupported value: "{match}": '
                                 'supported values: "Exact", "NotOlderThan", ""'))
            if match == "Exact" and resource_version == "0":
                problems.append(("FieldValueForbidden", 'Forbidden: resourceVersionMatch '
                                 '"exact" is forbidden for resourceVersion "0"'))
        if problems:
            texts = [f"resourceVersionMatch: {message}" for _, message in problems]
            summary = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
            raise ApiError(422, "Invalid", f'ListOptions.meta.k8s.io "" is invalid: {summary}',
                           {"group": "meta.k8s.io", "kind": "ListOptions", "causes": [
                               {"reason": reason, "message": message,
                                "field": "resourceVersionMatch"}
                               for reason, message in problems]})
        return self.cluster.list(rtype, version, namespace, selector, terms,
                                 limit=max(limit, 0), continue_token=continue_token,
                                 resource_version=resource_version)

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

    def _patch(self, rtype: ResourceType, version: str, namespace: str, name: str,
               manager: str, dry_run: bool) -> tuple[int, Any]:
        """PATCH in the API server's order: the content type (415), the options (422), then
        the body."""
        self._check_patch_type(rtype.builtin, apply=True)
        if self.content_type == patching.APPLY:
            body = self._body()
            force = self.param("force") == "true"
            existed = True
            try:
                self.cluster.get(rtype, version, namespace, name)
            except ApiError:
                existed = False
            result = self.cluster.apply(rtype, version, namespace, name, body, manager, force,
                                        dry_run)
            return (200 if existed else 201), result
        schema = self.cluster.schema(rtype, version)
        patch = self._patch_function(rtype.kind)

        def change(current: Any) -> Any:
            patched = patch(current)
            if isinstance(patched, dict):
                # Unknown fields are found in the patched object, not in the patch
                # (patch-types.jsonl#8).
                self.warnings += decoding.decode(rtype.group, version, rtype.kind, rtype.builtin,
                                                 patched, schema, self.param("fieldValidation"))
            return patched

        return 200, self.cluster.patch(rtype, version, namespace, name, change, manager,
                                       dry_run)

    def _check_patch_type(self, builtin: bool, apply: bool) -> None:
        accepted = [patching.JSON_PATCH, patching.MERGE]
        if builtin:
            accepted.append(patching.STRATEGIC)  # not for custom resources
        if apply:
            accepted += [patching.APPLY, patching.APPLY_CBOR]
        if self.content_type not in accepted:
            raise patching.unsupported_media_type()
        causes: list[tuple[str, str]] = []
        if self.content_type in (patching.APPLY, patching.APPLY_CBOR):
            if not self.param("fieldManager"):  # ssa-conflict-force.jsonl#11
                causes.append(("fieldManager", "Required value: is required for apply patch"))
        elif self.param("force") is not None:  # ssa-conflict-force.jsonl#12
            causes.append(("force", "Forbidden: may not be specified for non-apply patch"))
        if causes:
            raise invalid_options("PatchOptions", causes)

    def _patch_function(self, kind: str,
                        replace: Any = None) -> Callable[[Any], Any]:
        """The patch of the request as a function of the object it applies to (`replace`: a
        PUT's body, which replaces it)."""
        if replace is not None:
            return lambda current: replace
        if self.content_type == patching.JSON_PATCH:
            operations = patching.decode_json_patch(self.raw)
            return lambda current: patching.json_patch(current, operations)
        body = self._body()
        if self.content_type == patching.STRATEGIC:
            return lambda current: patching.strategic_merge_patch(current, body, kind)
        return lambda current: patching.merge_patch(current, body)

    def _scale(self, rtype: ResourceType, version: str, namespace: str, name: str, verb: str,
               manager: str, dry_run: bool) -> tuple[int, Any]:
        """The `/scale` subresource of workloads: an autoscaling/v1 Scale
        (patch-types.jsonl#12)."""
        if verb == "get":
            return 200, self.cluster.scale(rtype, version, namespace, name)
        if verb == "update":
            body = self._body()
            change = self._patch_function("Scale", replace=body)
        else:
            self._check_patch_type(True, apply=False)
            change = self._patch_function("Scale")
        return 200, self.cluster.update_scale(rtype, version, namespace, name, change, manager,
                                              dry_run)

    def _status(self, rtype: ResourceType, version: str, namespace: str, name: str, verb: str,
                manager: str, dry_run: bool) -> tuple[int, Any]:
        """The `/status` subresource: the whole object, of which a write keeps the status."""
        if verb == "get":
            return 200, self.cluster.get(rtype, version, namespace, name)
        if verb == "update":
            change = self._patch_function(rtype.kind, replace=self._body())
        else:
            self._check_patch_type(True, apply=False)
            change = self._patch_function(rtype.kind)
        return 200, self.cluster.update_status(rtype, version, namespace, name, change,
                                               manager, dry_run)

    def _body(self) -> Any:
        decoding.check_yaml(self.raw, self.content_type, self.param("fieldValidation"))
        text = self.raw.decode() or "{}"
        try:
            body = json.loads(text)  # most bodies are JSON, which is YAML too
        except ValueError:
            try:
                body = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise ApiError.bad_request(f"error decoding request body: {exc}") from None
        if not isinstance(body, dict):
            raise ApiError.bad_request("the request body must be an object")
        return body
