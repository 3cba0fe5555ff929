"""Label and field selectors of a LIST, parsed, refused and applied as kube-apiserver does.

Label selectors follow the grammar of k8s.io/apimachinery's `labels.Parse` (equality, set-based,
existence, `gt`/`lt`), with its error messages word for word (list-selectors.jsonl#14-#17).
Field selectors are split into terms as `fields.ParseSelector` does (terms sorted, so the first
term it cannot understand is the first in sort order: list-selectors.jsonl#25), and each field
is then checked against what the kind supports: kinds with their own field label conversion
answer `field label not supported: X` (Events, Secrets, Pods ...: #29, #41), the others the
default conversion's `"X" is not a known field selector: only "metadata.name",
"metadata.namespace"` (ConfigMaps, Deployments: #21-#23, #36, #38).

Paging: continue tokens as the real server writes and reads them (#45).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tests.kubeapi.errors import ApiError

Selector = Callable[[dict[str, str]], bool]
ObjectSelector = Callable[[dict[str, Any]], bool]

# ---- label selectors: the lexer ------------------------------------------------------------
_EOS, _IDENT = "end of string", "identifier"  # token kinds besides the literal ones below
_SYMBOLS = (")", ",", "!", "==", "=", ">", "<", "!=", "(")
_KEYWORDS = ("in", "notin")
_SPECIAL = frozenset("=!(),><")
_SPACE = frozenset(" \t\r\n")


def _tokens(text: str) -> list[tuple[str, str]]:
    """(token kind, literal) pairs up to and including the end of the string. A NUL ends the
    string as it does for the Go lexer."""
    out: list[tuple[str, str]] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in _SPACE:
            pos += 1
        if pos >= len(text) or text[pos] == "\0":
            out.append((_EOS, ""))
            return out
        if text[pos] in _SPECIAL:
            # the longest run of special characters that is still a symbol ("==", "!=")
            symbol = text[pos]
            if text[pos:pos + 2] in _SYMBOLS:
                symbol = text[pos:pos + 2]
            out.append((symbol, symbol))
            pos += len(symbol)
            continue
        start = pos
        while pos < len(text) and text[pos] not in _SPECIAL and text[pos] not in _SPACE \
                and text[pos] != "\0":
            pos += 1
        word = text[start:pos]
        out.append((word if word in _KEYWORDS else _IDENT, word))


# ---- label selectors: validation of keys and values ----------------------------------------
_NAME_FORMAT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_NAME = re.compile(_NAME_FORMAT)
_VALUE_FORMAT = f"({_NAME_FORMAT})?"
_DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_FORMAT = f"{_DNS_LABEL}(\\.{_DNS_LABEL})*"
_SUBDOMAIN = re.compile(_SUBDOMAIN_FORMAT)


def _regex_error(message: str, pattern: str, *examples: str) -> str:
    """apimachinery's RegexError, its double spaces included."""
    shown = "".join(("" if i == 0 else " or ") + f"'{e}', " for i, e in enumerate(examples))
    return f"{message} (e.g. {shown}regex used for validation is '{pattern}')"


def _qualified_name_errors(key: str) -> list[str]:
    parts = key.split("/")
    errors: list[str] = []
    if len(parts) > 2:
        return [
            "a qualified name " + _regex_error(
                "must consist of alphanumeric characters, '-', '_' or '.', and must start and "
                "end with an alphanumeric character", _NAME_FORMAT, "MyName", "my.name",
                "123-abc") + " with an optional DNS subdomain prefix and '/' (e.g. "
            "'example.com/MyName')"]
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            if len(prefix) > 253:
                errors.append("prefix part must be no more than 253 characters")
            if not _SUBDOMAIN.fullmatch(prefix):
                errors.append("prefix part " + _regex_error(
                    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                    "characters, '-' or '.', and must start and end with an alphanumeric "
                    "character", _SUBDOMAIN_FORMAT, "example.com"))
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 characters")
    if not _NAME.fullmatch(name):
        errors.append("name part " + _regex_error(
            "must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
            "with an alphanumeric character", _NAME_FORMAT, "MyName", "my.name", "123-abc"))
    return errors


def _label_value_errors(value: str) -> list[str]:
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 characters")
    if value and not _NAME.fullmatch(value):
        errors.append(_regex_error(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', "
            "'_' or '.', and must start and end with an alphanumeric character", _VALUE_FORMAT,
            "MyValue", "my_value", "12345"))
    return errors


def _invalid(path: str, value: str, detail: str) -> str:
    """A field.Invalid error as text; the parser has no field path, which Go prints `<nil>`."""
    return f"{path}: Invalid value: {_go_quote(value)}: {detail}"


def _go_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _aggregate(errors: list[str]) -> str:
    unique = list(dict.fromkeys(errors))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


_INT64 = re.compile(r"[+-]?[0-9]+")


def _int64(text: str) -> int | None:
    if not _INT64.fullmatch(text):
        return None
    number = int(text)
    return number if -(2 ** 63) <= number < 2 ** 63 else None


# ---- label selectors: the parser -----------------------------------------------------------
_BINARY = "in, notin, =, ==, !=, gt, lt"
_ALL_OPERATORS = f"{_BINARY}, exists, !"


class _SelectorError(Exception):
    pass


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # in notin = == != gt lt exists !
    values: tuple[str, ...]

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key, "")
        if self.operator in ("in", "=", "=="):
            return present and value in self.values
        if self.operator in ("notin", "!="):
            return not present or value not in self.values
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        mine, wanted = _int64(value), _int64(self.values[0]) if self.values else None
        if not present or mine is None or wanted is None:
            return False
        return mine > wanted if self.operator == "gt" else mine < wanted


class _Parser:
    def __init__(self, text: str) -> None:
        self.items = _tokens(text)
        self.position = 0

    def _token(self, index: int, values: bool) -> tuple[str, str]:
        kind, literal = self.items[min(index, len(self.items) - 1)]
        if values and kind in _KEYWORDS:
            kind = _IDENT  # `in` and `notin` are plain words where values are expected
        return kind, literal

    def lookahead(self, values: bool = True) -> tuple[str, str]:
        return self._token(self.position, values)

    def consume(self, values: bool = True) -> tuple[str, str]:
        self.position += 1
        return self._token(self.position - 1, values)

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            kind, literal = self.lookahead()
            if kind == _EOS:
                return requirements
            if kind not in (_IDENT, "!"):
                raise _SelectorError(
                    f"found '{literal}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self.requirement())
            except _SelectorError as error:
                raise _SelectorError(f"unable to parse requirement: {error}") from None
            kind, literal = self.consume()
            if kind == _EOS:
                return requirements
            if kind != ",":
                raise _SelectorError(f"found '{literal}', expected: ',' or 'end of string'")
            after, literal = self.lookahead()
            if after not in (_IDENT, "!"):
                raise _SelectorError(f"found '{literal}', expected: identifier after ','")

    def requirement(self) -> Requirement:
        operator = ""
        kind, key = self.consume()
        if kind == "!":
            operator = "!"
            kind, key = self.consume()
        if kind != _IDENT:
            raise _SelectorError(f"found '{key}', expected: identifier")
        problems = _qualified_name_errors(key)
        if problems:
            raise _SelectorError(_invalid("<nil>", key, "; ".join(problems)))
        if self.lookahead()[0] in (_EOS, ",") and operator != "!":
            operator = "exists"
        if operator in ("exists", "!"):
            return Requirement(key, operator, ())
        operator = self.operator()
        values = self.set_values() if operator in ("in", "notin") else self.exact_value()
        return _requirement(key, operator, sorted(values))

    def operator(self) -> str:
        kind, literal = self.consume(values=False)
        if kind in ("in", "notin", "=", "==", "!="):
            return kind
        if kind in (">", "<"):
            return "gt" if kind == ">" else "lt"
        expected = _BINARY if literal == "" else _ALL_OPERATORS
        raise _SelectorError(f"found '{literal}', expected: {expected}")

    def set_values(self) -> set[str]:
        kind, literal = self.consume()
        if kind != "(":
            raise _SelectorError(f"found '{literal}' expected: '('")
        kind, literal = self.lookahead()
        if kind == ")":
            self.consume()
            return {""}
        if kind not in (_IDENT, ","):
            raise _SelectorError(f"found '{literal}', expected: ',', ')' or identifier")
        values = self.identifiers()
        if self.consume()[0] != ")":
            raise _SelectorError(f"found '{literal}', expected: ')'")
        return values

    def identifiers(self) -> set[str]:
        values: set[str] = set()
        while True:
            kind, literal = self.consume()
            if kind == _IDENT:
                values.add(literal)
                following, text = self.lookahead()
                if following == ")":
                    return values
                if following != ",":
                    raise _SelectorError(f"found '{text}', expected: ',' or ')'")
            elif kind == ",":
                if not values:
                    values.add("")  # "(,"
                following, _ = self.lookahead()
                if following == ")":
                    values.add("")  # ",)"
                    return values
                if following == ",":
                    self.consume()
                    values.add("")  # ",,"
            else:
                raise _SelectorError(f"found '{literal}', expected: ',', or identifier")

    def exact_value(self) -> set[str]:
        if self.lookahead()[0] in (_EOS, ","):
            return {""}
        kind, literal = self.consume()
        if kind == _IDENT:
            return {literal}
        raise _SelectorError(f"found '{literal}', expected: identifier")


def _requirement(key: str, operator: str, values: list[str]) -> Requirement:
    """labels.NewRequirement: the values checked (the key already was)."""
    errors: list[str] = []
    if operator in ("gt", "lt"):
        errors += [_invalid(f"values[{i}]", v, "for 'Gt', 'Lt' operators, the value must be "
                            "an integer") for i, v in enumerate(values) if _int64(v) is None]
    for index, value in enumerate(values):
        problems = _label_value_errors(value)
        if problems:
            errors.append(_invalid(f"values[{index}][{key}]", value, "; ".join(problems)))
    if errors:
        raise _SelectorError(_aggregate(errors))
    return Requirement(key, operator, tuple(values))


def parse_label_selector(text: str) -> list[Requirement]:
    """The requirements of a label selector, or a 400 with the real server's message."""
    try:
        return _Parser(text).parse()
    except _SelectorError as error:
        raise ApiError.bad_request(str(error)) from None


@dataclass(frozen=True)
class LabelSelector:
    """A parsed label selector: call it with an object's labels."""

    requirements: tuple[Requirement, ...]

    @property
    def empty(self) -> bool:
        return not self.requirements

    def __call__(self, labels: dict[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)


def parse_selector(text: str) -> LabelSelector:
    """A label selector as a predicate on an object's labels, or a 400."""
    return LabelSelector(tuple(parse_label_selector(text)))


# ---- field selectors -----------------------------------------------------------------------
@dataclass(frozen=True)
class FieldTerm:
    field: str
    negate: bool  # `!=`
    value: str


def _split_terms(text: str) -> list[str]:
    """Split at the commas that no backslash escapes; the escapes stay in the terms."""
    terms, start, escaped = [], 0, False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            terms.append(text[start:index])
            start = index + 1
    return [*terms, text[start:]]


def _unescape(value: str) -> str:
    out, escaped = "", False
    for char in value:
        if escaped:
            if char not in "\\,=":
                raise ApiError.bad_request(
                    f"invalid field selector: invalid escape sequence: \\{char}")
            out += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            raise ApiError.bad_request(
                f"invalid field selector: unescaped character in value: {ord(char)}")
        else:
            out += char
    if escaped:
        raise ApiError.bad_request("invalid field selector: invalid escape sequence: \\")
    return out


def parse_field_terms(text: str) -> list[FieldTerm]:
    """A field selector's terms in the server's (sorted) order, or a 400 for its syntax."""
    terms: list[FieldTerm] = []
    if not text:
        return terms
    for part in sorted(_split_terms(text)):
        if not part:
            continue
        for index in range(len(part)):
            operator = next((op for op in ("!=", "==", "=") if part.startswith(op, index)), "")
            if operator:
                terms.append(FieldTerm(part[:index], operator == "!=",
                                       _unescape(part[index + len(operator):])))
                break
        else:
            raise ApiError.bad_request(
                f"invalid selector: '{text}'; can't understand '{part}'")
    return terms


# What each kind's field label conversion accepts (None: the default conversion, which knows
# metadata.name and metadata.namespace only), with the fields some of them rename.
_META = ("metadata.name", "metadata.namespace")
_EVENT_FIELDS = ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                 "involvedObject.uid", "involvedObject.apiVersion",
                 "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
                 "reportingComponent", "source", "type", *_META)
_CONVERSIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "Pod"): (*_META, "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                  "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
                  "status.podIPs", "status.nominatedNodeName", "spec.host"),
    ("", "Node"): ("metadata.name", "spec.unschedulable"),
    ("", "ReplicationController"): (*_META, "status.replicas"),
    ("", "Event"): _EVENT_FIELDS,
    ("", "Namespace"): ("status.phase", "metadata.name"),
    ("", "Secret"): ("type", *_META),
    ("", "Service"): (*_META, "spec.clusterIP", "spec.type"),
    ("apps", "ReplicaSet"): (*_META, "status.replicas"),
    ("apps", "StatefulSet"): (*_META, "status.successful"),
    ("batch", "Job"): (*_META, "status.successful"),
    ("certificates.k8s.io", "CertificateSigningRequest"): (*_META, "spec.signerName"),
    ("events.k8s.io", "Event"): (
        "reason", "regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid",
        "regarding.apiVersion", "regarding.resourceVersion", "regarding.fieldPath",
        "reportingController", "type", *_META),
}
_RENAMED = {
    ("", "Pod", "spec.host"): "spec.nodeName",
    **{("events.k8s.io", "Event", f"regarding.{part}"): f"involvedObject.{part}"
       for part in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion",
                    "fieldPath")},
    ("events.k8s.io", "Event", "reportingController"): "reportingComponent",
}
_CLASSIC_PROBLEM = "field label not supported: {}"


def _convert(group: str, kind: str, builtin: bool, namespaced: bool,
             selectable: Iterable[str], name: str) -> str:
    """The field a selector's field label stands for, or the 400 the kind's conversion gives."""
    if not builtin:  # custom resources: the CRD's selectable fields besides metadata
        known = {"metadata.name", *(("metadata.namespace",) if namespaced else ()),
                 *selectable}
        if name not in known:
            raise ApiError.bad_request(_CLASSIC_PROBLEM.format(name))
        return name
    allowed = _CONVERSIONS.get((group, kind))
    if allowed is None:
        if name not in _META:
            raise ApiError.bad_request(
                f"{_go_quote(name)} is not a known field selector: only "
                '"metadata.name", "metadata.namespace"')
        return name
    if name not in allowed:
        raise ApiError.bad_request(_CLASSIC_PROBLEM.format(name))
    return _RENAMED.get((group, kind, name), name)


def field_matcher(terms: list[FieldTerm], group: str, kind: str, *, builtin: bool = True,
                  namespaced: bool = True, selectable: Iterable[str] = ()) -> ObjectSelector:
    """A predicate on objects (as served) for field selector `terms`, or the 400 the server
    gives for a field the kind does not support (the first such term in sort order)."""
    selectable = tuple(selectable)
    checks = [(_convert(group, kind, builtin, namespaced, selectable, t.field), t)
              for t in terms]
    if not checks:
        return lambda obj: True

    def matches(obj: dict[str, Any]) -> bool:
        values = selectable_fields(group, kind, obj, selectable)
        return all((values.get(name, "") != t.value) if t.negate
                   else (values.get(name, "") == t.value) for name, t in checks)

    return matches


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _at(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def selectable_fields(group: str, kind: str, obj: dict[str, Any],
                      selectable: Iterable[str] = ()) -> dict[str, str]:
    """The field set the registry of `kind` offers to field selectors for `obj`."""
    metadata = obj.get("metadata") or {}
    out = {"metadata.name": _text(metadata.get("name")),
           "metadata.namespace": _text(metadata.get("namespace"))}
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if (group, kind) == ("", "Pod"):
        ips = status.get("podIPs") or []
        first = ips[0].get("ip") if ips and isinstance(ips[0], dict) else status.get("podIP")
        out.update({
            "spec.nodeName": _text(spec.get("nodeName")),
            "spec.restartPolicy": _text(spec.get("restartPolicy")),
            "spec.schedulerName": _text(spec.get("schedulerName")),
            "spec.serviceAccountName": _text(spec.get("serviceAccountName")),
            "spec.hostNetwork": _text(bool(spec.get("hostNetwork"))),
            "status.phase": _text(status.get("phase")),
            "status.podIP": _text(first),
            "status.nominatedNodeName": _text(status.get("nominatedNodeName")),
        })
    elif kind == "Event" and group in ("", "events.k8s.io"):
        involved = obj.get("involvedObject") or obj.get("regarding") or {}
        reporting = obj.get("reportingComponent") or obj.get("reportingController")
        out.update({f"involvedObject.{part}": _text(involved.get(part))
                    for part in ("kind", "namespace", "name", "uid", "apiVersion",
                                 "resourceVersion", "fieldPath")})
        out.update({
            "reason": _text(obj.get("reason")),
            "reportingComponent": _text(reporting),
            "source": _text((obj.get("source") or {}).get("component")
                            or (obj.get("deprecatedSource") or {}).get("component") or reporting),
            "type": _text(obj.get("type")),
        })
    elif (group, kind) == ("", "Namespace"):
        out["status.phase"] = _text(status.get("phase"))
    elif (group, kind) == ("", "Secret"):
        out["type"] = _text(obj.get("type"))
    elif (group, kind) == ("", "Service"):
        out["spec.clusterIP"] = _text(spec.get("clusterIP"))
        out["spec.type"] = _text(spec.get("type"))
    elif (group, kind) == ("", "Node"):
        out["spec.unschedulable"] = _text(bool(spec.get("unschedulable")))
    elif (group, kind) in (("", "ReplicationController"), ("apps", "ReplicaSet")):
        out["status.replicas"] = _text(status.get("replicas") or 0)
    elif (group, kind) == ("batch", "Job"):
        out["status.successful"] = _text(status.get("succeeded") or 0)
    elif (group, kind) == ("certificates.k8s.io", "CertificateSigningRequest"):
        out["spec.signerName"] = _text(spec.get("signerName"))
    for path in selectable:
        out[path] = _text(_at(obj, path))
    return out


# ---- paging --------------------------------------------------------------------------------
# A continue token as the real server writes it: unpadded URL-safe base64 of
# {"v": "meta.k8s.io/v1", "rv": <the list's resourceVersion>, "start": <next key>}, the key
# relative to the list's storage prefix ("name" in a namespace, "namespace/name" across them).
_TOKEN_VERSION = "meta.k8s.io/v1"
_BASE64URL = re.compile(r"[A-Za-z0-9_-]")


def encode_continue(last_key: str, resource_version: int) -> str:
    """The token of the page that starts just after `last_key`."""
    data = json.dumps({"v": _TOKEN_VERSION, "rv": resource_version, "start": last_key + "\0"},
                      separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _invalid_token(why: str) -> ApiError:
    return ApiError.bad_request(f"invalid continue token: continue key is not valid{why}")


def decode_continue(token: str) -> tuple[str, int]:
    """(first key of the page, resourceVersion of the list) of a continue token, or the 400 the
    real server gives for a token it cannot read."""
    bad = next((i for i, char in enumerate(token) if not _BASE64URL.match(char)), None)
    if bad is None and len(token) % 4 == 1:
        bad = len(token) - 1
    if bad is not None:
        raise _invalid_token(f": illegal base64 data at input byte {bad}")
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    try:
        content = json.loads(raw)
    except ValueError:
        first = raw.decode(errors="replace").lstrip()[:1]
        raise _invalid_token(f": invalid character '{first}' looking for beginning of "
                             "value" if first else ": unexpected end of JSON input") from None
    if not isinstance(content, dict):
        raise _invalid_token(": json: cannot unmarshal into Go value of type "
                             "storage.continueToken")
    version = content.get("v", "")
    if version != _TOKEN_VERSION:
        raise _invalid_token(f": server does not recognize this encoded version {version}")
    resource_version = content.get("rv")
    if not isinstance(resource_version, int) or resource_version == 0:
        raise _invalid_token(": incorrect encoded start resourceVersion (version "
                             f"{_TOKEN_VERSION})")
    start = content.get("start")
    if not isinstance(start, str) or not start:
        raise _invalid_token(f": encoded start key empty (version {_TOKEN_VERSION})")
    key = start if start.startswith("/") else "/" + start
    if key != "/" and any(part in ("", ".", "..") for part in key[1:].split("/")):
        raise _invalid_token(f": {start}")  # not a clean path: no climbing out of the list
    return key[1:], resource_version
