"""What the core returns, one module per stage: `environment` (what `envs` lists, where the
files come from, the cluster, the rendered objects), `plan` (a plan and its changes), `apply`
(what an apply did, readiness), `state` (deploy records, status, history, orphans, the lock),
`validate` (validation findings); here, the names they share. Renderers (output/) turn them
into text, JSON or markdown; nothing here prints. Each command imports only the modules of its
stages: `envs` the first alone."""

from __future__ import annotations

from enum import StrEnum

# The version of every JSON document (output/jsondoc.py) and of plan files; docs/json-output.md.
API_VERSION = "gitdeploy.io/v1"


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    ADOPT = "adopt"  # exists in the cluster but not (yet) in this environment's ApplySet
    UNCHANGED = "unchanged"
    DELETE = "delete"  # in the ApplySet, no longer in git: a prune candidate


APPLY_ACTIONS = (Action.CREATE, Action.UPDATE, Action.ADOPT)


class Outcome(StrEnum):
    APPLIED = "applied"
    DELETED = "deleted"
    FAILED = "failed"
    NOT_ATTEMPTED = "not-attempted"


class State(StrEnum):
    READY = "ready"
    PROGRESSING = "in progress"
    FAILED = "failed"
