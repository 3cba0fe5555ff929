"""How long a diff of many objects takes over a slow link, against a named peer.

Peer: the loop a home-made deploy script runs, one object at a time: GET the live object, then a
server-side apply dry run (the `kubectl diff --server-side` requests), through the same official
client. gitdeploy: `gitdeploy diff`, which lists live objects once per kind and namespace and
runs the dry runs concurrently.

The test API server adds a fixed delay to every request to stand for network latency.

    python benchmarks/diff_latency.py [--objects 300] [--latency 0.02]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from kubernetes import config as k8s_config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import manifests as objects
from tests.kubeapi.server import Fault, TestApiServer


def write_repo(root: Path, count: int) -> list[dict[str, object]]:
    env = root / "environments" / "bench"
    env.mkdir(parents=True)
    (env / "gitdeploy.yaml").write_text("context: test\nnamespace: default\n")
    bodies: list[dict[str, object]] = []
    for index in range(count):
        namespace = f"team-{index % 3}"
        if index % 2:
            bodies.append(objects.configmap(f"cm-{index}", {"i": str(index)}, namespace))
        else:
            bodies.append(objects.deployment(f"web-{index}", namespace=namespace))
    (env / "objects.yaml").write_text(yaml.safe_dump_all(bodies, sort_keys=False))
    return bodies


def peer(kubeconfig: Path, bodies: list[dict[str, object]]) -> float:
    # new_client_from_config is unannotated in the kubernetes client; it returns an ApiClient
    api = k8s_config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(kubeconfig), context="test", persist_config=False)
    started = time.perf_counter()
    for body in bodies:
        meta = body["metadata"]
        assert isinstance(meta, dict)
        plural = "deployments" if body["kind"] == "Deployment" else "configmaps"
        prefix = "/apis/apps/v1" if plural == "deployments" else "/api/v1"
        path = f"{prefix}/namespaces/{meta['namespace']}/{plural}/{meta['name']}"
        for method, query, extra in (
            ("GET", [], {}),
            ("PATCH", [("fieldManager", "deploy-sh"), ("force", "true"), ("dryRun", "All")],
             {"Content-Type": "application/apply-patch+yaml"}),
        ):
            serialized = api.param_serialize(
                method=method, resource_path=path, query_params=query,
                header_params={"Accept": "application/json", **extra},
                body=body if method == "PATCH" else None, auth_settings=["BearerToken"])
            api.call_api(*serialized[:4]).read()
    api.close()
    return time.perf_counter() - started


def gitdeploy(root: Path, kubeconfig: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gitdeploy", "diff", "bench", "-C", str(root),
                    "-o", "json", "--kubeconfig", str(kubeconfig)],
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per request")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, TestApiServer() as server:
        root = Path(folder)
        bodies = write_repo(root, args.objects)
        kubeconfig = server.kubeconfig(root / "kubeconfig")
        for index in range(3):
            server.cluster.create_namespace(f"team-{index}")
        server.inject(Fault(delay=args.latency))
        peer_seconds = peer(kubeconfig, bodies)
        ours = gitdeploy(root, kubeconfig)
    print(f"{args.objects} objects, {args.latency * 1000:.0f} ms per request")
    print(f"peer (deploy.sh loop: GET + dry-run apply per object): {peer_seconds:6.2f} s")
    print(f"gitdeploy diff (startup included):                    {ours:6.2f} s")
    print(f"ratio peer / gitdeploy: {peer_seconds / ours:.1f}x")


if __name__ == "__main__":
    main()
