"""Sessions: `nox` runs them all (tests, cluster, lint, typecheck); `nox -s tests` one of them.

Dependencies come from the dependency groups in pyproject.toml.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.sessions = ["tests", "cluster", "lint", "typecheck"]
nox.options.default_venv_backend = "venv"

PYPROJECT = nox.project.load_toml("pyproject.toml")


def _install(session: nox.Session, *groups: str) -> None:
    session.install("--upgrade", "pip")
    deps = [dep for group in groups for dep in nox.project.dependency_groups(PYPROJECT, group)]
    session.install(".[all]", *deps)


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite, against the in-process test API server."""
    _install(session, "test")
    session.run("pytest", *session.posargs)


@nox.session
def cluster(session: nox.Session) -> None:
    """The real-cluster suite against the test API server started on its own, as a real
    cluster would be reached: through a kubeconfig file. Set GITDEPLOY_TEST_KUBECONFIG to run
    it against a real cluster instead."""
    _install(session, "test")
    configured = os.environ.get("GITDEPLOY_TEST_KUBECONFIG")
    if configured:
        session.run("pytest", "tests/e2e", *session.posargs)
        return
    with tempfile.TemporaryDirectory() as folder:
        kubeconfig = Path(folder) / "kubeconfig"
        python = Path(session.bin) / ("python.exe" if sys.platform == "win32" else "python")
        server = subprocess.Popen([str(python), "-m", "tests.kubeapi", "--kubeconfig",
                                   str(kubeconfig)])
        try:
            deadline = time.monotonic() + 30
            while not kubeconfig.exists():
                if time.monotonic() > deadline or server.poll() is not None:
                    session.error("the standalone test API server did not start")
                time.sleep(0.1)
            session.run("pytest", "tests/e2e", *session.posargs,
                        env={"GITDEPLOY_TEST_KUBECONFIG": str(kubeconfig)})
        finally:
            server.terminate()
            server.wait(timeout=10)


@nox.session
def conformance(session: nox.Session) -> None:
    """The test API server against the answers recorded from kube-apiserver v1.36.2 in
    ../shared/apiserver-traces: prints the conformance table (`-- --details` lists every
    difference, `-- --scenario NAME` replays one scenario). Not run by default."""
    _install(session, "test")
    session.run("python", "-m", "tests.kubeapi.conformance", *session.posargs)


@nox.session
def soak(session: nox.Session) -> None:
    """The fault scenarios of tests/faults over many seeds, through the seeded fault proxy;
    prints a table of outcomes (`-- --seeds 1-100 --scenarios all --jobs 4 --rate 0.15`).
    Not run by default."""
    _install(session, "test")
    session.run("python", "-m", "tests.faults.soak", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    _install(session, "lint")
    session.run("ruff", "check", "src", "tests", "noxfile.py", "benchmarks")
    # The layering contracts of pyproject.toml ([tool.importlinter]; docs/development.md).
    session.run("lint-imports")


@nox.session
def typecheck(session: nox.Session) -> None:
    _install(session, "typecheck")
    session.run("mypy")
