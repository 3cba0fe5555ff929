"""Names and labels of what gitdeploy stores in the cluster (docs/cluster-state.md)."""

from __future__ import annotations

import hashlib
import re

FIELD_MANAGER = "gitdeploy"  # the field manager of every write (server-side apply and others)
MANAGED_BY = {"app.kubernetes.io/managed-by": "gitdeploy"}
ENVIRONMENT_LABEL = "gitdeploy.io/environment"
_INVALID = re.compile(r"[^a-z0-9-]+")


def dns_label(text: str, limit: int = 40) -> str:
    """`text` as a lowercase DNS label (also a valid label value); a short hash is added when
    it had to be changed, so that different names stay different."""
    clean = _INVALID.sub("-", text.lower()).strip("-")[:limit].strip("-")
    if clean == text:
        return clean
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{clean}-{digest}" if clean else digest


def lease_name(environment: str) -> str:
    return f"gitdeploy-lock-{dns_label(environment)}"


def record_name(environment: str, sequence: int) -> str:
    return f"gitdeploy-record-{dns_label(environment)}-{sequence:06d}"
