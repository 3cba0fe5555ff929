"""SOPS-encrypted files wherever an environment takes input (plain manifests, the files
kustomize's generators read, Helm values files), decrypted by the real sops with an age key made
in the test; and what happens without the key, with the wrong one, or with a changed file."""

from __future__ import annotations

import base64
import json
import os
import re
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from gitdeploy.config.environments import load_environment
from gitdeploy.config.sources import WorkTree
from gitdeploy.objects.secrets import masking_scope
from gitdeploy.render import sops
from gitdeploy.render.environment import render_environment
from gitdeploy.render.sops import SopsError
from tests.conftest import FIXTURES, ConfigRepo, git
from tests.kubeapi.server import TestApiServer
from tests.render.sops_keys import AgeKey, encrypt, make_age_key, use_key

CANARY = "canary-Rb62-decrypted"


@pytest.fixture
def key(tmp_path: Path) -> AgeKey:
    return make_age_key(tmp_path / "keys", "right")


@pytest.fixture
def other_key(tmp_path: Path) -> AgeKey:
    return make_age_key(tmp_path / "keys", "wrong")


def secret(name: str = "db", **values: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
            "stringData": values or {"password": CANARY}}


def encrypted_secret_repo(repo: ConfigRepo, key: AgeKey) -> Path:
    repo.settings("dev", context="kind-dev", namespace="default")
    path = repo.write("environments/dev/secret.enc.yaml", secret())
    encrypt(path, key)
    repo.commit("encrypted secret")
    return path


def objects_of(repo: ConfigRepo, *, decrypt: bool = True, kind: str | None = None
               ) -> dict[str, dict[str, Any]]:
    """The environment's objects by name (of one kind, if given), as the apply sends them."""
    tree = WorkTree(repo.root)
    with masking_scope():
        rendered = render_environment(tree, load_environment(tree, "dev"), decrypt=decrypt)
    return {m.name: m.body for m in rendered.manifests if kind in (None, m.kind)}


# ---- recognising encrypted files ------------------------------------------------------------

def test_encrypted_formats_are_recognised_by_their_metadata(repo: ConfigRepo, key: AgeKey
                                                            ) -> None:
    plain = repo.write("a.yaml", secret())
    assert sops.sops_format(PurePosixPath("a.yaml"), plain.read_bytes()) is None
    assert sops.sops_format(PurePosixPath("a.yaml"), encrypt(plain, key).read_bytes()) == "yaml"
    dotenv = repo.write("b.env", "A=1\n")
    assert sops.sops_format(PurePosixPath("b.env"), dotenv.read_bytes()) is None
    assert sops.sops_format(PurePosixPath("b.env"), encrypt(dotenv, key).read_bytes()) == \
        "dotenv"
    blob = repo.write("c.pem", "-----BEGIN CERTIFICATE-----\n")
    encrypt(blob, key, input_type="binary")
    assert sops.sops_format(PurePosixPath("c.pem"), blob.read_bytes()) == "binary"
    # a mapping that merely has a `sops` key is not encrypted
    assert sops.sops_format(PurePosixPath("d.yaml"), b"sops: {enabled: true}\n") is None


def test_recipients_are_read_from_the_metadata(repo: ConfigRepo, key: AgeKey,
                                               other_key: AgeKey) -> None:
    path = encrypt(repo.write("a.yaml", secret()), key, other_key)
    assert sops.recipients("yaml", path.read_bytes()) == (
        f"age {key.recipient}", f"age {other_key.recipient}")
    dotenv = encrypt(repo.write("b.env", "A=1\n"), key)
    assert sops.recipients("dotenv", dotenv.read_bytes()) == (f"age {key.recipient}",)


# ---- plain manifests --------------------------------------------------------------------------

def test_an_encrypted_secret_is_decrypted_for_the_apply(repo: ConfigRepo, key: AgeKey,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    encrypted_secret_repo(repo, key)
    use_key(monkeypatch, key)
    body = objects_of(repo)["db"]
    assert body["stringData"] == {"password": CANARY}
    assert "sops" not in body


def test_the_key_may_be_given_inline_or_in_the_default_keys_file(
        repo: ConfigRepo, key: AgeKey, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    encrypted_secret_repo(repo, key)
    use_key(monkeypatch, None)
    monkeypatch.setenv("SOPS_AGE_KEY", key.identity)
    assert objects_of(repo)["db"]["stringData"]["password"] == CANARY
    monkeypatch.delenv("SOPS_AGE_KEY")
    config = tmp_path / "xdg"
    (config / "sops" / "age").mkdir(parents=True)
    (config / "sops" / "age" / "keys.txt").write_text(key.key_file.read_text())
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    assert objects_of(repo)["db"]["stringData"]["password"] == CANARY


def test_without_keys_the_ciphertext_is_read(repo: ConfigRepo, key: AgeKey,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    encrypted_secret_repo(repo, key)
    use_key(monkeypatch, None)
    body = objects_of(repo, decrypt=False)["db"]
    assert "sops" not in body
    assert body["stringData"]["password"].startswith("ENC[AES256_GCM,")


@pytest.mark.parametrize("problem", ["no key", "wrong key"])
def test_no_key_or_the_wrong_key_names_the_file_and_its_recipients(
        repo: ConfigRepo, key: AgeKey, other_key: AgeKey, monkeypatch: pytest.MonkeyPatch,
        kubeconfig: Path, api_server: TestApiServer, cli, problem: str) -> None:
    encrypted_secret_repo(repo, key)
    use_key(monkeypatch, None if problem == "no key" else other_key)
    for command in (("render", "dev"), ("diff", "dev"), ("apply", "dev", "--yes")):
        result = cli(*command)
        assert result.exit_code == 1, result.output
        assert ("environments/dev/secret.enc.yaml: cannot decrypt: no key that opens it was "
                "found") in result.stderr
        assert f"it can be opened with: age {key.recipient}" in result.stderr
        assert "SOPS_AGE_KEY_FILE" in result.stderr
    assert api_server.writes(state=True) == []  # nothing written to the cluster


@pytest.mark.parametrize("change", ["ciphertext", "clear field"])
def test_a_changed_file_is_refused(repo: ConfigRepo, key: AgeKey,
                                   monkeypatch: pytest.MonkeyPatch, kubeconfig: Path,
                                   api_server: TestApiServer, cli, change: str) -> None:
    path = encrypted_secret_repo(repo, key)
    text = path.read_text()
    if change == "ciphertext":
        tampered = re.sub(r"(password: ENC\[AES256_GCM,data:)(.)",
                          lambda m: m[1] + ("A" if m[2] != "A" else "B"), text)
    else:  # a value sops left in clear is covered by the MAC too
        tampered = text.replace("name: db", "name: other")
    assert tampered != text
    path.write_text(tampered)
    repo.commit("tampered")
    use_key(monkeypatch, key)
    result = cli("apply", "dev", "--yes")
    assert result.exit_code == 1, result.output
    assert "environments/dev/secret.enc.yaml: cannot decrypt: the file was changed after it " \
           "was encrypted" in result.stderr
    assert f"age {key.recipient}" in result.stderr
    assert api_server.writes(state=True) == []


# ---- kustomize --------------------------------------------------------------------------------

def kustomize_repo(repo: ConfigRepo, key: AgeKey) -> None:
    env = repo.root / "environments" / "dev"
    repo.settings("dev", context="kind-dev", namespace="default")
    repo.write("environments/dev/kustomization.yaml", {
        "resources": ["secret.enc.yaml"],
        "secretGenerator": [{"name": "generated", "envs": ["db.enc.env"],
                             "files": ["tls.key"]}],
        "configMapGenerator": [{"name": "settings", "envs": ["settings.enc.env"]}],
    })
    repo.write("environments/dev/secret.enc.yaml", secret("from-resource",
                                                          password=f"{CANARY}-resource"))
    repo.write("environments/dev/db.enc.env", f"USER=app\nPASSWORD={CANARY}-env\n")
    repo.write("environments/dev/settings.enc.env", f"TOKEN={CANARY}-configmap\n")
    repo.write("environments/dev/tls.key", f"{CANARY}-file\n")
    for name in ("secret.enc.yaml", "db.enc.env", "settings.enc.env"):
        encrypt(env / name, key)
    encrypt(env / "tls.key", key, input_type="binary")
    repo.commit("kustomize")


def decoded(body: dict[str, Any]) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in body["data"].items()}


def leftovers() -> set[str]:
    places = [Path(tempfile.gettempdir()), Path("/dev/shm")]
    return {str(p) for place in places if place.is_dir()
            for p in place.glob("gitdeploy-decrypted-*")}


def test_kustomize_builds_from_a_private_decrypted_copy(repo: ConfigRepo, key: AgeKey,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    kustomize_repo(repo, key)
    use_key(monkeypatch, key)
    before = leftovers()
    found = objects_of(repo)
    generated = next(body for name, body in found.items() if name.startswith("generated-"))
    assert decoded(generated) == {"USER": "app", "PASSWORD": f"{CANARY}-env",
                                  "tls.key": f"{CANARY}-file\n"}
    settings = next(body for name, body in found.items() if name.startswith("settings-"))
    assert settings["data"] == {"TOKEN": f"{CANARY}-configmap"}
    assert found["from-resource"]["stringData"] == {"password": f"{CANARY}-resource"}
    assert leftovers() == before  # the private copy is gone
    assert git(repo.root, "status", "--porcelain") == ""  # the work tree untouched


def test_kustomize_without_keys_builds_from_the_ciphertext(repo: ConfigRepo, key: AgeKey,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    kustomize_repo(repo, key)
    use_key(monkeypatch, None)
    found = objects_of(repo, decrypt=False)
    generated = next(body for name, body in found.items() if name.startswith("generated-"))
    assert set(decoded(generated)) == {"USER", "PASSWORD", "tls.key"}  # no sops_* keys
    assert all(CANARY not in value for value in decoded(generated).values())
    assert "sops" not in found["from-resource"]


def test_the_private_copy_is_removed_when_kustomize_fails(repo: ConfigRepo, key: AgeKey,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         cli) -> None:
    kustomize_repo(repo, key)
    repo.write("environments/dev/kustomization.yaml", {
        "resources": ["secret.enc.yaml", "missing.yaml"],
        "secretGenerator": [{"name": "generated", "envs": ["db.enc.env"]}]})
    repo.commit("broken")
    use_key(monkeypatch, key)
    before = leftovers()
    result = cli("render", "dev")
    assert result.exit_code == 1
    assert "kustomize could not build environments/dev" in result.stderr
    assert CANARY not in result.output
    assert leftovers() == before


def test_the_private_copy_is_readable_by_its_owner_only(repo: ConfigRepo, key: AgeKey,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from gitdeploy.render.private import private_copy

    kustomize_repo(repo, key)
    use_key(monkeypatch, key)
    tree = WorkTree(repo.root)
    path = PurePosixPath("environments/dev/db.enc.env")
    with private_copy(tree, [path], sops.Opener(decrypt=True)) as folder:
        assert os.stat(folder).st_mode & 0o777 == 0o700
        assert os.stat(folder / path).st_mode & 0o777 == 0o600
        assert f"PASSWORD={CANARY}-env" in (folder / path).read_text()
    assert not folder.exists()


# ---- Helm ---------------------------------------------------------------------------------

def test_an_encrypted_values_file_reaches_the_chart_and_is_masked(
        repo: ConfigRepo, key: AgeKey, monkeypatch: pytest.MonkeyPatch, cli) -> None:
    import shutil

    shutil.copytree(FIXTURES / "charts" / "greeter", repo.root / "charts" / "greeter")
    repo.settings("dev", context="kind-dev", namespace="default", charts=[{
        "release": "greeter", "chart": "../../charts/greeter",
        "valuesFiles": ["greeter.enc.yaml"]}])
    path = repo.write("environments/dev/greeter.enc.yaml", {"ui": {"message": CANARY}})
    encrypt(path, key, encrypted_regex=None)
    repo.commit("chart")
    use_key(monkeypatch, key)
    deployment = objects_of(repo, kind="Deployment")["greeter"]
    assert CANARY in json.dumps(deployment)  # what is applied holds the value
    result = cli("render", "dev", "-o", "json")
    assert result.exit_code == 0, result.output
    assert CANARY not in result.output  # a Deployment, yet masked: it came from a SOPS file
    assert "<masked>" in result.output


def test_decryption_errors_are_sops_errors(repo: ConfigRepo, key: AgeKey,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    encrypted_secret_repo(repo, key)
    use_key(monkeypatch, None)
    with pytest.raises(SopsError) as raised:
        objects_of(repo)
    assert raised.value.exit_code == 1


def test_without_keys_an_object_with_an_encrypted_name_is_a_problem(
        repo: ConfigRepo, key: AgeKey, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.settings("dev", context="kind-dev", namespace="default")
    encrypt(repo.write("environments/dev/all.enc.yaml", secret()), key, encrypted_regex=None)
    repo.commit("everything encrypted")
    use_key(monkeypatch, None)
    tree = WorkTree(repo.root)
    problems: list[str] = []
    render_environment(tree, load_environment(tree, "dev"), problems, decrypt=False)
    assert problems == [
        "environments/dev/all.enc.yaml:1: its apiVersion, kind or metadata.name is encrypted: "
        "without the key, gitdeploy cannot tell which object it is; encrypt only the values "
        "(sops --encrypted-regex '^(data|stringData)$', docs/secrets.md)"]
    use_key(monkeypatch, key)
    assert objects_of(repo)["db"]["stringData"] == {"password": CANARY}  # with it: decrypted


def test_validate_without_keys_accepts_ciphertext_where_a_number_belongs(
        repo: ConfigRepo, key: AgeKey, monkeypatch: pytest.MonkeyPatch, cli) -> None:
    repo.settings("dev", context="kind-dev", namespace="default",
                  substituteFrom=["vars.enc.env"])
    repo.write("environments/dev/web.yaml", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": "${REPLICAS}", "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})
    encrypt(repo.write("environments/dev/vars.enc.env", "REPLICAS=3\n"), key)
    repo.commit("replicas from an encrypted file")
    use_key(monkeypatch, None)
    result = cli("validate", "dev")
    assert result.exit_code == 0, result.output
    use_key(monkeypatch, key)
    assert objects_of(repo)["web"]["spec"]["replicas"] == 3
