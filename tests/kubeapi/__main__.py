"""Run the test API server on its own: `python -m tests.kubeapi --kubeconfig PATH`.

It writes a kubeconfig for itself and serves until interrupted, so that the real-cluster
suite can be pointed at it (GITDEPLOY_TEST_KUBECONFIG=PATH).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from pathlib import Path

from tests.kubeapi.server import TestApiServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--context", default="test")
    args = parser.parse_args()
    server = TestApiServer(port=args.port).start()
    server.kubeconfig(args.kubeconfig, context=args.context)
    print(f"serving {server.url}; kubeconfig {args.kubeconfig}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    server.stop()


if __name__ == "__main__":
    main()
