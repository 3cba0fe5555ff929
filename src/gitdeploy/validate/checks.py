"""Checks the schemas do not make but the API server does (its apimachinery validation):
object and namespace names, label and annotation keys and values, base64 in `Secret.data`.
Each returns (field path, message, at the key) findings: a finding about a key (a label's) is
placed at the key, others at the value. Secret values never appear in a message."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import Any

from gitdeploy.objects.fieldpaths import Step
from gitdeploy.objects.secrets import ENCRYPTED_VALUE

Finding = tuple[tuple[Step, ...], str, bool]

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL = re.compile(_LABEL)
DNS1123_SUBDOMAIN = re.compile(rf"{_LABEL}(\.{_LABEL})*")
DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
LABEL_VALUE = QUALIFIED_NAME
MAX_ANNOTATIONS_BYTES = 256 * 1024

# Kinds whose names the API server checks with a rule other than the DNS-1123 subdomain.
_LABEL_NAMED = {("", "Namespace")}
_DNS1035_NAMED = {("", "Service")}
_PATH_SEGMENT_NAMED = {("rbac.authorization.k8s.io", kind)
                       for kind in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")}

_SUBDOMAIN_RULE = ("a lowercase RFC 1123 subdomain: at most 253 characters of a-z, 0-9, '-' "
                   "and '.', starting and ending with a letter or digit")
_LABEL_RULE = ("a lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and '-', "
               "starting and ending with a letter or digit")
_DNS1035_RULE = ("a lowercase RFC 1035 label: at most 63 characters of a-z, 0-9 and '-', "
                 "starting with a letter and ending with a letter or digit")


def _name_problem(group: str, kind: str, name: str) -> str | None:
    if (group, kind) in _PATH_SEGMENT_NAMED:
        if name in (".", "..") or "/" in name or "%" in name:
            return f"name {name!r}: may not be '.' or '..' nor contain '/' or '%'"
        return None
    if (group, kind) in _LABEL_NAMED:
        ok, rule = len(name) <= 63 and DNS1123_LABEL.fullmatch(name), _LABEL_RULE
    elif (group, kind) in _DNS1035_NAMED:
        ok, rule = len(name) <= 63 and DNS1035_LABEL.fullmatch(name), _DNS1035_RULE
    else:
        ok, rule = len(name) <= 253 and DNS1123_SUBDOMAIN.fullmatch(name), _SUBDOMAIN_RULE
    return None if ok else f"name {name!r} is not valid: it must be {rule}"


def _key_problem(key: str) -> str | None:
    """A label or annotation key: an optional DNS subdomain prefix and '/', then a name."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not DNS1123_SUBDOMAIN.fullmatch(prefix)):
        return f"key {key!r}: the prefix before '/' must be {_SUBDOMAIN_RULE}"
    if not name or len(name) > 63 or not QUALIFIED_NAME.fullmatch(name):
        return (f"key {key!r}: the name must be at most 63 characters of letters, digits, '-', "
                "'_' and '.', starting and ending with a letter or digit")
    return None


def _labels(labels: Any, where: tuple[Step, ...]) -> Iterator[Finding]:
    if not isinstance(labels, dict):
        return
    for key, value in labels.items():
        problem = _key_problem(str(key))
        if problem:
            yield (*where, key), f"label {problem}", True
        if isinstance(value, str) and value and (len(value) > 63 or
                                                 not LABEL_VALUE.fullmatch(value)):
            yield (*where, key), (f"label value {value!r} is not valid: at most 63 characters "
                                  "of letters, digits, '-', '_' and '.', starting and ending "
                                  "with a letter or digit (or empty)"), False


def _annotations(annotations: Any, where: tuple[Step, ...]) -> Iterator[Finding]:
    if not isinstance(annotations, dict):
        return
    size = 0
    for key, value in annotations.items():
        problem = _key_problem(str(key))
        if problem:
            yield (*where, key), f"annotation {problem}", True
        size += len(str(key)) + len(str(value).encode())
    if size > MAX_ANNOTATIONS_BYTES:
        yield where, (f"annotations take {size:,} bytes, more than the "
                      f"{MAX_ANNOTATIONS_BYTES:,} the API server accepts"), True


def object_findings(group: str, kind: str, body: dict[str, Any]) -> list[Finding]:
    """The API server's own checks of one object (only those that fail)."""
    found: list[Finding] = []
    metadata = body.get("metadata")
    if not isinstance(metadata, dict):
        return found
    name = metadata.get("name")
    if isinstance(name, str):
        problem = _name_problem(group, kind, name)
        if problem:
            found.append((("metadata", "name"), problem, False))
    namespace = metadata.get("namespace")
    if isinstance(namespace, str) and namespace and (
            len(namespace) > 63 or not DNS1123_LABEL.fullmatch(namespace)):
        found.append((("metadata", "namespace"),
                      f"namespace {namespace!r} is not valid: it must be {_LABEL_RULE}",
                      False))
    found.extend(_labels(metadata.get("labels"), ("metadata", "labels")))
    found.extend(_annotations(metadata.get("annotations"), ("metadata", "annotations")))
    spec = body.get("spec")
    if isinstance(spec, dict):
        template = spec.get("template")
        if isinstance(template, dict) and isinstance(template.get("metadata"), dict):
            found.extend(_labels(template["metadata"].get("labels"),
                                 ("spec", "template", "metadata", "labels")))
            found.extend(_annotations(template["metadata"].get("annotations"),
                                      ("spec", "template", "metadata", "annotations")))
        selector = spec.get("selector")
        if isinstance(selector, dict) and isinstance(selector.get("matchLabels"), dict):
            found.extend(_labels(selector["matchLabels"], ("spec", "selector", "matchLabels")))
    if kind == "Secret" and not group:
        found.extend(_secret_data(body.get("data")))
    if kind in ("ConfigMap", "Secret") and not group:
        found.extend(_data_size(kind, body))
    return found


MAX_DATA_BYTES = 1024 * 1024  # ConfigMap and Secret data, as the API server counts it


def _data_size(kind: str, body: dict[str, Any]) -> Iterator[Finding]:
    """The API server refuses a ConfigMap whose keys and values (data and binaryData) or a
    Secret whose values (data and stringData) add up to more than 1 MiB."""
    total = 0
    for field in ("data", "binaryData", "stringData"):
        values = body.get(field)
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            if not isinstance(value, str):
                continue
            encoded = field == "binaryData" or (kind == "Secret" and field == "data")
            size = len(value) * 3 // 4 if encoded else len(value.encode())
            total += size + (len(str(key)) if kind == "ConfigMap" else 0)
    if total > MAX_DATA_BYTES:
        yield ((), f"the {kind}'s data is {total:,} bytes: the API server stores at most "
                   f"1 MiB ({MAX_DATA_BYTES:,} bytes) per {kind}; split it, or mount a volume "
                   "from elsewhere", False)


def _secret_data(data: Any) -> Iterator[Finding]:
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        if not isinstance(value, str):
            continue  # the schema reports the type
        if ENCRYPTED_VALUE.fullmatch(value):
            continue  # SOPS ciphertext, decrypted when applied (docs/secrets.md)
        try:
            # as the API server decodes it: standard base64, line breaks ignored
            base64.b64decode(value.replace("\r", "").replace("\n", ""), validate=True)
        except (binascii.Error, ValueError):
            yield ("data", key), ("not valid base64: Secret data values are base64-encoded "
                                  "(put plain text under stringData instead); the value is not "
                                  "shown"), False
