"""Every broken input of the corpus (tests/corpus/broken/, README.md beside this file) through
`validate`, `diff` and `apply`: exit 1, the file (and line) named, the cause and a fitting hint,
no traceback, and no write request to the API server."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import manifests as objects
from tests.conftest import ConfigRepo, git
from tests.kubeapi.server import TestApiServer

CASES = Path(__file__).parent / "broken"
COMMANDS: dict[str, tuple[str, ...]] = {
    "validate": ("validate", "dev"),
    "diff": ("diff", "dev"),
    "apply": ("apply", "dev", "--yes"),
    "render": ("render", "dev"),
    "offline": ("diff", "dev", "--offline", "--base", "HEAD~1"),
}
DEFAULT_SETTINGS = "context: kind-dev\nnamespace: shop\n"


def _cases() -> list[Any]:
    return [pytest.param(path, id=path.stem) for path in sorted(CASES.glob("*.yaml"))]


def _generated(kind: str, count: int) -> str:
    """Inputs too big to keep in the corpus, made the same way on every run."""
    if kind == "configmaps-then-a-broken-one":
        good = [yaml.safe_dump(objects.configmap(f"cm-{index}", {"i": str(index)}),
                               sort_keys=False) for index in range(count)]
        return "---\n".join([*good, "kind: ConfigMap\nmetadata: {name: broken\n"])
    if kind == "a-configmap-over-1MiB":
        return yaml.safe_dump(objects.configmap("big", {"blob": "x" * count}), sort_keys=False)
    if kind == "nested-lists":
        return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n  a: " + (
            "[" * count) + ("]" * count) + "\n"
    raise ValueError(f"no generator {kind!r}")


def build(repo: ConfigRepo, case: dict[str, Any]) -> None:
    files: dict[str, str] = {"environments/dev/gitdeploy.yaml": DEFAULT_SETTINGS,
                             **(case.get("before") or {})}
    if case.get("before"):  # an earlier commit (for --base HEAD~1), then the broken one
        for path, text in files.items():
            repo.write(path, text)
        repo.commit("before")
        files = {}
    files.update(case.get("files") or {})
    for path, text in files.items():
        repo.write(path, text)
    for path, encoded in (case.get("bytes") or {}).items():
        target = repo.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(encoded))
    for path, spec in (case.get("generate") or {}).items():
        repo.write(path, _generated(spec["kind"], int(spec["count"])))
    for path, target in (case.get("links") or {}).items():
        link = repo.root / path
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target.replace("{outside}", str(repo.root.parent / "outside.yaml")), link)
    (repo.root.parent / "outside.yaml").write_text(yaml.safe_dump(
        objects.configmap("outside", {"not": "in git"})))
    repo.commit("broken")


@pytest.mark.parametrize("path", _cases())
def test_a_broken_input(path: Path, repo: ConfigRepo, kubeconfig: Path, cli,
                        api_server: TestApiServer) -> None:
    case = yaml.safe_load(path.read_text())
    assert case.get("expect"), f"{path.name}: no expected message"
    build(repo, case)
    api_server.cluster.create_namespace("shop")
    for command in case.get("commands") or ("validate", "diff", "apply"):
        expect = {**case["expect"], **(case["expect"].get(command) or {})}
        start = len(api_server.requests)
        result = cli(*COMMANDS[command])
        said = f"{path.name}, {command}:\n{result.stderr}{result.stdout}"
        assert result.exit_code == 1, said
        assert "Traceback" not in result.output and "internal error" not in result.stderr, said
        where = expect["file"] + (f":{expect['line']}" if expect.get("line") else "")
        assert re.search(re.escape(where) + r"\b", result.stderr + result.stdout), (
            f"{where} not named in\n{said}")
        for text in expect.get("says") or []:
            assert text in result.stderr + result.stdout, f"{text!r} not said in\n{said}"
        for text in expect.get("never") or []:
            assert text not in result.stderr + result.stdout, f"{text!r} said in\n{said}"
        writes = [f"{r.method} {r.path}" for r in api_server.requests[start:] if r.is_write]
        assert writes == [], f"{path.name}, {command}: wrote {writes}"
    assert git(repo.root, "status", "--porcelain") == ""
