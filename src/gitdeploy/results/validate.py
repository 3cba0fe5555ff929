"""What `validate` and `schemas pull` return."""

from __future__ import annotations

from dataclasses import dataclass, field

ERROR, WARNING = "error", "warning"  # the severities of a validation Problem


@dataclass(frozen=True)
class Problem:
    """One finding of `validate` (docs/validation.md): where (file, 1-based line and column of
    the offending field, 0 when unknown), which object, the field's path, and what is wrong."""

    source: str  # the file (relative to the repository root), or the settings file
    object: str  # "Kind namespace/name", "" for file-level problems
    message: str
    line: int = 0
    column: int = 0
    path: str = ""  # the field, as `spec.template.spec.containers[0].image`; "" for the object
    severity: str = ERROR  # ERROR or WARNING (a warning does not fail validate)
    check: str = ""  # what found it: schema, names, labels, secret-data, duplicates, ...
    rendered_by: str = ""  # the engine that produced the object from `source` (kustomize, helm)

    @property
    def location(self) -> str:
        """file:line:column, as much of it as is known."""
        where = self.source
        if self.line:
            where += f":{self.line}" + (f":{self.column}" if self.column else "")
        return f"{where} ({self.rendered_by})" if self.rendered_by else where

    def __str__(self) -> str:
        parts = [self.location, self.object, self.path, self.message]
        return ": ".join(part for part in parts if part)


@dataclass
class EnvironmentCheck:
    name: str
    kubernetes_version: str
    objects: int = 0
    problems: list[Problem] = field(default_factory=list)
    documents: int = 0  # YAML documents read (an engine's output: one per object)
    version_from: str = "settings"  # settings | cluster | default
    skipped: dict[str, int] = field(default_factory=dict)  # "Kind (apiVersion)" -> objects

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]


@dataclass
class ValidationReport:
    environments: list[EnvironmentCheck]

    @property
    def problems(self) -> int:
        """The errors: what makes validate fail."""
        return sum(len(env.errors) for env in self.environments)

    @property
    def warnings(self) -> int:
        return sum(len(env.warnings) for env in self.environments)

    @property
    def documents(self) -> int:
        return sum(env.documents for env in self.environments)

    @property
    def objects(self) -> int:
        return sum(env.objects for env in self.environments)

    @property
    def skipped(self) -> dict[str, int]:
        """Objects not checked against a schema, per "Kind (apiVersion)", all environments."""
        total: dict[str, int] = {}
        for env in self.environments:
            for kind, count in env.skipped.items():
                total[kind] = total.get(kind, 0) + count
        return dict(sorted(total.items()))


@dataclass(frozen=True)
class PulledSchemas:
    """What `gitdeploy schemas pull` wrote: one JSON schema per kind and version the CRDs
    of the environment's cluster serve, in the schema catalog layout."""

    environment: str
    server: str
    folder: str
    files: list[str]  # relative to `folder`: {group}/{kind}_{version}.json
