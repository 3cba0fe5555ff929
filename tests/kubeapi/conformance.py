"""How closely the test API server answers like a real kube-apiserver.

`../shared/apiserver-traces/` (beside the repository) holds request/response pairs recorded
from kube-apiserver v1.36.2, one scenario per file (its README.md describes the format and
the placeholders that replace volatile values). `run_all` replays every scenario against a
fresh `TestApiServer`, request by request in `seq` order, normalises each answer the way the
recording was normalised, and compares it with the recorded answer:

- the status code;
- `reason` and `details` of a Status body, and separately its `message`;
- the `Warning` headers, in order;
- every other field of the body, structurally (key order ignored; list items aligned by
  name, type or manager where they have one). Deliberately left out: the bytes of OpenAPI
  documents (the recording kept only their content type and size), the cluster's own CA
  certificate in `kube-root-ca.crt`, the server's own address in `/api`, and list items the
  recording redacted (other users' namespaces on the shared server).

Some answers depend on timing rather than on the server's rules: a CRD being established,
polls, and fields written by controllers (status of workloads, the Deployment revision
annotation, `managedFields` entries of the status subresource, objects controllers create,
the `Age` cells of a Table). Differences there are reported as timing-dependent, not hidden.
A pair that differs only in such fields counts as conforming but not as matching.

The requests are sent as recorded, with the placeholders made concrete; a request the real
server answered with 304 (kubectl's cache of OpenAPI and discovery documents) is sent with the
validator kubectl had, which the recording does not keep: the ETag the test server gives for
the same document, asked for just before.

`python -m tests.kubeapi.conformance` prints the table; `--details` lists every difference;
`--update-floor` raises the floor in conformance-floor.json to the current counts.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import math
import re
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.kubeapi.server import TestApiServer

Json = Any

REPOSITORY = Path(__file__).resolve().parents[2]
TRACES_DIR = REPOSITORY.parent / "shared" / "apiserver-traces"
FLOOR_FILE = Path(__file__).with_name("conformance-floor.json")

CATEGORIES = ("status", "reason/details", "message", "warnings", "body")

# ---- placeholders ---------------------------------------------------------------------------
# Concrete values sent for the recording's placeholders, and turned back into them in answers.
RUN = "-rc0ffee"  # `-<run>`: "-r" and 6 hex digits
RAND = "k7q2xz"  # `gitdeploy-e2e-<rand>`
APPLYSET_ID = "applyset-Y29uZm9ybWFuY2U-v1"  # `applyset-<id>-v1`
SHA = "0123456789abcdef0123456789abcdef01234567"  # `<sha>`
PID = "pid 4242"  # `pid <pid>`
REVERSE: tuple[tuple[str, str], ...] = (
    (RUN, "-<run>"),
    (f"gitdeploy-e2e-{RAND}", "gitdeploy-e2e-<rand>"),
    (APPLYSET_ID, "applyset-<id>-v1"),
    (SHA, "<sha>"),
    (PID, "pid <pid>"),
)
LONG_STRING = re.compile(r"^<long string: (\d+) chars, starts '(.*)'>$", re.DOTALL)
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
ZERO_UID = "00000000-0000-0000-0000-000000000000"
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")
PROBE_DAY = "2026-01-01"  # times probes send on purpose are kept
KEPT_VERSIONS = frozenset({"", "0", "1", "abc"})
RECORD_VERSION = re.compile(r"(ResourceVersion in record \()\d+(\))")
COMMIT = re.compile(r"\b[0-9a-f]{40}\b")  # git commit ids (the recording's `<sha>`)
# `kube-api-access-<generated>`: the token volume the service account admission adds to a pod
# (five characters of the alphabet of generated names).
TOKEN_VOLUME = re.compile(r"\bkube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}\b")
# `.<event-suffix>`: client-go names an Event `<object>.<UnixNano in hex>`; a name a client
# chose (`web-probe.1`, unschedulable-workload.jsonl#9) is kept.
EVENT_SUFFIX = re.compile(r"\.[0-9a-f]{12,}$")

# ---- who sent what --------------------------------------------------------------------------
TOKENS = {"admin": "admin-token", "limited": "limited-token", "wrong": "not-a-valid-token"}
USER_AGENTS = {
    "gitdeploy": "gitdeploy/0.1.0",
    "curl": "curl/8.5.0",
    "kubectl": "kubectl/v1.36.4 (linux/amd64) kubernetes/0000000",
    "python-kubernetes-client": "OpenAPI-Generator/37.0.2/python",
}


def user_of(exchange: Exchange) -> str:
    """The identity behind a request: the recording keeps no Authorization header, the
    `rbac-forbidden` probe sends everything but its setup, cleanup and `bad-token` step as
    the `limited` user (its SelfSubjectReview answer says so)."""
    if exchange.scenario == "rbac-forbidden":
        if exchange.step == "bad-token":
            return "wrong"
        if exchange.step not in ("setup", "cleanup"):
            return "limited"
    return "admin"


# ---- timing ---------------------------------------------------------------------------------
_RACE_STEPS = {"cr-ssa-dry-run-racing", "crd-get-at-once", "cr-ssa-dry-run-at-once"}


def _really_deletes(exchange: Exchange) -> bool:
    """A DELETE that is not a dry run: DeleteOptions in the body, when there is one, replace
    the query's (delete-dry-run.jsonl)."""
    if exchange.method != "DELETE" or exchange.status != 200:
        return False
    body = exchange.request_body
    if isinstance(body, dict):
        return "All" not in (body.get("dryRun") or [])
    dry_run = exchange.query.get("dryRun")
    return dry_run != "All" and "All" not in (dry_run or [])


def exemption(exchange: Exchange, earlier: tuple[Exchange, ...] = ()) -> str | None:
    """Why the whole answer depends on something other than the server's rules, if it does.
    `earlier`: the scenario's exchanges before this one."""
    step = exchange.step or ""
    for before in earlier:
        if _really_deletes(before) and exchange.path == before.path \
                and not _is_status(before.response_body):
            return "after a deletion that waits for a controller (namespace, CRD, dependents)"
    if exchange.status == 304:
        return "conditional request (the client's cache validator was not recorded)"
    if exchange.scenario == "crd-establish-race" and step in _RACE_STEPS:
        return "CRD establishment race"
    if step.startswith("poll-"):
        return "poll until a controller acts"
    if "immediately" in step:
        return "read at once after a write that a controller completes"
    return None


# Kinds whose `status` controllers write (a new object's status, answered by its create,
# is the server's own).
_CONTROLLED_STATUS = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob",
                      "Pod", "PersistentVolumeClaim", "CustomResourceDefinition",
                      "HorizontalPodAutoscaler"}
_CONTROLLER_CREATED = {"Event", "Pod", "ReplicaSet", "ControllerRevision", "EndpointSlice",
                       "Endpoints"}


_REVISION = "deployment.kubernetes.io/revision"


def _timing_path(kind: str, path: tuple[str, ...], created: bool,
                 values: tuple[Json, Json] = (None, None)) -> bool:
    if path == ("metadata", "annotations") and any(
            isinstance(v, dict) and set(v) == {_REVISION} for v in values):
        return True
    if path[:1] == ("status",):
        if kind in _CONTROLLED_STATUS and not created:
            return True
        if kind == "Namespace" and path[1:2] == ("conditions",):
            return True
    if path[:3] == ("metadata", "annotations", _REVISION):
        return True
    return (path[:2] == ("metadata", "managedFields") and len(path) > 2
            and "subresource=status" in path[2])


def _controller_created(kind: str, item: Json) -> bool:
    if kind in _CONTROLLER_CREATED:
        return True
    refs = (item.get("metadata") or {}).get("ownerReferences") if isinstance(item, dict) else None
    return any(isinstance(r, dict) and r.get("controller") for r in refs or [])


# ---- the recording --------------------------------------------------------------------------
@dataclass(frozen=True)
class Exchange:
    """One recorded request and the real server's answer."""

    scenario: str
    step: str | None
    seq: int
    client: str
    method: str
    path: str
    query: dict[str, str | list[str]]
    request_headers: dict[str, str]
    accept_upstream: str | None
    request_body: Json
    status: int
    content_type: str | None
    warnings: tuple[str, ...]
    response_body: Json

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Exchange:
        return cls(
            scenario=record["scenario"], step=record["step"], seq=record["seq"],
            client=record["client"], method=record["method"], path=record["path"],
            query=record["query"], request_headers=record["requestHeaders"],
            accept_upstream=record["acceptSentUpstream"], request_body=record["requestBody"],
            status=record["status"], content_type=record["responseContentType"],
            warnings=tuple(record["warnings"]), response_body=record["responseBody"],
        )

    @property
    def label(self) -> str:
        step = f" {self.step}" if self.step else ""
        return f"{self.scenario}#{self.seq}{step}: {self.method} {self.path}"


def load_scenario(path: Path) -> list[Exchange]:
    with path.open(encoding="utf-8") as lines:
        exchanges = [Exchange.from_record(json.loads(line)) for line in lines if line.strip()]
    return sorted(exchanges, key=lambda e: e.seq)


def scenario_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.jsonl"))


# ---- sending a request ----------------------------------------------------------------------
@dataclass
class Seen:
    """What the test server answered about one object (by URL path)."""

    uid: str | None = None
    versions: list[str] = field(default_factory=list)
    created: str | None = None


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str | None
    warnings: tuple[str, ...]
    body: Json


# Request bodies the recording could not keep as sent.
_REBUILT_BODIES: dict[tuple[str, str], str] = {
    # A YAML body with a duplicate key: parsing it for the recording kept only the last value.
    ("ssa-unknown-field", "ssa-dry-run-duplicate-field-Strict"): (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m\n"
        f"  namespace: fid-unknown{RUN}\ndata:\n  a: \"1\"\n  a: \"2\"\n"),
}
_SERVER_SET_METADATA = ("uid", "resourceVersion", "creationTimestamp", "managedFields",
                        "generation", "deletionTimestamp", "deletionGracePeriodSeconds")


def _now(micro: bool) -> str:
    now = datetime.datetime.now(datetime.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")


def _concrete_text(text: str) -> str:
    long = LONG_STRING.match(text)
    if long:
        size, start = int(long.group(1)), long.group(2)
        return (start * math.ceil(size / max(len(start), 1)))[:size]
    text = text.replace("-<run>", RUN).replace("<rand>", RAND)
    return (text.replace("applyset-<id>-v1", APPLYSET_ID).replace("<sha>", SHA)
            .replace("pid <pid>", PID))


class Replayer:
    """Sends one scenario's requests to a test server, with placeholders made concrete."""

    def __init__(self, server: TestApiServer) -> None:
        self.server = server
        host, port = server.httpd.server_address[:2]
        self.connection = http.client.HTTPConnection(str(host), int(port), timeout=30)
        self.seen: dict[str, Seen] = {}
        self.asked_ips: set[str] = set()
        self.asked_ports: set[int] = set()

    def close(self) -> None:
        self.connection.close()

    def normaliser(self) -> Normaliser:
        """The normalisation of the recording, for what this server answered: the IPs and
        ports the probes asked for are kept, the names the server generated are not."""
        with self.server.cluster.lock:
            generated = dict(self.server.cluster.generated_names)
        return Normaliser(self.asked_ips, self.asked_ports, generated)

    # -- request side ---------------------------------------------------------------------
    def concrete(self, value: Json, exchange: Exchange, target: str,
                 path: tuple[str, ...] = ()) -> Json:
        """`value` (a recorded path, query or body) with its placeholders made concrete.
        `<uid>`, `<resourceVersion>` and a creation time stand for what the probe had read
        of the object at `target`: the latest values the test server gave for it (an older
        resourceVersion for the `stale` steps)."""
        if isinstance(value, dict):
            return {_concrete_text(k): self.concrete(v, exchange, target, (*path, k))
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self.concrete(v, exchange, target, path) for v in value]
        if not isinstance(value, str):
            return value
        seen = self.seen.get(target, Seen())
        if value == "<uid>" and seen.uid:
            return seen.uid
        if value == "<resourceVersion>" and seen.versions:
            stale = "stale" in (exchange.step or "") and len(seen.versions) > 1
            return seen.versions[-2] if stale else seen.versions[-1]
        if value == "<time>":
            if path[-2:] == ("metadata", "creationTimestamp") and seen.created:
                return seen.created
            return _now(micro=path[-1:] in (("acquireTime",), ("renewTime",)))
        return _concrete_text(value)

    def _payload(self, exchange: Exchange, target: str) -> tuple[bytes | None, str | None]:
        content_type = exchange.request_headers.get("Content-Type")
        rebuilt = _REBUILT_BODIES.get((exchange.scenario, exchange.step or ""))
        body = exchange.request_body
        if rebuilt is not None:
            return rebuilt.encode(), content_type
        if body is None:
            return None, content_type
        if isinstance(body, dict) and "<text>" in body:
            return str(body["<text>"]).encode(), content_type
        if isinstance(body, dict) and "<binary>" in body:
            # kubectl's protobuf create: send what the server stored, as JSON.
            body = _unstored(exchange.response_body)
            content_type = "application/json"
        concrete = self.concrete(body, exchange, target)
        self._note_asked(concrete)
        return json.dumps(concrete).encode(), content_type

    def _note_asked(self, body: Json) -> None:
        spec = body.get("spec") if isinstance(body, dict) else None
        if not isinstance(spec, dict):
            return
        for key in ("clusterIP", "loadBalancerIP"):
            if isinstance(spec.get(key), str):
                self.asked_ips.add(spec[key])
        self.asked_ips.update(ip for ip in spec.get("clusterIPs") or [] if isinstance(ip, str))
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and isinstance(port.get("nodePort"), int):
                self.asked_ports.add(port["nodePort"])

    def send(self, exchange: Exchange) -> Answer:
        path = _concrete_text(exchange.path)
        target = path
        if exchange.method == "POST" and isinstance(exchange.request_body, dict):
            name = (exchange.request_body.get("metadata") or {}).get("name")
            if isinstance(name, str):
                target = f"{path}/{_concrete_text(name)}"
        query = {k: self.concrete(v, exchange, target) for k, v in exchange.query.items()}
        url = path + (f"?{urlencode(query, doseq=True)}" if query else "")
        payload, content_type = self._payload(exchange, target)
        headers = {"Authorization": f"Bearer {TOKENS[user_of(exchange)]}"}
        accept = exchange.accept_upstream or exchange.request_headers.get("Accept")
        if accept:
            headers["Accept"] = accept
        if content_type and payload is not None:
            headers["Content-Type"] = content_type
        agent = USER_AGENTS.get(exchange.client)
        if agent:
            headers["User-Agent"] = agent
        if exchange.status == 304 and exchange.method == "GET":
            # kubectl asked with the validator of its cache (If-None-Match), which the
            # recording does not keep: it is what the server gave for the same document, so
            # ask for the document first, as kubectl did on an earlier run.
            self.connection.request("GET", url, headers=headers)
            primed = self.connection.getresponse()
            primed.read()
            etag = primed.getheader("ETag")
            if etag:
                headers["If-None-Match"] = etag
        self.connection.request(exchange.method, url, body=payload, headers=headers)
        response = self.connection.getresponse()
        raw = response.read()
        answer = Answer(
            status=response.status,
            content_type=response.getheader("Content-Type"),
            warnings=tuple(response.headers.get_all("Warning") or ()),
            body=_parse_body(raw, response.getheader("Content-Type"), exchange),
        )
        self._remember(exchange, target, answer)
        return answer

    # -- what the server said -------------------------------------------------------------
    def _remember(self, exchange: Exchange, target: str, answer: Answer) -> None:
        body = answer.body
        if not isinstance(body, dict) or answer.status >= 300:
            return
        if isinstance(body.get("items"), list) and exchange.method == "GET":
            for item in body["items"]:
                name = ((item or {}).get("metadata") or {}).get("name")
                if isinstance(name, str):
                    self._note(f"{target}/{name}", item)
        elif isinstance(body.get("metadata"), dict) and body.get("kind") != "Status":
            self._note(target, body)

    def _note(self, target: str, obj: dict[str, Any]) -> None:
        metadata = obj.get("metadata") or {}
        seen = self.seen.setdefault(target, Seen())
        if isinstance(metadata.get("uid"), str):
            seen.uid = metadata["uid"]
        version = metadata.get("resourceVersion")
        if isinstance(version, str) and version and (not seen.versions
                                                     or seen.versions[-1] != version):
            seen.versions.append(version)
        if isinstance(metadata.get("creationTimestamp"), str):
            seen.created = metadata["creationTimestamp"]


def _unstored(stored: Json) -> Json:
    """The object a client sent to create `stored`: without what the server filled in."""
    if not isinstance(stored, dict):
        return stored
    body = {k: v for k, v in stored.items() if k != "status"}
    metadata = {k: v for k, v in (stored.get("metadata") or {}).items()
                if k not in _SERVER_SET_METADATA}
    body["metadata"] = metadata
    return body


def _parse_body(raw: bytes, content_type: str | None, exchange: Exchange) -> Json:
    if exchange.path.startswith("/openapi"):  # a 304 too (immutable-fields.jsonl#15)
        return {"<openapi-document-omitted>": content_type or "", "bytes": len(raw)}
    if not raw:
        return None
    kind = (content_type or "").split(";")[0].strip()
    if kind == "application/json" or kind.endswith("+json"):
        try:
            return json.loads(raw)
        except ValueError:
            pass
    try:
        return {"<text>": raw.decode()}
    except UnicodeDecodeError:
        return {"<binary>": content_type, "bytes": len(raw)}


# ---- normalising an answer ------------------------------------------------------------------
def normal_text(text: str, generated: Mapping[str, str] | None = None) -> str:
    """A string with volatile values replaced as the recording replaced them; `generated`:
    the names the server generated (name -> prefix), which become `<prefix><generated>`
    wherever they appear (a pod's name in an Event's message or involvedObject)."""
    if len(text) > 4096:
        return f"<long string: {len(text)} chars, starts '{text[:40]}'>"
    text = UUID.sub(lambda m: m.group(0) if m.group(0) == ZERO_UID else "<uid>", text)
    text = TIMESTAMP.sub(lambda m: m.group(0) if m.group(0).startswith(PROBE_DAY)
                         else "<time>", text)
    text = RECORD_VERSION.sub(r"\1<resourceVersion>\2", text)
    text = COMMIT.sub("<sha>", text)
    text = TOKEN_VOLUME.sub("kube-api-access-<generated>", text)
    if generated:
        text = _GENERATED_NAME.sub(
            lambda m: f"{generated[m.group(0)]}<generated>" if m.group(0) in generated
            else m.group(0), text)
    for concrete, placeholder in REVERSE:
        text = text.replace(concrete, placeholder)
    return text


# A candidate for a generated name: a DNS label-ish run of characters, looked up as a whole.
_GENERATED_NAME = re.compile(r"(?<![A-Za-z0-9-])[a-z0-9][a-z0-9-]*[a-z0-9](?![A-Za-z0-9-])")


class Normaliser:
    def __init__(self, asked_ips: set[str], asked_ports: set[int],
                 generated: Mapping[str, str] | None = None) -> None:
        self.asked_ips = asked_ips
        self.asked_ports = asked_ports
        self.generated = dict(generated or {})

    def answer(self, answer: Answer) -> Answer:
        return Answer(answer.status, answer.content_type,
                      tuple(normal_text(w) for w in answer.warnings),
                      self.value(answer.body, ""))

    def value(self, value: Json, kind: str) -> Json:
        if isinstance(value, str):
            return normal_text(value, self.generated)
        if isinstance(value, list):
            return [self.value(v, kind) for v in value]
        if not isinstance(value, dict):
            return value
        own_kind: str = value["kind"] if isinstance(value.get("kind"), str) else kind
        out: dict[str, Any] = {}
        for key, child in value.items():
            if key == "resourceVersion" and isinstance(child, str) and child not in KEPT_VERSIONS:
                out[key] = "<resourceVersion>"
            elif key == "continue" and isinstance(child, str):
                # Every list's `continue`, the empty one of an unstructured list included
                # (cluster-scoped-cr.jsonl#9: a list without `limit`).
                out[key] = "<continue>"
            elif key == "storageVersionHash" and isinstance(child, str):
                out[key] = "<hash>"
            elif key == "items" and isinstance(child, list) and own_kind.endswith("List"):
                out[key] = [self.value(item, own_kind[:-4]) for item in child]
            else:
                out[normal_text(key, self.generated)] = self.value(child, "")
        if isinstance(out.get("metadata"), dict):
            self._object(out, own_kind)
        return out

    def _object(self, obj: dict[str, Any], kind: str) -> None:
        metadata = obj["metadata"]
        name, prefix = metadata.get("name"), metadata.get("generateName")
        if isinstance(name, str) and isinstance(prefix, str) and prefix and name != prefix \
                and name.startswith(prefix):
            metadata["name"] = f"{prefix}<generated>"
        if kind == "Event" and isinstance(name, str):
            metadata["name"] = EVENT_SUFFIX.sub(".<event-suffix>", name)
        spec = obj.get("spec")
        if kind == "Service" and isinstance(spec, dict):
            if isinstance(spec.get("clusterIP"), str):
                spec["clusterIP"] = self._ip(spec["clusterIP"])
            if isinstance(spec.get("clusterIPs"), list):
                spec["clusterIPs"] = [self._ip(ip) for ip in spec["clusterIPs"]]
            for port in spec.get("ports") or []:
                number = port.get("nodePort") if isinstance(port, dict) else None
                if isinstance(number, int) and number not in self.asked_ports:
                    port["nodePort"] = "<nodePort>"

    def _ip(self, ip: Json) -> Json:
        if not isinstance(ip, str) or ip in ("", "None") or ip in self.asked_ips:
            return ip
        return "<clusterIP>"


# ---- comparing ------------------------------------------------------------------------------
class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Difference:
    category: str
    path: str  # e.g. metadata.managedFields[manager=gitdeploy,operation=Apply].fieldsV1
    generic: str  # the same with list positions left out: metadata.managedFields[].fieldsV1
    expected: Json
    actual: Json
    timing: bool

    def describe(self) -> str:
        tag = " (timing)" if self.timing else ""
        return (f"{self.category}{tag} {self.path or '<body>'}: "
                f"expected {_short(self.expected)}, got {_short(self.actual)}")


def _short(value: Json, limit: int = 160) -> str:
    text = repr(value) if value is ABSENT else json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _item_key(item: Json) -> str | None:
    if not isinstance(item, dict):
        return None
    metadata = item.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("name"), str):
        namespace = metadata.get("namespace")
        return f"name={namespace}/{metadata['name']}" if namespace else f"name={metadata['name']}"
    if "manager" in item:
        key = f"manager={item.get('manager')},operation={item.get('operation')}"
        return key + (f",subresource={item['subresource']}" if item.get("subresource") else "")
    for name in ("name", "type", "groupVersion", "resource", "subresource", "version",
                 "containerPort", "port", "mountPath", "clientCIDR", "uid"):
        if name in item:
            return f"{name}={item[name]}"
    return None


def _keyed(items: list[Any]) -> dict[str, Any] | None:
    keys = [_item_key(item) for item in items]
    if any(k is None for k in keys) or len(set(keys)) != len(keys):
        return None
    return {k: item for k, item in zip(keys, items, strict=True) if k is not None}


@dataclass
class _Context:
    category: str
    kind: str
    created: bool
    timing: bool
    out: list[Difference]

    def add(self, path: tuple[str, ...], generic: tuple[str, ...], expected: Json,
            actual: Json, kind: str, relative: tuple[str, ...]) -> None:
        timing = self.timing or _timing_path(kind, relative, self.created, (expected, actual))
        self.out.append(Difference(self.category, _dotted(path), _dotted(generic), expected,
                                   actual, timing))


def _dotted(path: tuple[str, ...]) -> str:
    text = ""
    for element in path:
        text += element if element.startswith("[") else f".{element}"
    return text.lstrip(".")


def _excluded(path: tuple[str, ...], root: Json) -> bool:
    """Fields deliberately not compared (see the module docstring)."""
    if path[-1:] == ("bytes",) and isinstance(root, dict) and "<openapi-document-omitted>" in root:
        return True
    if path[-1:] == ("serverAddress",) and path[:1] == ("serverAddressByClientCIDRs",):
        return True
    return path[-2:] == ("data", "ca.crt")


def _diff(expected: Json, actual: Json, path: tuple[str, ...], generic: tuple[str, ...],
          kind: str, relative: tuple[str, ...], ctx: _Context, root: Json) -> None:
    """Differences of `actual` from `expected`; `relative` is the path inside the object of
    `kind` being compared (for telling controller-written fields apart)."""
    if _excluded(path, root):
        return
    if isinstance(expected, dict) and isinstance(actual, dict):
        own = expected.get("kind") if isinstance(expected.get("kind"), str) else None
        if own and not relative:
            kind = own
        for key in [*expected, *(k for k in actual if k not in expected)]:
            left, right = expected.get(key, ABSENT), actual.get(key, ABSENT)
            element = "[.]" if key == "." else key  # the fieldsV1 marker of a node itself
            if key == "items" and isinstance(left, list) and isinstance(right, list) \
                    and kind.endswith("List"):
                _diff_items(left, right, (*path, key), (*generic, key), kind[:-4], ctx, root)
            else:
                _diff(left, right, (*path, element), (*generic, element), kind,
                      (*relative, key), ctx, root)
        return
    if isinstance(expected, list) and isinstance(actual, list) and path[-1:] == ("cells",) \
            and isinstance(root, dict) and root.get("kind") == "Table":
        _diff_cells(expected, actual, path, generic, ctx, root)
        return
    if isinstance(expected, list) and isinstance(actual, list) and not (
            _scalars(expected) and _scalars(actual)):
        _diff_list(expected, actual, path, generic, kind, relative, ctx, root)
        return
    if expected != actual or type(expected) is not type(actual):
        ctx.add(path, generic, expected, actual, kind, relative)


def _diff_cells(expected: list[Any], actual: list[Any], path: tuple[str, ...],
                generic: tuple[str, ...], ctx: _Context, root: dict[str, Any]) -> None:
    """The cells of a Table row, one by one: an `Age` cell is the time since the object was
    made, which depends on when the request came (list-selectors.jsonl#47: "5s")."""
    columns = [c.get("name") if isinstance(c, dict) else None
               for c in root.get("columnDefinitions") or []]
    for index in range(max(len(expected), len(actual))):
        left = expected[index] if index < len(expected) else ABSENT
        right = actual[index] if index < len(actual) else ABSENT
        if left == right and type(left) is type(right):
            continue
        age = index < len(columns) and columns[index] == "Age" \
            and isinstance(left, str) and isinstance(right, str)
        ctx.out.append(Difference(ctx.category, _dotted((*path, f"[{index}]")),
                                  _dotted((*generic, "[]")), left, right, ctx.timing or age))


def _scalars(items: list[Any]) -> bool:
    return all(not isinstance(item, (dict, list)) for item in items)


def _diff_list(expected: list[Any], actual: list[Any], path: tuple[str, ...],
               generic: tuple[str, ...], kind: str, relative: tuple[str, ...], ctx: _Context,
               root: Json) -> None:
    left, right = _keyed(expected), _keyed(actual)
    if left is None or right is None:
        for index in range(max(len(expected), len(actual))):
            _diff(expected[index] if index < len(expected) else ABSENT,
                  actual[index] if index < len(actual) else ABSENT,
                  (*path, f"[{index}]"), (*generic, "[]"), kind, (*relative, f"[{index}]"),
                  ctx, root)
        return
    for key in [*left, *(k for k in right if k not in left)]:
        _diff(left.get(key, ABSENT), right.get(key, ABSENT), (*path, f"[{key}]"),
              (*generic, "[]"), kind, (*relative, f"[{key}]"), ctx, root)
    common = [k for k in left if k in right]
    if common != [k for k in right if k in left]:
        ctx.add((*path, "<order>"), (*generic, "<order>"), common,
                [k for k in right if k in left], kind, relative)


def _diff_items(expected: list[Any], actual: list[Any], path: tuple[str, ...],
                generic: tuple[str, ...], kind: str, ctx: _Context, root: Json) -> None:
    """Items of a list response, aligned by name; objects controllers make are timing. Items
    the recording redacted (namespaces of other users of the shared server,
    list-selectors.jsonl#42) are not the test server's to answer: they are left out."""
    expected = [item for item in expected if not _redacted(item)]
    left, right = _keyed(expected), _keyed(actual)
    if left is None or right is None:
        _diff_list(expected, actual, path, generic, kind, (), ctx, root)
        return
    for key in [*left, *(k for k in right if k not in left)]:
        before = len(ctx.out)
        item_left, item_right = left.get(key, ABSENT), right.get(key, ABSENT)
        _diff(item_left, item_right, (*path, f"[{key}]"), (*generic, "[]"), kind, ("<item>",),
              ctx, root)
        made = (item_left is not ABSENT and _controller_created(kind, item_left)) or (
            item_right is not ABSENT and _controller_created(kind, item_right))
        if made:
            for index in range(before, len(ctx.out)):
                found = ctx.out[index]
                ctx.out[index] = Difference(found.category, found.path, found.generic,
                                            found.expected, found.actual, True)


def _redacted(item: Json) -> bool:
    return isinstance(item, dict) and set(item) == {"<redacted>"}


def compare(exchange: Exchange, answer: Answer,
            earlier: tuple[Exchange, ...] = ()) -> list[Difference]:
    """How a normalised answer differs from the recorded one."""
    timing = exemption(exchange, earlier) is not None
    out: list[Difference] = []

    def context(category: str) -> _Context:
        return _Context(category, "", exchange.status == 201, timing, out)

    if answer.status != exchange.status:
        out.append(Difference("status", "<status>", "<status>", exchange.status, answer.status,
                              timing))
        return out
    if tuple(answer.warnings) != exchange.warnings:
        out.append(Difference("warnings", "<warnings>", "<warnings>", list(exchange.warnings),
                              list(answer.warnings), timing))
    expected, actual = exchange.response_body, answer.body
    if _is_status(expected) and _is_status(actual):
        for key, category in (("reason", "reason/details"), ("details", "reason/details"),
                              ("message", "message")):
            _diff(expected.get(key, ABSENT), actual.get(key, ABSENT), (key,), (key,), "Status",
                  (key,), context(category), expected)
        rest = ("reason", "details", "message")
        expected = {k: v for k, v in expected.items() if k not in rest}
        actual = {k: v for k, v in actual.items() if k not in rest}
    _diff(expected, actual, (), (), "", (), context("body"), expected)
    return out


def _is_status(body: Json) -> bool:
    return isinstance(body, dict) and body.get("kind") == "Status"


# ---- running and scoring --------------------------------------------------------------------
@dataclass(frozen=True)
class PairResult:
    exchange: Exchange
    differences: tuple[Difference, ...]
    exempt: str | None = None  # why the whole answer depends on timing, if it does

    @property
    def outcome(self) -> str:
        if not self.differences:
            return "match"
        if all(d.timing for d in self.differences):
            return "timing"
        return "mismatch"

    def categories(self) -> set[str]:
        return {d.category for d in self.differences if not d.timing}


@dataclass(frozen=True)
class ScenarioResult:
    name: str
    pairs: tuple[PairResult, ...]

    def count(self, outcome: str) -> int:
        return sum(1 for p in self.pairs if p.outcome == outcome)

    @property
    def conforming(self) -> int:
        return self.count("match") + self.count("timing")


def replay(exchanges: list[Exchange], name: str = "") -> ScenarioResult:
    """Replay one scenario against a fresh test API server."""
    with TestApiServer() as server:
        server.behaviour.tokens[TOKENS["limited"]] = "limited"
        server.cluster.nodes = 0  # the recorded cluster had no nodes and no scheduler
        server.cluster.scheduler = False
        replayer = Replayer(server)
        results = []
        try:
            for index, exchange in enumerate(exchanges):
                answer = replayer.send(exchange)
                normal = replayer.normaliser().answer(answer)
                earlier = tuple(exchanges[:index])
                results.append(PairResult(exchange, tuple(compare(exchange, normal, earlier)),
                                          exemption(exchange, earlier)))
        finally:
            replayer.close()
    return ScenarioResult(name or (exchanges[0].scenario if exchanges else ""), tuple(results))


@dataclass(frozen=True)
class Report:
    scenarios: tuple[ScenarioResult, ...]

    @property
    def pairs(self) -> list[PairResult]:
        return [p for s in self.scenarios for p in s.pairs]

    def count(self, outcome: str) -> int:
        return sum(s.count(outcome) for s in self.scenarios)

    @property
    def conforming(self) -> int:
        return sum(s.conforming for s in self.scenarios)

    def category_counts(self) -> Counter[str]:
        return Counter(c for p in self.pairs for c in p.categories())

    def timing_reasons(self) -> Counter[str]:
        reasons: Counter[str] = Counter()
        for pair in self.pairs:
            if pair.outcome == "timing":
                ages = all(d.path.rsplit(".", 1)[-1].startswith("cells[")
                           for d in pair.differences)
                reasons[pair.exempt or ("the age of an object in a Table" if ages
                                        else "controller-written fields")] += 1
        return reasons

    def top_paths(self, category: str, limit: int = 15) -> list[tuple[str, int]]:
        counts: Counter[str] = Counter()
        for pair in self.pairs:
            counts.update({d.generic for d in pair.differences
                           if d.category == category and not d.timing})
        return counts.most_common(limit)

    def table(self) -> str:
        total = len(self.pairs)
        width = max([len(s.name) for s in self.scenarios] + [8])
        head = (f"{'scenario':<{width}}  pairs  match  timing  mismatch  "
                + "  ".join(f"{c:>{max(len(c), 6)}}" for c in CATEGORIES))
        lines = [
            f"Conformance of the test API server with kube-apiserver v1.36.2: "
            f"{self.count('match')}/{total} pairs match, {self.conforming}/{total} conform "
            f"(match, or differ only where timing decides)",
            "",
            head,
            "-" * len(head),
        ]

        def row(name: str, pairs: list[PairResult]) -> str:
            outcomes = Counter(p.outcome for p in pairs)
            categories = Counter(c for p in pairs for c in p.categories())
            return (f"{name:<{width}}  {len(pairs):>5}  {outcomes['match']:>5}  "
                    f"{outcomes['timing']:>6}  {outcomes['mismatch']:>8}  "
                    + "  ".join(f"{categories[c]:>{max(len(c), 6)}}" for c in CATEGORIES))

        lines += [row(s.name, list(s.pairs)) for s in self.scenarios]
        lines += ["-" * len(head), row("TOTAL", self.pairs), ""]
        lines.append("Pairs per category of difference (a pair can be in several; differences "
                     "in timing-dependent fields not counted):")
        for category in CATEGORIES:
            lines.append(f"  {category:<15} {self.category_counts()[category]}")
        lines.append("Timing-dependent pairs (differ only where timing decides):")
        for reason, count in self.timing_reasons().most_common():
            lines.append(f"  {count:>4}  {reason}")
        for category in ("body", "reason/details"):
            lines.append(f"Top differing {category} field paths (pairs):")
            for path, count in self.top_paths(category):
                lines.append(f"  {count:>4}  {path or '<whole body>'}")
        return "\n".join(lines)

    def details(self) -> str:
        lines = []
        for pair in self.pairs:
            if pair.outcome == "match":
                continue
            lines.append(f"[{pair.outcome}] {pair.exchange.label}")
            lines.extend(f"    {d.describe()}" for d in pair.differences[:12])
            if len(pair.differences) > 12:
                lines.append(f"    ... {len(pair.differences) - 12} more")
        return "\n".join(lines)


def run_all(folder: Path = TRACES_DIR, only: str | None = None) -> Report:
    results = [replay(load_scenario(path), path.stem) for path in scenario_files(folder)
               if only is None or path.stem == only]
    return Report(tuple(results))


# ---- the floor ------------------------------------------------------------------------------
Floor = dict[str, dict[str, int]]  # "conforming" / "matching" -> scenario (and TOTAL) -> pairs
FLOOR_KINDS = ("conforming", "matching")


def read_floor(path: Path = FLOOR_FILE) -> Floor:
    """Conforming and matching pairs per scenario (and `TOTAL`) that must not be lost."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {kind: {str(k): int(v) for k, v in data[kind].items()}
            for kind in FLOOR_KINDS if isinstance(data.get(kind), dict)}


def _counts(report: Report) -> Floor:
    counts: Floor = {
        "conforming": {s.name: s.conforming for s in report.scenarios},
        "matching": {s.name: s.count("match") for s in report.scenarios},
    }
    counts["conforming"]["TOTAL"] = report.conforming
    counts["matching"]["TOTAL"] = report.count("match")
    return counts


def below_floor(report: Report, floor: Floor) -> list[str]:
    current = _counts(report)
    return [f"{name}: {current[kind].get(name, 0)} {kind} pairs, floor {minimum}"
            for kind in FLOOR_KINDS for name, minimum in sorted(floor.get(kind, {}).items())
            if current[kind].get(name, 0) < minimum]


def raise_floor(report: Report, path: Path = FLOOR_FILE) -> Floor:
    floor = read_floor(path)
    raised = {kind: {name: max(value, floor.get(kind, {}).get(name, 0))
                     for name, value in sorted(counts.items())}
              for kind, counts in _counts(report).items()}
    document = {
        "about": "Pairs of ../shared/apiserver-traces that the test API server answers like "
                 "kube-apiserver v1.36.2: conforming (match, or differ only where timing "
                 "decides) and matching. tests/kubeapi/test_conformance.py fails when a count "
                 "falls below this; `python -m tests.kubeapi.conformance --update-floor` "
                 "raises it.",
        **raised,
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return raised


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--traces", type=Path, default=TRACES_DIR)
    parser.add_argument("--scenario", help="replay only this scenario")
    parser.add_argument("--details", action="store_true", help="list every difference")
    parser.add_argument("--update-floor", action="store_true",
                        help="raise conformance-floor.json to the current counts")
    args = parser.parse_args(argv)
    if not args.traces.is_dir():
        print(f"no recorded traces at {args.traces}", file=sys.stderr)
        return 2
    report = run_all(args.traces, args.scenario)
    if args.details:
        print(report.details())
        print()
    print(report.table())
    if args.update_floor:
        raise_floor(report)
        print(f"\nfloor written to {FLOOR_FILE}")
    problems = below_floor(report, read_floor()) if args.scenario is None else []
    for problem in problems:
        print(f"below the floor: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())

