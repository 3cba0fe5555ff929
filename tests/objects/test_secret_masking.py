"""`SecretMasker`: the values of Secrets, in every form a message may quote them, replaced by
`<masked>` in texts that come from outside gitdeploy."""

from __future__ import annotations

import base64
import json
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from gitdeploy.errors import KubeError
from gitdeploy.objects.secrets import (
    MASK,
    MIN_MASKED_LENGTH,
    SecretMasker,
    known,
    masking_scope,
    remember,
)
from gitdeploy.render.kustomize import generator_masker
from tests import builders


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret(**fields: Any) -> dict[str, Any]:
    return builders.body("Secret", "db", "shop", **fields)


def test_every_form_of_a_value_is_masked() -> None:
    masker = SecretMasker.of_secrets([secret(
        data={"token": b64("decoded-token-value")},
        stringData={"password": "string-data-value", "pin": 73914562,
                    "nested": {"inner": "nested-map-value", "list": ["listed-value"]}})])
    text = (f"data {b64('decoded-token-value')} decoded decoded-token-value; stringData "
            f"string-data-value as base64 {b64('string-data-value')}, unpadded "
            f"{b64('string-data-value').rstrip('=')}; got "
            "&value.valueUnstructured{Value:73914562} "
            "map[inner:nested-map-value list:[listed-value]]")
    masked = masker.mask_text(text)
    for value in ("decoded-token-value", b64("decoded-token-value"), "string-data-value",
                  b64("string-data-value").rstrip("="), "73914562", "nested-map-value",
                  "listed-value"):
        assert value not in masked
    assert masked.startswith(f"data {MASK} decoded {MASK}; stringData {MASK} as base64 ")
    assert "got &value.valueUnstructured{Value:<masked>}" in masked


def test_quoted_and_multi_line_values() -> None:
    value = 'line-one-"quoted"\nline-two-value'
    masker = SecretMasker.of_secrets([secret(stringData={"config": value})])
    assert masker.mask_text(f"invalid value {json.dumps(value)}") == f'invalid value "{MASK}"'
    assert masker.mask_text("the line line-two-value is wrong") == f"the line {MASK} is wrong"


def test_longest_value_first_and_in_one_pass() -> None:
    masker = SecretMasker(["pass", "password-long", "asked"])
    # the longer value wins where both match; `<masked>` itself is never masked again
    assert masker.mask_text("a password-long and a pass") == f"a {MASK} and a {MASK}"
    assert masker.mask_text(f"{MASK} asked") == f"{MASK} {MASK}"


def test_short_values_are_left_alone() -> None:
    short = "x" * (MIN_MASKED_LENGTH - 1)
    masker = SecretMasker.of_secrets([secret(stringData={"a": short, "b": "", "c": True})])
    assert masker.values == (b64(short),)  # its base64 form is long enough
    assert masker.mask_text(f"value {short} true") == f"value {short} true"


def test_only_v1_secrets_are_read() -> None:
    config = builders.body("ConfigMap", "cm", "shop", data={"key": "not-a-secret"})
    other = builders.body("Secret", "x", "shop", api_version="example.com/v1",
                          data={"key": "not-a-core-secret"})
    assert not SecretMasker.of_secrets([config, other, None])


def test_errors_are_masked_in_place() -> None:
    masker = SecretMasker(["hunter2-value"])
    error = KubeError("refused hunter2-value", ["detail hunter2-value"], status=422)
    assert masker.mask_error(error) is error
    assert (error.message, error.details, error.status) == (f"refused {MASK}", [f"detail {MASK}"],
                                                            422)
    assert "hunter2-value" not in str(error)


def test_the_run_scope_collects_what_is_remembered() -> None:
    remember(SecretMasker(["outside-any-run"]))  # no run: nothing is kept
    with masking_scope():
        assert not known()
        remember(SecretMasker(["first-value"]))
        remember(SecretMasker(["second-value"]))
        assert known().mask_text("first-value second-value") == f"{MASK} {MASK}"
    assert not known()


def test_helm_values_mask_every_scalar() -> None:
    masker = SecretMasker.of_values([{"db": {"password": "chart-password", "port": 54321},
                                      "enabled": True, "hosts": ["host-one.example"]}])
    assert masker.mask_text("chart-password 54321 host-one.example true") == \
        f"{MASK} {MASK} {MASK} true"


def test_kustomize_generator_values_are_read_from_the_files(tmp_path: Path) -> None:
    base = tmp_path / "bases" / "db"
    base.mkdir(parents=True)
    (base / "kustomization.yaml").write_text(
        "resources: [secret.yaml]\n"
        "secretGenerator:\n"
        "- name: creds\n"
        "  literals: ['password=\"quoted-literal\"', bare-literal-value]\n"
        "  envs: [creds.env]\n"
        "  files: [tls.key, renamed=cert.pem]\n")
    (base / "creds.env").write_text("# comment\nAPI_KEY=env-file-value\n")
    (base / "tls.key").write_text("file-content-value\n")
    (base / "cert.pem").write_text("-----BEGIN-----\nrenamed-file-line\n-----END-----\n")
    (base / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: plain}\n"
        "stringData: {token: plain-secret-value}\n")
    overlay = tmp_path / "environments" / "dev"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text("resources: [../../bases/db]\n")
    masker = generator_masker(tmp_path, PurePosixPath("environments/dev"))
    for value in ("quoted-literal", "bare-literal-value", "env-file-value",
                  "file-content-value", "renamed-file-line", "plain-secret-value"):
        assert masker.mask_text(f"echo {value}!") == f"echo {MASK}!", value
    assert masker.mask_text("API_KEY is missing") == "API_KEY is missing"  # keys are kept


def test_kustomize_helm_chart_values_are_read_too(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        "helmCharts:\n"
        "- name: vault\n"
        "  valuesInline: {auth: {password: inline-chart-value}}\n"
        "  valuesFile: values.yaml\n")
    (tmp_path / "values.yaml").write_text("token: file-chart-value\n")
    masker = generator_masker(tmp_path, PurePosixPath("."))
    assert masker.mask_text("inline-chart-value file-chart-value") == f"{MASK} {MASK}"


@pytest.mark.parametrize("broken", ["resources: [", "secretGenerator: {name: x}",
                                    "secretGenerator: [{literals: 5, envs: [missing.env]}]"])
def test_kustomize_files_that_cannot_be_read_give_an_empty_masker(tmp_path: Path,
                                                                  broken: str) -> None:
    (tmp_path / "kustomization.yaml").write_text(broken)
    assert not generator_masker(tmp_path, PurePosixPath("."))
