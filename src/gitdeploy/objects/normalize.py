"""One normalization for everything that compares objects (diff, apply, drift checks).

What the server sets, or what is not the user's, is removed before two objects are compared.
"""

from __future__ import annotations

import copy
from typing import Any

SERVER_METADATA = (
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
)
SERVER_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
)


def normalize(body: dict[str, Any]) -> dict[str, Any]:
    """A copy of `body` without server-set metadata and status."""
    result = copy.deepcopy(body)
    result.pop("status", None)
    metadata = result.get("metadata")
    if isinstance(metadata, dict):
        for key in SERVER_METADATA:
            metadata.pop(key, None)
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict):
            for key in SERVER_ANNOTATIONS:
                annotations.pop(key, None)
            if not annotations:
                metadata.pop("annotations")
    return result
