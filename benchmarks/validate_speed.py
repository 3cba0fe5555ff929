"""How long `gitdeploy validate` takes on many documents, and how much memory, against named
peers.

Peers: gitdeploy's own `render -o json` of the same environment (reading and rendering only:
validate renders too, so the ratio is the price of the checks); and kubeconform, the Go
validator most pipelines run, when a `kubeconform` binary is on PATH. kubeconform is not
published on PyPI or npm, and is not installed here: without it the benchmark says so.

Goal (issue 18): 10,000 documents in at most 3 s and 300 MB, at most twice render's time.

    python benchmarks/validate_speed.py [--documents 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import manifests as objects
from tests.peers import run_measured


def write_repo(root: Path, count: int) -> Path:
    """An environment of `count` documents: Deployments, Services and ConfigMaps in three
    namespaces (and the Namespaces), in files of 500 documents."""
    env = root / "environments" / "bench"
    env.mkdir(parents=True)
    (env / "gitdeploy.yaml").write_text("context: test\nnamespace: team-0\n")
    bodies: list[dict[str, object]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"team-{index}"}}
        for index in range(3)]
    for index in range(count - len(bodies)):
        namespace = f"team-{index % 3}"
        if index % 3 == 0:
            bodies.append(objects.deployment(f"web-{index}", namespace=namespace))
        elif index % 3 == 1:
            bodies.append({"apiVersion": "v1", "kind": "Service",
                           "metadata": {"name": f"web-{index}", "namespace": namespace,
                                        "labels": {"app": "web"}},
                           "spec": {"selector": {"app": "web"},
                                    "ports": [{"port": 80, "targetPort": 8080}]}})
        else:
            bodies.append(objects.configmap(f"cm-{index}", {"i": str(index)}, namespace))
    for start in range(0, len(bodies), 500):
        (env / f"objects-{start // 500:03d}.yaml").write_text(
            yaml.safe_dump_all(bodies[start:start + 500], sort_keys=False))
    return env


def measure(command: list[str], cwd: Path) -> tuple[float, float, int]:
    """(seconds, peak resident memory in MB, exit code) of one run of `command`."""
    seconds, peak_kib, code = run_measured(command, cwd=cwd)
    return seconds, peak_kib / 1024, code


def best(command: list[str], cwd: Path, runs: int) -> tuple[float, float, int]:
    results = [measure(command, cwd) for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results), results[-1][2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of each; the best time")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):  # one core, inherited by the commands measured
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    gitdeploy = [sys.executable, "-m", "gitdeploy"]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        env = write_repo(root, args.documents)
        render = best([*gitdeploy, "render", "bench", "-o", "json"], root, args.runs)
        validate = best([*gitdeploy, "validate", "bench", "-o", "json"], root, args.runs)
        binary = shutil.which("kubeconform")
        peer = None
        if binary:
            peer = best([binary, "-strict", "-summary", "-kubernetes-version", "1.34.0",
                         str(env)], root, args.runs)
    print(f"{args.documents} documents (Deployments, Services, ConfigMaps), one core, "
          f"best of {args.runs}, startup included")
    print(f"gitdeploy render -o json:   {render[0]:6.2f} s  {render[1]:6.0f} MB peak")
    print(f"gitdeploy validate -o json: {validate[0]:6.2f} s  {validate[1]:6.0f} MB peak"
          f"  (exit {validate[2]})")
    print(f"ratio validate / render:    {validate[0] / render[0]:6.2f}x  (goal: <= 2x, "
          f"<= 3 s, <= 300 MB)")
    if peer is not None:
        print(f"kubeconform -strict:        {peer[0]:6.2f} s  {peer[1]:6.0f} MB peak")
        print(f"ratio validate / kubeconform: {validate[0] / peer[0]:6.2f}x")
    else:
        print("kubeconform: not run: no kubeconform binary on PATH (it is not published on "
              "PyPI or npm)")


if __name__ == "__main__":
    main()
