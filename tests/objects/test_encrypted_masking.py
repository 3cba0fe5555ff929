"""Values from encrypted sources are masked in every version of an object: SOPS ciphertext
wherever it stands (read without keys), and the fields registered as holding decrypted values,
in git's version and in the cluster's alike; a changed value shows as changed."""

from __future__ import annotations

from gitdeploy.objects.secrets import (
    MASK,
    MASK_AFTER,
    MASK_BEFORE,
    holds_secrets,
    mask,
    mask_pair,
    masking_scope,
    protect_fields,
)
from tests.builders import configmap

CIPHER_1 = "ENC[AES256_GCM,data:q0Q=,iv:AAAA,tag:BBBB,type:str]"
CIPHER_2 = "ENC[AES256_GCM,data:r1R=,iv:CCCC,tag:DDDD,type:str]"


def test_ciphertext_is_masked_anywhere() -> None:
    body = configmap(data={"url": f"postgres://app:{CIPHER_1}@db", "plain": "shown"})
    assert mask(body)["data"] == {"url": MASK, "plain": "shown"}
    assert holds_secrets(body)
    assert not holds_secrets(configmap())


def test_a_new_ciphertext_is_a_changed_value() -> None:
    old, new = mask_pair(configmap(data={"a": CIPHER_1, "b": CIPHER_1}),
                         configmap(data={"a": CIPHER_2, "b": CIPHER_1}))
    assert old is not None and new is not None
    assert (old["data"], new["data"]) == ({"a": MASK_BEFORE, "b": MASK},
                                          {"a": MASK_AFTER, "b": MASK})


def test_registered_fields_are_masked_in_the_cluster_version_too() -> None:
    git_version = configmap(data={"url": "postgres://app:new-pass@db", "app": "shop"})
    live_version = configmap(data={"url": "postgres://app:old-pass@db", "app": "shop"})
    with masking_scope():
        protect_fields(git_version, [("data", "url")])
        assert mask(git_version)["data"] == {"url": MASK, "app": "shop"}
        assert mask(live_version)["data"] == {"url": MASK, "app": "shop"}
        old, new = mask_pair(live_version, git_version)
        assert old is not None and new is not None
        assert (old["data"]["url"], new["data"]["url"]) == (MASK_BEFORE, MASK_AFTER)
        assert holds_secrets(live_version)
    assert mask(git_version) is git_version  # outside the run, nothing is registered
    assert live_version["data"]["url"] == "postgres://app:old-pass@db"  # copies were masked
