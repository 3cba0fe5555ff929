"""How long `gitdeploy diff --changed --offline` takes over many environments sharing one
kustomize base, after a change to that base, against rendering every environment once
(`gitdeploy render --all`, the same environments at the same commit, no cluster).

--changed renders each environment at the target commit, and again at the base commit only
where a changed file is among its inputs; with a change to the shared base that is all of
them, so the work is twice a render, done --parallel at a time (fleet/changed.py), plus the
diffs of the selected environments.

Goal (issue 20): 50 environments in at most 2x the time of rendering them once.

    python benchmarks/changed_speed.py [--environments 50] [--runs 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import manifests as objects

GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                   env={**os.environ, **GIT_ENV})


def write_repo(root: Path, count: int) -> None:
    """`count` kustomize environments over environments/base (a Deployment, a Service and a
    ConfigMap), committed; then a commit that changes the base's image."""
    base = root / "environments" / "base"
    base.mkdir(parents=True)
    (base / "kustomization.yaml").write_text(yaml.safe_dump(
        {"resources": ["web.yaml", "config.yaml"]}))
    (base / "web.yaml").write_text(yaml.safe_dump(objects.deployment("web")))
    (base / "config.yaml").write_text(yaml.safe_dump(objects.configmap("web", {"a": "1"})))
    for index in range(count):
        env = root / "environments" / f"env-{index:03d}"
        env.mkdir()
        (env / "gitdeploy.yaml").write_text(f"context: test\nnamespace: team-{index}\n")
        (env / "kustomization.yaml").write_text(yaml.safe_dump(
            {"resources": ["../base"], "namespace": f"team-{index}",
             "labels": [{"pairs": {"team": f"team-{index}"}}]}))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "start")
    (base / "web.yaml").write_text(yaml.safe_dump(objects.deployment("web",
                                                                     image="nginx:1.28")))
    git(root, "commit", "-q", "-am", "new image")


def timed(root: Path, args: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "gitdeploy", *args], cwd=root,
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 2):
        raise SystemExit(f"gitdeploy {' '.join(args)} failed:\n{done.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environments", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the measures here")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gitdeploy-bench-") as folder:
        root = Path(folder)
        write_repo(root, options.environments)
        render = min(timed(root, ["render", "--all", "-o", "json"])
                     for _ in range(options.runs))
        changed = min(timed(root, ["diff", "--changed", "--offline", "--base", "HEAD~1",
                                   "-o", "json"]) for _ in range(options.runs))
        readme_root = root
        (readme_root / "README.md").write_text("# docs\n")
        git(readme_root, "add", "-A")
        git(readme_root, "commit", "-q", "-m", "readme")
        readme = min(timed(root, ["diff", "--changed", "--offline", "--base", "HEAD~1",
                                  "-o", "json"]) for _ in range(options.runs))
    ratio = changed / render
    print(f"{options.environments} environments sharing one kustomize base "
          f"(best of {options.runs}):")
    print(f"  gitdeploy render --all                       {render:6.2f} s")
    print(f"  gitdeploy diff --changed --offline (base)    {changed:6.2f} s   "
          f"{ratio:.2f}x render (goal: at most 2x)")
    print(f"  gitdeploy diff --changed --offline (README)  {readme:6.2f} s   "
          f"{readme / render:.2f}x render")
    if options.json:
        options.json.write_text(json.dumps({"environments": options.environments,
                                            "render": render, "changed": changed,
                                            "readme": readme, "ratio": ratio}))


if __name__ == "__main__":
    main()
