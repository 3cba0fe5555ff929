"""The settings of promotion, notifications and image pinning: `promotion`, `notify`,
`pinImages` (docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitdeploy.config.settings import NotifyTarget, parse_settings
from gitdeploy.errors import SettingsError

PATH = Path("environments/prod/gitdeploy.yaml")


def test_all_keys() -> None:
    settings = parse_settings("""context: prod
promotion:
  namePrefix: prod-
  environmentSpecific:
    - kind: Deployment
      jsonPointers: [/spec/replicas]
notify:
  - type: webhook
    urlFrom: HOOK_URL
    secretFrom: HOOK_KEY
    events: [failure]
    timeout: 3s
  - type: github
    repository: acme/config
pinImages: true
""", PATH)
    assert settings.promotion.name_prefix == "prod-"
    [rule] = settings.promotion.environment_specific
    assert rule.kind == "Deployment" and rule.json_pointers == ("/spec/replicas",)
    assert rule.reason == f"promotion.environmentSpecific[0] of {PATH}"
    assert settings.notify == (
        NotifyTarget("webhook", url_from="HOOK_URL", secret_from="HOOK_KEY",
                     events=("failure",), timeout=3, where="notify[0]"),
        NotifyTarget("github", repository="acme/config", where="notify[1]"))
    assert settings.pin_images is True


@pytest.mark.parametrize(("text", "message"), [
    ("notify: [{type: slack}]", "'notify[0].urlFrom' is required for slack"),
    ("notify: [{type: pager, urlFrom: X}]", "'notify[0].type' must be slack or teams"),
    ("notify: [{type: github, secretFrom: X}]", "does not apply to type github"),
    ("notify: [{type: slack, urlFrom: X, events: [deployed]}]", "'notify[0].events' must be"),
    ("promotion: {environmentSpecific: [{kind: X}]}",
     "'promotion.environmentSpecific[0]' names no field"),
    ("pinImages: yes please", "'pinImages' must be true or false"),
])
def test_mistakes_name_the_key(text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("[", r"\[").replace("]", r"\]")
                       .replace(".", r"\.")):
        parse_settings(f"context: prod\n{text}\n", PATH)


def test_a_secret_written_in_the_file_is_refused_and_not_repeated() -> None:
    url = "https://hooks.slack.com/services/T0/B0/very-secret-token"
    with pytest.raises(SettingsError) as refused:
        parse_settings(f"context: prod\nnotify: [{{type: slack, urlFrom: '{url}'}}]\n", PATH)
    assert "must be the name of an environment variable" in str(refused.value)
    assert "very-secret-token" not in str(refused.value)
